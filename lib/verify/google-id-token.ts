import { AuthError } from './errors';
import { assertKeyUrl } from './key-set';
import {
  algCheck, audienceCheck, bearerFrom, claimsCheck, critCheck, expCheck, iatCheck, issuerCheck, JwtVerifier, keyCheck, lifetimeCheck, nbfCheck,
  optionalString, signatureCheck, stringClaim,
  type Check, type CheckResult, type JwtContext, type JwtVerifierOptions, type RequestHeaders,
} from './jwt';
import { show, stringList } from './util';

/** Both spellings Google uses for its ID-token issuer. */
export const GOOGLE_ISSUERS: readonly string[] = ['accounts.google.com', 'https://accounts.google.com'];
/** Google's OAuth 2.0 signing keys as a JWK set. */
export const GOOGLE_CERTS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
/** Google ID tokens live one hour. */
const GOOGLE_ID_TOKEN_MAX_LIFETIME_SEC = 3600;
/** What Cloud Run writes in place of the signature of the ID token it verified before forwarding the request. */
export const CLOUD_RUN_REMOVED_SIGNATURE = 'SIGNATURE_REMOVED_BY_GOOGLE';
/** The header Cloud Run verifies instead of `Authorization` when a caller sends it (and then passes `Authorization` on untouched). */
export const SERVERLESS_AUTHORIZATION_HEADER = 'x-serverless-authorization';
// The signature is the last of exactly three segments, so this suffix means "the signature is the marker".
const REMOVED_SUFFIX = `.${CLOUD_RUN_REMOVED_SIGNATURE}`;

export interface GoogleIdTokenVerifierOptions extends JwtVerifierOptions {
  /** The receiving function's URL (Cloud Functions/Cloud Run use it as the ID-token audience), or several. */
  readonly audience: string | readonly string[];
  /** Caller emails allowed (case-insensitive); the email must be verified. @default any caller */
  readonly allowedEmails?: readonly string[];
  /** Caller `sub` values (numeric Google account ids) allowed. @default any caller */
  readonly allowedSubjects?: readonly string[];
  /** Where Google publishes its keys. @default https://www.googleapis.com/oauth2/v3/certs */
  readonly certsUrl?: string;
  /**
   * Accept an `Authorization` token whose signature Cloud Run removed (signature segment
   * exactly `SIGNATURE_REMOVED_BY_GOOGLE`) on a request without `X-Serverless-Authorization`.
   * Only {@link GoogleIdTokenVerifier.verifyRequest} (and so the adapters) can see that
   * header, so `verify(token)` never accepts such a token. Every other check still runs:
   * alg RS256, iss, aud, exp/iat/lifetime, email_verified and the allow-lists; a token that
   * still has a signature is always verified in full.
   *
   * Why this is safe only behind Cloud Run IAM: Cloud Run (and so 2nd gen Cloud Functions)
   * verifies the ID token of every request before the container sees it, the one in
   * `X-Serverless-Authorization` when present and otherwise the one in `Authorization`, then
   * strips that token's signature. On a request without `X-Serverless-Authorization`, the
   * stripped `Authorization` token is therefore the very token Cloud Run verified. That
   * holds only if Cloud Run checked: with a public invoker (`allUsers`) it checks nothing and
   * anyone can send a made-up token ending in the marker. Never enable this with public
   * invokers, on 1st gen Cloud Functions, or wherever a request can reach the code without
   * Cloud Run's IAM check. `PrivateCloudRunFunction` enables it (`S2S_CLOUD_RUN_VERIFIED=true`)
   * only on a function without public invokers.
   * @default false
   */
  readonly trustCloudRunSignatureCheck?: boolean;
}

export interface GoogleIdTokenClaims {
  readonly iss: string;
  /** The caller's stable Google account id. */
  readonly sub: string;
  readonly aud: string;
  /** Present only when `email_verified` is true: an unverified email is never handed on as an identity. */
  readonly email?: string;
  /** Workspace domain of the caller, when it has one. */
  readonly hd?: string;
  /** The OAuth client that requested the token (`azp`), when present. */
  readonly azp?: string;
  readonly iat: number;
  readonly exp: number;
  /**
   * Who checked the signature: this verifier (`signature`), or Cloud Run before forwarding
   * the request (`cloud-run`, see {@link GoogleIdTokenVerifierOptions.trustCloudRunSignatureCheck}).
   */
  readonly verifiedBy: 'signature' | 'cloud-run';
  readonly payload: Readonly<Record<string, unknown>>;
}

/**
 * Verifies Google-signed OIDC ID tokens presented as `Authorization: Bearer` (what Cloud
 * Functions/Cloud Run callers send): RS256 with a key from Google's certs, `iss`
 * accounts.google.com, `aud` = this function's URL, `exp`/`iat` within the tolerance, and
 * optionally a caller allow-list (403 CALLER_NOT_ALLOWED). Behind Cloud Run, which strips the
 * signature of the token it verified, see `trustCloudRunSignatureCheck`.
 */
export class GoogleIdTokenVerifier extends JwtVerifier<GoogleIdTokenClaims> {
  readonly audiences: readonly string[];
  readonly certsUrl: string;
  readonly trustCloudRunSignatureCheck: boolean;
  private readonly allowedEmails?: ReadonlySet<string>;
  private readonly allowedSubjects?: ReadonlySet<string>;
  protected readonly checks: readonly Check[];
  /** The checks of a token Cloud Run verified and stripped; undefined unless trusted. */
  private readonly cloudRunChecks?: readonly Check[];

  constructor(options: GoogleIdTokenVerifierOptions) {
    super('GoogleIdTokenVerifier', options);
    this.audiences = stringList(options?.audience, 'GoogleIdTokenVerifier: audience');
    this.certsUrl = options.certsUrl ?? GOOGLE_CERTS_URL;
    assertKeyUrl(this.certsUrl, 'GoogleIdTokenVerifier: certsUrl');
    if (options.allowedEmails !== undefined) {
      this.allowedEmails = new Set(stringList(options.allowedEmails, 'GoogleIdTokenVerifier: allowedEmails').map((e) => e.toLowerCase()));
    }
    if (options.allowedSubjects !== undefined) {
      this.allowedSubjects = new Set(stringList(options.allowedSubjects, 'GoogleIdTokenVerifier: allowedSubjects'));
    }
    const trust = options.trustCloudRunSignatureCheck ?? false;
    if (typeof trust !== 'boolean') throw new TypeError(`GoogleIdTokenVerifier: trustCloudRunSignatureCheck must be a boolean (got ${show(trust)})`);
    this.trustCloudRunSignatureCheck = trust;
    const header = [algCheck(['RS256']), critCheck];
    const claims = (verifiedBy: GoogleIdTokenClaims['verifiedBy']): Check[] => [
      issuerCheck(GOOGLE_ISSUERS),
      audienceCheck(() => this.audiences),
      expCheck(this.skew),
      iatCheck(this.skew),
      nbfCheck(this.skew),
      lifetimeCheck(GOOGLE_ID_TOKEN_MAX_LIFETIME_SEC, this.skew),
      claimsCheck((payload, ctx) => googleClaims(payload, ctx, verifiedBy), 'sub string; email with email_verified true when present'),
      ...(this.allowedEmails ? [this.emailVerifiedCheck()] : []),
      ...(this.allowedEmails || this.allowedSubjects ? [this.callerCheck()] : []),
    ];
    this.checks = [...header, signatureKeptCheck(trust), keyCheck(this.keySetCache, () => this.certsUrl), signatureCheck, ...claims('signature')];
    if (trust) this.cloudRunChecks = [...header, cloudRunCheck, ...claims('cloud-run')];
  }

  tokenFrom(headers: RequestHeaders): string {
    return bearerFrom(headers);
  }

  /**
   * Verifies the request's bearer token. With `trustCloudRunSignatureCheck`, a token whose
   * signature Cloud Run removed is accepted after every claim check, but only when the
   * request has no `X-Serverless-Authorization` (then `Authorization` is what Cloud Run
   * verified). Such tokens are never put in the verified-token cache, so `verify(token)`
   * cannot be answered from a decision that depended on the request's headers.
   */
  override async verifyRequest(headers: RequestHeaders): Promise<GoogleIdTokenClaims> {
    const token = this.tokenFrom(headers);
    return this.verifiedByCloudRun(token, headers) ? this.verifyWith(token, this.cloudRunChecks!, undefined) : this.verify(token);
  }

  /** The checks `verify(token)` runs, or with `headers`, those `verifyRequest(headers)` runs. */
  override explain(token: string, headers?: RequestHeaders): Promise<CheckResult[]> {
    return this.explainWith(token, headers !== undefined && this.verifiedByCloudRun(token, headers) ? this.cloudRunChecks! : this.checks);
  }

  private verifiedByCloudRun(token: string, headers: RequestHeaders): boolean {
    // Header names are lower-case by contract; any spelling of this one still withdraws the trust.
    return this.cloudRunChecks !== undefined && token.endsWith(REMOVED_SUFFIX)
      && !Object.keys(headers).some((name) => name.toLowerCase() === SERVERLESS_AUTHORIZATION_HEADER);
  }

  /** When emails decide access, the email must be one Google verified (unless `sub` alone admits the caller). */
  private emailVerifiedCheck(): Check {
    return {
      name: 'email_verified',
      after: ['claims'],
      expected: () => `an email with email_verified true${this.allowedSubjects ? ', unless sub is allowed' : ''}`,
      actual: (ctx) => `email ${show(ctx.payload.email)}, email_verified ${show(ctx.payload.email_verified)}`,
      run: (ctx) => {
        const claims = ctx.claims as GoogleIdTokenClaims;
        if (claims.email === undefined && !this.allowedSubjects?.has(claims.sub)) {
          throw new AuthError('EMAIL_NOT_VERIFIED', 'the token carries no verified email (request the ID token with the email included, and use a verified account)');
        }
      },
    };
  }

  private callerCheck(): Check {
    const describe = (): string => [
      this.allowedEmails && `email in ${[...this.allowedEmails].join(', ')}`,
      this.allowedSubjects && `sub in ${[...this.allowedSubjects].join(', ')}`,
    ].filter(Boolean).join(' or ');
    return {
      name: 'caller',
      after: ['claims'],
      expected: describe,
      actual: (ctx) => `email ${show(ctx.payload.email)}, sub ${show(ctx.payload.sub)}`,
      run: (ctx: JwtContext) => {
        const claims = ctx.claims as GoogleIdTokenClaims;
        const byEmail = claims.email !== undefined && this.allowedEmails?.has(claims.email.toLowerCase());
        if (!byEmail && !this.allowedSubjects?.has(claims.sub)) {
          throw new AuthError('CALLER_NOT_ALLOWED', `caller ${show(claims.email ?? claims.sub)} is not allowed to call this function`);
        }
      },
    };
  }
}

const signatureState = (ctx: JwtContext): string => (ctx.token.endsWith(REMOVED_SUFFIX) ? `${CLOUD_RUN_REMOVED_SIGNATURE} (removed by Cloud Run)` : 'a signature');

/**
 * On the path that checks signatures, a token Cloud Run stripped is refused before any key
 * lookup, with a message that says why and how to deploy so that it is accepted.
 */
function signatureKeptCheck(trust: boolean): Check {
  const refusal = trust
    ? `the token's signature was removed by Cloud Run (${CLOUD_RUN_REMOVED_SIGNATURE}), but on this request Cloud Run verified X-Serverless-Authorization, not this token: send a signed ID token in Authorization`
    : `the token's signature was removed by Cloud Run (${CLOUD_RUN_REMOVED_SIGNATURE}) and this function does not trust Cloud Run's check: deploy it with PrivateCloudRunFunction (S2S_CLOUD_RUN_VERIFIED=true on a service without public invokers), or send the IAM token in X-Serverless-Authorization and a signed ID token in Authorization`;
  return {
    name: 'cloud-run',
    expected: () => `a signature to verify${trust ? ' (Cloud Run stripped tokens are trusted only on requests without X-Serverless-Authorization)' : '; Cloud Run stripped tokens are not trusted'}`,
    actual: signatureState,
    run(ctx) {
      if (ctx.token.endsWith(REMOVED_SUFFIX)) throw new AuthError('BAD_SIGNATURE', refusal);
    },
  };
}

/**
 * Stands in for `kid` and `signature` on a token Cloud Run verified, so `explain` shows who
 * checked the signature. Nothing left to run: `verifiedByCloudRun` selects these checks only
 * for a request that qualifies.
 */
const cloudRunCheck: Check = {
  name: 'cloud-run',
  expected: () => `${CLOUD_RUN_REMOVED_SIGNATURE}: Cloud Run verified the signature (trustCloudRunSignatureCheck, no X-Serverless-Authorization)`,
  actual: signatureState,
  run() {},
};

function googleClaims(payload: Readonly<Record<string, unknown>>, ctx: JwtContext, verifiedBy: GoogleIdTokenClaims['verifiedBy']): GoogleIdTokenClaims {
  const email = optionalString(payload, 'email');
  const verified = payload.email_verified;
  // Google sends a boolean; some older tokens carried the string "true".
  if (verified !== undefined && typeof verified !== 'boolean' && verified !== 'true' && verified !== 'false') {
    throw new AuthError('INVALID_CLAIM', `claim "email_verified" must be a boolean (got ${show(verified)})`);
  }
  return Object.freeze({
    iss: payload.iss as string,
    sub: stringClaim(payload, 'sub'),
    aud: ctx.audience!,
    email: email !== undefined && (verified === true || verified === 'true') ? email : undefined,
    hd: optionalString(payload, 'hd'),
    azp: optionalString(payload, 'azp'),
    iat: payload.iat as number,
    exp: payload.exp as number,
    verifiedBy,
    payload: Object.freeze(payload),
  });
}
