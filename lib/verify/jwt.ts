import { verify as cryptoVerify } from 'node:crypto';
import { AuthError, type AuthErrorCode } from './errors';
import { bearerToken } from './http';
import { defaultKeySetCache, type Algorithm, type KeySetCache, type PublicKey } from './key-set';
import { isObject, show } from './util';

/**
 * Default largest token accepted, in bytes. Google ID and IAP tokens are about 1 KiB and
 * OAuth access tokens rarely pass 4 KiB; 8 KiB is also the header limit of many proxies,
 * so anything larger is refused before any decoding work.
 */
export const DEFAULT_MAX_TOKEN_BYTES = 8192;

/** Default allowed clock difference between issuer and verifier, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE_SEC = 30;

/** Default number of verified tokens remembered per verifier (see {@link VerifiedTokenCache}). */
export const DEFAULT_TOKEN_CACHE_SIZE = 1000;

/** Request headers with lower-case names, as Node, Express and Lambda function URLs deliver them. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** One line of {@link Verifier.explain}: a check `verify` performs, and how this token fared. */
export interface CheckResult {
  /** Short name, e.g. `signature`, `kid`, `alg`, `iss`, `aud`, `exp`, `iat`, `lifetime`, `scopes`. */
  readonly name: string;
  readonly ok: boolean;
  /** What the verifier requires. */
  readonly expected: string;
  /** What the token carries. */
  readonly actual: string;
  /** Why it failed (the AuthError message), or why it was not evaluated. */
  readonly detail?: string;
  /** The AuthError code `verify` rejects with when this is the first failed check. */
  readonly code?: AuthErrorCode;
  /**
   * What lies behind a safe `detail`, from the AuthError's `cause` chain (e.g. the key URL and
   * the network error behind KEYS_UNAVAILABLE): for the operator running `explain`, never for callers.
   */
  readonly cause?: string;
}

/** What every verifier offers; the adapters in `adapters.ts` need nothing else. */
export interface Verifier<C> {
  /** Resolves to the verified claims or rejects with an {@link AuthError}. */
  verify(token: string): Promise<C>;
  /**
   * Every check `verify` runs, in the same order and with the same code. `verify` stops at
   * the first failure, which is the first entry with `ok: false`; `explain` goes on with
   * the checks whose inputs exist, so one run shows everything wrong with a token.
   */
  explain(token: string): Promise<CheckResult[]>;
  /** This verifier's credential in a request's (lower-case) headers; throws AuthError MISSING_TOKEN naming the header when absent. */
  tokenFrom(headers: RequestHeaders): string;
  /**
   * Verifies the credential of a request, what the adapters call: usually
   * `verify(tokenFrom(headers))`, but a verifier may also weigh other headers (see
   * `GoogleIdTokenVerifier`'s Cloud Run option). Rejects with an {@link AuthError}.
   */
  verifyRequest(headers: RequestHeaders): Promise<C>;
  /** Paths answered 200 without a credential (load-balancer health checks). */
  isHealthCheck?(path: string): boolean;
}

/** Options shared by the JWT verifiers. */
export interface JwtVerifierOptions {
  /** Allowed clock difference, applied to `exp`, `iat`, `nbf` and the lifetime. @default 30 */
  readonly clockToleranceSec?: number;
  /** Largest token accepted, in bytes. @default 8192 */
  readonly maxTokenBytes?: number;
  /**
   * How many verified tokens to remember, keyed by the whole token, so a repeated token
   * skips the signature check (its `exp` is re-checked on every hit, and an entry lives at
   * most 5 minutes, as in ESP). Memory is bounded by about 2 × `maxTokenBytes` per entry
   * (the token and its claims): at most ~16 MiB with the defaults, ~2 MiB for typical 1 KiB
   * tokens. 0 disables the cache. @default 1000
   */
  readonly tokenCacheSize?: number;
  /** Where public keys are cached. @default defaultKeySetCache (one per process) */
  readonly keySetCache?: KeySetCache;
  /** Epoch milliseconds; injectable for tests. @default Date.now */
  readonly clock?: () => number;
}

/** What the checks of one token read and write. */
export interface JwtContext {
  readonly token: string;
  /** Index of the first '.', the end of the header segment. */
  readonly dot1: number;
  /** Index of the second '.', the end of the signing input. */
  readonly dot2: number;
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  /** The decoded signature (empty when the token has none). */
  readonly signature: Buffer;
  /** Seconds since the epoch (fractional). */
  readonly now: number;
  key?: PublicKey;
  /** The configured audience the token's `aud` matched (set by the `aud` check). */
  audience?: string;
  claims?: unknown;
}

/**
 * One step of verification. `verify` calls `run` for each check in order; `explain` calls the
 * same `run` and adds `expected`/`actual`, so the two can never disagree.
 */
export interface Check {
  readonly name: string;
  /** Checks whose failure leaves this one without input; `explain` reports it as not evaluated. */
  readonly after?: readonly string[];
  expected(ctx: JwtContext): string;
  actual(ctx: JwtContext): string;
  /** Throws (or rejects with) an AuthError; returns a promise only when it has to wait (key fetch). */
  run(ctx: JwtContext): void | Promise<void>;
}

/**
 * Splits and decodes a compact JWS: size limit first, then the segment count, the strict
 * base64url alphabet of every segment (see {@link decodeBase64url}), then JSON objects for
 * header and payload. The signature is decoded here once, for the signature check.
 */
export function parseJwt(token: string, maxBytes: number, now: number, knownHeaders?: ReadonlyMap<string, Readonly<Record<string, unknown>>>): JwtContext {
  if (typeof token !== 'string' || token.length === 0) throw new AuthError('MISSING_TOKEN', 'no token was presented');
  if (token.length > maxBytes) throw new AuthError('TOKEN_TOO_LARGE', `the token is ${token.length} bytes; the limit is ${maxBytes}`);
  const dot1 = token.indexOf('.');
  const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
  // A further '.' lands in the signature segment, whose strict decoding refuses it.
  if (dot1 <= 0 || dot2 <= dot1 + 1) throw new AuthError('MALFORMED_TOKEN', diagnose(token));
  // A header seen on a verified token passed these checks already: only its lookup is paid.
  const encodedHeader = token.slice(0, dot1);
  const knownHeader = knownHeaders?.get(encodedHeader);
  const headerBytes = knownHeader === undefined ? decodeBase64url(encodedHeader) : undefined;
  const payloadBytes = decodeBase64url(token.slice(dot1 + 1, dot2));
  const signature = decodeBase64url(token.slice(dot2 + 1));
  if ((knownHeader === undefined && headerBytes === undefined) || payloadBytes === undefined || signature === undefined) throw new AuthError('MALFORMED_TOKEN', diagnose(token));
  const header = knownHeader ?? parseSegment(headerBytes!, dot1, 'header');
  return { token, dot1, dot2, header, payload: parseSegment(payloadBytes, dot2 - dot1 - 1, 'payload'), signature, now };
}

/**
 * The bytes of a segment, or undefined unless it is strict base64url (no padding, no `+`/`/`).
 * Checked on the result rather than by a regex over the text, the hot path's longest scan:
 * Buffer's decoder skips characters outside the alphabet and stops at `=`, so any such
 * character yields fewer than ⌊3n/4⌋ bytes; it also accepts `+` and `/` (two `includes`),
 * and reads a character above U+00FF by its low byte (`Ł` as `A`), which the UTF-8 length
 * catches along with every other non-ASCII character.
 */
function decodeBase64url(segment: string): Buffer | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  const strict = bytes.length === (segment.length * 3) >> 2 && !segment.includes('+') && !segment.includes('/') && Buffer.byteLength(segment) === segment.length;
  return strict ? bytes : undefined;
}

function parseSegment(bytes: Buffer, length: number, part: string): Record<string, unknown> {
  if (length % 4 === 1) throw new AuthError('MALFORMED_TOKEN', `the ${part} is not valid base64url (impossible length)`);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new AuthError('MALFORMED_TOKEN', `the ${part} is not JSON`);
  }
  if (!isObject(value)) throw new AuthError('MALFORMED_TOKEN', `the ${part} is not a JSON object`);
  return value;
}

function diagnose(token: string): string {
  const segments = token.split('.').length;
  if (segments === 5) return 'the token has 5 segments (an encrypted JWE); only signed JWTs (3 segments) are accepted';
  if (segments !== 3) return `the token has ${segments} segment(s); a JWT has 3, separated by "."`;
  return 'the token has an empty segment or characters outside the base64url alphabet (A-Z a-z 0-9 - _)';
}

/** The check `parseJwt` performs, as `explain` reports it. */
function formatResult(token: unknown, maxBytes: number, err?: AuthError): CheckResult {
  const actual = typeof token === 'string' ? `${token.length} bytes, ${token.split('.').length} segment(s)` : show(token);
  const expected = `compact JWS: 3 base64url segments, at most ${maxBytes} bytes, JSON object header and payload`;
  return err ? { name: 'format', ok: false, expected, actual, detail: err.message, code: err.code } : { name: 'format', ok: true, expected, actual };
}

// ---- header checks ---------------------------------------------------------------------

export function algCheck(allowed: readonly Algorithm[]): Check {
  return {
    name: 'alg',
    expected: () => allowed.join(' or '),
    actual: (ctx) => show(ctx.header.alg),
    run(ctx) {
      const alg = ctx.header.alg;
      if (typeof alg !== 'string' || !(allowed as readonly string[]).includes(alg)) {
        throw new AuthError('UNSUPPORTED_ALG', `alg ${show(alg)} is not accepted; expected ${allowed.join(' or ')}`);
      }
    },
  };
}

/** No JWS extension is implemented, so any `crit` header must be refused (RFC 7515 §4.1.11). */
export const critCheck: Check = {
  name: 'crit',
  expected: () => 'absent',
  actual: (ctx) => (ctx.header.crit === undefined ? 'absent' : show(ctx.header.crit)),
  run(ctx) {
    if (ctx.header.crit !== undefined) {
      throw new AuthError('UNSUPPORTED_CRIT', `header "crit" ${show(ctx.header.crit)} names extensions this verifier does not implement`);
    }
  },
};

/** `typ` must be one of `types` (compared case-insensitively, as media types are). */
export function typCheck(types: readonly string[]): Check {
  const lower = types.map((t) => t.toLowerCase());
  return {
    name: 'typ',
    expected: () => types.join(' or '),
    actual: (ctx) => show(ctx.header.typ),
    run(ctx) {
      const typ = ctx.header.typ;
      if (typeof typ !== 'string' || !lower.includes(typ.toLowerCase())) {
        throw new AuthError('WRONG_TYPE', `header typ ${show(typ)} is not accepted; expected ${types.join(' or ')}`);
      }
    },
  };
}

/** Finds the key named by `kid` in the set at `url(ctx)`; waits only when the set must be fetched. */
export function keyCheck(cache: KeySetCache, url: (ctx: JwtContext) => string, after?: readonly string[]): Check {
  return {
    name: 'kid',
    after,
    expected: (ctx) => `a key id published at ${url(ctx) || "the issuer's key URL"}`,
    actual: (ctx) => show(ctx.header.kid),
    run(ctx) {
      const kid = ctx.header.kid;
      if (kid === undefined) throw new AuthError('UNKNOWN_KID', 'the token header has no kid, so no signing key can be selected');
      if (typeof kid !== 'string' || kid === '') throw new AuthError('MALFORMED_TOKEN', `header kid ${show(kid)} is not a non-empty string`);
      const key = cache.key(url(ctx), kid);
      if (key instanceof Promise) {
        return key.then((k) => {
          ctx.key = k;
        });
      }
      ctx.key = key;
    },
  };
}

/** ES256 (IEEE P1363 r||s, as JWS encodes it) or RS256 (RSASSA-PKCS1-v1_5), with node:crypto. */
export const signatureCheck: Check = {
  name: 'signature',
  after: ['alg', 'kid'],
  expected: (ctx) => `${show(ctx.header.alg)} signature by the key named in kid`,
  actual: (ctx) => (ctx.key ? `${ctx.key.alg} key ${show(ctx.key.kid)}` : 'no key'),
  run(ctx) {
    const key = ctx.key!;
    if (key.alg !== ctx.header.alg) {
      throw new AuthError('UNSUPPORTED_ALG', `key ${show(key.kid)} is an ${key.alg} key but the token says alg ${show(ctx.header.alg)}`);
    }
    // parseJwt proved the signing input ASCII, so latin1 gives its exact bytes.
    const ok = cryptoVerify('sha256', Buffer.from(ctx.token.slice(0, ctx.dot2), 'latin1'), key.verifyKey, ctx.signature);
    if (!ok) throw new AuthError('BAD_SIGNATURE', 'the signature does not verify');
  },
};

// ---- claim checks ----------------------------------------------------------------------

/** A required string claim; MISSING_CLAIM when absent, INVALID_CLAIM when of another type. */
export function stringClaim(payload: Readonly<Record<string, unknown>>, name: string): string {
  const value = payload[name];
  if (value === undefined) throw new AuthError('MISSING_CLAIM', `the token has no "${name}" claim`);
  if (typeof value !== 'string' || value === '') throw new AuthError('INVALID_CLAIM', `claim "${name}" must be a non-empty string (got ${show(value)})`);
  return value;
}

/** An optional string claim; INVALID_CLAIM when present and of another type. */
export function optionalString(payload: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = payload[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new AuthError('INVALID_CLAIM', `claim "${name}" must be a string (got ${show(value)})`);
  return value;
}

function numericDate(payload: Readonly<Record<string, unknown>>, name: string, required: boolean): number | undefined {
  const value = payload[name];
  if (value === undefined) {
    if (required) throw new AuthError('MISSING_CLAIM', `the token has no "${name}" claim`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new AuthError('INVALID_CLAIM', `claim "${name}" must be a NumericDate (seconds since the epoch; got ${show(value)})`);
  return value;
}

/** The one expiry rule, shared by the `exp` check and the verified-token cache. */
function isExpired(exp: number, now: number, skew: number): boolean {
  return now >= exp + skew;
}

// Dates beyond ±1e11 s (year ~5138) make toISOString throw: shown as numbers, never a crash.
function time(seconds: unknown): string {
  return typeof seconds === 'number' && Number.isFinite(seconds) && Math.abs(seconds) < 1e11 ? `${new Date(seconds * 1000).toISOString()} (${seconds})` : show(seconds);
}

/** `iss` must be one of `issuers`; `refusal` ends the WRONG_ISSUER message. */
export function issuerCheck(issuers: readonly string[], refusal = 'is not accepted'): Check {
  return {
    name: 'iss',
    expected: () => issuers.join(' or '),
    actual: (ctx) => show(ctx.payload.iss),
    run(ctx) {
      const iss = stringClaim(ctx.payload, 'iss');
      if (!issuers.includes(iss)) throw new AuthError('WRONG_ISSUER', `issuer ${show(iss)} ${refusal}`);
    },
  };
}

/** `aud` (a string or an array of strings, RFC 7519 §4.1.3) must contain one of `audiences(ctx)`. */
export function audienceCheck(audiences: (ctx: JwtContext) => readonly string[], after?: readonly string[]): Check {
  return {
    name: 'aud',
    after,
    expected: (ctx) => `one of ${audiences(ctx).join(', ') || "the issuer's audiences"}`,
    actual: (ctx) => show(ctx.payload.aud),
    run(ctx) {
      const aud = ctx.payload.aud;
      if (aud === undefined) throw new AuthError('MISSING_CLAIM', 'the token has no "aud" claim');
      const accepted = audiences(ctx);
      if (typeof aud === 'string' && aud !== '') {
        if (accepted.includes(aud)) {
          ctx.audience = aud;
          return;
        }
      } else if (Array.isArray(aud) && aud.length > 0 && aud.every((a) => typeof a === 'string')) {
        ctx.audience = aud.find((a: string) => accepted.includes(a));
        if (ctx.audience !== undefined) return;
      } else {
        throw new AuthError('INVALID_CLAIM', `claim "aud" must be a string or an array of strings (got ${show(aud)})`);
      }
      throw new AuthError('WRONG_AUDIENCE', `audience ${show(aud)} is not accepted`);
    },
  };
}

export function expCheck(skew: number): Check {
  return {
    name: 'exp',
    expected: (ctx) => `after now (${time(Math.floor(ctx.now))}) - ${skew} s tolerance`,
    actual: (ctx) => time(ctx.payload.exp),
    run(ctx) {
      const exp = numericDate(ctx.payload, 'exp', true)!;
      if (isExpired(exp, ctx.now, skew)) throw new AuthError('EXPIRED', `the token expired at ${time(exp)}`);
    },
  };
}

export function iatCheck(skew: number): Check {
  return {
    name: 'iat',
    expected: (ctx) => `before now (${time(Math.floor(ctx.now))}) + ${skew} s tolerance`,
    actual: (ctx) => time(ctx.payload.iat),
    run(ctx) {
      const iat = numericDate(ctx.payload, 'iat', true)!;
      if (iat > ctx.now + skew) throw new AuthError('NOT_YET_VALID', `the token is issued in the future (iat ${time(iat)})`);
    },
  };
}

export function nbfCheck(skew: number): Check {
  return {
    name: 'nbf',
    expected: (ctx) => `absent, or before now (${time(Math.floor(ctx.now))}) + ${skew} s tolerance`,
    actual: (ctx) => (ctx.payload.nbf === undefined ? 'absent' : time(ctx.payload.nbf)),
    run(ctx) {
      const nbf = numericDate(ctx.payload, 'nbf', false);
      if (nbf !== undefined && nbf > ctx.now + skew) throw new AuthError('NOT_YET_VALID', `the token is not valid before ${time(nbf)}`);
    },
  };
}

/** exp - iat must not exceed `maxSec` plus twice the tolerance (each end may be off by it). */
export function lifetimeCheck(maxSec: number, skew: number): Check {
  const limit = maxSec + 2 * skew;
  return {
    name: 'lifetime',
    after: ['exp', 'iat'],
    expected: () => `exp - iat between 0 and ${limit} s (${maxSec} s + 2 × ${skew} s tolerance)`,
    actual: (ctx) => `${(ctx.payload.exp as number) - (ctx.payload.iat as number)} s`,
    run(ctx) {
      const lifetime = (ctx.payload.exp as number) - (ctx.payload.iat as number);
      if (lifetime < 0) throw new AuthError('INVALID_CLAIM', 'claim "exp" is before "iat"');
      if (lifetime > limit) throw new AuthError('LIFETIME_TOO_LONG', `the token lives ${lifetime} s; at most ${limit} s is accepted`);
    },
  };
}

/** Builds the typed claims; its failures are MISSING_CLAIM / INVALID_CLAIM from the helpers above. */
export function claimsCheck(build: (payload: Readonly<Record<string, unknown>>, ctx: JwtContext) => unknown, expected: string): Check {
  return {
    name: 'claims',
    expected: () => expected,
    actual: (ctx) => `claims ${Object.keys(ctx.payload).join(', ')}`,
    run(ctx) {
      ctx.claims = build(ctx.payload, ctx);
    },
  };
}

/**
 * Verified tokens by their full text, least recently used evicted first. Entries hold only
 * successes; `get` re-checks expiry with the same rule as the `exp` check and drops entries
 * older than `maxAgeSec`, so a removed key stops being honoured within that time.
 *
 * Recency is approximate, so that most hits are one Map lookup and two number compares: a
 * hit moves its entry to the young end only when at least half the capacity of inserts or
 * moves happened since it was last placed there. An entry is evicted only once `maxEntries`
 * placements have followed it, so one hit at least every `maxEntries / 2` placements keeps it.
 */
export class VerifiedTokenCache<C> {
  private readonly entries = new Map<string, { claims: C; exp: number; until: number; placed: number }>();
  /** Counts inserts and moves: an entry's age in placements is `placements - entry.placed`. */
  private placements = 0;

  constructor(readonly maxEntries: number, readonly maxAgeSec = 300) {}

  get(token: string, now: number, skew: number): C | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (now >= entry.until || isExpired(entry.exp, now, skew)) {
      this.entries.delete(token);
      return undefined;
    }
    if (this.placements - entry.placed >= this.maxEntries >> 1) {
      this.entries.delete(token);
      this.entries.set(token, entry);
      entry.placed = ++this.placements;
    }
    return entry.claims;
  }

  set(token: string, claims: C, exp: number, now: number): void {
    // A token verified twice at once is replaced (and moved); otherwise the oldest makes room.
    if (!this.entries.delete(token) && this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(token, { claims, exp, until: now + this.maxAgeSec, placed: ++this.placements });
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * The shared pipeline: subclasses list their checks (header, key, signature, claims, then
 * the 403 policy checks) and `verify`/`explain` run that one list.
 */
export abstract class JwtVerifier<C> implements Verifier<C> {
  protected readonly skew: number;
  protected readonly keySetCache: KeySetCache;
  private readonly maxTokenBytes: number;
  protected readonly clock: () => number;
  private readonly cache?: VerifiedTokenCache<C>;
  /**
   * Decoded headers of tokens that verified, by their encoded segment: an issuer signs every
   * token with the same few headers, so this skips a decode and a JSON.parse per token. Only
   * successes are remembered, frozen, and at most 16, so callers cannot fill it.
   */
  private readonly knownHeaders = new Map<string, Readonly<Record<string, unknown>>>();
  protected abstract readonly checks: readonly Check[];

  protected constructor(name: string, options: JwtVerifierOptions) {
    this.skew = nonNegative(options.clockToleranceSec, DEFAULT_CLOCK_TOLERANCE_SEC, `${name}: clockToleranceSec`);
    this.maxTokenBytes = nonNegative(options.maxTokenBytes, DEFAULT_MAX_TOKEN_BYTES, `${name}: maxTokenBytes`);
    const size = Math.floor(nonNegative(options.tokenCacheSize, DEFAULT_TOKEN_CACHE_SIZE, `${name}: tokenCacheSize`));
    if (size > 0) this.cache = new VerifiedTokenCache<C>(size);
    this.keySetCache = options.keySetCache ?? defaultKeySetCache;
    this.clock = options.clock ?? Date.now;
  }

  abstract tokenFrom(headers: RequestHeaders): string;

  verify(token: string): Promise<C> {
    return this.verifyWith(token, this.checks, this.cache);
  }

  async verifyRequest(headers: RequestHeaders): Promise<C> {
    return this.verify(this.tokenFrom(headers));
  }

  explain(token: string): Promise<CheckResult[]> {
    return this.explainWith(token, this.checks);
  }

  /**
   * Runs `checks` on `token`; `cache` (when given) answers repeats and remembers the success.
   * Not an async function: the checks run synchronously until one has to wait (a key fetch),
   * so a token whose keys are cached costs one settled promise and no extra microtask turns.
   */
  protected verifyWith(token: string, checks: readonly Check[], cache: VerifiedTokenCache<C> | undefined): Promise<C> {
    try {
      const now = this.clock() / 1000;
      const hit = cache?.get(token, now, this.skew);
      if (hit !== undefined) return Promise.resolve(hit);
      return this.runChecks(parseJwt(token, this.maxTokenBytes, now, this.knownHeaders), checks, 0, cache);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Runs `checks` from index `from`; throws synchronously until the first check that waits. */
  private runChecks(ctx: JwtContext, checks: readonly Check[], from: number, cache: VerifiedTokenCache<C> | undefined): Promise<C> {
    for (let i = from; i < checks.length; i++) {
      const pending = checks[i].run(ctx);
      if (pending !== undefined) return pending.then(() => this.runChecks(ctx, checks, i + 1, cache));
    }
    if (this.knownHeaders.size < 16 && !Object.isFrozen(ctx.header)) this.knownHeaders.set(ctx.token.slice(0, ctx.dot1), Object.freeze(ctx.header));
    const claims = ctx.claims as C;
    cache?.set(ctx.token, claims, ctx.payload.exp as number, ctx.now);
    return Promise.resolve(claims);
  }

  protected async explainWith(token: string, checks: readonly Check[]): Promise<CheckResult[]> {
    let ctx: JwtContext;
    try {
      ctx = parseJwt(token, this.maxTokenBytes, this.clock() / 1000);
    } catch (err) {
      return [formatResult(token, this.maxTokenBytes, err as AuthError)];
    }
    const results = [formatResult(token, this.maxTokenBytes)];
    const failed = new Set<string>();
    for (const check of checks) {
      const blocker = check.after?.find((name) => failed.has(name));
      let error: AuthError | undefined;
      if (blocker === undefined) {
        try {
          await check.run(ctx);
        } catch (err) {
          if (!(err instanceof AuthError)) throw err;
          error = err;
        }
      }
      const expected = check.expected(ctx);
      if (blocker !== undefined) {
        failed.add(check.name);
        results.push({ name: check.name, ok: false, expected, actual: 'not evaluated', detail: `not evaluated because "${blocker}" failed` });
      } else if (error) {
        failed.add(check.name);
        const cause = causeChain(error.cause);
        results.push({ name: check.name, ok: false, expected, actual: check.actual(ctx), detail: error.message, code: error.code, ...(cause ? { cause } : {}) });
      } else {
        results.push({ name: check.name, ok: true, expected, actual: check.actual(ctx) });
      }
    }
    return results;
  }
}

/** "GET URL failed: fetch failed: connect ECONNREFUSED ...": each message of a cause chain once. */
function causeChain(cause: unknown): string | undefined {
  const messages: string[] = [];
  for (let c = cause; c !== undefined && c !== null && messages.length < 5; c = (c as { cause?: unknown }).cause) {
    const message = c instanceof Error ? c.message : String(c);
    if (message !== '' && !messages.includes(message)) messages.push(message);
  }
  return messages.length === 0 ? undefined : messages.join(': ');
}

function nonNegative(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number (got ${show(value)})`);
  return value;
}

/** The token of an `Authorization: Bearer` header, the credential of every verifier but IAP's. */
export function bearerFrom(headers: RequestHeaders): string {
  const token = bearerToken(headers.authorization);
  if (token === undefined) {
    throw new AuthError('MISSING_TOKEN', headers.authorization === undefined ? 'the request has no Authorization header; send "Authorization: Bearer <token>"' : 'the Authorization header is not "Bearer <token>"');
  }
  return token;
}
