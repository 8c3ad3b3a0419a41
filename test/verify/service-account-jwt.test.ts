import { JWT } from 'google-auth-library';
import { KeySetCache } from '../../lib/verify/key-set';
import { googleServiceAccountKeysUrl, ServiceAccountJwtVerifier } from '../../lib/verify/service-account-jwt';
import { certificateFor, nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';

const SA = 'caller@my-project.iam.gserviceaccount.com';
const OTHER = 'other@my-project.iam.gserviceaccount.com';
const SERVICE = 'https://orders.endpoints.my-project.cloud.goog';
const key = testKey('RS256', 'a1b2c3d4e5f60718293a4b5c6d7e8f9011223344');
const otherKey = testKey('RS256');
let server: KeySetServer;
let x509Url: string;
let jwkUrl: string;

beforeAll(async () => {
  server = await KeySetServer.start();
  // The two forms Google publishes for a service account: x509 certificates and a JWK set.
  x509Url = server.x509(`/robot/v1/metadata/x509/${SA}`, { [key.kid]: await certificateFor(key, SA) }, { cacheControl: 'public, max-age=21600' });
  jwkUrl = server.jwks(`/robot/v1/metadata/jwk/${OTHER}`, [otherKey]);
});
afterAll(() => server.close());

function verifier(): ServiceAccountJwtVerifier {
  return new ServiceAccountJwtVerifier({
    issuers: [{ issuer: SA, jwksUri: x509Url, audiences: [SERVICE] }, { issuer: OTHER, jwksUri: jwkUrl, audiences: SERVICE }],
    keySetCache: new KeySetCache(),
  });
}

function saJwt(claims: Record<string, unknown> = {}, signer = key): Promise<string> {
  const now = nowSec();
  return signJwt(signer, { iss: SA, sub: SA, aud: SERVICE, iat: now, exp: now + 3600, ...claims });
}

test('google-auth-library self-signed JWTs are accepted against the x509 form', async () => {
  const client = new JWT({ email: SA, key: key.privatePem, keyId: key.kid });
  const headers = await client.getRequestHeaders(SERVICE);
  const token = /^Bearer (.+)$/.exec(headers.get('authorization')!)![1];
  const v = verifier();
  const claims = await v.verify(v.tokenFrom({ authorization: headers.get('authorization')! }));
  expect(claims).toMatchObject({ iss: SA, sub: SA, aud: SERVICE });
  expect(claims.exp - claims.iat).toBe(3600);
  expect((await v.explain(token)).every((r) => r.ok)).toBe(true);
});

test('each issuer uses its own key set (here the JWK form)', async () => {
  await expect(verifier().verify(await saJwt({ iss: OTHER, sub: OTHER }, otherKey))).resolves.toMatchObject({ iss: OTHER });
  // A key of one service account never verifies another's tokens.
  await expect(verifier().verify(await saJwt({ iss: OTHER, sub: OTHER }, key))).rejects.toMatchObject({ code: 'UNKNOWN_KID' });
});

test('an issuer that is not configured is refused before any key is fetched', async () => {
  const before = server.hits(`/robot/v1/metadata/x509/${SA}`);
  await expect(verifier().verify(await saJwt({ iss: 'evil@attacker.iam.gserviceaccount.com', sub: 'evil@attacker.iam.gserviceaccount.com' })))
    .rejects.toMatchObject({ code: 'WRONG_ISSUER' });
  expect(server.hits(`/robot/v1/metadata/x509/${SA}`)).toBe(before);
});

test('sub must equal iss', async () => {
  await expect(verifier().verify(await saJwt({ sub: 'someone-else' }))).rejects.toMatchObject({ code: 'INVALID_CLAIM', message: expect.stringContaining('must equal iss') });
  await expect(verifier().verify(await saJwt({ sub: undefined }))).rejects.toMatchObject({ code: 'MISSING_CLAIM' });
});

test('the lifetime is at most one hour (plus tolerance)', async () => {
  await expect(verifier().verify(await saJwt({ exp: nowSec() + 7200 }))).rejects.toMatchObject({ code: 'LIFETIME_TOO_LONG' });
});

test('explain: an unknown issuer leaves kid, signature and aud unevaluated', async () => {
  const results = await verifier().explain(await saJwt({ iss: 'x@y.iam.gserviceaccount.com' }));
  expect(results.map((r) => [r.name, r.ok])).toEqual([
    ['format', true], ['alg', true], ['crit', true], ['iss', false], ['kid', false], ['signature', false], ['sub', false],
    ['aud', false], ['exp', true], ['iat', true], ['nbf', true], ['lifetime', true], ['claims', true],
  ]);
  expect(results.find((r) => r.name === 'kid')!.detail).toBe('not evaluated because "iss" failed');
  expect(results.find((r) => r.name === 'sub')!.code).toBe('INVALID_CLAIM');
});

test("the default key URL is Google's x509 endpoint for the account", () => {
  expect(googleServiceAccountKeysUrl(SA)).toBe('https://www.googleapis.com/robot/v1/metadata/x509/caller%40my-project.iam.gserviceaccount.com');
});

test('options are validated', () => {
  expect(() => new ServiceAccountJwtVerifier({ issuers: [] })).toThrow(/issuers must be a non-empty list/);
  expect(() => new ServiceAccountJwtVerifier({ issuers: [{ issuer: SA, audiences: [] }] })).toThrow(/issuers\[0\]\.audiences/);
  expect(() => new ServiceAccountJwtVerifier({ issuers: [{ issuer: SA, audiences: SERVICE }, { issuer: SA, audiences: SERVICE }] })).toThrow(/listed twice/);
  expect(() => new ServiceAccountJwtVerifier({ issuers: [{ issuer: SA, audiences: SERVICE, jwksUri: 'http://keys.example' }] })).toThrow(/jwksUri must use https/);
  expect(() => new ServiceAccountJwtVerifier({ issuers: [{ issuer: SA, audiences: SERVICE }], algorithms: ['HS256' as 'RS256'] })).toThrow(/algorithms may only list ES256 and RS256 \(got "HS256"\)/);
});
