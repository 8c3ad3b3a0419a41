import { nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';
import { expectGarbageRefused, expectMisconfigured, expectRefused, get, runFunction } from './support';

const AUDIENCE = 'https://orders.api.demo.example';
const key = testKey('ES256');
let keys: KeySetServer;
let issuer: string;

beforeAll(async () => {
  keys = await KeySetServer.start();
  issuer = keys.url('/tenant-a');
  const jwksUri = keys.jwks('/tenant-a/jwks', [key]);
  // Discovery (RFC 8414): the well-known segment goes before the issuer's path.
  keys.json('/.well-known/oauth-authorization-server/tenant-a', { issuer, jwks_uri: jwksUri });
});
afterAll(() => keys.close());

function accessToken(claims: Record<string, unknown> = {}, header: Record<string, unknown> = { typ: 'at+jwt' }, signer = key): Promise<string> {
  const iat = nowSec();
  return signJwt(signer, { iss: issuer, aud: AUDIENCE, sub: 'billing-service', client_id: 'billing-service', scope: 'orders.read orders.write', jti: 'j1', iat, exp: iat + 300, ...claims }, header);
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

describe.each([
  ['an explicit JWK set URL', () => ({ S2S_OAUTH_JWKS_URI: keys.url('/tenant-a/jwks') })],
  ['keys discovered from the issuer metadata', () => ({})],
])('requiring two scopes, with %s', (_name, jwks) => {
  const fn = runFunction('oauth', () => ({ S2S_OAUTH_ISSUER: issuer, S2S_OAUTH_AUDIENCE: AUDIENCE, S2S_OAUTH_REQUIRED_SCOPES: ' orders.read\torders.write ', ...jwks() }));

  test('a token with the scopes → 200 with the client and its scopes', async () => {
    const reply = await get(fn(), '/', bearer(await accessToken({ scope: 'orders.write profile orders.read' })));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ iss: issuer, sub: 'billing-service', clientId: 'billing-service', aud: [AUDIENCE], scopes: ['orders.write', 'profile', 'orders.read'] });
  });

  test('a missing scope → 403 INSUFFICIENT_SCOPE naming it, with the insufficient_scope challenge', async () => {
    const reply = await get(fn(), '/', bearer(await accessToken({ scope: 'orders.read' })));
    expectRefused(reply, 403, 'INSUFFICIENT_SCOPE');
    expect(reply.body.message).toBe('the token lacks the required scope(s): orders.write');
    expect(reply.headers.get('www-authenticate')).toContain('orders.write');
  });

  test('no scope at all → 403 naming both', async () => {
    const reply = await get(fn(), '/', bearer(await accessToken({ scope: undefined })));
    expectRefused(reply, 403, 'INSUFFICIENT_SCOPE');
    expect(reply.body.message).toBe('the token lacks the required scope(s): orders.read orders.write');
  });

  test.each<[string, string, () => Promise<string>]>([
    ['another audience', 'WRONG_AUDIENCE', () => accessToken({ aud: 'https://other.api' })],
    ['another issuer', 'WRONG_ISSUER', () => accessToken({ iss: 'https://evil.example' })],
    ['an ID token (typ JWS)', 'WRONG_TYPE', () => accessToken({}, { typ: 'JWS' })],
    ['an expired token', 'EXPIRED', () => accessToken({ iat: nowSec() - 600, exp: nowSec() - 300 })],
    ['no client_id', 'MISSING_CLAIM', () => accessToken({ client_id: undefined })],
    ['a key the issuer does not publish', 'UNKNOWN_KID', () => accessToken({}, { typ: 'at+jwt' }, testKey('ES256'))],
  ])('%s → 401 %s', async (_name, code, token) => {
    expectRefused(await get(fn(), '/', bearer(await token())), 401, code);
  });

  expectGarbageRefused(fn, 'authorization', (token) => `Bearer ${token}`);
});

describe('no required scopes', () => {
  const fn = runFunction('oauth', () => ({ S2S_OAUTH_ISSUER: issuer, S2S_OAUTH_AUDIENCE: AUDIENCE, S2S_OAUTH_JWKS_URI: keys.url('/tenant-a/jwks') }));

  test('any valid token for the audience → 200', async () => {
    const reply = await get(fn(), '/', bearer(await accessToken({ scope: undefined })));
    expect(reply.status).toBe(200);
    expect(reply.body.scopes).toEqual([]);
  });
});

describe('misconfiguration → 500 MISCONFIGURED on every request, logged once', () => {
  test.each<[string, Record<string, string>, RegExp]>([
    ['S2S_OAUTH_ISSUER unset', { S2S_OAUTH_AUDIENCE: AUDIENCE }, /S2S_OAUTH_ISSUER is required and not set/],
    ['S2S_OAUTH_AUDIENCE unset', { S2S_OAUTH_ISSUER: 'https://issuer.example' }, /S2S_OAUTH_AUDIENCE is required and not set/],
    ['an issuer that cannot be fetched and no S2S_OAUTH_JWKS_URI', { S2S_OAUTH_ISSUER: 'http://issuer.example', S2S_OAUTH_AUDIENCE: AUDIENCE }, /S2S_OAUTH_ISSUER is fetched for its metadata when S2S_OAUTH_JWKS_URI is not set, so it must use https \(http only on loopback\) \(got "http:\/\/issuer.example"\)/],
    ['S2S_OAUTH_JWKS_URI over plain http off loopback', { S2S_OAUTH_ISSUER: 'urn:issuer', S2S_OAUTH_AUDIENCE: AUDIENCE, S2S_OAUTH_JWKS_URI: 'http://keys.example/jwks' }, /S2S_OAUTH_JWKS_URI must use https/],
  ])('%s', (_name, env, log) => expectMisconfigured('oauth', env, log));
});
