import { GoogleIdTokenVerifier } from '../../lib/verify/google-id-token';
import { KeySetCache } from '../../lib/verify/key-set';
import { nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';

const AUD = 'https://europe-west1-my-project.cloudfunctions.net/receiver';
const key = testKey('RS256');
const CALLER = 'caller@my-project.iam.gserviceaccount.com';
let server: KeySetServer;
let certsUrl: string;

beforeAll(async () => {
  server = await KeySetServer.start();
  certsUrl = server.jwks('/oauth2/v3/certs', [key], { cacheControl: 'public, max-age=20000' });
});
afterAll(() => server.close());

function verifier(options: Partial<ConstructorParameters<typeof GoogleIdTokenVerifier>[0]> = {}): GoogleIdTokenVerifier {
  return new GoogleIdTokenVerifier({ audience: AUD, certsUrl, keySetCache: new KeySetCache(), ...options });
}

function idToken(claims: Record<string, unknown> = {}): Promise<string> {
  const now = nowSec();
  return signJwt(key, { iss: 'https://accounts.google.com', aud: AUD, azp: '1100', sub: '1100', email: CALLER, email_verified: true, iat: now, exp: now + 3600, ...claims });
}

test('a service-account ID token: sub, verified email, azp', async () => {
  const claims = await verifier().verify(await idToken());
  expect(claims).toMatchObject({ iss: 'https://accounts.google.com', sub: '1100', email: CALLER, azp: '1100', aud: AUD });
});

test('both issuer spellings are accepted, nothing else', async () => {
  await expect(verifier().verify(await idToken({ iss: 'accounts.google.com' }))).resolves.toBeDefined();
  await expect(verifier().verify(await idToken({ iss: 'https://accounts.google.com/' }))).rejects.toMatchObject({ code: 'WRONG_ISSUER' });
});

test('audience may be a list; aud may be an array', async () => {
  const v = verifier({ audience: ['https://other.example', AUD] });
  await expect(v.verify(await idToken())).resolves.toMatchObject({ aud: AUD });
  await expect(v.verify(await idToken({ aud: ['https://x.example', AUD] }))).resolves.toMatchObject({ aud: AUD });
  await expect(v.verify(await idToken({ aud: 'https://x.example' }))).rejects.toMatchObject({ code: 'WRONG_AUDIENCE' });
});

test('an unverified email is never returned as an identity', async () => {
  const claims = await verifier().verify(await idToken({ email_verified: false }));
  expect(claims.email).toBeUndefined();
  await expect(verifier().verify(await idToken({ email_verified: 'yes' }))).rejects.toMatchObject({ code: 'INVALID_CLAIM' });
});

describe('caller allow-list', () => {
  test('an allowed email (case-insensitive) or subject passes', async () => {
    await expect(verifier({ allowedEmails: [CALLER.toUpperCase()] }).verify(await idToken())).resolves.toBeDefined();
    await expect(verifier({ allowedSubjects: ['1100'] }).verify(await idToken())).resolves.toBeDefined();
    await expect(verifier({ allowedEmails: ['x@y.z'], allowedSubjects: ['1100'] }).verify(await idToken())).resolves.toBeDefined();
  });

  test('another caller is a 403 CALLER_NOT_ALLOWED', async () => {
    await expect(verifier({ allowedEmails: ['other@my-project.iam.gserviceaccount.com'] }).verify(await idToken()))
      .rejects.toMatchObject({ code: 'CALLER_NOT_ALLOWED', status: 403, message: expect.stringContaining(CALLER) });
    await expect(verifier({ allowedSubjects: ['2200'] }).verify(await idToken())).rejects.toMatchObject({ code: 'CALLER_NOT_ALLOWED' });
  });

  test('when emails decide, the email must be verified (401 EMAIL_NOT_VERIFIED, before any 403)', async () => {
    await expect(verifier({ allowedEmails: [CALLER] }).verify(await idToken({ email_verified: false }))).rejects.toMatchObject({ code: 'EMAIL_NOT_VERIFIED', status: 401 });
    await expect(verifier({ allowedEmails: [CALLER] }).verify(await idToken({ email: undefined }))).rejects.toMatchObject({ code: 'EMAIL_NOT_VERIFIED' });
  });

  test('a caller admitted by sub needs no verified email, even when emails are listed too', async () => {
    const v = verifier({ allowedEmails: ['x@y.z'], allowedSubjects: ['1100'] });
    await expect(v.verify(await idToken({ email: undefined, email_verified: undefined }))).resolves.toMatchObject({ sub: '1100', email: undefined });
    await expect(v.verify(await idToken({ email_verified: false }))).resolves.toMatchObject({ sub: '1100' });
    // Anyone else still needs a verified email before the allow-list is consulted.
    await expect(v.verify(await idToken({ sub: '2200', email_verified: false }))).rejects.toMatchObject({ code: 'EMAIL_NOT_VERIFIED' });
    await expect(v.verify(await idToken({ sub: '2200' }))).rejects.toMatchObject({ code: 'CALLER_NOT_ALLOWED' });
  });

  test('explain shows the policy checks after the token checks', async () => {
    const results = await verifier({ allowedEmails: ['x@y.z'] }).explain(await idToken());
    expect(results.map((r) => r.name)).toEqual(['format', 'alg', 'crit', 'cloud-run', 'kid', 'signature', 'iss', 'aud', 'exp', 'iat', 'nbf', 'lifetime', 'claims', 'email_verified', 'caller']);
    expect(results.at(-1)).toMatchObject({ ok: false, code: 'CALLER_NOT_ALLOWED', expected: 'email in x@y.z' });
  });
});

test('the credential is an Authorization: Bearer token', async () => {
  const v = verifier();
  expect(v.tokenFrom({ authorization: 'bearer abc.def.ghi' })).toBe('abc.def.ghi');
  expect(() => v.tokenFrom({})).toThrow(expect.objectContaining({ code: 'MISSING_TOKEN', message: expect.stringContaining('no Authorization header') }));
  expect(() => v.tokenFrom({ authorization: 'Basic dXNlcjpwYXNz' })).toThrow(expect.objectContaining({ code: 'MISSING_TOKEN', message: expect.stringContaining('not "Bearer <token>"') }));
});

test('options are validated', () => {
  expect(() => new GoogleIdTokenVerifier({ audience: [] })).toThrow(/audience must be a non-empty string or a non-empty list/);
  expect(() => new GoogleIdTokenVerifier({ audience: AUD, allowedEmails: [''] })).toThrow(/allowedEmails/);
  expect(() => new GoogleIdTokenVerifier({ audience: AUD, certsUrl: 'not a url' })).toThrow(/certsUrl must be an absolute URL/);
  expect(() => new GoogleIdTokenVerifier({ audience: AUD, trustCloudRunSignatureCheck: 'true' as unknown as boolean })).toThrow(/trustCloudRunSignatureCheck must be a boolean/);
});
