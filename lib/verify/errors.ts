/** HTTP status an {@link AuthError} maps to. */
export type AuthStatus = 401 | 403 | 503;

/**
 * Stable codes for every way a caller can be refused. 401 codes mean "no valid
 * credential", 403 codes mean "valid credential, not allowed", 503 means the
 * verifier could not get the keys it needs and failed closed.
 */
export const AUTH_ERROR_STATUS = {
  MISSING_TOKEN: 401,
  MALFORMED_TOKEN: 401,
  TOKEN_TOO_LARGE: 401,
  UNSUPPORTED_ALG: 401,
  UNSUPPORTED_CRIT: 401,
  UNKNOWN_KID: 401,
  BAD_SIGNATURE: 401,
  EXPIRED: 401,
  NOT_YET_VALID: 401,
  LIFETIME_TOO_LONG: 401,
  WRONG_ISSUER: 401,
  WRONG_AUDIENCE: 401,
  WRONG_TYPE: 401,
  MISSING_CLAIM: 401,
  INVALID_CLAIM: 401,
  EMAIL_NOT_VERIFIED: 401,
  NO_IAM_IDENTITY: 401,
  CALLER_NOT_ALLOWED: 403,
  INSUFFICIENT_SCOPE: 403,
  KEYS_UNAVAILABLE: 503,
} as const satisfies Record<string, AuthStatus>;

export type AuthErrorCode = keyof typeof AUTH_ERROR_STATUS;

/**
 * The one error every verifier rejects with. `message` is safe to return to the
 * caller: it names the claim or header, the rule and (for non-secret values) what
 * was received, but never key material, stack traces or internal URLs.
 */
export class AuthError extends Error {
  readonly status: AuthStatus;

  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AuthError';
    this.status = AUTH_ERROR_STATUS[code];
  }
}

export function isAuthError(value: unknown): value is AuthError {
  return value instanceof AuthError;
}
