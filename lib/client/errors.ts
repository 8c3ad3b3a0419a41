/**
 * Stable codes for every way the caller side can fail to produce a credential.
 *
 * - `INVALID_OPTION`: a constructor or function option cannot work (see `option`).
 * - `BAD_KEY`: a service-account key is malformed, of the wrong type or unreadable.
 * - `UNSUPPORTED_BODY`: a request body cannot be signed (streams: buffer them first).
 * - `STS_FAILED`: STS AssumeRole, or resolving the credentials it needs, failed (see `awsCode`).
 * - `TOKEN_ENDPOINT_ERROR`: an OAuth token endpoint refused the request (see `oauthError`).
 * - `METADATA_UNAVAILABLE`: the Google metadata server could not be reached or refused.
 * - `BAD_RESPONSE`: an endpoint answered, but not with what the protocol requires.
 * - `NETWORK`: an endpoint could not be reached or did not answer in time.
 */
export type CredentialErrorCode =
  | 'INVALID_OPTION'
  | 'BAD_KEY'
  | 'UNSUPPORTED_BODY'
  | 'STS_FAILED'
  | 'TOKEN_ENDPOINT_ERROR'
  | 'METADATA_UNAVAILABLE'
  | 'BAD_RESPONSE'
  | 'NETWORK';

export interface CredentialErrorDetails {
  /** The option at fault, for `INVALID_OPTION` and `BAD_KEY`. */
  readonly option?: string;
  /** HTTP status the endpoint answered with, when it answered. */
  readonly status?: number;
  /** OAuth 2.0 `error` (RFC 6749 §5.2), e.g. `invalid_client`. */
  readonly oauthError?: string;
  /** OAuth 2.0 `error_description`, as the server sent it. */
  readonly oauthErrorDescription?: string;
  /** AWS error code from STS, e.g. `AccessDenied`. */
  readonly awsCode?: string;
  readonly cause?: unknown;
}

/**
 * The one error the caller side throws. `message` says what was wrong and how to fix it; it
 * never contains a secret (client secrets, private keys, tokens, session credentials).
 */
export class CredentialError extends Error {
  readonly option?: string;
  readonly status?: number;
  readonly oauthError?: string;
  readonly oauthErrorDescription?: string;
  readonly awsCode?: string;

  constructor(
    readonly code: CredentialErrorCode,
    message: string,
    details: CredentialErrorDetails = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'CredentialError';
    this.option = details.option;
    this.status = details.status;
    this.oauthError = details.oauthError;
    this.oauthErrorDescription = details.oauthErrorDescription;
    this.awsCode = details.awsCode;
  }
}

export function isCredentialError(value: unknown): value is CredentialError {
  return value instanceof CredentialError;
}

/** An `INVALID_OPTION` error: `option` must satisfy `rule`; `got` is shown unless it is a secret. */
export function invalidOption(option: string, rule: string, got?: unknown): CredentialError {
  const shown = got === undefined ? '' : ` (got ${typeof got === 'string' ? JSON.stringify(got.length > 80 ? `${got.slice(0, 77)}...` : got) : String(got)})`;
  return new CredentialError('INVALID_OPTION', `invalid option '${option}': ${rule}${shown}`, { option });
}
