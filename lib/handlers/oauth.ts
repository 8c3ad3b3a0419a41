// Reference function for any API protected by OAuth 2.0 JWT access tokens (RFC 9068), e.g.
// client-credentials tokens between services: answers with the verified client and scopes.
import { AccessTokenVerifier } from '../verify/access-token';
import { identityFunction, verifierGate } from './internal/cloud-function';
import { list, required } from './internal/config';
import { fetchableUrl, keyUrl } from './internal/key-url';

export const handler = identityFunction('oauth', (env) => {
  const issuer = required(env, 'S2S_OAUTH_ISSUER');
  const jwksUri = keyUrl(env, 'S2S_OAUTH_JWKS_URI');
  // Without a JWK set URL the keys are found through the issuer's metadata, so the issuer must be fetchable.
  if (jwksUri === undefined) fetchableUrl('S2S_OAUTH_ISSUER', issuer, 'is fetched for its metadata when S2S_OAUTH_JWKS_URI is not set, so it ');
  return verifierGate(new AccessTokenVerifier({
    issuer,
    jwksUri,
    audience: required(env, 'S2S_OAUTH_AUDIENCE'),
    requiredScopes: list(env, 'S2S_OAUTH_REQUIRED_SCOPES', /\s+/),
  }));
}, ({ iss, sub, clientId, aud, scopes }) => ({ iss, sub, clientId, aud, scopes }));
