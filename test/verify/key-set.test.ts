import { generateKeyPairSync } from 'node:crypto';
import { AuthError } from '../../lib/verify/errors';
import { IapVerifier } from '../../lib/verify/iap';
import { KeySetCache, importKeySet } from '../../lib/verify/key-set';
import { certificateFor, nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';

let server: KeySetServer;
beforeAll(async () => {
  server = await KeySetServer.start();
});
afterAll(() => server.close());

let seq = 0;
/** A fresh path per test so hit counts never mix. */
function path(name: string): string {
  return `/${name}-${++seq}`;
}

/** A cache on a hand-driven clock. */
function cacheAt(start = Date.now(), options: ConstructorParameters<typeof KeySetCache>[0] = {}) {
  const clock = { now: start };
  return { clock, cache: new KeySetCache({ clock: () => clock.now, ...options }) };
}

/** Waits for something the cache does in the background; the deadline only matters on a failure. */
async function eventually(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition() && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}

async function rejection(promise: unknown): Promise<AuthError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(AuthError);
    return err as AuthError;
  }
  throw new Error('expected a rejection');
}

const es = testKey('ES256');
const rs = testKey('RS256');

describe('key set formats', () => {
  test('a JWK set yields ES256 and RS256 keys by kid', async () => {
    const keys = await importKeySet({ keys: [es.publicJwk, rs.publicJwk] });
    expect([...keys.keys()]).toEqual([es.kid, rs.kid]);
    expect(keys.get(es.kid)!.alg).toBe('ES256');
    expect(keys.get(rs.kid)!.alg).toBe('RS256');
  });

  test('keys that must never verify are skipped: symmetric, private, encryption, weak RSA, other curves, no kid', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' });
    const priv = es.privateKey.export({ format: 'jwk' });
    const keys = await importKeySet({
      keys: [
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac', alg: 'HS256' },
        { ...priv, kid: 'private' },
        { ...rs.publicJwk, kid: 'enc', use: 'enc' },
        { ...weak, kid: 'weak' },
        { ...p384, kid: 'p384' },
        { ...rs.publicJwk, kid: undefined },
        { ...rs.publicJwk, kid: 'ps256', alg: 'PS256' },
        'not a key',
        rs.publicJwk,
      ],
    });
    expect([...keys.keys()]).toEqual([rs.kid]);
  });

  test("Google's x509 form (kid → PEM certificate) is detected by content", async () => {
    const keys = await importKeySet({ [rs.kid]: await certificateFor(rs, 'sa@p.iam.gserviceaccount.com'), [es.kid]: await certificateFor(es, 'ec') });
    expect(keys.get(rs.kid)!.alg).toBe('RS256');
    expect(keys.get(es.kid)!.alg).toBe('ES256');
  });

  test.each([
    ['an array', []],
    ['a map of non-certificates', { a: 'hello' }],
    ['a set without usable keys', { keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }],
    ['a certificate that does not parse', { k: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----' }],
  ])('%s is KEYS_UNAVAILABLE', async (_name, body) => {
    expect((await rejection(importKeySet(body))).code).toBe('KEYS_UNAVAILABLE');
  });
});

describe('KeySetCache', () => {
  test('the hot path is synchronous and fetches once per lifetime', async () => {
    const p = path('hot');
    const url = server.jwks(p, [es], { cacheControl: 'public, max-age=600' });
    const { cache } = cacheAt();
    await expect(cache.key(url, es.kid)).resolves.toMatchObject({ kid: es.kid });
    const again = cache.key(url, es.kid);
    expect(again).not.toBeInstanceOf(Promise);
    expect(server.hits(p)).toBe(1);
  });

  test('1,000 concurrent cold verifications share exactly one fetch', async () => {
    const p = path('cold');
    const url = server.jwks(p, [es], { cacheControl: 'max-age=600' });
    const verifier = new IapVerifier({ audience: '/projects/1/apps/my-app', jwksUrl: url, keySetCache: new KeySetCache() });
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => signJwt(es, {
      iss: 'https://cloud.google.com/iap', aud: '/projects/1/apps/my-app', sub: `accounts.google.com:${i}`, email: `u${i}@example.com`, iat: nowSec(), exp: nowSec() + 600,
    })));
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => verifier.verify(tokens[i % 10])));
    expect(results).toHaveLength(1000);
    expect(results[999].email).toBe('u9@example.com');
    expect(server.hits(p)).toBe(1);
  });

  test('Cache-Control max-age is honoured, minus Age, then the set is revalidated in the background', async () => {
    const p = path('maxage');
    const url = server.jwks(p, [es], { cacheControl: 'public, max-age=400', age: 100 });
    const { clock, cache } = cacheAt();
    await cache.key(url, es.kid);
    clock.now += 299_000;
    cache.key(url, es.kid);
    expect(server.hits(p)).toBe(1);
    clock.now += 2_000; // past 400 - 100 s: still served at once, refreshed behind
    expect(cache.key(url, es.kid)).toMatchObject({ kid: es.kid });
    await eventually(() => server.hits(p) === 2);
  });

  test('max-age is bounded by minTtlSec and maxTtlSec; no-store counts as the minimum', async () => {
    for (const [cacheControl, ttl] of [['max-age=1', 60], ['no-store', 60], ['max-age=9999999', 86_400], [undefined, 300]] as const) {
      const p = path('bounds');
      const url = server.jwks(p, [es], { cacheControl });
      const { clock, cache } = cacheAt();
      await cache.key(url, es.kid);
      clock.now += ttl * 1000 - 1;
      cache.key(url, es.kid);
      expect(server.hits(p)).toBe(1);
      clock.now += 2;
      cache.key(url, es.kid);
      await eventually(() => server.hits(p) === 2);
    }
  });

  test('a flood of unknown kids costs one refetch per cooldown, and a rotated-in key is found', async () => {
    const p = path('flood');
    const url = server.jwks(p, [es], { cacheControl: 'max-age=3600' });
    const { clock, cache } = cacheAt();
    await cache.key(url, es.kid);
    clock.now += 31_000;
    const flood = await Promise.allSettled(Array.from({ length: 500 }, (_, i) => Promise.resolve().then(() => cache.key(url, `made-up-${i}`))));
    expect(flood.every((r) => r.status === 'rejected' && (r.reason as AuthError).code === 'UNKNOWN_KID')).toBe(true);
    expect(server.hits(p)).toBe(2);
    // The issuer rotates in a new key: found once the cooldown allows another fetch.
    const next = testKey('ES256');
    server.jwks(p, [es, next], { cacheControl: 'max-age=3600' });
    expect(() => cache.key(url, next.kid)).toThrow(expect.objectContaining({ code: 'UNKNOWN_KID' }));
    expect(server.hits(p)).toBe(2);
    clock.now += 30_000;
    await expect(cache.key(url, next.kid)).resolves.toMatchObject({ kid: next.kid });
    expect(server.hits(p)).toBe(3);
  });

  test.each(['http-500', 'http-503', 'bad-json', 'slow'] as const)('endpoint %s with nothing cached fails closed with 503 KEYS_UNAVAILABLE', async (fault) => {
    const p = path('down');
    const url = server.jwks(p, [es]);
    server.fault(p, fault);
    // Only 'slow' needs the short timeout; the others answer at once, however loaded the machine.
    const { clock, cache } = cacheAt(Date.now(), fault === 'slow' ? { timeoutMs: 1_000 } : {});
    const err = await rejection(cache.key(url, es.kid));
    expect(err).toMatchObject({ code: 'KEYS_UNAVAILABLE', status: 503, message: 'the signing keys are unavailable; try again later' });
    expect(String((err.cause as Error).message)).toContain(url); // the URL is for the logs only
    // No retry storm: within retryAfterErrorSec the same error is answered without a fetch.
    server.fault(p, undefined);
    expect(() => cache.key(url, es.kid)).toThrow(expect.objectContaining({ code: 'KEYS_UNAVAILABLE' }));
    expect(server.hits(p)).toBe(1);
    clock.now += 5_000;
    await expect(cache.key(url, es.kid)).resolves.toMatchObject({ kid: es.kid });
  });

  test('a connection dropped without an answer is tried once more, on a new connection', async () => {
    const p = path('reset-once');
    const url = server.jwks(p, [es]);
    server.fault(p, 'reset-once');
    await expect(cacheAt().cache.key(url, es.kid)).resolves.toMatchObject({ kid: es.kid });
    expect(server.hits(p)).toBe(2);
  });

  test('a connection dropped every time fails closed with 503 KEYS_UNAVAILABLE after exactly two tries', async () => {
    const p = path('reset');
    const url = server.jwks(p, [es]);
    server.fault(p, 'reset');
    const err = await rejection(cacheAt().cache.key(url, es.kid));
    expect(err).toMatchObject({ code: 'KEYS_UNAVAILABLE', status: 503 });
    expect(server.hits(p)).toBe(2);
  });

  test('a timeout is not retried: the time limit covers every try', async () => {
    const p = path('slow-once');
    const url = server.jwks(p, [es]);
    server.fault(p, 'slow');
    const started = Date.now();
    await expect(cacheAt(Date.now(), { timeoutMs: 300 }).cache.key(url, es.kid)).rejects.toMatchObject({ code: 'KEYS_UNAVAILABLE' });
    expect(server.hits(p)).toBe(1);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a set past its lifetime keeps serving while the endpoint errors, up to staleIfErrorSec', async () => {
    const p = path('stale');
    const url = server.jwks(p, [es], { cacheControl: 'max-age=300' });
    const { clock, cache } = cacheAt(Date.now(), { staleIfErrorSec: 600 });
    await cache.key(url, es.kid);
    server.fault(p, 'http-503');
    clock.now += 301_000;
    expect(cache.key(url, es.kid)).toMatchObject({ kid: es.kid });
    // A kid the stale set lacks waits for that background refresh, which fails: a 503, not a 401.
    expect((await rejection(cache.key(url, 'unknown'))).code).toBe('KEYS_UNAVAILABLE');
    expect(server.hits(p)).toBe(2);
    // Still serving the stale set, and not fetching again before retryAfterErrorSec.
    expect(cache.key(url, es.kid)).toMatchObject({ kid: es.kid });
    expect(() => cache.key(url, 'unknown')).toThrow(expect.objectContaining({ code: 'KEYS_UNAVAILABLE' }));
    expect(server.hits(p)).toBe(2);
    clock.now += 600_000; // beyond lifetime + stale-if-error
    expect((await rejection(cache.key(url, es.kid))).code).toBe('KEYS_UNAVAILABLE');
  });

  test('an unknown kid whose refetch fails is a 503 while the fresh set keeps serving known kids', async () => {
    const p = path('fresh-down');
    const url = server.jwks(p, [es], { cacheControl: 'max-age=3600' });
    const { clock, cache } = cacheAt();
    await cache.key(url, es.kid);
    server.fault(p, 'http-500');
    clock.now += 31_000;
    expect((await rejection(cache.key(url, 'rotated'))).code).toBe('KEYS_UNAVAILABLE');
    expect(cache.key(url, es.kid)).toMatchObject({ kid: es.kid });
  });

  test('keys are only fetched over https, or http on loopback', async () => {
    const { cache } = cacheAt();
    const err = await rejection(cache.key('http://example.com/certs', 'k'));
    expect(err.code).toBe('KEYS_UNAVAILABLE');
    expect(() => new IapVerifier({ audience: '/projects/1/apps/a-b-c-d', jwksUrl: 'http://example.com/jwk' })).toThrow(/jwksUrl must use https/);
  });

  test('redirects are not followed', async () => {
    const { createServer } = await import('node:http');
    const redirector = createServer((_req, res) => res.writeHead(302, { location: server.url('/elsewhere') }).end());
    await new Promise<void>((r) => redirector.listen(0, '127.0.0.1', r));
    const { port } = redirector.address() as import('node:net').AddressInfo;
    const { cache } = cacheAt();
    expect((await rejection(cache.key(`http://127.0.0.1:${port}/certs`, 'k'))).code).toBe('KEYS_UNAVAILABLE');
    await new Promise((r) => redirector.close(r));
  });

  test('a body over maxBytes is refused as it streams in, whatever Content-Length says (or does not)', async () => {
    const { createServer } = await import('node:http');
    // Chunked, no Content-Length: up to 100 chunks of 64 KiB, until the client stops reading.
    const flood = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(65_536, 0x20);
      let left = 100;
      res.on('close', () => (left = 0));
      const pump = (): void => {
        while (left > 0) {
          left--;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => flood.listen(0, '127.0.0.1', r));
    const { port } = flood.address() as import('node:net').AddressInfo;
    try {
      const { cache } = cacheAt(Date.now(), { maxBytes: 200_000 });
      const err = await rejection(cache.key(`http://127.0.0.1:${port}/certs`, 'k'));
      expect(err.code).toBe('KEYS_UNAVAILABLE');
      expect(String(((err.cause as Error).cause as Error).message)).toBe('response exceeds 200000 bytes');
    } finally {
      flood.closeAllConnections();
      await new Promise((r) => flood.close(r));
    }
  });

  test('options are validated', () => {
    expect(() => new KeySetCache({ minTtlSec: -1 })).toThrow(/minTtlSec must be a non-negative number/);
    expect(() => new KeySetCache({ minTtlSec: 100, maxTtlSec: 10 })).toThrow(/must not exceed maxTtlSec/);
    expect(() => new KeySetCache({ timeoutMs: 0 })).toThrow(/timeoutMs must be a positive number/);
  });
});
