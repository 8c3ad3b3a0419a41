import { AuthError } from './errors';
import { algorithmList, assertKeyUrl, type Algorithm } from './key-set';
import {
  algCheck, audienceCheck, bearerFrom, claimsCheck, critCheck, expCheck, iatCheck, issuerCheck, JwtVerifier, keyCheck, lifetimeCheck, nbfCheck,
  signatureCheck, stringClaim,
  type Check, type JwtContext, type JwtVerifierOptions, type RequestHeaders,
} from './jwt';
import { show, stringList } from './util';

/** Google serves every service account's public keys as x509 certificates here (`…/metadata/jwk/EMAIL` is the JWK form). */
export function googleServiceAccountKeysUrl(email: string): string {
  return `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(email)}`;
}

/** Google accepts self-signed service-account JWTs valid for at most one hour. */
const SA_JWT_MAX_LIFETIME_SEC = 3600;

/** One accepted signer, as an Endpoints `securityDefinitions` entry declares it. */
export interface ServiceAccountIssuer {
  /** The service account email: both `iss` and `sub` of its self-signed JWTs (`x-google-issuer`). */
  readonly issuer: string;
  /**
   * Its public keys (`x-google-jwks_uri`): Google's x509 form or a JWK set, detected by content.
   * @default https://www.googleapis.com/robot/v1/metadata/x509/ISSUER
   */
  readonly jwksUri?: string;
  /** Accepted `aud` values (`x-google-audiences`; ESP's default is `https://SERVICE_NAME`). */
  readonly audiences: string | readonly string[];
}

export interface ServiceAccountJwtVerifierOptions extends JwtVerifierOptions {
  /** The service accounts allowed to call, each with its keys and audiences. */
  readonly issuers: readonly ServiceAccountIssuer[];
  /** Accepted signature algorithms (Google-managed service-account keys are RS256). @default ['RS256'] */
  readonly algorithms?: readonly Algorithm[];
}

export interface ServiceAccountJwtClaims {
  /** The service account email (`iss` = `sub`). */
  readonly iss: string;
  readonly sub: string;
  /** The configured audience the token matched. */
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly payload: Readonly<Record<string, unknown>>;
}

interface IssuerConfig {
  readonly jwksUri: string;
  readonly audiences: readonly string[];
}

/**
 * Verifies self-signed service-account JWTs (`Authorization: Bearer`), the check ESP and
 * ESPv2 run for Endpoints callers: `iss` one of the configured service accounts (which also
 * selects where its keys are), a `kid` from those keys, an RS256 signature, `sub` = `iss`,
 * an accepted `aud`, and `exp`/`iat` within the tolerance and at most one hour apart.
 */
export class ServiceAccountJwtVerifier extends JwtVerifier<ServiceAccountJwtClaims> {
  private readonly issuers = new Map<string, IssuerConfig>();
  protected readonly checks: readonly Check[];

  constructor(options: ServiceAccountJwtVerifierOptions) {
    super('ServiceAccountJwtVerifier', options);
    if (!Array.isArray(options?.issuers) || options.issuers.length === 0) {
      throw new TypeError(`ServiceAccountJwtVerifier: issuers must be a non-empty list of { issuer, jwksUri?, audiences } (got ${show(options?.issuers)})`);
    }
    for (const [i, entry] of options.issuers.entries()) {
      const issuer = entry?.issuer;
      if (typeof issuer !== 'string' || issuer.trim() === '') throw new TypeError(`ServiceAccountJwtVerifier: issuers[${i}].issuer must be the service account email (got ${show(issuer)})`);
      if (this.issuers.has(issuer)) throw new TypeError(`ServiceAccountJwtVerifier: issuer ${show(issuer)} is listed twice`);
      const jwksUri = entry.jwksUri ?? googleServiceAccountKeysUrl(issuer);
      assertKeyUrl(jwksUri, `ServiceAccountJwtVerifier: issuers[${i}].jwksUri`);
      this.issuers.set(issuer, { jwksUri, audiences: stringList(entry.audiences, `ServiceAccountJwtVerifier: issuers[${i}].audiences`) });
    }
    const algorithms = algorithmList(options.algorithms ?? ['RS256'], 'ServiceAccountJwtVerifier: algorithms');
    // Undefined only when the iss check failed, which keeps these checks from running.
    const config = (ctx: JwtContext): IssuerConfig | undefined => this.issuers.get(ctx.payload.iss as string);
    this.checks = [
      algCheck(algorithms),
      critCheck,
      // The (unverified) issuer picks the key set, so it is checked before any key is fetched.
      issuerCheck([...this.issuers.keys()], 'is not an accepted service account'),
      keyCheck(this.keySetCache, (ctx) => config(ctx)?.jwksUri ?? '', ['iss']),
      signatureCheck,
      subjectCheck,
      audienceCheck((ctx) => config(ctx)?.audiences ?? [], ['iss']),
      expCheck(this.skew),
      iatCheck(this.skew),
      nbfCheck(this.skew),
      lifetimeCheck(SA_JWT_MAX_LIFETIME_SEC, this.skew),
      claimsCheck((payload, ctx) => Object.freeze({
        iss: payload.iss as string,
        sub: payload.sub as string,
        aud: ctx.audience!,
        iat: payload.iat as number,
        exp: payload.exp as number,
        payload: Object.freeze(payload),
      }), 'iss, sub, aud, iat, exp'),
    ];
  }

  tokenFrom(headers: RequestHeaders): string {
    return bearerFrom(headers);
  }
}

/** A self-signed service-account JWT names the account twice: `sub` must equal `iss`. */
const subjectCheck: Check = {
  name: 'sub',
  expected: (ctx) => `equal to iss (${show(ctx.payload.iss)})`,
  actual: (ctx) => show(ctx.payload.sub),
  run(ctx) {
    const sub = stringClaim(ctx.payload, 'sub');
    if (sub !== ctx.payload.iss) throw new AuthError('INVALID_CLAIM', `sub ${show(sub)} must equal iss for a self-signed service-account JWT`);
  },
};
