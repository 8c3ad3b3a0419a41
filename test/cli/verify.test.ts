import type { JWTPayload } from 'jose';
import { startGoogleTokenServer, testServiceAccount, type GoogleTokenServer, type TestServiceAccount } from '../peers/google-token';
import { nowSec, signJwt, testKey, type TestKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';
import { startOidcProvider, type OidcPeer } from '../peers/oidc';
import { assertBuilt, closedUrl, s2s, tempFile } from './support';

const IAP_AUDIENCE = '/projects/123456789012/apps/s2s-test';
const FUNCTION_URL = 'https://orders-abc123-ew.a.run.app';
const ENDPOINTS_AUDIENCE = 'orders.endpoints.s2s-test.cloud.goog';

let keys: KeySetServer;
let iapKey: TestKey;
let iapJwks: string;
let google: GoogleTokenServer;
let account: TestServiceAccount;
let accountKeys: string;
let keyFile: string;
let oidc: OidcPeer;

beforeAll(async () => {
  assertBuilt();
  keys = await KeySetServer.start();
  iapKey = testKey('ES256');
  iapJwks = keys.jwks('/iap/jwk', [iapKey]);
  account = await testServiceAccount();
  accountKeys = keys.x509(`/robot/v1/metadata/x509/${account.email}`, { [account.key.private_key_id]: account.certificate });
  keyFile = tempFile('caller-key.json', JSON.stringify(account.key));
  google = await startGoogleTokenServer({ serviceAccounts: [account] });
  oidc = await startOidcProvider();
});
afterAll(async () => {
  await keys?.close();
  await google?.close();
  await oidc?.stop();
});

function iapToken(claims: JWTPayload = {}): Promise<string> {
  const now = nowSec();
  return signJwt(iapKey, { iss: 'https://cloud.google.com/iap', aud: IAP_AUDIENCE, sub: 'accounts.google.com:1234', email: 'jane@example.com', iat: now, exp: now + 600, ...claims });
}

/** A Google ID token as the callers of a function get it: from `s2s token id`. */
async function idToken(): Promise<string> {
  const res = await s2s(['token', 'id', '--audience', FUNCTION_URL, '--key-file', keyFile], { env: { S2S_GOOGLE_TOKEN_ENDPOINT: google.tokenEndpoint } });
  if (res.code !== 0) throw new Error(res.stderr);
  return res.stdout;
}

interface Explained {
  valid: boolean;
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  checks: { name: string; ok: boolean; expected: string; actual: string; detail?: string; code?: string; cause?: string }[];
  rejection: { code: string; status: number; message: string } | null;
}

describe('s2s verify iap', () => {
  test('a valid assertion: header, claims, every check PASS with expected and actual, exit 0', async () => {
    const token = await iapToken();
    const res = await s2s(['verify', 'iap', token, '--audience', IAP_AUDIENCE, '--jwks-url', iapJwks]);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toMatch(/^Header\n {2}\{\n {4}"alg": "ES256",\n {4}"kid": "test-es256-\d+"\n {2}\}\n\nClaims\n {2}\{\n {4}"iss": "https:\/\/cloud\.google\.com\/iap",/);
    expect(res.stdout).toContain(`  PASS  aud\n        expected: one of ${IAP_AUDIENCE}\n        actual:   "${IAP_AUDIENCE}"\n`);
    expect(res.stdout).toContain(`  PASS  kid\n        expected: a key id published at ${iapJwks}\n`);
    expect(res.stdout).not.toContain('FAIL');
    expect(res.stdout).toMatch(/\nVALID: all \d+ checks passed\n$/);
  });

  test('an expired assertion for another audience: each failure with its code, the handler\'s answer, exit 1', async () => {
    const now = nowSec();
    const token = await iapToken({ aud: '/projects/1/apps/other', iat: now - 1200, exp: now - 600 });
    const res = await s2s(['verify', 'iap', token, '--audience', IAP_AUDIENCE, '--jwks-url', iapJwks]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('  FAIL  aud\n        expected: one of /projects/123456789012/apps/s2s-test\n        actual:   "/projects/1/apps/other"\n        WRONG_AUDIENCE: audience "/projects/1/apps/other" is not accepted\n');
    expect(res.stdout).toMatch(/ {2}FAIL {2}exp\n.*\n.*\n {8}EXPIRED: the token expired at /);
    expect(res.stdout).toContain('  PASS  signature');
    expect(res.stdout).toContain('  SKIP  lifetime\n        expected: exp - iat between 0 and 660 s (600 s + 2 × 30 s tolerance)\n        actual:   not evaluated\n        not evaluated because "exp" failed\n');
    expect(res.stdout).toMatch(/\nINVALID: 2 of 12 checks failed and 1 could not be evaluated; a handler answers 401 WRONG_AUDIENCE: audience "\/projects\/1\/apps\/other" is not accepted\n$/);
  });

  test('--clock-tolerance widens the exp check', async () => {
    const now = nowSec();
    const token = await iapToken({ iat: now - 610, exp: now - 10 });
    expect((await s2s(['verify', 'iap', token, '--audience', IAP_AUDIENCE, '--jwks-url', iapJwks, '--clock-tolerance', '0'])).code).toBe(1);
    expect((await s2s(['verify', 'iap', token, '--audience', IAP_AUDIENCE, '--jwks-url', iapJwks, '--clock-tolerance', '60'])).code).toBe(0);
  });

  test('--json: valid, decoded header and claims, the checks and the rejection', async () => {
    const token = await iapToken({ email: undefined });
    const res = await s2s(['verify', 'iap', token, '--audience', IAP_AUDIENCE, '--jwks-url', iapJwks, '--json']);
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as Explained;
    expect(out).toMatchObject({ valid: false, header: { alg: 'ES256', kid: iapKey.kid }, claims: { aud: IAP_AUDIENCE }, rejection: { code: 'MISSING_CLAIM', status: 401 } });
    expect(out.checks.find((c) => c.name === 'claims')).toMatchObject({ ok: false, code: 'MISSING_CLAIM', detail: 'the token has no "email" claim' });
    expect(out.checks.filter((c) => !c.ok)).toHaveLength(1);
  });

  test('keys that cannot be fetched fail the kid check (KEYS_UNAVAILABLE, 503) with the URL and the reason, and what depends on it', async () => {
    const unreachable = `${await closedUrl()}/iap/jwk`;
    const text = await s2s(['verify', 'iap', await iapToken(), '--audience', IAP_AUDIENCE, '--jwks-url', unreachable]);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(new RegExp(`  FAIL  kid\n.*\n.*\n {8}KEYS_UNAVAILABLE: the signing keys are unavailable; try again later\n {8}cause: GET ${unreachable} failed: fetch failed: .*ECONNREFUSED`));

    const res = await s2s(['verify', 'iap', await iapToken(), '--audience', IAP_AUDIENCE, '--jwks-url', unreachable, '--json']);
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as Explained;
    expect(out.checks.find((c) => c.name === 'kid')).toMatchObject({ ok: false, code: 'KEYS_UNAVAILABLE', expected: `a key id published at ${unreachable}`, cause: expect.stringContaining(`GET ${unreachable} failed`) });
    expect(out.checks.find((c) => c.name === 'signature')).toMatchObject({ ok: false, actual: 'not evaluated' });
    expect(out.rejection).toMatchObject({ code: 'KEYS_UNAVAILABLE', status: 503 });
  });

  test('something that is not a JWT fails the format check and decodes to nothing', async () => {
    const res = await s2s(['verify', 'iap', 'hello', '--audience', IAP_AUDIENCE, '--jwks-url', iapJwks]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('Header\n  (not decodable)\n\nClaims\n  (not decodable)\n');
    expect(res.stdout).toContain('MALFORMED_TOKEN: the token has 1 segment(s); a JWT has 3, separated by "."');
    const json = JSON.parse((await s2s(['verify', 'iap', 'hello', '--audience', IAP_AUDIENCE, '--jwks-url', iapJwks, '--json'])).stdout) as Explained;
    expect(json).toMatchObject({ valid: false, header: null, claims: null, rejection: { code: 'MALFORMED_TOKEN', status: 401 } });
  });
});

describe('s2s verify id-token', () => {
  test('reads the token from stdin: s2s token id | s2s verify id-token -', async () => {
    const res = await s2s(['verify', 'id-token', '-', '--audience', FUNCTION_URL, '--certs-url', google.jwksUri, '--allowed-email', account.email], { stdin: await idToken() });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`"email": "${account.email}"`);
    expect(res.stdout).toContain('  PASS  caller\n');
    expect(res.stdout).toMatch(/VALID: all \d+ checks passed\n$/);
  });

  test('a pasted "Bearer <token>" is accepted; a caller not allowed is 403 CALLER_NOT_ALLOWED', async () => {
    const res = await s2s(['verify', 'id-token', `Bearer ${(await idToken()).trim()}`, '--audience', FUNCTION_URL, '--certs-url', google.jwksUri, '--allowed-email', 'someone-else@s2s-test.iam.gserviceaccount.com', '--json']);
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as Explained;
    expect(out.rejection).toEqual({ code: 'CALLER_NOT_ALLOWED', status: 403, message: `caller "${account.email}" is not allowed to call this function` });
    expect(out.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['caller']);
    expect(out.checks.map((c) => c.name)).toEqual(['format', 'alg', 'crit', 'cloud-run', 'kid', 'signature', 'iss', 'aud', 'exp', 'iat', 'nbf', 'lifetime', 'claims', 'email_verified', 'caller']);
  });

  test('Google\'s x509 certificate form works as --certs-url too; several --audience values are accepted', async () => {
    const res = await s2s(['verify', 'id-token', (await idToken()).trim(), '--audience', 'https://other.example.com', '--audience', FUNCTION_URL, '--certs-url', google.x509Uri]);
    expect(res.code).toBe(0);
  });
});

describe('s2s verify id-token: a token whose signature Cloud Run removed', () => {
  /** What a 2nd gen function behind Cloud Run IAM receives in Authorization. */
  async function strippedToken(): Promise<string> {
    const [header, payload] = (await idToken()).trim().split('.');
    return `${header}.${payload}.SIGNATURE_REMOVED_BY_GOOGLE`;
  }

  test('without --cloud-run the signature check fails with the library\'s reason naming Cloud Run and the fix', async () => {
    const res = await s2s(['verify', 'id-token', await strippedToken(), '--audience', FUNCTION_URL, '--certs-url', google.jwksUri]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('  FAIL  cloud-run\n        expected: a signature to verify; Cloud Run stripped tokens are not trusted\n        actual:   SIGNATURE_REMOVED_BY_GOOGLE (removed by Cloud Run)\n');
    expect(res.stdout).toContain('BAD_SIGNATURE: the token\'s signature was removed by Cloud Run (SIGNATURE_REMOVED_BY_GOOGLE) and this function does not trust Cloud Run\'s check: deploy it with PrivateCloudRunFunction');
    expect(res.stdout).toMatch(/a handler answers 401 BAD_SIGNATURE: the token's signature was removed by Cloud Run/);
  });

  test('--cloud-run explains it as a handler with S2S_CLOUD_RUN_VERIFIED: the claim checks decide, Cloud Run stands in for kid and signature', async () => {
    const res = await s2s(['verify', 'id-token', await strippedToken(), '--audience', FUNCTION_URL, '--allowed-email', account.email, '--cloud-run', '--json']);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as Explained;
    expect(out.valid).toBe(true);
    expect(out.checks.map((c) => c.name)).toEqual(['format', 'alg', 'crit', 'cloud-run', 'iss', 'aud', 'exp', 'iat', 'nbf', 'lifetime', 'claims', 'email_verified', 'caller']);
    expect(out.checks.find((c) => c.name === 'cloud-run')).toMatchObject({ ok: true, expected: expect.stringContaining('Cloud Run verified the signature') });

    // The claims still decide: another audience is refused even though no signature is checked.
    const wrongAudience = await s2s(['verify', 'id-token', await strippedToken(), '--audience', 'https://other-abc123-ew.a.run.app', '--cloud-run']);
    expect(wrongAudience.code).toBe(1);
    expect(wrongAudience.stdout).toContain('  FAIL  aud\n');
  });

  test('--cloud-run still verifies a token that kept its signature in full', async () => {
    const token = (await idToken()).trim();
    const forged = `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.alloc(256, 1).toString('base64url')}`;
    const res = await s2s(['verify', 'id-token', forged, '--audience', FUNCTION_URL, '--certs-url', google.jwksUri, '--cloud-run', '--json']);
    expect(res.code).toBe(1);
    expect((JSON.parse(res.stdout) as Explained).rejection).toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  test('--allowed-subject admits a caller by its numeric account id', async () => {
    const token = (await idToken()).trim();
    const sub = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')).sub as string;
    expect((await s2s(['verify', 'id-token', token, '--audience', FUNCTION_URL, '--certs-url', google.jwksUri, '--allowed-subject', sub])).code).toBe(0);
    const other = await s2s(['verify', 'id-token', token, '--audience', FUNCTION_URL, '--certs-url', google.jwksUri, '--allowed-subject', '1234567890', '--json']);
    expect((JSON.parse(other.stdout) as Explained).rejection).toMatchObject({ code: 'CALLER_NOT_ALLOWED', status: 403 });
  });
});

describe('s2s verify sa-jwt', () => {
  test('s2s token sa-jwt | s2s verify sa-jwt -: the account\'s own x509 keys, sub = iss', async () => {
    const minted = await s2s(['token', 'sa-jwt', '--key-file', keyFile, '--audience', ENDPOINTS_AUDIENCE]);
    const res = await s2s(['verify', 'sa-jwt', '-', '--issuer', account.email, '--audience', ENDPOINTS_AUDIENCE, '--jwks-url', accountKeys], { stdin: minted.stdout });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`  PASS  sub\n        expected: equal to iss ("${account.email}")\n`);
  });

  test('a token from another account: WRONG_ISSUER, and the key and signature checks are not evaluated', async () => {
    const other = await testServiceAccount();
    const otherKeyFile = tempFile('other-key.json', JSON.stringify(other.key));
    const minted = await s2s(['token', 'sa-jwt', '--key-file', otherKeyFile, '--audience', ENDPOINTS_AUDIENCE]);
    const res = await s2s(['verify', 'sa-jwt', minted.stdout.trim(), '--issuer', account.email, '--audience', ENDPOINTS_AUDIENCE, '--jwks-url', accountKeys, '--json']);
    expect(res.code).toBe(1);
    const out = JSON.parse(res.stdout) as Explained;
    expect(out.rejection).toMatchObject({ code: 'WRONG_ISSUER', status: 401 });
    expect(out.checks.find((c) => c.name === 'kid')).toMatchObject({ ok: false, actual: 'not evaluated' });
  });
});

describe('s2s verify access-token', () => {
  async function accessToken(scope: string): Promise<string> {
    const res = await s2s(['token', 'client-credentials', '--token-endpoint', oidc.tokenEndpoint, '--client-id', oidc.client.id, '--resource', oidc.resource.indicator, '--scope', scope], { env: { S2S_CLIENT_SECRET: oidc.client.secret } });
    if (res.code !== 0) throw new Error(res.stderr);
    return res.stdout;
  }

  test('a token from a real oidc-provider, keys discovered from the issuer\'s metadata, required scopes present', async () => {
    const res = await s2s(['verify', 'access-token', '-', '--issuer', oidc.issuer, '--audience', oidc.resource.indicator, '--scope', 'orders:read'], { stdin: await accessToken('orders:read orders:write') });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`  PASS  jwks_uri\n        expected: jwks_uri from the metadata of ${oidc.issuer}`);
    expect(res.stdout).toContain('  PASS  scopes\n        expected: orders:read\n        actual:   "orders:read orders:write"\n');
  });

  test('a missing scope is 403 INSUFFICIENT_SCOPE naming it', async () => {
    const res = await s2s(['verify', 'access-token', (await accessToken('orders:read')).trim(), '--issuer', oidc.issuer, '--audience', oidc.resource.indicator, '--jwks-url', oidc.jwksUri, '--scope', 'orders:read orders:write']);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/INVALID: 1 of \d+ checks failed; a handler answers 403 INSUFFICIENT_SCOPE: the token lacks the required scope\(s\): orders:write\n$/);
  });
});

describe('usage errors exit 2', () => {
  test.each([
    [['verify', 'iap', '--audience', IAP_AUDIENCE], undefined, 'missing TOKEN|-'],
    [['verify', 'iap', 'a.b.c'], undefined, '--audience is required, e.g. --audience /projects/123456789012/apps/my-project'],
    [['verify', 'iap', 'a.b.c', '--audience', 'my-app'], undefined, '--audience must be /projects/PROJECT_NUMBER/apps/PROJECT_ID, /projects/PROJECT_NUMBER/global/backendServices/SERVICE_ID or /projects/PROJECT_NUMBER/locations/REGION/services/SERVICE_NAME (got "my-app")'],
    [['verify', 'iap', 'a.b.c', '--audience', IAP_AUDIENCE, '--jwks-url', 'http://keys.example.com/jwk'], undefined, '--jwks-url must use https (http only on loopback) (got "http://keys.example.com/jwk")'],
    [['verify', 'iap', 'a.b.c', '--audience', IAP_AUDIENCE, '--clock-tolerance=-5'], undefined, '--clock-tolerance must be a number of seconds >= 0 (got "-5")'],
    [['verify', 'id-token', '-', '--audience', FUNCTION_URL], ' \n', 'stdin is empty; pipe the token in'],
    [['verify', 'id-token', 'a.b.c'], undefined, '--audience is required'],
    [['verify', 'sa-jwt', 'a.b.c', '--audience', 'x'], undefined, '--issuer is required'],
    [['verify', 'sa-jwt', 'a.b.c', '--issuer', 'x@p.iam.gserviceaccount.com', '--audience', 'x', '--jwks-url', 'not a url'], undefined, '--jwks-url must be an absolute URL'],
    [['verify', 'access-token', 'a.b.c', '--issuer', 'http://auth.example.com', '--audience', 'x'], undefined, 'issuer (its metadata is fetched because jwksUri is not set) must use https'],
    [['verify', 'access-token', 'a.b.c', '--issuer', 'https://auth.example.com'], undefined, '--audience is required'],
    [['verify', 'jwt', 'a.b.c'], undefined, 'unknown command "jwt"; expected one of iap, id-token, sa-jwt, access-token'],
  ])('%j', async (args, stdin, message) => {
    const res = await s2s(args, { stdin });
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(message);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
