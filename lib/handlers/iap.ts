// Reference Cloud Function / Cloud Run service behind Identity-Aware Proxy: answers with the
// user IAP signed for (x-goog-iap-jwt-assertion), never the unsigned x-goog-authenticated-user-*
// headers, which anyone reaching the function directly could set.
import { iapAudienceForAppEngine, iapAudienceForBackendService, IapVerifier } from '../verify/iap';
import { identityFunction, verifierGate } from './internal/cloud-function';
import { ConfigError, list, required } from './internal/config';
import { keyUrl } from './internal/key-url';

export const handler = identityFunction('iap', (env) => {
  const healthCheckPaths = list(env, 'S2S_IAP_HEALTH_CHECK_PATHS');
  const bad = healthCheckPaths?.find((path) => !path.startsWith('/'));
  if (bad !== undefined) throw new ConfigError('S2S_IAP_HEALTH_CHECK_PATHS', `must be comma-separated paths starting with "/" (got ${JSON.stringify(bad)})`);
  return verifierGate(new IapVerifier({ audience: iapAudience(required(env, 'S2S_IAP_AUDIENCE')), healthCheckPaths, jwksUrl: keyUrl(env, 'S2S_IAP_JWKS_URL') }));
}, ({ sub, email, hd, accessLevels, gcip }) => ({ sub, email, hd, accessLevels, gcip }));

/** Accepts exactly the two audience forms IAP signs, with the parts validated by the verify helpers. */
function iapAudience(value: string): string {
  const match = /^\/projects\/([^/]*)\/(?:apps\/([^/]*)|global\/backendServices\/([^/]*))$/.exec(value);
  let reason = '';
  try {
    if (match) return match[2] !== undefined ? iapAudienceForAppEngine(match[1], match[2]) : iapAudienceForBackendService(match[1], match[3]);
  } catch (err) {
    reason = `: ${(err as Error).message}`;
  }
  throw new ConfigError('S2S_IAP_AUDIENCE', `must be /projects/PROJECT_NUMBER/apps/PROJECT_ID or /projects/PROJECT_NUMBER/global/backendServices/SERVICE_ID (got ${JSON.stringify(value)})${reason}`);
}
