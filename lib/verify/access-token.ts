import { AuthError } from './errors';
import { algorithmList, assertKeyUrl, fetchJson, type Algorithm } from './key-set';
import {
  algCheck, audienceCheck, bearerFrom, claimsCheck, critCheck, expCheck, iatCheck, issuerCheck, JwtVerifier, keyCheck, lifetimeCheck, nbfCheck,
  optionalString, signatureCheck, stringClaim, typCheck,
  type Check, type JwtVerifierOptions, type RequestHeaders,
} from './jwt';
import { isObject, show, stringList } from './util';

/** `typ` values accepted by default: RFC 9068's, plus plain `JWT`, which most servers still send. */
export const ACCESS_TOKEN_TYPES: readonly string[] = ['at+jwt', 'application/at+jwt', 'JWT'];
const DISCOVERY_TIMEOUT_MS = 5_000;
const DISCOVERY_MAX_BYTES = 256 * 1024;
const DISCOVERY_RETRY_MS = 5_000;

export interface AccessTokenVerifierOptions extends JwtVerifierOptions {
  /** The authorization server's issuer identifier, compared exactly with `iss` (and with its metadata's `issuer`). */
  readonly issuer: string;
  /**
   * Its JWK set. When absent it is discovered from the issuer's metadata
   * (`/.well-known/oauth-authorization-server`, then `/.well-known/openid-configuration`).
   */
  readonly jwksUri?: string;
  /** This resource server's identifier(s); `aud` must contain one. */
  readonly audience: string | readonly string[];
  /** Scopes every token must carry (403 INSUFFICIENT_SCOPE names the missing ones). @default none */
  readonly requiredScopes?: readonly string[];
  /** Accepted signature algorithms. @default ['RS256', 'ES256'] */
  readonly algorithms?: readonly Algorithm[];
  /** Accepted `typ` header values (case-insensitive). @default at+jwt, application/at+jwt, JWT */
  readonly types?: readonly string[];
  /** Longest accepted exp - iat, in seconds (plus twice the tolerance). @default 86400 */
  readonly maxLifetimeSec?: number;
}

export interface AccessTokenClaims {
  readonly iss: string;
  /** The resource owner, or the client itself for client-credentials tokens. */
  readonly sub: string;
  readonly aud: readonly string[];
  readonly clientId: string;
  /** The space-delimited `scope` claim, split. */
  readonly scopes: readonly string[];
  readonly jti?: string;
  readonly iat: number;
  readonly exp: number;
  readonly payload: Readonly<Record<string, unknown>>;
}

/**
 * Verifies OAuth 2.0 JWT access tokens (RFC 9068) presented as `Authorization: Bearer`:
 * `typ`, algorithm, a `kid` from the issuer's JWK set (discovered from its metadata when not
 * given, with the RFC 8414 issuer check), `iss`, `aud`, `exp`/`iat`/`nbf`, `sub`, `client_id`,
 * then the required scopes (403).
 */
export class AccessTokenVerifier extends JwtVerifier<AccessTokenClaims> {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly requiredScopes: readonly string[];
  private jwksUri?: string;
  private discovery?: Promise<void>;
  private discoveryError?: { error: AuthError; at: number };
  protected readonly checks: readonly Check[];

  constructor(options: AccessTokenVerifierOptions) {
    super('AccessTokenVerifier', options);
    if (typeof options?.issuer !== 'string' || options.issuer === '') throw new TypeError(`AccessTokenVerifier: issuer must be the authorization server's issuer identifier (got ${show(options?.issuer)})`);
    this.issuer = options.issuer;
    this.audiences = stringList(options.audience, 'AccessTokenVerifier: audience');
    this.requiredScopes = options.requiredScopes === undefined ? [] : stringList(options.requiredScopes, 'AccessTokenVerifier: requiredScopes');
    const bad = this.requiredScopes.find((s) => /\s/.test(s));
    if (bad !== undefined) throw new TypeError(`AccessTokenVerifier: requiredScopes entries are single scopes without spaces (got ${show(bad)})`);
    if (options.jwksUri !== undefined) assertKeyUrl(options.jwksUri, 'AccessTokenVerifier: jwksUri');
    else assertKeyUrl(this.issuer, 'AccessTokenVerifier: issuer (its metadata is fetched because jwksUri is not set)');
    this.jwksUri = options.jwksUri;
    const maxLifetime = options.maxLifetimeSec ?? 86_400;
    if (!Number.isFinite(maxLifetime) || maxLifetime <= 0) throw new RangeError(`AccessTokenVerifier: maxLifetimeSec must be a positive number (got ${show(maxLifetime)})`);
    this.checks = [
      algCheck(algorithmList(options.algorithms ?? ['RS256', 'ES256'], 'AccessTokenVerifier: algorithms')),
      critCheck,
      typCheck(stringList(options.types ?? ACCESS_TOKEN_TYPES, 'AccessTokenVerifier: types')),
      ...(this.jwksUri === undefined ? [this.discoveryCheck()] : []),
      keyCheck(this.keySetCache, () => this.jwksUri ?? '', this.jwksUri === undefined ? ['jwks_uri'] : undefined),
      signatureCheck,
      issuerCheck([this.issuer]),
      audienceCheck(() => this.audiences),
      expCheck(this.skew),
      iatCheck(this.skew),
      nbfCheck(this.skew),
      lifetimeCheck(maxLifetime, this.skew),
      claimsCheck(accessTokenClaims, 'sub and client_id strings; scope a space-delimited string when present'),
      ...(this.requiredScopes.length > 0 ? [this.scopeCheck()] : []),
    ];
  }

  tokenFrom(headers: RequestHeaders): string {
    return bearerFrom(headers);
  }

  private scopeCheck(): Check {
    return {
      name: 'scopes',
      after: ['claims'],
      expected: () => this.requiredScopes.join(' '),
      actual: (ctx) => show(ctx.payload.scope),
      run: (ctx) => {
        const granted = (ctx.claims as AccessTokenClaims).scopes;
        const missing = this.requiredScopes.filter((s) => !granted.includes(s));
        if (missing.length > 0) throw new AuthError('INSUFFICIENT_SCOPE', `the token lacks the required scope(s): ${missing.join(' ')}`);
      },
    };
  }

  /** Finds `jwks_uri` once; a failure is retried at most every 5 s (503 meanwhile). */
  private discoveryCheck(): Check {
    return {
      name: 'jwks_uri',
      expected: () => `jwks_uri from the metadata of ${this.issuer}, whose "issuer" must be identical`,
      actual: () => this.jwksUri ?? 'not discovered',
      run: () => {
        if (this.jwksUri !== undefined) return;
        if (this.discoveryError && this.clock() - this.discoveryError.at < DISCOVERY_RETRY_MS) throw this.discoveryError.error;
        this.discovery ??= this.discover().finally(() => {
          this.discovery = undefined;
        });
        return this.discovery;
      },
    };
  }

  private async discover(): Promise<void> {
    const base = new URL(this.issuer);
    const path = base.pathname === '/' ? '' : base.pathname.replace(/\/$/, '');
    // RFC 8414 §3 inserts the well-known segment before the issuer's path; OIDC Discovery appends it.
    const locations = [`${base.origin}/.well-known/oauth-authorization-server${path}`, `${base.origin}${path}/.well-known/openid-configuration`];
    const reasons: string[] = [];
    for (const location of locations) {
      try {
        const { body } = await fetchJson(location, DISCOVERY_TIMEOUT_MS, DISCOVERY_MAX_BYTES);
        if (!isObject(body)) throw new Error('metadata is not a JSON object');
        if (body.issuer !== this.issuer) throw new Error(`metadata issuer ${show(body.issuer)} is not ${show(this.issuer)} (RFC 8414 §3.3)`);
        if (typeof body.jwks_uri !== 'string') throw new Error('metadata has no jwks_uri');
        assertKeyUrl(body.jwks_uri, 'jwks_uri', (rule) => new Error(`metadata jwks_uri ${rule}`));
        this.jwksUri = body.jwks_uri;
        this.discoveryError = undefined;
        return;
      } catch (err) {
        const cause = err instanceof AuthError ? (err.cause as Error) : (err as Error);
        reasons.push(`${location}: ${cause?.message ?? String(err)}`);
      }
    }
    const error = new AuthError('KEYS_UNAVAILABLE', 'the signing keys are unavailable; try again later', { cause: new Error(`metadata discovery failed: ${reasons.join('; ')}`) });
    this.discoveryError = { error, at: this.clock() };
    throw error;
  }
}

function accessTokenClaims(payload: Readonly<Record<string, unknown>>): AccessTokenClaims {
  const scope = optionalString(payload, 'scope');
  return Object.freeze({
    iss: payload.iss as string,
    sub: stringClaim(payload, 'sub'),
    aud: Object.freeze(Array.isArray(payload.aud) ? [...payload.aud] : [payload.aud as string]),
    clientId: stringClaim(payload, 'client_id'),
    scopes: Object.freeze(scope === undefined ? [] : scope.split(' ').filter(Boolean)),
    jti: optionalString(payload, 'jti'),
    iat: payload.iat as number,
    exp: payload.exp as number,
    payload: Object.freeze(payload),
  });
}
