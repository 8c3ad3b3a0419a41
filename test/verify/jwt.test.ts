import { IapVerifier } from '../../lib/verify/iap';
import { parseJwt, VerifiedTokenCache } from '../../lib/verify/jwt';
import { KeySetCache } from '../../lib/verify/key-set';
import { nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';

const AUD = '/projects/1/apps/my-project';
const key = testKey('ES256');
let server: KeySetServer;
let jwksUrl: string;

beforeAll(async () => {
  server = await KeySetServer.start();
  jwksUrl = server.jwks('/jwk', [key], { cacheControl: 'max-age=86400' });
});
afterAll(() => server.close());

function token(claims: Record<string, unknown> = {}): Promise<string> {
  return signJwt(key, { iss: 'https://cloud.google.com/iap', aud: AUD, sub: 's', email: 'e@example.com', iat: nowSec(), exp: nowSec() + 600, ...claims });
}

describe('verified-token cache', () => {
  test('a repeated token is answered from the cache, with exp re-checked on every hit', async () => {
    const clock = { now: Date.now() };
    const keys = new KeySetCache({ clock: () => clock.now });
    const verifier = new IapVerifier({ audience: AUD, jwksUrl, keySetCache: keys, clock: () => clock.now, clockToleranceSec: 0 });
    const t = await token({ exp: Math.floor(clock.now / 1000) + 120 });
    const first = await verifier.verify(t);
    keys.clear(); // a hit needs no key: were the signature re-checked, this would fetch again
    const hits = server.hits('/jwk');
    expect(await verifier.verify(t)).toBe(first);
    expect(server.hits('/jwk')).toBe(hits);
    clock.now += 121_000;
    await expect(verifier.verify(t)).rejects.toMatchObject({ code: 'EXPIRED' });
  });

  test('entries live at most 5 minutes, then the token is verified again', async () => {
    const clock = { now: Date.now() };
    const keys = new KeySetCache({ clock: () => clock.now });
    const verifier = new IapVerifier({ audience: AUD, jwksUrl, keySetCache: keys, clock: () => clock.now, clockToleranceSec: 600 });
    const t = await token();
    await verifier.verify(t);
    keys.clear();
    const hits = server.hits('/jwk');
    clock.now += 301_000;
    await verifier.verify(t);
    expect(server.hits('/jwk')).toBe(hits + 1);
  });

  test('failures are never cached', async () => {
    const verifier = new IapVerifier({ audience: AUD, jwksUrl, keySetCache: new KeySetCache() });
    const bad = await token({ aud: '/projects/1/apps/other' });
    await expect(verifier.verify(bad)).rejects.toMatchObject({ code: 'WRONG_AUDIENCE' });
    await expect(verifier.verify(bad)).rejects.toMatchObject({ code: 'WRONG_AUDIENCE' });
  });

  test('the cache is per verifier: another configuration re-verifies', async () => {
    const t = await token();
    await new IapVerifier({ audience: AUD, jwksUrl, keySetCache: new KeySetCache() }).verify(t);
    await expect(new IapVerifier({ audience: '/projects/2/apps/my-project', jwksUrl, keySetCache: new KeySetCache() }).verify(t)).rejects.toMatchObject({ code: 'WRONG_AUDIENCE' });
  });

  test('least recently used entries are evicted at the bound', () => {
    const cache = new VerifiedTokenCache<string>(2);
    const now = nowSec();
    cache.set('a', 'A', now + 60, now);
    cache.set('b', 'B', now + 60, now);
    expect(cache.get('a', now, 0)).toBe('A'); // a is now the most recent
    cache.set('c', 'C', now + 60, now);
    expect(cache.size).toBe(2);
    expect(cache.get('b', now, 0)).toBeUndefined();
    expect(cache.get('a', now, 0)).toBe('A');
    expect(cache.get('c', now, 0)).toBe('C');
  });

  test('an entry hit at least once per half the capacity of inserts is never evicted, and size stays bounded', () => {
    const cache = new VerifiedTokenCache<number>(8);
    const now = nowSec();
    cache.set('hot', -1, now + 60, now);
    for (let i = 0; i < 100; i++) {
      cache.set(`cold-${i}`, i, now + 60, now);
      if (i % 4 === 3) expect(cache.get('hot', now, 0)).toBe(-1);
      expect(cache.size).toBeLessThanOrEqual(8);
    }
    expect(cache.get('cold-91', now, 0)).toBeUndefined(); // the cold ones rotate out, oldest first
    expect(cache.get('cold-99', now, 0)).toBe(99);
  });

  test('an expired hit is dropped, not kept', () => {
    const cache = new VerifiedTokenCache<string>(2);
    const now = nowSec();
    cache.set('t', 'T', now + 10, now);
    expect(cache.get('t', now + 10, 0)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  test('tokenCacheSize 0 disables it', async () => {
    const keys = new KeySetCache();
    const verifier = new IapVerifier({ audience: AUD, jwksUrl, keySetCache: keys, tokenCacheSize: 0 });
    const t = await token();
    await verifier.verify(t);
    keys.clear();
    const hits = server.hits('/jwk');
    await verifier.verify(t);
    expect(server.hits('/jwk')).toBe(hits + 1);
  });
});

test('a header remembered from a verified token changes nothing about the next token', async () => {
  const verifier = new IapVerifier({ audience: AUD, jwksUrl, keySetCache: new KeySetCache() });
  const good = await token();
  await verifier.verify(good);
  const [header, , signature] = good.split('.');
  const forged = `${header}.${Buffer.from(JSON.stringify({ iss: 'https://cloud.google.com/iap', aud: AUD, sub: 'admin', email: 'admin@example.com', iat: nowSec(), exp: nowSec() + 600 })).toString('base64url')}.${signature}`;
  await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  await expect(verifier.verify(await token({ sub: 'other' }))).resolves.toMatchObject({ sub: 'other' });
});

describe('parseJwt', () => {
  test('decodes header and payload, keeps the signing input boundary', async () => {
    const t = await token();
    const ctx = parseJwt(t, 8192, 0);
    expect(ctx.header).toEqual({ alg: 'ES256', kid: key.kid });
    expect(ctx.payload.aud).toBe(AUD);
    expect(t[ctx.dot2]).toBe('.');
    expect(t.indexOf('.', ctx.dot2 + 1)).toBe(-1);
  });

  // Buffer's base64url decoder is lenient; parseJwt must refuse what a strict decoder would.
  test.each([
    ['a character above U+00FF that the decoder reads as "A"', (t: string, i: number) => t.slice(0, i) + '\u0141' + t.slice(i + 1)],
    ['a Latin-1 character', (t: string, i: number) => t.slice(0, i) + '\u00e9' + t.slice(i + 1)],
    ['a standard base64 "+"', (t: string, i: number) => t.slice(0, i) + '+' + t.slice(i + 1)],
    ['a standard base64 "/"', (t: string, i: number) => t.slice(0, i) + '/' + t.slice(i + 1)],
    ['an "=" inside', (t: string, i: number) => t.slice(0, i) + '=' + t.slice(i + 1)],
  ])('%s in any segment is MALFORMED_TOKEN', async (_name, corrupt) => {
    const t = await token();
    const [h, p] = t.split('.');
    // Replace an 'A'-like position in the header, the payload and the signature in turn.
    for (const at of [2, h.length + 1 + 2, h.length + p.length + 2 + 2]) {
      expect(() => parseJwt(corrupt(t, at), 8192, 0)).toThrow(expect.objectContaining({ code: 'MALFORMED_TOKEN', message: expect.stringContaining('base64url alphabet') }));
    }
  });

  test('a dot inside the signature counts as a fourth segment', async () => {
    const t = await token();
    expect(() => parseJwt(`${t.slice(0, -4)}.${t.slice(-3)}`, 8192, 0)).toThrow(expect.objectContaining({ code: 'MALFORMED_TOKEN', message: expect.stringContaining('4 segment(s)') }));
  });

  test('the signature is decoded once, for the signature check', async () => {
    const t = await token();
    expect(parseJwt(t, 8192, 0).signature).toEqual(Buffer.from(t.split('.')[2], 'base64url'));
  });

  test('the size limit is configurable per verifier', async () => {
    const t = await token();
    const verifier = new IapVerifier({ audience: AUD, jwksUrl, keySetCache: new KeySetCache(), maxTokenBytes: t.length - 1 });
    await expect(verifier.verify(t)).rejects.toMatchObject({ code: 'TOKEN_TOO_LARGE', message: `the token is ${t.length} bytes; the limit is ${t.length - 1}` });
  });
});

describe('explain', () => {
  test('reports expected and actual for the checks, and how far a broken token got', async () => {
    const verifier = new IapVerifier({ audience: AUD, jwksUrl, keySetCache: new KeySetCache() });
    const results = await verifier.explain(await token({ iss: 'https://evil.example', exp: nowSec() - 3600, iat: nowSec() - 4000 }));
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(byName.signature).toMatchObject({ ok: true, actual: `ES256 key "${key.kid}"` });
    expect(byName.iss).toMatchObject({ ok: false, code: 'WRONG_ISSUER', expected: 'https://cloud.google.com/iap', actual: '"https://evil.example"' });
    expect(byName.exp).toMatchObject({ ok: false, code: 'EXPIRED', expected: expect.stringMatching(/^after now \(.*\) - 30 s tolerance$/) });
    expect(byName.lifetime).toMatchObject({ ok: false, detail: 'not evaluated because "exp" failed' });
    expect(results.find((r) => !r.ok)!.name).toBe('iss');
  });

  test('a token that cannot be parsed yields only the format check', async () => {
    const verifier = new IapVerifier({ audience: AUD, jwksUrl, keySetCache: new KeySetCache() });
    expect(await verifier.explain('a.b')).toEqual([{
      name: 'format', ok: false, code: 'MALFORMED_TOKEN', actual: '3 bytes, 2 segment(s)',
      expected: 'compact JWS: 3 base64url segments, at most 8192 bytes, JSON object header and payload', detail: 'the token has 2 segment(s); a JWT has 3, separated by "."',
    }]);
  });

  test('explain never fills the verified-token cache', async () => {
    const keys = new KeySetCache();
    const verifier = new IapVerifier({ audience: AUD, jwksUrl, keySetCache: keys });
    const t = await token();
    await verifier.explain(t);
    keys.clear();
    const hits = server.hits('/jwk');
    await verifier.verify(t);
    expect(server.hits('/jwk')).toBe(hits + 1);
  });
});
