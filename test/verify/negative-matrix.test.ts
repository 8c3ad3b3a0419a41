/**
 * Every attack and malformation, against every verifier: each must be a 401 AuthError with
 * its own code (never a crash, never a pass), and `explain` must fail first on the check
 * that produced that code, proving the two share one pipeline.
 */
import { AccessTokenVerifier } from '../../lib/verify/access-token';
import { AuthError, type AuthErrorCode } from '../../lib/verify/errors';
import { GoogleIdTokenVerifier } from '../../lib/verify/google-id-token';
import { IapVerifier } from '../../lib/verify/iap';
import type { Verifier } from '../../lib/verify/jwt';
import { KeySetCache } from '../../lib/verify/key-set';
import { ServiceAccountJwtVerifier } from '../../lib/verify/service-account-jwt';
import { certificateFor, forgeJwt, nowSec, testKey, type TestKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';

interface Fixture {
  readonly name: string;
  /** A key the verifier trusts, and a published key of an algorithm the verifier refuses. */
  readonly key: TestKey;
  readonly decoy: TestKey;
  readonly header: Record<string, unknown>;
  readonly claims: () => Record<string, unknown>;
  /** Claims without which the token must be refused with MISSING_CLAIM. */
  readonly required: readonly string[];
  verifier(): Verifier<unknown>;
}

const IAP_AUD = '/projects/1234567890/apps/my-project';
const FN = 'https://receiver-abc-ew.a.run.app';
const SA = 'caller@my-project.iam.gserviceaccount.com';
const SERVICE = 'https://orders.endpoints.my-project.cloud.goog';
const API = 'https://api.example.com';

let server: KeySetServer;
const fixtures: Fixture[] = [];

beforeAll(async () => {
  server = await KeySetServer.start();
  const es = testKey('ES256');
  const rs = testKey('RS256');
  const iapUrl = server.jwks('/iap', [es, rs]);
  const googleUrl = server.jwks('/google', [rs, es]);
  const saUrl = server.x509('/sa', { [rs.kid]: await certificateFor(rs, SA), [es.kid]: await certificateFor(es, SA) });
  const issuer = server.url('/as');
  const asUrl = server.jwks('/as/jwks', [rs, es]);
  const iat = (): { iat: number; exp: number } => ({ iat: nowSec(), exp: nowSec() + 300 });
  fixtures.push(
    {
      name: 'IapVerifier', key: es, decoy: rs, header: {}, required: ['iss', 'aud', 'exp', 'iat', 'sub', 'email'],
      claims: () => ({ iss: 'https://cloud.google.com/iap', aud: IAP_AUD, sub: 'accounts.google.com:1', email: 'a@example.com', ...iat() }),
      verifier: () => new IapVerifier({ audience: IAP_AUD, jwksUrl: iapUrl, keySetCache: new KeySetCache() }),
    },
    {
      name: 'GoogleIdTokenVerifier', key: rs, decoy: es, header: {}, required: ['iss', 'aud', 'exp', 'iat', 'sub'],
      claims: () => ({ iss: 'https://accounts.google.com', aud: FN, sub: '42', email: SA, email_verified: true, ...iat() }),
      verifier: () => new GoogleIdTokenVerifier({ audience: FN, certsUrl: googleUrl, keySetCache: new KeySetCache() }),
    },
    {
      name: 'ServiceAccountJwtVerifier', key: rs, decoy: es, header: { typ: 'JWT' }, required: ['iss', 'aud', 'exp', 'iat', 'sub'],
      claims: () => ({ iss: SA, sub: SA, aud: SERVICE, ...iat() }),
      verifier: () => new ServiceAccountJwtVerifier({ issuers: [{ issuer: SA, jwksUri: saUrl, audiences: [SERVICE] }], keySetCache: new KeySetCache() }),
    },
    {
      name: 'AccessTokenVerifier', key: rs, decoy: es, header: { typ: 'at+jwt' }, required: ['iss', 'aud', 'exp', 'iat', 'sub', 'client_id'],
      claims: () => ({ iss: issuer, aud: API, sub: 'svc', client_id: 'svc', scope: 'read', ...iat() }),
      verifier: () => new AccessTokenVerifier({ issuer, jwksUri: asUrl, audience: API, algorithms: ['RS256'], keySetCache: new KeySetCache() }),
    },
  );
});
afterAll(() => server.close());

type Make = (f: Fixture) => string | Promise<string>;

const segment = (value: unknown): string => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const valid = (f: Fixture, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string => forgeJwt({ alg: f.key.alg, kid: f.key.kid, ...f.header, ...header }, { ...f.claims(), ...claims }, f.key);
const without = (f: Fixture, claim: string): string => {
  const claims = f.claims();
  delete claims[claim];
  return forgeJwt({ alg: f.key.alg, kid: f.key.kid, ...f.header }, claims, f.key);
};

const cases: Array<[string, AuthErrorCode, Make]> = [
  ['alg none, unsigned', 'UNSUPPORTED_ALG', (f) => forgeJwt({ alg: 'none', kid: f.key.kid, ...f.header }, f.claims(), 'none')],
  ['alg none with a signature', 'UNSUPPORTED_ALG', (f) => `${forgeJwt({ alg: 'none', kid: f.key.kid, ...f.header }, f.claims(), 'none')}c2ln`],
  ['alg "None"', 'UNSUPPORTED_ALG', (f) => forgeJwt({ alg: 'None', kid: f.key.kid, ...f.header }, f.claims(), 'none')],
  ['HS256 keyed with the public key PEM (key confusion)', 'UNSUPPORTED_ALG', (f) => forgeJwt({ alg: 'HS256', kid: f.key.kid, ...f.header }, f.claims(), { hmacSecret: f.key.publicKey.export({ format: 'pem', type: 'spki' }) })],
  ['HS256 keyed with the public JWK (key confusion)', 'UNSUPPORTED_ALG', (f) => forgeJwt({ alg: 'HS256', kid: f.key.kid, ...f.header }, f.claims(), { hmacSecret: JSON.stringify(f.key.publicJwk) })],
  ['an algorithm the verifier does not accept, validly signed by a published key', 'UNSUPPORTED_ALG', (f) => forgeJwt({ alg: f.decoy.alg, kid: f.decoy.kid, ...f.header }, f.claims(), f.decoy)],
  ['an accepted alg naming a key of another type', 'UNSUPPORTED_ALG', (f) => forgeJwt({ alg: f.key.alg, kid: f.decoy.kid, ...f.header }, f.claims(), f.decoy)],
  ['a non-string alg', 'UNSUPPORTED_ALG', (f) => valid(f, {}, { alg: ['RS256'] })],
  ['an unknown kid', 'UNKNOWN_KID', (f) => valid(f, {}, { kid: 'no-such-key' })],
  ['no kid', 'UNKNOWN_KID', (f) => valid(f, {}, { kid: undefined })],
  ['a non-string kid', 'MALFORMED_TOKEN', (f) => valid(f, {}, { kid: 7 })],
  ['a crit header', 'UNSUPPORTED_CRIT', (f) => valid(f, {}, { crit: ['exp'], exp: 1 })],
  ['crit with b64=false', 'UNSUPPORTED_CRIT', (f) => valid(f, {}, { crit: ['b64'], b64: false })],
  ['a tampered payload', 'BAD_SIGNATURE', (f) => {
    const [h, , s] = valid(f).split('.');
    return `${h}.${segment({ ...f.claims(), sub: 'admin' })}.${s}`;
  }],
  ['an embedded jwk header carrying the signer\'s own key, under a trusted kid', 'BAD_SIGNATURE', (f) => {
    const attacker = testKey(f.key.alg, f.key.kid);
    return forgeJwt({ alg: f.key.alg, kid: f.key.kid, jwk: attacker.publicJwk, ...f.header }, f.claims(), attacker);
  }],
  ['a jku/x5u header pointing at the signer\'s key set, under a trusted kid', 'BAD_SIGNATURE', (f) => forgeJwt({ alg: f.key.alg, kid: f.key.kid, jku: server.url('/attacker/jwks'), x5u: server.url('/attacker/x509'), ...f.header }, f.claims(), testKey(f.key.alg, f.key.kid))],
  ['a signature by another key with the same kid', 'BAD_SIGNATURE', (f) => forgeJwt({ alg: f.key.alg, kid: f.key.kid, ...f.header }, f.claims(), testKey(f.key.alg, f.key.kid))],
  ['a truncated signature', 'BAD_SIGNATURE', (f) => valid(f).slice(0, -10)],
  ['an empty signature', 'BAD_SIGNATURE', (f) => valid(f).replace(/[^.]+$/, '')],
  ['characters outside base64url', 'MALFORMED_TOKEN', (f) => valid(f).replace('.', '!.')],
  ['standard base64 characters', 'MALFORMED_TOKEN', (f) => `${valid(f)}+/`],
  ['base64 padding', 'MALFORMED_TOKEN', (f) => valid(f).replace('.', '=.')],
  ['an impossible base64url length', 'MALFORMED_TOKEN', (f) => {
    const [h, p, s] = valid(f).split('.');
    return `${h}${'A'.repeat((5 - (h.length % 4)) % 4)}.${p}.${s}`; // length % 4 === 1 encodes no byte string
  }],
  ['whitespace inside', 'MALFORMED_TOKEN', (f) => valid(f).replace('.', ' .')],
  ['two segments', 'MALFORMED_TOKEN', (f) => valid(f).split('.').slice(0, 2).join('.')],
  ['four segments', 'MALFORMED_TOKEN', (f) => `${valid(f)}.extra`],
  ['five segments (JWE)', 'MALFORMED_TOKEN', (f) => `${valid(f)}.a.b`],
  ['an empty header segment', 'MALFORMED_TOKEN', (f) => valid(f).replace(/^[^.]+/, '')],
  ['a non-JSON header', 'MALFORMED_TOKEN', (f) => forgeJwt('{"alg":', f.claims(), f.key)],
  ['a non-JSON payload', 'MALFORMED_TOKEN', (f) => forgeJwt({ alg: f.key.alg, kid: f.key.kid, ...f.header }, 'not json', f.key)],
  ['a JSON array payload', 'MALFORMED_TOKEN', (f) => forgeJwt({ alg: f.key.alg, kid: f.key.kid, ...f.header }, '[1,2]', f.key)],
  ['a null header', 'MALFORMED_TOKEN', (f) => forgeJwt('null', f.claims(), f.key)],
  ['a payload of invalid UTF-8 bytes', 'MALFORMED_TOKEN', (f) => `${segment({ alg: f.key.alg, kid: f.key.kid, ...f.header })}.${Buffer.from([0xff, 0xfe, 0x7b]).toString('base64url')}.c2ln`],
  ['an oversized token (> 8 KiB)', 'TOKEN_TOO_LARGE', (f) => valid(f, { padding: 'x'.repeat(9000) })],
  ['an empty token', 'MISSING_TOKEN', () => ''],
  ['an expired token', 'EXPIRED', (f) => valid(f, { iat: nowSec() - 400, exp: nowSec() - 100 })],
  ['iat in the future', 'NOT_YET_VALID', (f) => valid(f, { iat: nowSec() + 120, exp: nowSec() + 400 })],
  ['nbf in the future', 'NOT_YET_VALID', (f) => valid(f, { nbf: nowSec() + 120 })],
  ['exp before iat', 'INVALID_CLAIM', (f) => valid(f, { iat: nowSec(), exp: nowSec() - 1 })],
  ['a lifetime beyond the limit', 'LIFETIME_TOO_LONG', (f) => valid(f, { iat: nowSec(), exp: nowSec() + 100_000 })],
  ['a wrong issuer', 'WRONG_ISSUER', (f) => valid(f, { iss: 'https://evil.example', sub: f.claims().sub === f.claims().iss ? 'https://evil.example' : f.claims().sub })],
  ['a wrong audience', 'WRONG_AUDIENCE', (f) => valid(f, { aud: 'https://evil.example' })],
  ['an empty audience list', 'INVALID_CLAIM', (f) => valid(f, { aud: [] })],
  ['exp far in the past (beyond any Date)', 'EXPIRED', (f) => valid(f, { iat: -1e20, exp: -1e20 + 60 })],
  ['iat far in the future (beyond any Date)', 'NOT_YET_VALID', (f) => valid(f, { iat: 1e20, exp: 1e20 + 60 })],
  ['nbf far in the future (beyond any Date)', 'NOT_YET_VALID', (f) => valid(f, { nbf: 1e20 })],
  ['exp as a string', 'INVALID_CLAIM', (f) => valid(f, { exp: String(nowSec() + 300) })],
  ['iat as a string', 'INVALID_CLAIM', (f) => valid(f, { iat: 'now' })],
  ['nbf as a string', 'INVALID_CLAIM', (f) => valid(f, { nbf: 'soon' })],
  ['aud as a number', 'INVALID_CLAIM', (f) => valid(f, { aud: 42 })],
  ['aud with a non-string member', 'INVALID_CLAIM', (f) => valid(f, { aud: [f.claims().aud, 42] })],
  ['iss as a number', 'INVALID_CLAIM', (f) => valid(f, { iss: 42 })],
  ['sub as a number', 'INVALID_CLAIM', (f) => valid(f, { sub: 42 })],
];

describe.each(['IapVerifier', 'GoogleIdTokenVerifier', 'ServiceAccountJwtVerifier', 'AccessTokenVerifier'])('%s', (name) => {
  const fixture = (): Fixture => fixtures.find((f) => f.name === name)!;

  test('the fixture token itself is accepted (so every refusal below is for its one defect)', async () => {
    const f = fixture();
    await expect(f.verifier().verify(valid(f))).resolves.toBeDefined();
    expect((await f.verifier().explain(valid(f))).every((r) => r.ok)).toBe(true);
  });

  test.each(cases)('%s → %s', async (_title, code, make) => {
    const f = fixture();
    await expectRefusal(f, await make(f), code);
  });

  test('each required claim, when missing → MISSING_CLAIM', async () => {
    const f = fixture();
    for (const claim of f.required) await expectRefusal(f, without(f, claim), 'MISSING_CLAIM');
  });
});

async function expectRefusal(f: Fixture, token: string, code: AuthErrorCode): Promise<void> {
  const verifier = f.verifier();
  const err = await verifier.verify(token).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AuthError);
  expect(err).toMatchObject({ code, status: 401, message: expect.stringMatching(/\w/) });
  const firstFailure = (await verifier.explain(token)).find((r) => !r.ok);
  expect(firstFailure).toMatchObject({ code, detail: (err as AuthError).message });
}
