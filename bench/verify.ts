/**
 * Targets 1 and 2: verification throughput beside the peers, as a share of raw node:crypto.
 *
 * Every contender verifies the same pre-generated tokens (one distinct token per operation,
 * so no cache of verified tokens can answer) with a warm key cache: jose through
 * createRemoteJWKSet and aws-jwt-verify through its JWKS cache, both fed from the loopback key
 * server; google-auth-library through `verifySignedJwtWithCertsAsync` with the PEM map its own
 * `getIapPublicKeys` / `getFederatedSignonCerts` would return. Each contender first proves it
 * accepts a good token and refuses one signed by another key, so no row can time a no-op.
 */
import { verify as cryptoVerify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import { JwtVerifier as AwsJwtVerifier } from 'aws-jwt-verify';
import { OAuth2Client } from 'google-auth-library';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import {
  GOOGLE_ISSUERS, GoogleIdTokenVerifier, IAP_ISSUER, IapVerifier, KeySetCache, ServiceAccountJwtVerifier,
  DEFAULT_TOKEN_CACHE_SIZE, type Verifier,
} from '../lib/verify';
import { certificateFor, forgeJwt, nowSec, testKey, type TestKey } from '../test/peers/keys';
import type { KeySetServer } from '../test/peers/keyset-server';
import { interleaved, opsCell, ratioCell, scaled, Table, verdict, type Contender, type Measured, type Scale } from './harness';

const IAP_AUDIENCE = '/projects/123456789012/global/backendServices/4567890123456789';
const FUNCTION_URL = 'https://europe-west1-s2s-bench.cloudfunctions.net/orders';
const SA_EMAIL = 'billing-caller@s2s-bench.iam.gserviceaccount.com';
const FIRST_SEEN_TARGET = 0.85;
const FIRST_SEEN_OPS = 10_000;
const FIRST_SEEN_ROUNDS = 5;
const REPEATED_TARGET = 50;

/** Distinct signed tokens, with their signing input and decoded signature split off for the raw baseline. */
interface Pool {
  readonly key: TestKey;
  readonly tokens: readonly string[];
  readonly inputs: readonly Buffer[];
  readonly signatures: readonly Buffer[];
  /** A token with the same claims signed by another key under the same kid: every contender must refuse it. */
  readonly forged: string;
}

function makePool(key: TestKey, count: number, claims: (i: number, now: number) => Record<string, unknown>): Pool {
  const now = nowSec();
  const header = { alg: key.alg, kid: key.kid, typ: 'JWT' };
  const tokens = Array.from({ length: count }, (_, i) => forgeJwt(header, claims(i, now), key));
  const split = (token: string): [Buffer, Buffer] => {
    const dot = token.lastIndexOf('.');
    return [Buffer.from(token.slice(0, dot)), Buffer.from(token.slice(dot + 1), 'base64url')];
  };
  return {
    key,
    tokens,
    inputs: tokens.map((t) => split(t)[0]),
    signatures: tokens.map((t) => split(t)[1]),
    forged: forgeJwt(header, claims(count, now), testKey(key.alg, key.kid)),
  };
}

/** The key argument `crypto.verify` needs for a JWS signature of this algorithm. */
function verifyKey(key: TestKey): KeyObject | VerifyKeyObjectInput {
  return key.alg === 'ES256' ? { key: key.publicKey, dsaEncoding: 'ieee-p1363' } : key.publicKey;
}

/** One verifier of one token kind: how to call it on a token string. */
interface Candidate {
  readonly name: string;
  readonly verify: (token: string) => unknown;
}

async function proveHonest(candidate: Candidate, pool: Pool): Promise<void> {
  const accepted = await candidate.verify(pool.tokens[0]);
  if (!accepted) throw new Error(`bench: ${candidate.name} did not accept a valid token`);
  let refused: boolean;
  try {
    refused = !(await candidate.verify(pool.forged));
  } catch {
    refused = true;
  }
  if (!refused) throw new Error(`bench: ${candidate.name} accepted a token signed by the wrong key`);
}

/** The kinds of token measured, each with its s2s-auth verifier and the peers configured alike. */
interface Kind {
  readonly label: string;
  /** Raw verifications per round of the repeated-token table. */
  readonly ops: number;
  readonly pool: Pool;
  readonly s2s: (options: { tokenCacheSize?: number }) => Verifier<unknown>;
  readonly peers: readonly Candidate[];
}

async function kinds(server: KeySetServer, scale: Scale): Promise<Kind[]> {
  // First-seen rounds cycle through the pool (token 0 is spent proving honesty): with more than
  // twice DEFAULT_TOKEN_CACHE_SIZE tokens, a token comes back only long after the verified-token
  // cache evicted it. The ES256 pool also feeds the memory table, up to 5 × its cache size.
  const repeatedOps = scaled(scale, 300, 20);
  const rsCount = 2 * DEFAULT_TOKEN_CACHE_SIZE + 2;
  const esCount = Math.max(rsCount, 5 * (scale.quick ? 200 : DEFAULT_TOKEN_CACHE_SIZE) + 2);
  const keySetCache = new KeySetCache();
  const maxAge = { cacheControl: 'public, max-age=3600' };
  const es = testKey('ES256');
  const google = testKey('RS256');
  const sa = testKey('RS256');
  const iapUrl = server.jwks('/iap/jwk', [es], maxAge);
  const googleUrl = server.jwks('/oauth2/v3/certs', [google], maxAge);
  const saJwkUrl = server.jwks(`/robot/v1/metadata/jwk/${SA_EMAIL}`, [sa], maxAge);
  const saCerts = { [sa.kid]: await certificateFor(sa, SA_EMAIL) };
  const saX509Url = server.x509(`/robot/v1/metadata/x509/${SA_EMAIL}`, saCerts, maxAge);
  const googleCerts = { [google.kid]: await certificateFor(google, 'accounts.google.com') };
  const iapPems = { [es.kid]: es.publicKey.export({ format: 'pem', type: 'spki' }).toString() };
  const gal = new OAuth2Client();

  const joseFor = (url: string, issuer: string | string[], audience: string, alg: string, maxTokenAge: number): Candidate => {
    const jwks = createRemoteJWKSet(new URL(url));
    const options = { issuer, audience, algorithms: [alg], maxTokenAge, requiredClaims: ['sub', 'iat', 'exp'] };
    return { name: 'jose `jwtVerify`', verify: (token) => jwtVerify(token, jwks, options) };
  };
  const awsFor = (key: TestKey, url: string, issuer: string, audience: string): Candidate => {
    const verifier = AwsJwtVerifier.create({ issuer, audience, jwksUri: url });
    verifier.cacheJwks({ keys: [key.publicJwk as never] });
    return { name: 'aws-jwt-verify', verify: (token) => verifier.verify(token) };
  };
  const galFor = (certs: Record<string, string>, issuers: string[], audience: string): Candidate => ({
    name: 'google-auth-library `verifySignedJwtWithCertsAsync`',
    verify: (token) => gal.verifySignedJwtWithCertsAsync(token, certs, audience, issuers),
  });

  return [
    {
      label: 'ES256 (IAP)',
      ops: repeatedOps,
      pool: makePool(es, esCount, (i, now) => ({
        iss: IAP_ISSUER, aud: IAP_AUDIENCE, sub: `accounts.google.com:${100000000 + i}`, email: `user${i}@example.com`, hd: 'example.com',
        google: { access_levels: ['accessPolicies/1/accessLevels/corp'] }, iat: now, exp: now + 600,
      })),
      s2s: (o) => new IapVerifier({ audience: IAP_AUDIENCE, jwksUrl: iapUrl, keySetCache, ...o }),
      peers: [
        joseFor(iapUrl, IAP_ISSUER, IAP_AUDIENCE, 'ES256', 600),
        awsFor(es, iapUrl, IAP_ISSUER, IAP_AUDIENCE),
        galFor(iapPems, [IAP_ISSUER], IAP_AUDIENCE),
      ],
    },
    {
      label: 'RS256 (Google ID token)',
      ops: repeatedOps,
      pool: makePool(google, rsCount, (i, now) => ({
        iss: 'https://accounts.google.com', aud: FUNCTION_URL, azp: `${200000000 + i}`, sub: `${200000000 + i}`,
        email: `caller${i}@s2s-bench.iam.gserviceaccount.com`, email_verified: true, iat: now, exp: now + 3600,
      })),
      s2s: (o) => new GoogleIdTokenVerifier({ audience: FUNCTION_URL, certsUrl: googleUrl, keySetCache, ...o }),
      peers: [
        joseFor(googleUrl, [...GOOGLE_ISSUERS], FUNCTION_URL, 'RS256', 3600),
        awsFor(google, googleUrl, 'https://accounts.google.com', FUNCTION_URL),
        galFor(googleCerts, [...GOOGLE_ISSUERS], FUNCTION_URL),
      ],
    },
    {
      label: 'RS256 (service-account JWT)',
      ops: repeatedOps,
      pool: makePool(sa, rsCount, (i, now) => ({ iss: SA_EMAIL, sub: SA_EMAIL, aud: FUNCTION_URL, jti: `bench-${i}`, iat: now, exp: now + 3600 })),
      s2s: (o) => new ServiceAccountJwtVerifier({ issuers: [{ issuer: SA_EMAIL, jwksUri: saX509Url, audiences: FUNCTION_URL }], keySetCache, ...o }),
      peers: [
        joseFor(saJwkUrl, SA_EMAIL, FUNCTION_URL, 'RS256', 3600),
        awsFor(sa, saJwkUrl, SA_EMAIL, FUNCTION_URL),
        galFor(saCerts, [SA_EMAIL], FUNCTION_URL),
      ],
    },
  ];
}

const RAW = 'raw `crypto.verify`, signature only';
const FLOOR = 'floor: decode + `JSON.parse` payload + `crypto.verify`, no checks';
const S2S_OFF = 's2s-auth, verified-token cache off';
const S2S_FIRST = 's2s-auth, first-seen token (cache on)';

/**
 * Target 1: first-seen tokens, measured as the issue's reference table was: each contender
 * verifies 10,000 tokens in a row, in a few interleaved rounds. Short batches (a few hundred
 * tokens after a forced GC) charge every JavaScript verifier a cold cache per batch and
 * measured the peers well below that table; 10,000 in a row reproduces it.
 */
async function firstSeen(kindList: readonly Kind[], scale: Scale): Promise<Table> {
  const ops = scaled(scale, FIRST_SEEN_OPS, 200);
  const rounds = scale.quick ? 2 : FIRST_SEEN_ROUNDS;
  const table = new Table('Verification, first-seen tokens (share of raw `crypto.verify`; higher is faster)', ['verifier', ...kindList.map((k) => k.label)]);
  const results: Measured[][] = [];
  const rawRates: number[] = [];
  for (const kind of kindList) {
    const { pool } = kind;
    const key = verifyKey(pool.key);
    const raw: Candidate = { name: RAW, verify: (token) => cryptoVerify('sha256', Buffer.from(token.slice(0, token.lastIndexOf('.'))), key, Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url')) };
    // The least work any verifier that reads the claims must do: split, decode and parse the
    // payload, verify the signature. No checks: it shows how close to raw a full verifier can get.
    const floor: Candidate = {
      name: FLOOR,
      verify: (token) => {
        const signed = token.lastIndexOf('.');
        JSON.parse(Buffer.from(token.slice(token.indexOf('.') + 1, signed), 'base64url').toString());
        return cryptoVerify('sha256', Buffer.from(token.slice(0, signed)), key, Buffer.from(token.slice(signed + 1), 'base64url'));
      },
    };
    const candidates = [raw, floor, { name: S2S_OFF, verify: verifierCall(kind.s2s({ tokenCacheSize: 0 })) }, { name: S2S_FIRST, verify: verifierCall(kind.s2s({})) }, ...kind.peers];
    for (const candidate of candidates) await proveHonest(candidate, pool);
    // Token 0 was seen while proving honesty: the timed operations cycle through 1…n-1.
    const at = (i: number): number => 1 + (i % (pool.tokens.length - 1));
    const contenders: Contender[] = candidates.map((c) => ({
      name: c.name,
      ops,
      run: c === raw ? (i) => cryptoVerify('sha256', pool.inputs[at(i)], key, pool.signatures[at(i)]) : (i) => c.verify(pool.tokens[at(i)]),
    }));
    const measured = await interleaved(contenders, rounds);
    results.push(measured);
    rawRates.push(measured[0].opsPerSec);
  }
  for (let row = 0; row < results[0].length; row++) {
    const name = results[0][row].name;
    const s2s = name.startsWith('s2s-auth');
    table.row(s2s ? `**${name}**` : name, ...results.map((r) => (s2s ? `${ratioCell(r[row], 3)} ${verdict(r[row].ratio >= FIRST_SEEN_TARGET)}` : ratioCell(r[row]))));
  }
  table.note(`Target: s2s-auth rows ≥ ${FIRST_SEEN_TARGET} of raw. Cells: median ratio over ${rounds} interleaved rounds of ${ops} verifications in a row per contender (lowest–highest round).`);
  table.note(`Raw \`crypto.verify\` ran at ${rawRates.map((r, i) => `${opsCell(r)}/s (${kindList[i].label})`).join(', ')} on this run: absolute speeds are noise on a shared machine, ratios are not.`);
  table.note(`Tokens are pre-generated outside the timed region, ${kindList.map((k) => k.pool.tokens.length).join(' / ')} distinct ones (different subject or jti) used in turn, so a token returns only after more than twice the verified-token cache's ${DEFAULT_TOKEN_CACHE_SIZE} entries have been verified since: the cache never answers. Every verifier proved it refuses a token signed by another key before being timed.`);
  return table;
}

function verifierCall(verifier: Verifier<unknown>): (token: string) => Promise<unknown> {
  return (token) => verifier.verify(token);
}

/**
 * Target 2: a repeated token, answered by the verified-token cache. Each call gets its own
 * copy of the token string, as a request handler would (a header parsed per request), so the
 * cache pays for hashing the whole token every time, not a hash V8 cached on one string object.
 */
async function repeated(kindList: readonly Kind[], scale: Scale): Promise<Table> {
  const table = new Table('Verification, repeated token (verified-token cache; share of raw `crypto.verify`)', ['token', 'raw `crypto.verify`', 's2s-auth `verify`, cache hit', 'ratio', `target ≥ ${REPEATED_TARGET}`]);
  const copies = scaled(scale, 20_000, 1000);
  for (const kind of kindList) {
    const { pool } = kind;
    const key = verifyKey(pool.key);
    const verifier = kind.s2s({});
    const token = pool.tokens[0];
    await verifier.verify(token);
    const fresh = Array.from({ length: copies }, () => Buffer.from(token, 'latin1').toString('latin1'));
    const [raw, hit] = await interleaved([
      { name: RAW, ops: kind.ops, run: () => cryptoVerify('sha256', pool.inputs[0], key, pool.signatures[0]) },
      { name: 's2s-auth cache hit', ops: kind.ops * 100, run: (i) => verifier.verify(fresh[i % copies]) },
    ], scale.rounds);
    table.row(kind.label, `${opsCell(raw.opsPerSec)}/s`, `${opsCell(hit.opsPerSec)}/s`, `${ratioCell(hit)}×`, verdict(hit.ratio >= REPEATED_TARGET));
  }
  table.note('A hit still re-checks `exp` (with the clock tolerance) and the entry\'s 5-minute age limit; peers have no such cache, so their repeated-token speed is their first-seen speed above.');
  return table;
}

/** Target 2, memory: heap growth with N distinct cached tokens against the configured bound. */
async function memory(kind: Kind, scale: Scale): Promise<Table> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench: run with --expose-gc (npm run bench does)');
  const max = scale.quick ? 200 : DEFAULT_TOKEN_CACHE_SIZE;
  const steps = [max / 2, max, 2 * max, 5 * max].filter((n) => n < kind.pool.tokens.length);
  const table = new Table(`Verified-token cache memory (${kind.label} tokens of ${kind.pool.tokens[0].length} bytes, tokenCacheSize ${max})`, ['distinct tokens verified', 'heap growth, cache on', 'heap growth, cache off', 'per cached entry']);
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const on = kind.s2s({ tokenCacheSize: max });
  const off = kind.s2s({ tokenCacheSize: 0 });
  // Warm both code paths first so that compiled code does not count as cache memory.
  await on.verify(kind.pool.tokens[0]);
  await off.verify(kind.pool.tokens[0]);
  const base = heap();
  let done = 1;
  const growth: { n: number; on: number; off: number }[] = [];
  for (const n of steps) {
    const before = heap();
    for (let i = done; i < n + 1; i++) await off.verify(kind.pool.tokens[i]);
    const offGrowth = heap() - before;
    for (let i = done; i < n + 1; i++) await on.verify(kind.pool.tokens[i]);
    done = n + 1;
    growth.push({ n, on: heap() - base - offGrowth, off: offGrowth });
  }
  for (const g of growth) {
    const entries = Math.min(g.n, max);
    table.row(g.n, kib(g.on), kib(g.off), `${Math.round(g.on / entries)} B`);
  }
  const atMax = growth.find((g) => g.n === max)!.on;
  const last = growth[growth.length - 1];
  table.note(`Bound holds when growth stops at tokenCacheSize: ${last.n} tokens used ${(last.on / atMax).toFixed(2)}× the memory of ${max} (${verdict(last.on < atMax * 1.25)}).`);
  return table;
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

export async function verificationSection(server: KeySetServer, scale: Scale): Promise<Table[]> {
  const list = await kinds(server, scale);
  return [await firstSeen(list, scale), await repeated(list, scale), await memory(list[0], scale)];
}
