import { AuthError } from '../../lib/verify/errors';
import { checkIapAudience, IapVerifier, iapAudienceForAppEngine, iapAudienceForBackendService, iapAudienceForCloudRun } from '../../lib/verify/iap';
import { KeySetCache } from '../../lib/verify/key-set';
import { nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';

const AUD = '/projects/1234567890/global/backendServices/987654321';
const key = testKey('ES256');
let server: KeySetServer;
let jwksUrl: string;

beforeAll(async () => {
  server = await KeySetServer.start();
  jwksUrl = server.jwks('/iap/jwk', [key], { cacheControl: 'public, max-age=3600' });
});
afterAll(() => server.close());

function verifier(options: Partial<ConstructorParameters<typeof IapVerifier>[0]> = {}): IapVerifier {
  return new IapVerifier({ audience: AUD, jwksUrl, keySetCache: new KeySetCache(), ...options });
}

function iapToken(claims: Record<string, unknown> = {}): Promise<string> {
  const now = nowSec();
  return signJwt(key, { iss: 'https://cloud.google.com/iap', aud: AUD, sub: 'accounts.google.com:1234', email: 'jane@example.com', hd: 'example.com', iat: now, exp: now + 600, ...claims });
}

test('a Google identity: sub, email, hd and access levels', async () => {
  const claims = await verifier().verify(await iapToken({ google: { access_levels: ['accessPolicies/1/accessLevels/corp'] } }));
  expect(claims).toMatchObject({ sub: 'accounts.google.com:1234', email: 'jane@example.com', hd: 'example.com', aud: AUD, accessLevels: ['accessPolicies/1/accessLevels/corp'] });
  expect(claims.gcip).toBeUndefined();
  expect(Object.isFrozen(claims)).toBe(true);
});

test('an external identity (Identity Platform): the gcip claim is parsed', async () => {
  const claims = await verifier().verify(await iapToken({
    sub: 'securetoken.google.com/my-project/tenant-1:uid-1',
    email: 'securetoken.google.com/my-project/tenant-1:jane@partner.example',
    hd: undefined,
    gcip: {
      auth_time: 1553219869,
      email: 'jane@partner.example',
      email_verified: true,
      name: 'Jane',
      firebase: {
        identities: { email: ['jane@partner.example'], 'saml.partner': ['jane@partner.example'] },
        sign_in_attributes: { role: 'admin', groups: ['a', 'b'] },
        sign_in_provider: 'saml.partner',
        tenant: 'tenant-1',
      },
      sub: 'uid-1',
    },
  }));
  expect(claims.gcip).toEqual({
    sub: 'uid-1', email: 'jane@partner.example', emailVerified: true, name: 'Jane', authTime: 1553219869,
    signInProvider: 'saml.partner', tenant: 'tenant-1',
    identities: { email: ['jane@partner.example'], 'saml.partner': ['jane@partner.example'] },
    signInAttributes: { role: 'admin', groups: ['a', 'b'] },
  });
});

test.each([
  ['gcip not an object', { gcip: 'x' }, /"gcip" must be an object/],
  ['gcip.firebase.identities not lists', { gcip: { firebase: { identities: { email: 'x' } } } }, /identities/],
  ['google.access_levels not a list', { google: { access_levels: 'x' } }, /access_levels/],
  ['email not a string', { email: 42 }, /"email" must be a non-empty string/],
])('%s is INVALID_CLAIM', async (_name, claims, message) => {
  await expect(verifier().verify(await iapToken(claims))).rejects.toMatchObject({ code: 'INVALID_CLAIM', message: expect.stringMatching(message) });
});

test('the lifetime is at most 10 minutes plus twice the tolerance', async () => {
  const now = nowSec();
  await expect(verifier({ clockToleranceSec: 30 }).verify(await iapToken({ iat: now - 60, exp: now - 60 + 660 }))).resolves.toBeDefined();
  await expect(verifier({ clockToleranceSec: 30 }).verify(await iapToken({ iat: now - 60, exp: now - 60 + 661 }))).rejects.toMatchObject({ code: 'LIFETIME_TOO_LONG' });
});

test('exp and iat honour the clock tolerance', async () => {
  const now = nowSec();
  await expect(verifier().verify(await iapToken({ iat: now - 620, exp: now - 20 }))).resolves.toBeDefined();
  await expect(verifier().verify(await iapToken({ iat: now - 640, exp: now - 40 }))).rejects.toMatchObject({ code: 'EXPIRED' });
  await expect(verifier().verify(await iapToken({ iat: now + 20, exp: now + 600 }))).resolves.toBeDefined();
  await expect(verifier().verify(await iapToken({ iat: now + 40, exp: now + 600 }))).rejects.toMatchObject({ code: 'NOT_YET_VALID' });
});

test('the credential is the IAP header only; spoofable identity headers and bearer tokens are ignored', async () => {
  const v = verifier();
  const token = await iapToken();
  expect(v.tokenFrom({ 'x-goog-iap-jwt-assertion': token })).toBe(token);
  expect(() => v.tokenFrom({ authorization: `Bearer ${token}`, 'x-goog-authenticated-user-email': 'accounts.google.com:boss@example.com' }))
    .toThrow(expect.objectContaining({ code: 'MISSING_TOKEN', message: expect.stringContaining('x-goog-iap-jwt-assertion') }));
});

test('health-check paths are declared on the verifier', () => {
  const v = verifier({ healthCheckPaths: ['/healthz'] });
  expect(v.isHealthCheck('/healthz')).toBe(true);
  expect(v.isHealthCheck('/healthz/x')).toBe(false);
  expect(() => verifier({ healthCheckPaths: ['healthz'] })).toThrow(/must start with "\/"/);
});

test('audience is validated at construction', () => {
  expect(() => new IapVerifier({ audience: 'my-backend' })).toThrow(TypeError);
  expect(() => new IapVerifier({ audience: 'my-backend' })).toThrow(/IapVerifier: audience must be \/projects\/PROJECT_NUMBER\/apps\/PROJECT_ID, .* \(got "my-backend"\)$/);
  expect(() => new IapVerifier({ audience: '/projects/0123/apps/my-project' })).toThrow(/IapVerifier: audience must be .*; here projectNumber must be the numeric project number/);
  expect(() => new IapVerifier({ audience: AUD, clockToleranceSec: -1 })).toThrow(/clockToleranceSec must be a non-negative number/);
});

describe('audience helpers', () => {
  test('build the two documented forms', () => {
    expect(iapAudienceForAppEngine('1234567890', 'my-project')).toBe('/projects/1234567890/apps/my-project');
    expect(iapAudienceForAppEngine(1234567890, 'example.com:my-project')).toBe('/projects/1234567890/apps/example.com:my-project');
    expect(iapAudienceForBackendService(1234567890, '987654321')).toBe('/projects/1234567890/global/backendServices/987654321');
    expect(iapAudienceForCloudRun(1234567890, 'europe-west1', 'orders-api')).toBe('/projects/1234567890/locations/europe-west1/services/orders-api');
  });

  test('checkIapAudience accepts exactly what the builders build', () => {
    for (const audience of [
      '/projects/1234567890/apps/my-project',
      '/projects/1234567890/apps/example.com:my-project',
      '/projects/1234567890/global/backendServices/987654321',
      '/projects/1234567890/locations/us-central1/services/orders',
    ]) {
      expect(checkIapAudience(audience)).toBe(audience);
      expect(new IapVerifier({ audience }).audience).toBe(audience);
    }
  });

  test.each([
    ['https://app.example', /^must be \/projects\/PROJECT_NUMBER\/apps\/PROJECT_ID, \/projects\/PROJECT_NUMBER\/global\/backendServices\/SERVICE_ID or \/projects\/PROJECT_NUMBER\/locations\/REGION\/services\/SERVICE_NAME$/],
    ['/projects/123/regions/x/apps/y', /^must be [^;]*$/],
    ['/projects/123/apps/my-project/', /^must be [^;]*$/],
    ['/projects/0123/apps/my-project', /; here projectNumber must be the numeric project number/],
    ['/projects/my-project/global/backendServices/1', /; here projectNumber/],
    ['/projects/123/global/backendServices/web-backend', /; here backendServiceId must be the numeric id/],
    ['/projects/123/apps/My_Project', /; here projectId must be/],
    ['/projects/123/locations/europe/services/orders', /; here region must be a Google Cloud region/],
    ['/projects/123/locations/europe-west1/services/Orders', /; here serviceName must be a Cloud Run service name/],
    ['/projects/123/locations/europe-west1/services/orders-', /; here serviceName/],
  ])('checkIapAudience refuses %s', (audience, message) => {
    expect(() => checkIapAudience(audience)).toThrow(TypeError);
    expect(() => checkIapAudience(audience)).toThrow(message);
  });

  test.each([
    [() => iapAudienceForAppEngine('my-project', 'my-project'), /projectNumber must be the numeric project number/],
    [() => iapAudienceForAppEngine('123', 'My_Project'), /projectId must be a Google Cloud project id/],
    [() => iapAudienceForAppEngine('123', 'ab'), /projectId/],
    [() => iapAudienceForBackendService('123', 'my-backend-service'), /backendServiceId must be the numeric id/],
    [() => iapAudienceForBackendService('0123', '1'), /projectNumber/],
    [() => iapAudienceForCloudRun('123', 'europe-west1', 'a'.repeat(50)), /serviceName must be a Cloud Run service name/],
    [() => iapAudienceForCloudRun('123', 'https://europe-west1', 'orders'), /region must be a Google Cloud region/],
  ])('reject bad input %#', (call, message) => {
    expect(call).toThrow(message);
  });
});

test('explain lists every check in order, all passing for a good token', async () => {
  const results = await verifier().explain(await iapToken());
  expect(results.map((r) => r.name)).toEqual(['format', 'alg', 'crit', 'kid', 'signature', 'iss', 'aud', 'exp', 'iat', 'nbf', 'lifetime', 'claims']);
  expect(results.every((r) => r.ok)).toBe(true);
  expect(results.find((r) => r.name === 'aud')).toMatchObject({ expected: `one of ${AUD}`, actual: JSON.stringify(AUD) });
});

test('rejections are AuthErrors with a status', async () => {
  const err = await verifier().verify(await iapToken({ aud: '/projects/1/apps/other' })).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(AuthError);
  expect(err).toMatchObject({ code: 'WRONG_AUDIENCE', status: 401 });
});
