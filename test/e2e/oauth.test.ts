/**
 * End to end, nothing simulated: a real authorization server (oidc-provider) issues
 * client-credentials tokens to the real client (ClientCredentialsTokenSource), which calls the
 * built oauth reference handler running inside the real functions-framework.
 */
import { ClientCredentialsTokenSource } from '../../lib/client/client-credentials';
import { startFunction, type RunningFunction } from '../peers/functions-framework';
import { startOidcProvider, type OidcPeer } from '../peers/oidc';

const ORDERS = 'https://orders.api.s2s.test/';
const BILLING = 'https://billing.api.s2s.test/';
let oidc: OidcPeer;

beforeAll(async () => {
  oidc = await startOidcProvider({
    clients: [{ id: 'checkout', secret: 'checkout secret: with/odd+chars', scope: 'orders:read orders:write billing:read' }],
    resources: [
      { indicator: ORDERS, scope: 'orders:read orders:write orders:admin', accessTokenTTL: 300 },
      { indicator: BILLING, scope: 'billing:read', accessTokenTTL: 300 },
    ],
  });
});
afterAll(() => oidc?.stop());

function tokens(resource: string, scope: string): ClientCredentialsTokenSource {
  return new ClientCredentialsTokenSource({ tokenEndpoint: oidc.tokenEndpoint, clientId: oidc.client.id, clientSecret: oidc.client.secret, resource, scope });
}

async function call(fn: RunningFunction, source: ClientCredentialsTokenSource): Promise<{ status: number; challenge: string | null; body: Record<string, unknown> }> {
  const res = await fetch(`${fn.url}/orders`, { headers: { authorization: `Bearer ${await source.getToken()}` } });
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() as Record<string, unknown> };
}

describe.each([
  ['the JWK set URL configured', (): Record<string, string> => ({ S2S_OAUTH_JWKS_URI: oidc.jwksUri })],
  ['the JWK set discovered from the issuer', (): Record<string, string> => ({})],
])('oauth handler requiring orders:read and orders:write, %s', (_name, jwks) => {
  let fn: RunningFunction;
  beforeAll(async () => {
    fn = await startFunction({ handler: 'oauth', env: { S2S_OAUTH_ISSUER: oidc.issuer, S2S_OAUTH_AUDIENCE: ORDERS, S2S_OAUTH_REQUIRED_SCOPES: 'orders:read orders:write', ...jwks() } });
  });
  afterAll(() => fn?.stop());

  test('a token with both scopes → 200 naming the client and its scopes', async () => {
    const reply = await call(fn, tokens(ORDERS, 'orders:read orders:write'));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ iss: oidc.issuer, sub: 'checkout', clientId: 'checkout', aud: [ORDERS], scopes: expect.arrayContaining(['orders:read', 'orders:write']) });
  });

  test('a token with one of them → 403 INSUFFICIENT_SCOPE naming the missing one', async () => {
    const reply = await call(fn, tokens(ORDERS, 'orders:read'));
    expect(reply.status).toBe(403);
    expect(reply.body).toEqual({ error: 'INSUFFICIENT_SCOPE', message: 'the token lacks the required scope(s): orders:write' });
    expect(reply.challenge).toBe('Bearer error="insufficient_scope", error_description="the token lacks the required scope(s): orders:write"');
  });

  test('a token for another API of the same server → 401 WRONG_AUDIENCE', async () => {
    const reply = await call(fn, tokens(BILLING, 'billing:read'));
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('WRONG_AUDIENCE');
    expect(reply.challenge).toMatch(/^Bearer error="invalid_token"/);
  });

  test('the same token is accepted on every call; a copy with one signature character changed is not', async () => {
    const source = tokens(ORDERS, 'orders:read orders:write');
    expect((await call(fn, source)).status).toBe(200);
    expect((await call(fn, source)).status).toBe(200);
    const token = await source.getToken();
    const at = token.length - 10;
    const tampered = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`;
    const res = await fetch(`${fn.url}/`, { headers: { authorization: `Bearer ${tampered}` } });
    expect(res.status).toBe(401);
    expect((await res.json() as Record<string, unknown>).error).toBe('BAD_SIGNATURE');
  });
});
