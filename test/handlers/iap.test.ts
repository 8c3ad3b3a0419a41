import { nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';
import { expectGarbageRefused, expectMisconfigured, expectRefused, get, runFunction } from './support';

const AUDIENCE = '/projects/123456789012/global/backendServices/4567890123456789';
const key = testKey('ES256');
let keys: KeySetServer;

beforeAll(async () => {
  keys = await KeySetServer.start();
  keys.jwks('/iap/verify/public_key-jwk', [key]);
});
afterAll(() => keys.close());

function assertion(claims: Record<string, unknown> = {}, signer = key): Promise<string> {
  const iat = nowSec();
  return signJwt(signer, {
    iss: 'https://cloud.google.com/iap', aud: AUDIENCE, sub: 'accounts.google.com:118181818181818181818', email: 'alice@demo.example', hd: 'demo.example',
    google: { access_levels: ['accessPolicies/1/accessLevels/corp'] }, iat, exp: iat + 600, ...claims,
  });
}

const iap = (token: string): Record<string, string> => ({ 'x-goog-iap-jwt-assertion': token });

describe('behind IAP, with health-check paths', () => {
  const fn = runFunction('iap', () => ({ S2S_IAP_AUDIENCE: AUDIENCE, S2S_IAP_HEALTH_CHECK_PATHS: '/healthz, /ready', S2S_IAP_JWKS_URL: keys.url('/iap/verify/public_key-jwk') }));

  test('a valid IAP assertion → 200 with the user IAP signed for', async () => {
    const reply = await get(fn(), '/orders', iap(await assertion()));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ sub: 'accounts.google.com:118181818181818181818', email: 'alice@demo.example', hd: 'demo.example', accessLevels: ['accessPolicies/1/accessLevels/corp'] });
  });

  test('an external (Identity Platform) user: the gcip claims are surfaced', async () => {
    const gcip = {
      auth_time: 1700000000, email: 'bob@partner.example', email_verified: true, name: 'Bob', sub: 'gcip-uid-1',
      firebase: { sign_in_provider: 'saml.partner', tenant: 'tenant-a', identities: { 'saml.partner': ['bob@partner.example'] }, sign_in_attributes: { department: 'ops' } },
    };
    const reply = await get(fn(), '/', iap(await assertion({ sub: 'securetoken.google.com/demo/tenant-a:gcip-uid-1', email: 'securetoken.google.com/demo/tenant-a:bob@partner.example', hd: undefined, google: undefined, gcip })));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      sub: 'securetoken.google.com/demo/tenant-a:gcip-uid-1',
      email: 'securetoken.google.com/demo/tenant-a:bob@partner.example',
      accessLevels: [],
      gcip: {
        sub: 'gcip-uid-1', email: 'bob@partner.example', emailVerified: true, name: 'Bob', authTime: 1700000000, signInProvider: 'saml.partner', tenant: 'tenant-a',
        identities: { 'saml.partner': ['bob@partner.example'] }, signInAttributes: { department: 'ops' },
      },
    });
  });

  test('a malformed gcip claim → 401 INVALID_CLAIM', async () => {
    expectRefused(await get(fn(), '/', iap(await assertion({ gcip: { email_verified: 'yes' } }))), 401, 'INVALID_CLAIM');
  });

  test.each(['/healthz', '/ready'])('health-check path %s → 200 without a token', async (path) => {
    const reply = await get(fn(), path);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ status: 'ok' });
  });

  test('a path merely starting like a health check still needs a token', async () => {
    expectRefused(await get(fn(), '/healthz/admin'), 401, 'MISSING_TOKEN');
    expectRefused(await get(fn(), '/healthzz'), 401, 'MISSING_TOKEN');
  });

  test('the unsigned x-goog-authenticated-user-* headers are ignored: alone they are refused', async () => {
    expectRefused(await get(fn(), '/', { 'x-goog-authenticated-user-email': 'accounts.google.com:admin@demo.example', 'x-goog-authenticated-user-id': 'accounts.google.com:1' }), 401, 'MISSING_TOKEN');
  });

  test('the unsigned x-goog-authenticated-user-* headers are ignored: next to an assertion they change nothing', async () => {
    const reply = await get(fn(), '/', { ...iap(await assertion()), 'x-goog-authenticated-user-email': 'accounts.google.com:admin@demo.example' });
    expect(reply.status).toBe(200);
    expect(reply.body.email).toBe('alice@demo.example');
  });

  test('a bearer token is not an IAP assertion', async () => {
    expectRefused(await get(fn(), '/', { authorization: `Bearer ${await assertion()}` }), 401, 'MISSING_TOKEN');
  });

  test.each<[string, string, () => Promise<string>]>([
    ['another backend service', 'WRONG_AUDIENCE', () => assertion({ aud: '/projects/123456789012/global/backendServices/1' })],
    ['another issuer', 'WRONG_ISSUER', () => assertion({ iss: 'https://accounts.google.com' })],
    ['an expired assertion', 'EXPIRED', () => assertion({ iat: nowSec() - 1200, exp: nowSec() - 600 })],
    ['a lifetime over 10 minutes', 'LIFETIME_TOO_LONG', () => assertion({ exp: nowSec() + 3600 })],
    ['an RS256 assertion', 'UNSUPPORTED_ALG', () => assertion({}, testKey('RS256', key.kid))],
    ['a signature by another key under the known kid', 'BAD_SIGNATURE', () => assertion({}, { ...testKey('ES256'), kid: key.kid })],
    ['an unknown kid', 'UNKNOWN_KID', () => assertion({}, testKey('ES256'))],
    ['no email', 'MISSING_CLAIM', () => assertion({ email: undefined })],
  ])('%s → 401 %s', async (_name, code, token) => {
    expectRefused(await get(fn(), '/', iap(await token())), 401, code);
  });

  expectGarbageRefused(fn, 'x-goog-iap-jwt-assertion');
});

describe('an App Engine audience, no health checks', () => {
  const appAudience = '/projects/123456789012/apps/demo-project';
  const fn = runFunction('iap', () => ({ S2S_IAP_AUDIENCE: appAudience, S2S_IAP_JWKS_URL: keys.url('/iap/verify/public_key-jwk') }));

  test('accepts assertions for the app and refuses /healthz without a token', async () => {
    expect((await get(fn(), '/', iap(await assertion({ aud: appAudience })))).status).toBe(200);
    expectRefused(await get(fn(), '/healthz'), 401, 'MISSING_TOKEN');
  });
});

describe('a Cloud Run audience (IAP enabled on the service itself)', () => {
  const runAudience = '/projects/123456789012/locations/europe-west1/services/orders';
  const fn = runFunction('iap', () => ({ S2S_IAP_AUDIENCE: runAudience, S2S_IAP_JWKS_URL: keys.url('/iap/verify/public_key-jwk') }));

  test('accepts assertions for the service and refuses those for a backend service', async () => {
    expect((await get(fn(), '/', iap(await assertion({ aud: runAudience })))).status).toBe(200);
    expectRefused(await get(fn(), '/', iap(await assertion({ aud: AUDIENCE }))), 401, 'WRONG_AUDIENCE');
  });
});

describe('misconfiguration → 500 MISCONFIGURED on every request, logged once', () => {
  test.each<[string, Record<string, string>, RegExp]>([
    ['S2S_IAP_AUDIENCE unset', {}, /S2S_IAP_AUDIENCE is required and not set/],
    ['S2S_IAP_AUDIENCE a URL', { S2S_IAP_AUDIENCE: 'https://app.example' }, /S2S_IAP_AUDIENCE must be \/projects\/PROJECT_NUMBER\/apps\/PROJECT_ID, \/projects\/PROJECT_NUMBER\/global\/backendServices\/SERVICE_ID or \/projects\/PROJECT_NUMBER\/locations\/REGION\/services\/SERVICE_NAME \(got "https:\/\/app.example"\)$/],
    ['S2S_IAP_AUDIENCE with a project id for the number', { S2S_IAP_AUDIENCE: '/projects/demo-project/apps/demo-project' }, /S2S_IAP_AUDIENCE must be .*; here projectNumber must be the numeric project number.* \(got "\/projects\/demo-project\/apps\/demo-project"\)$/],
    ['S2S_IAP_AUDIENCE with a leading zero in the project number', { S2S_IAP_AUDIENCE: '/projects/0123/apps/demo-project' }, /S2S_IAP_AUDIENCE must be .*; here projectNumber must be the numeric project number/],
    ['S2S_IAP_AUDIENCE with a backend service name for its id', { S2S_IAP_AUDIENCE: '/projects/123/global/backendServices/web-backend' }, /S2S_IAP_AUDIENCE must be .*; here backendServiceId must be the numeric id/],
    ['S2S_IAP_AUDIENCE of another form', { S2S_IAP_AUDIENCE: '/projects/123/regions/x/apps/y' }, /S2S_IAP_AUDIENCE must be /],
    ['S2S_IAP_HEALTH_CHECK_PATHS without a leading slash', { S2S_IAP_AUDIENCE: AUDIENCE, S2S_IAP_HEALTH_CHECK_PATHS: '/ok,healthz' }, /S2S_IAP_HEALTH_CHECK_PATHS must be comma-separated paths starting with "\/" \(got "healthz"\)/],
    ['S2S_IAP_JWKS_URL not a URL', { S2S_IAP_AUDIENCE: AUDIENCE, S2S_IAP_JWKS_URL: 'gstatic' }, /S2S_IAP_JWKS_URL must be an absolute URL/],
  ])('%s', (_name, env, log) => expectMisconfigured('iap', env, log));
});
