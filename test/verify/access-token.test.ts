import { AccessTokenVerifier } from '../../lib/verify/access-token';
import { errorAnswer } from '../../lib/verify/http';
import { KeySetCache } from '../../lib/verify/key-set';
import { nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';

const API = 'https://api.example.com/orders';
const rsKey = testKey('RS256');
const esKey = testKey('ES256');
let server: KeySetServer;
let issuer: string;
let jwksUri: string;

beforeAll(async () => {
  server = await KeySetServer.start();
  issuer = server.url('/tenant-a');
  jwksUri = server.jwks('/tenant-a/jwks', [rsKey, esKey]);
});
afterAll(() => server.close());

function verifier(options: Partial<ConstructorParameters<typeof AccessTokenVerifier>[0]> = {}): AccessTokenVerifier {
  return new AccessTokenVerifier({ issuer, jwksUri, audience: API, keySetCache: new KeySetCache(), ...options });
}

function accessToken(claims: Record<string, unknown> = {}, header: Record<string, unknown> = { typ: 'at+jwt' }, key = rsKey): Promise<string> {
  const now = nowSec();
  return signJwt(key, { iss: issuer, aud: API, sub: 'svc-orders', client_id: 'svc-orders', scope: 'orders:read orders:write', jti: 'j1', iat: now, exp: now + 300, ...claims }, header);
}

test('an RFC 9068 token: claims with split scopes', async () => {
  await expect(verifier().verify(await accessToken())).resolves.toMatchObject({
    iss: issuer, sub: 'svc-orders', aud: [API], clientId: 'svc-orders', scopes: ['orders:read', 'orders:write'], jti: 'j1',
  });
});

test('ES256 tokens are accepted by default; algorithms can be narrowed', async () => {
  await expect(verifier().verify(await accessToken({}, { typ: 'at+jwt' }, esKey))).resolves.toBeDefined();
  await expect(verifier({ algorithms: ['RS256'] }).verify(await accessToken({}, { typ: 'at+jwt' }, esKey))).rejects.toMatchObject({ code: 'UNSUPPORTED_ALG' });
});

test.each([['at+jwt'], ['application/at+jwt'], ['AT+JWT'], ['JWT']])('typ %s is accepted', async (typ) => {
  await expect(verifier().verify(await accessToken({}, { typ }))).resolves.toBeDefined();
});

test.each([['an ID token typ', { typ: 'id_token+jwt' }], ['no typ', { typ: undefined }], ['a logout token', { typ: 'logout+jwt' }]])('%s is WRONG_TYPE', async (_name, header) => {
  await expect(verifier().verify(await accessToken({}, header))).rejects.toMatchObject({ code: 'WRONG_TYPE' });
});

test('strict RFC 9068 typing can be required', async () => {
  await expect(verifier({ types: ['at+jwt', 'application/at+jwt'] }).verify(await accessToken({}, { typ: 'JWT' }))).rejects.toMatchObject({ code: 'WRONG_TYPE' });
});

describe('scopes', () => {
  test('required scopes present pass', async () => {
    await expect(verifier({ requiredScopes: ['orders:write'] }).verify(await accessToken())).resolves.toBeDefined();
  });

  test('missing scopes are a 403 naming them, with the insufficient_scope challenge', async () => {
    const err = await verifier({ requiredScopes: ['orders:read', 'orders:admin', 'billing'] }).verify(await accessToken()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'INSUFFICIENT_SCOPE', status: 403, message: 'the token lacks the required scope(s): orders:admin billing' });
    expect(errorAnswer(err).headers['www-authenticate']).toMatch(/^Bearer error="insufficient_scope"/);
  });

  test('no scope claim at all is insufficient, a non-string scope is invalid', async () => {
    await expect(verifier({ requiredScopes: ['a'] }).verify(await accessToken({ scope: undefined }))).rejects.toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
    await expect(verifier({ requiredScopes: ['a'] }).verify(await accessToken({ scope: ['a'] }))).rejects.toMatchObject({ code: 'INVALID_CLAIM' });
  });

  test('a scope that only prefixes a granted one does not count', async () => {
    await expect(verifier({ requiredScopes: ['orders'] }).verify(await accessToken())).rejects.toMatchObject({ code: 'INSUFFICIENT_SCOPE' });
  });
});

test('client_id and sub are required', async () => {
  await expect(verifier().verify(await accessToken({ client_id: undefined }))).rejects.toMatchObject({ code: 'MISSING_CLAIM', message: expect.stringContaining('client_id') });
  await expect(verifier().verify(await accessToken({ sub: 7 }))).rejects.toMatchObject({ code: 'INVALID_CLAIM' });
});

test('the lifetime bound is configurable', async () => {
  const now = nowSec();
  await expect(verifier({ maxLifetimeSec: 600 }).verify(await accessToken({ iat: now, exp: now + 3600 }))).rejects.toMatchObject({ code: 'LIFETIME_TOO_LONG' });
  await expect(verifier().verify(await accessToken({ iat: now, exp: now + 3600 }))).resolves.toBeDefined();
});

describe('metadata discovery', () => {
  test('RFC 8414 location first, issuer path after the well-known segment', async () => {
    const meta = '/.well-known/oauth-authorization-server/tenant-b';
    const iss = server.url('/tenant-b');
    server.json(meta, { issuer: iss, jwks_uri: jwksUri });
    const v = verifier({ issuer: iss, jwksUri: undefined });
    await expect(v.verify(await accessToken({ iss }))).resolves.toMatchObject({ iss });
    await expect(v.verify(await accessToken({ iss, jti: 'again' }))).resolves.toBeDefined();
    expect(server.hits(meta)).toBe(1);
    expect((await v.explain(await accessToken({ iss }))).map((r) => r.name)).toContain('jwks_uri');
  });

  test('then OpenID Connect discovery', async () => {
    const iss = server.url('/tenant-c');
    server.json('/tenant-c/.well-known/openid-configuration', { issuer: iss, jwks_uri: jwksUri });
    await expect(verifier({ issuer: iss, jwksUri: undefined }).verify(await accessToken({ iss }))).resolves.toBeDefined();
  });

  test('metadata for another issuer is refused (RFC 8414 §3.3): 503, cause logged, retried later', async () => {
    const iss = server.url('/tenant-d');
    server.json('/tenant-d/.well-known/openid-configuration', { issuer: server.url('/evil'), jwks_uri: jwksUri });
    const clock = { now: Date.now() };
    const v = verifier({ issuer: iss, jwksUri: undefined, clock: () => clock.now });
    const err = (await v.verify(await accessToken({ iss })).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: 'KEYS_UNAVAILABLE', status: 503 });
    expect(String((err.cause as Error).message)).toMatch(/metadata issuer .* is not .*RFC 8414/);
    expect(String((err.cause as Error).message)).toContain('oauth-authorization-server/tenant-d: ');
    // Fixed metadata is picked up once the retry delay has passed, not before.
    server.json('/tenant-d/.well-known/openid-configuration', { issuer: iss, jwks_uri: jwksUri });
    await expect(v.verify(await accessToken({ iss }))).rejects.toMatchObject({ code: 'KEYS_UNAVAILABLE' });
    clock.now += 5_000;
    await expect(v.verify(await accessToken({ iss }))).resolves.toBeDefined();
  });

  test('concurrent first requests share one discovery', async () => {
    const iss = server.url('/tenant-e');
    server.json('/tenant-e/.well-known/openid-configuration', { issuer: iss, jwks_uri: jwksUri });
    const v = verifier({ issuer: iss, jwksUri: undefined });
    const token = await accessToken({ iss });
    await Promise.all(Array.from({ length: 50 }, () => v.verify(token)));
    expect(server.hits('/tenant-e/.well-known/openid-configuration')).toBe(1);
  });
});

test('options are validated', () => {
  expect(() => new AccessTokenVerifier({ issuer: '', audience: API })).toThrow(/issuer must be/);
  expect(() => new AccessTokenVerifier({ issuer: 'https://as.example', audience: API, requiredScopes: ['a b'] })).toThrow(/single scopes without spaces/);
  expect(() => new AccessTokenVerifier({ issuer: 'not-a-url', audience: API })).toThrow(/issuer .* must be an absolute URL/);
  expect(() => new AccessTokenVerifier({ issuer: 'https://as.example', audience: API, maxLifetimeSec: 0 })).toThrow(/maxLifetimeSec must be a positive number/);
  expect(() => new AccessTokenVerifier({ issuer: 'https://as.example', audience: API, algorithms: ['RS256', 'PS256' as 'RS256'] })).toThrow(/algorithms may only list ES256 and RS256 \(got "PS256"\)/);
  expect(() => new AccessTokenVerifier({ issuer: 'https://as.example', audience: API, algorithms: [] })).toThrow(/algorithms must be a non-empty/);
});
