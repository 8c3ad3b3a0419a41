// Reference Cloud Function (gen 1/2) for callers presenting Google-signed ID tokens
// (`Authorization: Bearer`): answers with the verified caller, or refuses it. On gen 2, Cloud
// Run strips the signature of the token it verified; S2S_CLOUD_RUN_VERIFIED=true (set by
// PrivateCloudRunFunction on a service without public invokers) accepts such tokens after
// every claim check, see GoogleIdTokenVerifierOptions.trustCloudRunSignatureCheck.
import { GoogleIdTokenVerifier } from '../verify/google-id-token';
import { identityFunction, verifierGate } from './internal/cloud-function';
import { flag, httpsUrls, list } from './internal/config';
import { keyUrl } from './internal/key-url';

export const handler = identityFunction('google-id-token', (env) => verifierGate(new GoogleIdTokenVerifier({
  audience: httpsUrls(env, 'S2S_AUDIENCE'),
  allowedEmails: list(env, 'S2S_ALLOWED_EMAILS'),
  certsUrl: keyUrl(env, 'S2S_GOOGLE_CERTS_URL'),
  trustCloudRunSignatureCheck: flag(env, 'S2S_CLOUD_RUN_VERIFIED'),
})), ({ iss, sub, aud, email, hd, azp, verifiedBy }) => ({ iss, sub, aud, email, hd, azp, verifiedBy }));
