// Reference Cloud Function (gen 1/2) for callers presenting Google-signed ID tokens
// (`Authorization: Bearer`): answers with the verified caller, or refuses it.
import { GoogleIdTokenVerifier } from '../verify/google-id-token';
import { identityFunction, verifierGate } from './internal/cloud-function';
import { httpsUrl, list } from './internal/config';
import { keyUrl } from './internal/key-url';

export const handler = identityFunction('google-id-token', (env) => verifierGate(new GoogleIdTokenVerifier({
  audience: httpsUrl(env, 'S2S_AUDIENCE'),
  allowedEmails: list(env, 'S2S_ALLOWED_EMAILS'),
  certsUrl: keyUrl(env, 'S2S_GOOGLE_CERTS_URL'),
})), ({ iss, sub, aud, email, hd, azp }) => ({ iss, sub, aud, email, hd, azp }));
