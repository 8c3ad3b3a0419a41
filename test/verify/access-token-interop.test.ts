// AccessTokenVerifier against a real authorization server (oidc-provider in a child process):
// metadata discovery, its JWK set and its RFC 9068 access tokens, unmodified.
import { AccessTokenVerifier } from '../../lib/verify/access-token';
import { KeySetCache } from '../../lib/verify/key-set';
import { startOidcProvider, type OidcPeer } from '../peers/oidc';

let oidc: OidcPeer;
beforeAll(async () => {
  oidc = await startOidcProvider();
});
afterAll(() => oidc?.stop());

async function clientCredentials(scope: string): Promise<string> {
  const res = await fetch(oidc.tokenEndpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(oidc.client.id)}:${encodeURIComponent(oidc.client.secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: oidc.resource.indicator }),
  });
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no access token: ${JSON.stringify(body)}\n${oidc.logs()}`);
  return body.access_token;
}

test('tokens issued by oidc-provider verify, with jwks_uri discovered from its metadata', async () => {
  const verifier = new AccessTokenVerifier({ issuer: oidc.issuer, audience: oidc.resource.indicator, requiredScopes: ['orders:read'], keySetCache: new KeySetCache() });
  const claims = await verifier.verify(await clientCredentials('orders:read orders:write'));
  expect(claims).toMatchObject({ iss: oidc.issuer, aud: [oidc.resource.indicator], clientId: oidc.client.id, scopes: ['orders:read', 'orders:write'] });
  const explained = await verifier.explain(await clientCredentials('orders:read'));
  expect(explained.every((r) => r.ok)).toBe(true);
  expect(explained.find((r) => r.name === 'jwks_uri')!.actual).toBe(oidc.jwksUri);
  expect(explained.find((r) => r.name === 'typ')!.actual).toBe('"at+jwt"');
});

test('a scope the client was not granted is a 403 naming it', async () => {
  const verifier = new AccessTokenVerifier({ issuer: oidc.issuer, audience: oidc.resource.indicator, requiredScopes: ['orders:admin'], keySetCache: new KeySetCache() });
  await expect(verifier.verify(await clientCredentials('orders:read'))).rejects.toMatchObject({ code: 'INSUFFICIENT_SCOPE', status: 403, message: expect.stringContaining('orders:admin') });
});

test('a token for another resource server is refused', async () => {
  const verifier = new AccessTokenVerifier({ issuer: oidc.issuer, jwksUri: oidc.jwksUri, audience: 'https://billing.api.s2s.test/', keySetCache: new KeySetCache() });
  await expect(verifier.verify(await clientCredentials('orders:read'))).rejects.toMatchObject({ code: 'WRONG_AUDIENCE' });
});
