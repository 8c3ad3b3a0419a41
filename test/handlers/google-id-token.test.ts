import { forgeJwt, nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';
import { expectGarbageRefused, expectMisconfigured, expectRefused, get, logLine, runFunction } from './support';

const AUDIENCE = 'https://europe-west1-demo.cloudfunctions.net/receiver';
const CALLER = 'caller@demo.iam.gserviceaccount.com';
const key = testKey('RS256');
const otherKey = testKey('RS256');
let keys: KeySetServer;

beforeAll(async () => {
  keys = await KeySetServer.start();
  keys.jwks('/oauth2/v3/certs', [key]);
  keys.jwks('/down', [key]);
  keys.fault('/down', 'http-503');
});
afterAll(() => keys.close());

function idToken(claims: Record<string, unknown> = {}, signer = key, header: Record<string, unknown> = {}): Promise<string> {
  const iat = nowSec();
  return signJwt(signer, { iss: 'https://accounts.google.com', aud: AUDIENCE, sub: '110169484474386276334', azp: '110169484474386276334', email: CALLER, email_verified: true, iat, exp: iat + 3600, ...claims }, header);
}

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
/** What Cloud Run (gen 2) forwards after verifying a token: its signature replaced by the marker. */
const strip = (token: string): string => token.replace(/[^.]+$/, 'SIGNATURE_REMOVED_BY_GOOGLE');

describe('configured with an audience and an email allow-list', () => {
  const fn = runFunction('google-id-token', () => ({ S2S_AUDIENCE: AUDIENCE, S2S_ALLOWED_EMAILS: `other@x.iam.gserviceaccount.com, ${CALLER.toUpperCase()}`, S2S_GOOGLE_CERTS_URL: keys.url('/oauth2/v3/certs') }));

  test('a valid ID token → 200 with the verified identity only', async () => {
    const reply = await get(fn(), '/any/path?q=1', bearer(await idToken({ hd: 'demo.example' })));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ iss: 'https://accounts.google.com', sub: '110169484474386276334', aud: AUDIENCE, email: CALLER, hd: 'demo.example', azp: '110169484474386276334', verifiedBy: 'signature' });
  });

  test('spoofed identity headers change nothing: the identity comes from the token alone', async () => {
    const reply = await get(fn(), '/', {
      ...bearer(await idToken()),
      'x-goog-authenticated-user-email': 'accounts.google.com:admin@demo.example',
      'x-goog-authenticated-user-id': 'accounts.google.com:1',
    });
    expect(reply.status).toBe(200);
    expect(reply.body.email).toBe(CALLER);
  });

  test('spoofed identity headers without a token → 401', async () => {
    expectRefused(await get(fn(), '/', { 'x-goog-authenticated-user-email': `accounts.google.com:${CALLER}` }), 401, 'MISSING_TOKEN');
  });

  test.each([
    ['no Authorization header', 'MISSING_TOKEN', {}],
    ['a Basic credential', 'MISSING_TOKEN', { authorization: 'Basic dXNlcjpwYXNz' }],
  ])('%s → 401 %s', async (_name, code, headers) => {
    expectRefused(await get(fn(), '/', headers), 401, code);
  });

  test.each<[string, number, string, () => Promise<string>]>([
    ['another audience', 401, 'WRONG_AUDIENCE', () => idToken({ aud: 'https://evil.example/receiver' })],
    ['another issuer', 401, 'WRONG_ISSUER', () => idToken({ iss: 'https://evil.example' })],
    ['an expired token', 401, 'EXPIRED', () => idToken({ iat: nowSec() - 7200, exp: nowSec() - 3600 })],
    ['a lifetime over one hour', 401, 'LIFETIME_TOO_LONG', () => idToken({ exp: nowSec() + 7200 })],
    ['a kid the key set lacks', 401, 'UNKNOWN_KID', () => idToken({}, otherKey)],
    ['a signature by another key under a known kid', 401, 'BAD_SIGNATURE', () => idToken({}, { ...otherKey, kid: key.kid })],
    ['ES256 instead of RS256', 401, 'UNSUPPORTED_ALG', () => idToken({}, testKey('ES256', key.kid))],
    ['alg none', 401, 'UNSUPPORTED_ALG', async () => forgeJwt({ alg: 'none', kid: key.kid }, { iss: 'https://accounts.google.com', aud: AUDIENCE, sub: '1', exp: nowSec() + 60, iat: nowSec() }, 'none')],
    ['HS256 keyed with the public key', 401, 'UNSUPPORTED_ALG', async () => forgeJwt({ alg: 'HS256', kid: key.kid }, { iss: 'https://accounts.google.com', aud: AUDIENCE, sub: '1', exp: nowSec() + 60, iat: nowSec() }, { hmacSecret: key.publicKey.export({ format: 'pem', type: 'spki' }) })],
    ['an unverified email', 401, 'EMAIL_NOT_VERIFIED', () => idToken({ email_verified: false })],
    ['a caller outside S2S_ALLOWED_EMAILS', 403, 'CALLER_NOT_ALLOWED', () => idToken({ email: 'intruder@demo.iam.gserviceaccount.com' })],
  ])('%s → %i %s', async (_name, status, code, token) => {
    expectRefused(await get(fn(), '/', bearer(await token())), status, code);
  });

  test('a token whose signature Cloud Run removed → 401 saying so and how to deploy', async () => {
    const reply = await get(fn(), '/', bearer(strip(await idToken())));
    expectRefused(reply, 401, 'BAD_SIGNATURE');
    expect(reply.body.message).toMatch(/signature was removed by Cloud Run \(SIGNATURE_REMOVED_BY_GOOGLE\).*PrivateCloudRunFunction \(S2S_CLOUD_RUN_VERIFIED=true.*X-Serverless-Authorization/);
  });

  test('each refusal leaves one log line with its code and reason, never the token', async () => {
    const token = await idToken({ email: 'audit-me@demo.iam.gserviceaccount.com' });
    expectRefused(await get(fn(), '/', bearer(token)), 403, 'CALLER_NOT_ALLOWED');
    const line = await logLine(fn(), /audit-me/);
    expect(line).toBe('s2s-auth google-id-token refused 403 {"error":"CALLER_NOT_ALLOWED","message":"caller \\"audit-me@demo.iam.gserviceaccount.com\\" is not allowed to call this function"}');
    expect(fn().logs()).not.toContain(token.split('.')[2]);
  });

  expectGarbageRefused(fn, 'authorization', (token) => `Bearer ${token}`);
});

describe('configured with an audience only', () => {
  const fn = runFunction('google-id-token', () => ({ S2S_AUDIENCE: AUDIENCE, S2S_GOOGLE_CERTS_URL: keys.url('/oauth2/v3/certs') }));

  test('any Google-signed caller is admitted; an unverified email is not reported as the identity', async () => {
    const reply = await get(fn(), '/', bearer(await idToken({ email: 'someone@gmail.com', email_verified: false })));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ iss: 'https://accounts.google.com', sub: '110169484474386276334', aud: AUDIENCE, azp: '110169484474386276334', verifiedBy: 'signature' });
  });
});

describe('on Cloud Run (gen 2) behind IAM: S2S_CLOUD_RUN_VERIFIED=true', () => {
  const RUN_APP = 'https://receiver-abc123-ew.a.run.app';
  const fn = runFunction('google-id-token', () => ({
    S2S_AUDIENCE: `${AUDIENCE},${RUN_APP}`, S2S_ALLOWED_EMAILS: CALLER, S2S_GOOGLE_CERTS_URL: keys.url('/oauth2/v3/certs'), S2S_CLOUD_RUN_VERIFIED: 'true',
  }));

  test('the token Cloud Run verified and stripped → 200, saying Cloud Run verified it', async () => {
    const reply = await get(fn(), '/', bearer(strip(await idToken())));
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ iss: 'https://accounts.google.com', sub: '110169484474386276334', aud: AUDIENCE, email: CALLER, azp: '110169484474386276334', verifiedBy: 'cloud-run' });
  });

  test('any of the comma-separated audiences is accepted (the cloudfunctions.net and run.app URLs)', async () => {
    expect((await get(fn(), '/', bearer(strip(await idToken({ aud: RUN_APP }))))).body).toMatchObject({ aud: RUN_APP, verifiedBy: 'cloud-run' });
  });

  test('a signed token is still verified in full: 200 when valid, 401 when tampered', async () => {
    const token = await idToken();
    expect((await get(fn(), '/', bearer(token))).body).toMatchObject({ verifiedBy: 'signature' });
    const [h, , sig] = token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify({ iss: 'https://accounts.google.com', aud: AUDIENCE, sub: '1', email: CALLER, email_verified: true, iat: nowSec(), exp: nowSec() + 60 })).toString('base64url')}.${sig}`;
    expectRefused(await get(fn(), '/', bearer(tampered)), 401, 'BAD_SIGNATURE');
  });

  test('with X-Serverless-Authorization present, a stripped Authorization token → 401 (Cloud Run verified the other header)', async () => {
    const reply = await get(fn(), '/', { ...bearer(strip(await idToken())), 'x-serverless-authorization': `Bearer ${strip(await idToken())}` });
    expectRefused(reply, 401, 'BAD_SIGNATURE');
    expect(reply.body.message).toContain('X-Serverless-Authorization');
  });

  test.each<[string, number, string, () => Promise<string>]>([
    ['another audience', 401, 'WRONG_AUDIENCE', async () => strip(await idToken({ aud: 'https://evil.example/receiver' }))],
    ['another issuer', 401, 'WRONG_ISSUER', async () => strip(await idToken({ iss: 'https://evil.example' }))],
    ['an expired token', 401, 'EXPIRED', async () => strip(await idToken({ iat: nowSec() - 7200, exp: nowSec() - 3600 }))],
    ['an unverified email', 401, 'EMAIL_NOT_VERIFIED', async () => strip(await idToken({ email_verified: false }))],
    ['a caller outside S2S_ALLOWED_EMAILS', 403, 'CALLER_NOT_ALLOWED', async () => strip(await idToken({ email: 'intruder@demo.iam.gserviceaccount.com' }))],
    ['alg none', 401, 'UNSUPPORTED_ALG', async () => forgeJwt({ alg: 'none' }, { iss: 'https://accounts.google.com', aud: AUDIENCE, sub: '1', email: CALLER, email_verified: true, iat: nowSec(), exp: nowSec() + 60 }, 'none') + 'SIGNATURE_REMOVED_BY_GOOGLE'],
    ['a forged segment other than the exact marker', 401, 'BAD_SIGNATURE', async () => `${strip(await idToken())}_`],
  ])('stripped, %s → %i %s', async (_name, status, code, token) => {
    expectRefused(await get(fn(), '/', bearer(await token())), status, code);
  });

  expectGarbageRefused(fn, 'authorization', (token) => `Bearer ${token}`);
});

describe('key server down', () => {
  const fn = runFunction('google-id-token', () => ({ S2S_AUDIENCE: AUDIENCE, S2S_GOOGLE_CERTS_URL: keys.url('/down') }));

  test('fails closed with 503 KEYS_UNAVAILABLE, without leaking the key URL', async () => {
    const reply = await get(fn(), '/', bearer(await idToken()));
    expectRefused(reply, 503, 'KEYS_UNAVAILABLE');
    expect(JSON.stringify(reply.body)).not.toContain('127.0.0.1');
    // The caller sees only the code; the operator gets the cause.
    expect(await logLine(fn(), /s2s-auth: request refused with 503/)).toBeDefined();
    expect(fn().logs()).toMatch(/answered HTTP 503/);
  });
});

describe('misconfiguration → 500 MISCONFIGURED on every request, logged once', () => {
  test.each<[string, Record<string, string>, RegExp]>([
    ['S2S_AUDIENCE unset', {}, /S2S_AUDIENCE is required and not set/],
    ['S2S_AUDIENCE blank', { S2S_AUDIENCE: '  ' }, /S2S_AUDIENCE is required and not set/],
    ['S2S_AUDIENCE not https', { S2S_AUDIENCE: 'http://receiver.example' }, /S2S_AUDIENCE must be absolute https:\/\/ URLs, comma-separated \(got "http:\/\/receiver.example"\)/],
    ['S2S_AUDIENCE not a URL', { S2S_AUDIENCE: 'receiver' }, /S2S_AUDIENCE must be absolute https:\/\/ URLs/],
    ['S2S_AUDIENCE with one entry not https', { S2S_AUDIENCE: `${AUDIENCE}, http://receiver.example` }, /S2S_AUDIENCE must be absolute https:\/\/ URLs, comma-separated \(got "http:\/\/receiver.example"\)/],
    ['S2S_CLOUD_RUN_VERIFIED neither true nor false', { S2S_AUDIENCE: AUDIENCE, S2S_CLOUD_RUN_VERIFIED: 'yes' }, /S2S_CLOUD_RUN_VERIFIED must be "true" or "false" \(got "yes"\)/],
    ['S2S_GOOGLE_CERTS_URL over plain http off loopback', { S2S_AUDIENCE: AUDIENCE, S2S_GOOGLE_CERTS_URL: 'http://certs.example/x' }, /S2S_GOOGLE_CERTS_URL must use https \(http only on loopback\)/],
  ])('%s', (_name, env, log) => expectMisconfigured('google-id-token', env, log));
});
