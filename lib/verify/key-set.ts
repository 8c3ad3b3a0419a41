import { KeyObject, X509Certificate, type VerifyKeyObjectInput } from 'node:crypto';
import type { JWK } from 'jose';
import { importJWK } from 'jose/key/import';
import { AuthError } from './errors';
import { isObject, show, stringList } from './util';

/** The signature algorithms the verifiers implement. */
export type Algorithm = 'ES256' | 'RS256';

/** One verification key, imported once per key-set load and reused for every token. */
export interface PublicKey {
  readonly kid: string;
  readonly alg: Algorithm;
  /** Ready-made `crypto.verify` key argument (ES256 carries `dsaEncoding: 'ieee-p1363'`, the JWS form). */
  readonly verifyKey: KeyObject | VerifyKeyObjectInput;
}

export interface KeySetCacheOptions {
  /** Lower bound for a key set's lifetime, whatever `Cache-Control` says. @default 60 */
  readonly minTtlSec?: number;
  /** Upper bound for a key set's lifetime. @default 86400 (24 h) */
  readonly maxTtlSec?: number;
  /** Lifetime when the response has no `Cache-Control: max-age`. @default 300 */
  readonly defaultTtlSec?: number;
  /** After the lifetime, how long the old set keeps serving while the endpoint fails (RFC 5861 stale-if-error). @default 3600 */
  readonly staleIfErrorSec?: number;
  /** Minimum time between two fetches triggered by unknown `kid`s, so a flood of made-up kids costs one fetch. @default 30 */
  readonly unknownKidCooldownSec?: number;
  /** Minimum time between two attempts after a failed fetch, so a down endpoint is not hammered. @default 5 */
  readonly retryAfterErrorSec?: number;
  /** Timeout of one fetch, body included. @default 5000 */
  readonly timeoutMs?: number;
  /** Largest accepted response body. @default 1 MiB */
  readonly maxBytes?: number;
  /** Epoch milliseconds; injectable for tests. @default Date.now */
  readonly clock?: () => number;
}

interface Entry {
  keys?: Map<string, PublicKey>;
  freshUntil: number;
  staleUntil: number;
  lastAttempt: number;
  lastError?: AuthError;
  inflight?: Promise<void>;
}

const SUPPORTED: ReadonlySet<string> = new Set<Algorithm>(['ES256', 'RS256']);

/** Validates an `algorithms` option: a non-empty list of the algorithms implemented here. */
export function algorithmList(value: readonly Algorithm[], name: string): readonly Algorithm[] {
  const list = stringList(value, name);
  const bad = list.find((alg) => !SUPPORTED.has(alg));
  if (bad !== undefined) throw new TypeError(`${name} may only list ES256 and RS256 (got ${show(bad)})`);
  return list as readonly Algorithm[];
}

/**
 * Public keys by URL, shared by every verifier that points at the same URL. A key set
 * lives for its `Cache-Control: max-age` (minus `Age`), bounded by `minTtlSec`/`maxTtlSec`.
 * Concurrent cold lookups share one fetch; an unknown `kid` refetches at most once per
 * cooldown; a failing endpoint fails closed (503 KEYS_UNAVAILABLE) unless a set fetched
 * earlier is still within its lifetime plus `staleIfErrorSec`.
 *
 * Two formats are read, detected by content: a JWK set (`{"keys":[...]}`) and Google's
 * x509 form (`{"kid":"-----BEGIN CERTIFICATE-----..."}`). Keys that cannot verify ES256
 * or RS256 (symmetric keys, `use` other than `sig`, RSA under 2048 bits, other curves) are
 * skipped, so they can never be selected by a token.
 */
export class KeySetCache {
  private readonly entries = new Map<string, Entry>();
  private readonly minTtl: number;
  private readonly maxTtl: number;
  private readonly defaultTtl: number;
  private readonly staleIfError: number;
  private readonly kidCooldown: number;
  private readonly errorRetry: number;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly clock: () => number;

  constructor(options: KeySetCacheOptions = {}) {
    this.minTtl = seconds(options.minTtlSec, 60, 'minTtlSec');
    this.maxTtl = seconds(options.maxTtlSec, 86_400, 'maxTtlSec');
    this.defaultTtl = seconds(options.defaultTtlSec, 300, 'defaultTtlSec');
    this.staleIfError = seconds(options.staleIfErrorSec, 3_600, 'staleIfErrorSec');
    this.kidCooldown = seconds(options.unknownKidCooldownSec, 30, 'unknownKidCooldownSec');
    this.errorRetry = seconds(options.retryAfterErrorSec, 5, 'retryAfterErrorSec');
    this.timeoutMs = positive(options.timeoutMs, 5_000, 'timeoutMs');
    this.maxBytes = positive(options.maxBytes, 1 << 20, 'maxBytes');
    this.clock = options.clock ?? Date.now;
    if (this.minTtl > this.maxTtl) throw new RangeError(`KeySetCache: minTtlSec (${this.minTtl / 1000}) must not exceed maxTtlSec (${this.maxTtl / 1000})`);
  }

  /**
   * The key `kid` of the set at `url`: synchronous when cached (the hot path), a promise when
   * it must be fetched. Throws/rejects AuthError UNKNOWN_KID or KEYS_UNAVAILABLE.
   */
  key(url: string, kid: string): PublicKey | Promise<PublicKey> {
    const now = this.clock();
    const entry = this.entries.get(url);
    if (entry?.keys && now < entry.staleUntil) {
      const key = entry.keys.get(kid);
      if (now < entry.freshUntil) {
        if (key) return key;
        if (now - entry.lastAttempt < this.kidCooldown) throw unknownKid(kid);
      } else {
        // Past its lifetime: keep serving while a background refresh runs (or the endpoint is down).
        const mayRetry = !entry.lastError || now - entry.lastAttempt >= this.errorRetry;
        if (key) {
          if (mayRetry) void this.refresh(url);
          return key;
        }
        if (!mayRetry) throw entry.lastError!;
      }
    } else if (entry?.lastError && now - entry.lastAttempt < this.errorRetry) {
      throw entry.lastError;
    }
    return this.refresh(url).then(() => this.afterRefresh(url, kid));
  }

  /** Drops every cached set (e.g. after rotating keys in a test). */
  clear(): void {
    this.entries.clear();
  }

  private afterRefresh(url: string, kid: string): PublicKey {
    const entry = this.entries.get(url)!;
    if (!entry.keys || this.clock() >= entry.staleUntil) throw entry.lastError ?? keysUnavailable('no key set');
    const key = entry.keys.get(kid);
    if (key) return key;
    // The refresh failed: a kid we do not know may be a rotation we cannot see yet, so 503, not 401.
    throw entry.lastError ?? unknownKid(kid);
  }

  private refresh(url: string): Promise<void> {
    let entry = this.entries.get(url);
    if (!entry) {
      entry = { freshUntil: 0, staleUntil: 0, lastAttempt: 0 };
      this.entries.set(url, entry);
    }
    if (entry.inflight) return entry.inflight;
    const target = entry;
    target.lastAttempt = this.clock();
    target.inflight = fetchJson(url, this.timeoutMs, this.maxBytes)
      .then(async ({ body, maxAgeSec }) => {
        const keys = await importKeySet(body);
        const ttl = Math.min(this.maxTtl, Math.max(this.minTtl, maxAgeSec === undefined ? this.defaultTtl : maxAgeSec * 1000));
        const now = this.clock();
        target.keys = keys;
        target.freshUntil = now + ttl;
        target.staleUntil = now + ttl + this.staleIfError;
        target.lastError = undefined;
      })
      .catch((err: unknown) => {
        target.lastError = err instanceof AuthError ? err : keysUnavailable('key set could not be read', err);
      })
      .finally(() => {
        target.inflight = undefined;
      });
    return target.inflight;
  }
}

/** The process-wide cache every verifier uses unless given another one. */
// Pure: a bundle that verifies no JWT (e.g. the endpoints handler) drops it and jose with it.
export const defaultKeySetCache = /* @__PURE__ */ new KeySetCache();

/**
 * GETs a JSON document with a timeout, a size limit, no redirects and one retry after a
 * dropped connection, returning its
 * `Cache-Control` lifetime. Any failure is a 503 KEYS_UNAVAILABLE whose message is safe
 * for callers (no URL) and whose `cause` says what went wrong, for the logs.
 */
export async function fetchJson(url: string, timeoutMs: number, maxBytes: number): Promise<{ body: unknown; maxAgeSec?: number }> {
  assertKeyUrl(url, 'url', (rule) => keysUnavailable(`refusing to fetch keys from ${url}: ${rule}`));
  let res: Response;
  let text: string;
  const signal = AbortSignal.timeout(timeoutMs);
  const get = (): Promise<Response> => fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal });
  try {
    // A kept-alive connection the server closed meanwhile (say, while a function instance was
    // frozen) fails at once without an answer: one more try, on a new connection, within the
    // same time limit. fetch rejects with a TypeError for network failures, never for a timeout
    // (compared by name: the TypeError may come from another realm, as under jest).
    res = await get().catch((err: unknown) => ((err as Error | undefined)?.name === 'TypeError' && !signal.aborted ? get() : Promise.reject(err)));
    text = await readLimited(res, maxBytes);
  } catch (err) {
    throw keysUnavailable(`GET ${url} failed`, err);
  }
  if (res.status !== 200) throw keysUnavailable(`GET ${url} answered HTTP ${res.status}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw keysUnavailable(`GET ${url} did not return JSON`, err);
  }
  return { body, maxAgeSec: maxAge(res.headers) };
}

/** The body as text, refused as soon as it passes `maxBytes`, so a runaway response never fills memory. */
async function readLimited(res: Response, maxBytes: number): Promise<string> {
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let part = await reader?.read(); part && !part.done; part = await reader!.read()) {
    size += part.value.byteLength;
    if (size > maxBytes) {
      reader!.cancel().catch(() => undefined);
      throw new Error(`response exceeds ${maxBytes} bytes`);
    }
    chunks.push(part.value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Lifetime from `Cache-Control` (no-store/no-cache → 0) minus `Age`; undefined when not stated. */
function maxAge(headers: Headers): number | undefined {
  const cc = headers.get('cache-control');
  if (!cc) return undefined;
  if (/(?:^|,)\s*(?:no-store|no-cache)\b/i.test(cc)) return 0;
  const m = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?/i.exec(cc);
  if (!m) return undefined;
  const age = Number(headers.get('age') ?? 0);
  return Math.max(0, Number(m[1]) - (Number.isFinite(age) ? age : 0));
}

/** Imports a JWK set or a Google x509 map (detected by content) into kid → key. */
export async function importKeySet(body: unknown): Promise<Map<string, PublicKey>> {
  if (!isObject(body)) throw keysUnavailable('key set is not a JSON object');
  const keys = new Map<string, PublicKey>();
  if (Array.isArray(body.keys)) {
    for (const jwk of body.keys) {
      const key = isObject(jwk) ? await fromJwk(jwk as JWK) : undefined;
      if (key) keys.set(key.kid, key);
    }
  } else {
    for (const [kid, pem] of Object.entries(body)) {
      if (typeof pem !== 'string' || !pem.includes('-----BEGIN CERTIFICATE-----')) {
        throw keysUnavailable('key set is neither a JWK set ({"keys":[...]}) nor a map of kid to PEM certificate');
      }
      const key = await fromJwk({ ...certificateKey(pem), kid });
      if (key) keys.set(kid, key);
    }
  }
  if (keys.size === 0) throw keysUnavailable('key set holds no usable ES256/RS256 signing key');
  return keys;
}

async function fromJwk(jwk: JWK): Promise<PublicKey | undefined> {
  const kid = jwk.kid;
  if (typeof kid !== 'string' || kid === '' || (jwk.use !== undefined && jwk.use !== 'sig')) return undefined;
  if (jwk.d !== undefined || jwk.k !== undefined) return undefined; // private or symmetric material: never a verification key
  const alg = jwk.alg ?? (jwk.kty === 'RSA' ? 'RS256' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined);
  if (alg === undefined || !SUPPORTED.has(alg)) return undefined;
  try {
    return toPublicKey(kid, alg as Algorithm, KeyObject.from(await importJWK(jwk, alg) as CryptoKey));
  } catch {
    return undefined;
  }
}

/**
 * The public key of a PEM certificate as a JWK, so certificates go through the same import
 * (and the same algorithm and strength rules) as JWK sets. node:crypto parses the certificate,
 * which keeps jose's ASN.1 code out of the handler bundles.
 */
function certificateKey(pem: string): JWK {
  try {
    return new X509Certificate(pem).publicKey.export({ format: 'jwk' });
  } catch {
    return {};
  }
}

function toPublicKey(kid: string, alg: Algorithm, key: KeyObject): PublicKey | undefined {
  const details = key.asymmetricKeyDetails;
  if (alg === 'RS256') {
    if (key.asymmetricKeyType !== 'rsa' || (details?.modulusLength ?? 0) < 2048) return undefined;
    return { kid, alg, verifyKey: key };
  }
  if (key.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') return undefined;
  return { kid, alg, verifyKey: { key, dsaEncoding: 'ieee-p1363' } };
}

/**
 * Keys are fetched over HTTPS only; plain HTTP is allowed for loopback addresses (local
 * tests and emulators) because nothing on the path can tamper with it.
 */
export function assertKeyUrl(url: string, name: string, fail: (rule: string) => Error = (rule) => new TypeError(`${name} ${rule} (got ${JSON.stringify(url)})`)): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail('must be an absolute URL');
  }
  const loopback = parsed.hostname === 'localhost' || parsed.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) throw fail('must use https (http only on loopback)');
}

function keysUnavailable(reason: string, cause?: unknown): AuthError {
  return new AuthError('KEYS_UNAVAILABLE', 'the signing keys are unavailable; try again later', { cause: cause === undefined ? new Error(reason) : new Error(reason, { cause }) });
}

function unknownKid(kid: string): AuthError {
  return new AuthError('UNKNOWN_KID', `no signing key has kid ${show(kid)}`);
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback * 1000;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`KeySetCache: ${name} must be a non-negative number of seconds (got ${value})`);
  return value * 1000;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`KeySetCache: ${name} must be a positive number (got ${value})`);
  return value;
}
