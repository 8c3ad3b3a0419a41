/**
 * Cloud Run (and so 2nd gen Cloud Functions) verifies the caller's ID token itself and forwards
 * it with the signature replaced by SIGNATURE_REMOVED_BY_GOOGLE (or, when the caller sent
 * X-Serverless-Authorization, strips that header and passes Authorization on untouched).
 * These tests pin when such a token is trusted and that every claim check still runs.
 */
import { GoogleIdTokenVerifier, type GoogleIdTokenVerifierOptions } from '../../lib/verify/google-id-token';
import { KeySetCache } from '../../lib/verify/key-set';
import type { RequestHeaders } from '../../lib/verify/jwt';
import { forgeJwt, nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';

const AUD = 'https://receiver-abc-ew.a.run.app';
const CALLER = 'caller@my-project.iam.gserviceaccount.com';
const key = testKey('RS256');
let server: KeySetServer;
let certsUrl: string;

beforeAll(async () => {
  server = await KeySetServer.start();
  certsUrl = server.jwks('/certs', [key], { cacheControl: 'max-age=3600' });
});
afterAll(() => server.close());

function verifier(options: Partial<GoogleIdTokenVerifierOptions> = {}): GoogleIdTokenVerifier {
  return new GoogleIdTokenVerifier({ audience: AUD, certsUrl, keySetCache: new KeySetCache(), trustCloudRunSignatureCheck: true, ...options });
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = nowSec();
  return { iss: 'https://accounts.google.com', aud: AUD, sub: '1100', email: CALLER, email_verified: true, iat: now, exp: now + 3600, ...extra };
}

/** What Cloud Run forwards: the token with its signature segment replaced by the marker. */
const strip = (token: string): string => token.replace(/[^.]+$/, 'SIGNATURE_REMOVED_BY_GOOGLE');
const stripped = async (extra: Record<string, unknown> = {}): Promise<string> => strip(await signJwt(key, claims(extra)));
const request = (token: string, more: RequestHeaders = {}): RequestHeaders => ({ authorization: `Bearer ${token}`, ...more });

describe('without trustCloudRunSignatureCheck (the default)', () => {
  test('a stripped token is a 401 that says what happened and what to do', async () => {
    const v = verifier({ trustCloudRunSignatureCheck: undefined });
    const token = await stripped();
    const err = await v.verifyRequest(request(token)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_SIGNATURE', status: 401, message: expect.stringMatching(/removed by Cloud Run.*PrivateCloudRunFunction.*S2S_CLOUD_RUN_VERIFIED=true.*X-Serverless-Authorization/) });
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  test('it is refused before any key is fetched', async () => {
    const v = verifier({ trustCloudRunSignatureCheck: false, certsUrl: server.jwks('/certs-untouched-1', [key]) });
    await expect(v.verifyRequest(request(await stripped()))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    expect(server.hits('/certs-untouched-1')).toBe(0);
    await v.verify(await signJwt(key, claims())); // the same path counts a fetch when there is one
    expect(server.hits('/certs-untouched-1')).toBe(1);
  });
});

describe('with trustCloudRunSignatureCheck', () => {
  test('a stripped token on a request without X-Serverless-Authorization is accepted, saying Cloud Run verified it', async () => {
    const v = verifier({ certsUrl: server.jwks('/certs-untouched-2', [key]) });
    await expect(v.verifyRequest(request(await stripped()))).resolves.toMatchObject({ sub: '1100', email: CALLER, aud: AUD, verifiedBy: 'cloud-run' });
    expect(server.hits('/certs-untouched-2')).toBe(0); // no key was needed, so none was fetched
  });

  test('a token that still has its signature is verified in full', async () => {
    const v = verifier();
    const token = await signJwt(key, claims());
    await expect(v.verifyRequest(request(token))).resolves.toMatchObject({ verifiedBy: 'signature' });
    const [h, , s] = token.split('.');
    const tampered = `${h}.${Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url')}.${s}`;
    await expect(v.verifyRequest(request(tampered))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(v.verifyRequest(request(await signJwt(testKey('RS256', key.kid), claims())))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  test('with X-Serverless-Authorization present, Cloud Run verified that header, so Authorization is verified in full', async () => {
    const v = verifier();
    // The caller controls Authorization here: any made-up payload can carry the marker.
    const forged = forgeJwt({ alg: 'RS256', kid: key.kid }, claims({ sub: 'admin' }), 'none') + 'SIGNATURE_REMOVED_BY_GOOGLE';
    for (const [name, xsa] of [['x-serverless-authorization', `Bearer ${await stripped()}`], ['x-serverless-authorization', ''], ['X-Serverless-Authorization', 'Bearer x']]) {
      const err = await v.verifyRequest(request(forged, { [name]: xsa })).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BAD_SIGNATURE', status: 401, message: expect.stringContaining('Cloud Run verified X-Serverless-Authorization, not this token') });
    }
    // A signed token in Authorization next to it is fine.
    await expect(v.verifyRequest(request(await signJwt(key, claims()), { 'x-serverless-authorization': 'Bearer x' }))).resolves.toMatchObject({ verifiedBy: 'signature' });
  });

  test('verify(token) has no request headers to go by, so it never trusts a stripped token', async () => {
    await expect(verifier().verify(await stripped())).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  test('an accepted stripped token is not cached: the next verify(token) or request with X-Serverless-Authorization is refused', async () => {
    const v = verifier();
    const token = await stripped();
    await expect(v.verifyRequest(request(token))).resolves.toMatchObject({ verifiedBy: 'cloud-run' });
    await expect(v.verify(token)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
    await expect(v.verifyRequest(request(token, { 'x-serverless-authorization': 'Bearer x' }))).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });

  test.each<[string, () => Promise<string> | string]>([
    ['a lower-case marker', async () => (await signJwt(key, claims())).replace(/[^.]+$/, 'signature_removed_by_google')],
    ['the marker with a suffix', async () => `${await stripped()}X`],
    ['the marker with a prefix', async () => (await signJwt(key, claims())).replace(/[^.]+$/, 'XSIGNATURE_REMOVED_BY_GOOGLE')],
    ['an empty signature', async () => (await signJwt(key, claims())).replace(/[^.]+$/, '')],
  ])('a forged signature segment other than the exact marker (%s) is verified as a signature → 401', async (_name, make) => {
    await expect(verifier().verifyRequest(request(await make()))).rejects.toMatchObject({ code: 'BAD_SIGNATURE', status: 401 });
  });

  test.each<[string, string, number, Record<string, unknown>, Partial<GoogleIdTokenVerifierOptions>]>([
    ['another audience', 'WRONG_AUDIENCE', 401, { aud: 'https://other-abc-ew.a.run.app' }, {}],
    ['another issuer', 'WRONG_ISSUER', 401, { iss: 'https://evil.example' }, {}],
    ['an expired token', 'EXPIRED', 401, { iat: nowSec() - 7200, exp: nowSec() - 3600 }, {}],
    ['iat in the future', 'NOT_YET_VALID', 401, { iat: nowSec() + 600, exp: nowSec() + 1200 }, {}],
    ['a lifetime over one hour', 'LIFETIME_TOO_LONG', 401, { exp: nowSec() + 7200 }, {}],
    ['exp as a string', 'INVALID_CLAIM', 401, { exp: String(nowSec() + 60) }, {}],
    ['no sub', 'MISSING_CLAIM', 401, { sub: undefined }, {}],
    ['an unverified email where emails decide', 'EMAIL_NOT_VERIFIED', 401, { email_verified: false }, { allowedEmails: [CALLER] }],
    ['a caller outside the email allow-list', 'CALLER_NOT_ALLOWED', 403, {}, { allowedEmails: ['other@my-project.iam.gserviceaccount.com'] }],
    ['a caller outside the subject allow-list', 'CALLER_NOT_ALLOWED', 403, {}, { allowedSubjects: ['2200'] }],
  ])('stripped with %s → %s', async (_name, code, status, extra, options) => {
    await expect(verifier(options).verifyRequest(request(await stripped(extra)))).rejects.toMatchObject({ code, status });
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['alg ES256', { alg: 'ES256', kid: key.kid }, 'UNSUPPORTED_ALG'],
    ['alg none', { alg: 'none' }, 'UNSUPPORTED_ALG'],
    ['a crit header', { alg: 'RS256', crit: ['exp'] }, 'UNSUPPORTED_CRIT'],
  ])('stripped with %s in the header → %s', async (_name, header, code) => {
    const token = forgeJwt(header, claims(), 'none') + 'SIGNATURE_REMOVED_BY_GOOGLE';
    await expect(verifier().verifyRequest(request(token))).rejects.toMatchObject({ code, status: 401 });
  });

  test('a stripped token with a fourth segment is malformed', async () => {
    await expect(verifier().verifyRequest(request(`${await signJwt(key, claims())}.SIGNATURE_REMOVED_BY_GOOGLE`))).rejects.toMatchObject({ code: 'MALFORMED_TOKEN' });
  });

  test('explain with the request headers shows the cloud-run check in place of kid and signature', async () => {
    const v = verifier({ allowedEmails: [CALLER] });
    const token = await stripped();
    const trusted = await v.explain(token, request(token));
    expect(trusted.map((r) => r.name)).toEqual(['format', 'alg', 'crit', 'cloud-run', 'iss', 'aud', 'exp', 'iat', 'nbf', 'lifetime', 'claims', 'email_verified', 'caller']);
    expect(trusted.every((r) => r.ok)).toBe(true);
    expect(trusted[3]).toMatchObject({ expected: expect.stringContaining('Cloud Run verified the signature'), actual: expect.stringContaining('SIGNATURE_REMOVED_BY_GOOGLE') });
    // Without headers (as verify(token)) or with X-Serverless-Authorization, explain fails where verify fails.
    for (const headers of [undefined, request(token, { 'x-serverless-authorization': 'Bearer x' })]) {
      const results = await v.explain(token, headers);
      expect(results.find((r) => !r.ok)).toMatchObject({ name: 'cloud-run', code: 'BAD_SIGNATURE' });
    }
  });
});
