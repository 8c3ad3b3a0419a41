import { AuthError } from './errors';
import { assertKeyUrl } from './key-set';
import {
  algCheck, audienceCheck, bearerFrom, claimsCheck, critCheck, expCheck, iatCheck, issuerCheck, JwtVerifier, keyCheck, lifetimeCheck, nbfCheck,
  optionalString, signatureCheck, stringClaim,
  type Check, type JwtContext, type JwtVerifierOptions, type RequestHeaders,
} from './jwt';
import { show, stringList } from './util';

/** Both spellings Google uses for its ID-token issuer. */
export const GOOGLE_ISSUERS: readonly string[] = ['accounts.google.com', 'https://accounts.google.com'];
/** Google's OAuth 2.0 signing keys as a JWK set. */
export const GOOGLE_CERTS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
/** Google ID tokens live one hour. */
const GOOGLE_ID_TOKEN_MAX_LIFETIME_SEC = 3600;

export interface GoogleIdTokenVerifierOptions extends JwtVerifierOptions {
  /** The receiving function's URL (Cloud Functions/Cloud Run use it as the ID-token audience), or several. */
  readonly audience: string | readonly string[];
  /** Caller emails allowed (case-insensitive); the email must be verified. @default any caller */
  readonly allowedEmails?: readonly string[];
  /** Caller `sub` values (numeric Google account ids) allowed. @default any caller */
  readonly allowedSubjects?: readonly string[];
  /** Where Google publishes its keys. @default https://www.googleapis.com/oauth2/v3/certs */
  readonly certsUrl?: string;
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
  readonly payload: Readonly<Record<string, unknown>>;
}

/**
 * Verifies Google-signed OIDC ID tokens presented as `Authorization: Bearer` (what Cloud
 * Functions/Cloud Run callers send): RS256 with a key from Google's certs, `iss`
 * accounts.google.com, `aud` = this function's URL, `exp`/`iat` within the tolerance, and
 * optionally a caller allow-list (403 CALLER_NOT_ALLOWED).
 */
export class GoogleIdTokenVerifier extends JwtVerifier<GoogleIdTokenClaims> {
  readonly audiences: readonly string[];
  readonly certsUrl: string;
  private readonly allowedEmails?: ReadonlySet<string>;
  private readonly allowedSubjects?: ReadonlySet<string>;
  protected readonly checks: readonly Check[];

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
    this.checks = [
      algCheck(['RS256']),
      critCheck,
      keyCheck(this.keySetCache, () => this.certsUrl),
      signatureCheck,
      issuerCheck(GOOGLE_ISSUERS),
      audienceCheck(() => this.audiences),
      expCheck(this.skew),
      iatCheck(this.skew),
      nbfCheck(this.skew),
      lifetimeCheck(GOOGLE_ID_TOKEN_MAX_LIFETIME_SEC, this.skew),
      claimsCheck(googleClaims, 'sub string; email with email_verified true when present'),
      ...(this.allowedEmails ? [emailVerifiedCheck] : []),
      ...(this.allowedEmails || this.allowedSubjects ? [this.callerCheck()] : []),
    ];
  }

  tokenFrom(headers: RequestHeaders): string {
    return bearerFrom(headers);
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

/** When emails decide access, the email must be one Google verified. */
const emailVerifiedCheck: Check = {
  name: 'email_verified',
  after: ['claims'],
  expected: () => 'an email with email_verified true',
  actual: (ctx) => `email ${show(ctx.payload.email)}, email_verified ${show(ctx.payload.email_verified)}`,
  run(ctx) {
    if ((ctx.claims as GoogleIdTokenClaims).email === undefined) {
      throw new AuthError('EMAIL_NOT_VERIFIED', 'the token carries no verified email (request the ID token with the email included, and use a verified account)');
    }
  },
};

function googleClaims(payload: Readonly<Record<string, unknown>>, ctx: JwtContext): GoogleIdTokenClaims {
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
    payload: Object.freeze(payload),
  });
}
