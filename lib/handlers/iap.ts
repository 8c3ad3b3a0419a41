// Reference Cloud Function / Cloud Run service behind Identity-Aware Proxy: answers with the
// user IAP signed for (x-goog-iap-jwt-assertion), never the unsigned x-goog-authenticated-user-*
// headers, which anyone reaching the function directly could set.
import { checkIapAudience, IapVerifier } from '../verify/iap';
import { identityFunction, verifierGate } from './internal/cloud-function';
import { ConfigError, list, required } from './internal/config';
import { keyUrl } from './internal/key-url';

export const handler = identityFunction('iap', (env) => {
  const healthCheckPaths = list(env, 'S2S_IAP_HEALTH_CHECK_PATHS');
  const bad = healthCheckPaths?.find((path) => !path.startsWith('/'));
  if (bad !== undefined) throw new ConfigError('S2S_IAP_HEALTH_CHECK_PATHS', `must be comma-separated paths starting with "/" (got ${JSON.stringify(bad)})`);
  return verifierGate(new IapVerifier({ audience: iapAudience(required(env, 'S2S_IAP_AUDIENCE')), healthCheckPaths, jwksUrl: keyUrl(env, 'S2S_IAP_JWKS_URL') }));
}, ({ sub, email, hd, accessLevels, gcip }) => ({ sub, email, hd, accessLevels, gcip }));

function iapAudience(value: string): string {
  try {
    return checkIapAudience(value);
  } catch (err) {
    throw new ConfigError('S2S_IAP_AUDIENCE', `${(err as Error).message} (got ${JSON.stringify(value)})`);
  }
}
