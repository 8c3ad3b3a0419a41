import { AuthError } from './errors';
import { isObject, show, stringList } from './util';

/** The header ESP/ESPv2 forward the verified caller in. */
export const ENDPOINTS_USERINFO_HEADER = 'x-endpoint-api-userinfo';

/** Largest header accepted: twice the default token limit, as ESP wraps the claims in more JSON. */
const MAX_USERINFO_BYTES = 16_384;

export interface EndpointsUserInfo {
  /** `espv2`: the header is the JWT payload; `esp`: ESP's wrapper with `issuer`, `id`, `email`, `claims`. */
  readonly format: 'espv2' | 'esp';
  readonly issuer: string;
  /** `sub` (ESPv2) or `id` (ESP). */
  readonly subject: string;
  readonly email?: string;
  readonly audiences: readonly string[];
  /** The verified JWT payload. */
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface DecodeEndpointsUserInfoOptions {
  /** When set, the issuer must be one of these (the `x-google-issuer` values of the API); another is a 403 CALLER_NOT_ALLOWED. */
  readonly issuers?: readonly string[];
}

/**
 * Reads `X-Endpoint-API-UserInfo`, which ESP and ESPv2 set after verifying the caller's JWT
 * (base64url or base64, with or without padding):
 * - ESPv2: the JWT payload itself (`{"iss":..,"sub":..,"aud":..}`);
 * - ESP: `{"issuer":..,"id":..,"email":..,"audiences":..,"claims":..}` with `claims` the payload
 *   as a JSON string (or an object).
 *
 * Trust it only when the backend cannot be reached except through the proxy (e.g. Cloud Run
 * with ingress restricted and the proxy's identity required); otherwise anyone can send it.
 * Malformed input is a 401 MALFORMED_TOKEN, missing parts MISSING_CLAIM.
 */
export function decodeEndpointsUserInfo(header: string | readonly string[] | undefined, options: DecodeEndpointsUserInfoOptions = {}): EndpointsUserInfo {
  const issuers = options.issuers === undefined ? undefined : stringList(options.issuers, 'decodeEndpointsUserInfo: issuers');
  if (header === undefined || header === '') {
    throw new AuthError('MISSING_TOKEN', 'the request has no X-Endpoint-API-UserInfo header; it must come through ESP/ESPv2 with authentication required');
  }
  if (typeof header !== 'string') throw new AuthError('MALFORMED_TOKEN', 'X-Endpoint-API-UserInfo must be sent once');
  if (header.length > MAX_USERINFO_BYTES) throw new AuthError('TOKEN_TOO_LARGE', `X-Endpoint-API-UserInfo is ${header.length} bytes; the limit is ${MAX_USERINFO_BYTES}`);
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(header) || header.replace(/=+$/, '').length % 4 === 1) {
    throw new AuthError('MALFORMED_TOKEN', 'X-Endpoint-API-UserInfo is not base64 or base64url');
  }
  // Node's base64 decoder reads both alphabets, padded or not; the regex above rejected everything else.
  const info = parseObject(Buffer.from(header, 'base64').toString('utf8'), 'X-Endpoint-API-UserInfo');
  // ESPv2 forwards the verified payload, which always has `iss`; ESP's wrapper never does. Only
  // `iss` decides: the payload is written by the caller (a self-signed service-account JWT may
  // carry any member), so one with its own `claims` or `issuer` must not pass for ESP's wrapper.
  const esp = info.iss === undefined;
  const claims = esp ? espClaims(info.claims) : info;
  const issuer = text(esp ? info.issuer ?? claims.iss : info.iss, esp ? 'issuer' : 'iss', true)!;
  const result: EndpointsUserInfo = Object.freeze({
    format: esp ? 'esp' : 'espv2',
    issuer,
    subject: text(esp ? info.id ?? claims.sub : info.sub, esp ? 'id' : 'sub', true)!,
    email: text(esp ? info.email ?? claims.email : info.email, 'email', false),
    audiences: Object.freeze(esp && info.audiences !== undefined ? audienceList(info.audiences, true) : audienceList(esp ? claims.aud : info.aud, false)),
    claims: Object.freeze(claims),
  });
  // ESP already verified the token: an issuer this backend does not list is a valid caller it refuses.
  if (issuers && !issuers.includes(issuer)) throw new AuthError('CALLER_NOT_ALLOWED', `issuer ${show(issuer)} is not accepted by this API`);
  return result;
}

function parseObject(json: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new AuthError('MALFORMED_TOKEN', `${what} is not JSON`);
  }
  if (!isObject(value)) throw new AuthError('MALFORMED_TOKEN', `${what} is not a JSON object`);
  return value;
}

function espClaims(claims: unknown): Record<string, unknown> {
  if (claims === undefined) return {};
  if (typeof claims === 'string') return parseObject(claims, 'X-Endpoint-API-UserInfo "claims"');
  if (!isObject(claims)) throw new AuthError('MALFORMED_TOKEN', 'X-Endpoint-API-UserInfo "claims" must be a JSON object or a JSON string');
  return claims;
}

function text(value: unknown, name: string, required: boolean): string | undefined {
  if (value === undefined || value === null) {
    if (required) throw new AuthError('MISSING_CLAIM', `X-Endpoint-API-UserInfo has no "${name}"`);
    return undefined;
  }
  if (typeof value !== 'string' || value === '') throw new AuthError('INVALID_CLAIM', `X-Endpoint-API-UserInfo "${name}" must be a non-empty string (got ${show(value)})`);
  return value;
}

/** `aud` is a string or a list; ESP's `audiences` may also be one comma-separated string. */
function audienceList(value: unknown, commaSeparated: boolean): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return commaSeparated ? value.split(',').map((a) => a.trim()).filter(Boolean) : [value];
  if (Array.isArray(value) && value.every((a) => typeof a === 'string')) return [...value];
  throw new AuthError('INVALID_CLAIM', `X-Endpoint-API-UserInfo audiences must be a string or a list of strings (got ${show(value)})`);
}
