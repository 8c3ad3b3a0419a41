import { expectGarbageRefused, expectMisconfigured, expectRefused, get, runFunction } from './support';

const SA_ISSUER = 'caller@demo.iam.gserviceaccount.com';
const GOOGLE = 'https://accounts.google.com';
const HEADER = 'x-endpoint-api-userinfo';

/** What ESPv2 forwards: the verified JWT payload, base64url without padding. */
const espv2 = (payload: Record<string, unknown>): string => Buffer.from(JSON.stringify(payload)).toString('base64url');
/** What ESP (v1) forwards: its wrapper with the payload as a JSON string, padded base64. */
const esp = (wrapper: Record<string, unknown>): string => Buffer.from(JSON.stringify(wrapper)).toString('base64');

describe('accepting a service account and Google as issuers', () => {
  const fn = runFunction('endpoints', () => ({ S2S_ENDPOINTS_ISSUERS: `${SA_ISSUER}, ${GOOGLE}` }));
  const claims = { iss: SA_ISSUER, sub: SA_ISSUER, aud: 'https://api.demo.example', email: SA_ISSUER, iat: 1700000000, exp: 1700003600 };

  test('ESPv2 user info → 200 with the caller ESP verified', async () => {
    const reply = await get(fn(), '/v1/orders', { [HEADER]: espv2(claims) });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ issuer: SA_ISSUER, subject: SA_ISSUER, email: SA_ISSUER, audiences: ['https://api.demo.example'] });
  });

  test('ESP (v1) user info → 200 with the caller ESP verified', async () => {
    const reply = await get(fn(), '/', { [HEADER]: esp({ issuer: GOOGLE, id: '1234567890', email: 'svc@demo.example', audiences: 'a1, a2', claims: JSON.stringify({ iss: GOOGLE, sub: '1234567890' }) }) });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ issuer: GOOGLE, subject: '1234567890', email: 'svc@demo.example', audiences: ['a1', 'a2'] });
  });

  test('an issuer the backend does not list → 403 CALLER_NOT_ALLOWED', async () => {
    const reply = await get(fn(), '/', { [HEADER]: espv2({ ...claims, iss: 'https://securetoken.google.com/other' }) });
    expectRefused(reply, 403, 'CALLER_NOT_ALLOWED');
    expect(reply.body.message).toBe('issuer "https://securetoken.google.com/other" is not accepted by this API');
  });

  test('a payload carrying its own "claims" member cannot pass for ESP\'s wrapper → 403 for its real issuer', async () => {
    const forged = espv2({ iss: 'https://securetoken.google.com/other', sub: 'x', claims: JSON.stringify({ iss: SA_ISSUER, sub: SA_ISSUER }) });
    const reply = await get(fn(), '/', { [HEADER]: forged });
    expectRefused(reply, 403, 'CALLER_NOT_ALLOWED');
    expect(reply.body.message).toContain('securetoken.google.com/other');
  });

  test('no user info header → 401 MISSING_TOKEN', async () => {
    expectRefused(await get(fn(), '/'), 401, 'MISSING_TOKEN');
  });

  test('spoofed identity headers and a bearer token are not user info → 401', async () => {
    expectRefused(await get(fn(), '/', { 'x-goog-authenticated-user-email': `accounts.google.com:${SA_ISSUER}`, authorization: 'Bearer abc' }), 401, 'MISSING_TOKEN');
  });

  test('spoofed identity headers next to user info change nothing', async () => {
    const reply = await get(fn(), '/', { [HEADER]: espv2(claims), 'x-goog-authenticated-user-email': 'accounts.google.com:admin@demo.example' });
    expect(reply.body.email).toBe(SA_ISSUER);
  });

  test.each<[string, string, string]>([
    ['user info without an issuer', 'MISSING_CLAIM', espv2({ sub: 'x' })],
    ['user info without a subject', 'MISSING_CLAIM', espv2({ iss: SA_ISSUER })],
    ['user info that is a JSON array', 'MALFORMED_TOKEN', Buffer.from('[1]').toString('base64url')],
    ['user info that is not JSON', 'MALFORMED_TOKEN', Buffer.from('{"iss":').toString('base64url')],
    ['an issuer that is not a string', 'INVALID_CLAIM', espv2({ iss: 7, sub: 'x' })],
  ])('%s → 401 %s', async (_name, code, header) => {
    expectRefused(await get(fn(), '/', { [HEADER]: header }), 401, code);
  });

  expectGarbageRefused(fn, HEADER);
});

describe('misconfiguration → 500 MISCONFIGURED on every request, logged once', () => {
  test.each<[string, Record<string, string>]>([
    ['S2S_ENDPOINTS_ISSUERS unset', {}],
    ['S2S_ENDPOINTS_ISSUERS only separators', { S2S_ENDPOINTS_ISSUERS: ' , ,' }],
  ])('%s', (_name, env) => expectMisconfigured('endpoints', env, /S2S_ENDPOINTS_ISSUERS is required and not set/));
});
