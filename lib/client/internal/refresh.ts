import { decodeJwt } from 'jose';
import { CredentialError } from '../errors';

/** Refresh this long before a credential expires, so a request in flight never carries an expired one. */
const REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * When to replace a credential that expires at `expiresAt`: `REFRESH_MARGIN_MS` early, but never
 * before half its remaining life, so a credential shorter-lived than the margin is still reused.
 */
export function refreshTime(expiresAt: number, now: number): number {
  return Math.max(expiresAt - REFRESH_MARGIN_MS, now + (expiresAt - now) / 2);
}

export interface Fresh<T> {
  readonly value: T;
  /** Epoch ms after which `value` is replaced; `Infinity` for a value that never expires. */
  readonly refreshAt: number;
}

/**
 * A value fetched on demand and kept until its refresh time. Concurrent callers share one load;
 * a failed load is not kept, so the next caller tries again.
 */
export class Refreshing<T> {
  private current?: Fresh<T>;
  private pending?: Promise<T>;

  /**
   * @param load fetches a value and says when to replace it
   * @param clock the epoch-ms clock `refreshAt` is read against (the loader's clock, e.g. skew-corrected)
   */
  constructor(
    private readonly load: () => Promise<Fresh<T>>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** The cached value if it is still fresh, without allocating a promise (the signing hot path). */
  peek(): T | undefined {
    return this.current && this.clock() < this.current.refreshAt ? this.current.value : undefined;
  }

  get(): Promise<T> {
    const fresh = this.peek();
    if (fresh !== undefined) return Promise.resolve(fresh);
    this.pending ??= this.load().then(
      (loaded) => {
        this.current = loaded;
        this.pending = undefined;
        return loaded.value;
      },
      (err: unknown) => {
        this.pending = undefined;
        throw err;
      },
    );
    return this.pending;
  }
}

/** The `exp` of a JWT, without verifying it (the caller only needs to know when to refresh). */
export function jwtExpiry(token: string): Date | undefined {
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : undefined;
  } catch {
    return undefined;
  }
}

/** A bearer token and, when known, when it expires. */
export interface TokenInfo {
  readonly token: string;
  /** Absent when the server did not say (`expires_in` missing and the token is not a JWT). */
  readonly expiresAt?: Date;
}

/**
 * Caches the tokens `fetchToken` returns until shortly before they expire. A token of unknown
 * lifetime is used once and not cached; one that arrives already expired is refused, since
 * every request made with it would fail (usually a wrong clock here or at the server).
 */
export function tokenCache(what: string, fetchToken: () => Promise<TokenInfo>, clock: () => number = Date.now): Refreshing<TokenInfo> {
  return new Refreshing(async () => {
    const info = await fetchToken();
    const now = clock();
    if (info.expiresAt && info.expiresAt.getTime() <= now) {
      throw new CredentialError('BAD_RESPONSE', `the ${what} received expired at ${info.expiresAt.toISOString()}, before it arrived; check this machine's clock`);
    }
    return { value: info, refreshAt: info.expiresAt ? refreshTime(info.expiresAt.getTime(), now) : now };
  }, clock);
}
