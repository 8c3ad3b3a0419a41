import { CredentialError, invalidOption, type CredentialErrorCode } from '../errors';

const DEFAULT_TIMEOUT_MS = 10_000;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Parses an endpoint option. Secrets and credentials travel to these endpoints, so plain
 * http is only accepted on loopback (local stand-ins, tests).
 */
export function endpointUrl(option: string, value: unknown): URL {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.has(url.hostname)))) {
    throw invalidOption(option, 'must be an absolute https:// URL (http:// only for localhost / 127.0.0.1)', value);
  }
  if (url.username || url.password || url.hash) throw invalidOption(option, 'must not contain credentials or a #fragment', url.origin);
  return url;
}

export function timeoutMs(value: number | undefined): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  if (!Number.isInteger(value) || value < 1 || value > 300_000) throw invalidOption('timeoutMs', 'must be an integer number of milliseconds between 1 and 300000', value);
  return value;
}

export function nonEmpty(option: string, value: unknown, secret = false): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidOption(option, 'is required and must be a non-empty string', secret ? undefined : value);
  return value;
}

/**
 * Runs `fetch`, turning a connection failure or timeout into a CredentialError (NETWORK unless
 * `code` says otherwise) that names the endpoint, the reason and `fix`.
 */
export async function send(what: string, url: URL, init: RequestInit, timeout: number, fix = 'check the URL and that it is reachable from here', code: CredentialErrorCode = 'NETWORK'): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(timeout) });
  } catch (err) {
    // Duck-typed: fetch's errors may come from another realm (vm contexts, test runners).
    const failure = err as { name?: string; message?: string; cause?: { code?: string; message?: string } } | undefined;
    const reason = failure?.name === 'TimeoutError' ? `no answer within ${timeout} ms` : failure?.cause?.code ?? failure?.cause?.message ?? failure?.message ?? String(err);
    throw new CredentialError(code, `cannot reach the ${what} at ${url.origin}${url.pathname} (${reason}): ${fix}`, { cause: err });
  }
}

const OAUTH_HINTS: Record<string, string> = {
  invalid_client: 'check the client id and secret (or the service-account key), and that the client may authenticate this way',
  invalid_scope: 'request only scopes that the client and the resource allow',
  invalid_target: 'the server does not know this resource; check the resource indicator',
  unauthorized_client: 'the client is not allowed this grant type; enable it for the client on the authorization server',
  invalid_grant: 'the assertion was refused: check that the service-account key is not deleted or disabled and that this machine\'s clock is right',
  unsupported_grant_type: 'the server does not support this grant type',
  invalid_request: 'the request is malformed for this server',
};

/**
 * POSTs an `application/x-www-form-urlencoded` token request (RFC 6749 §4.4, RFC 7523 §2.1) and
 * returns the JSON answer. OAuth error answers (§5.2) become TOKEN_ENDPOINT_ERROR with the
 * server's `error` and `error_description`; anything that is not a JSON object is BAD_RESPONSE.
 */
export async function postTokenRequest(url: URL, form: URLSearchParams, headers: Record<string, string>, timeout: number): Promise<Record<string, unknown>> {
  const response = await send('token endpoint', url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: form.toString(),
  }, timeout);
  const text = await response.text();
  const json = parseObject(text);
  const where = `${url.origin}${url.pathname}`;
  if (json && typeof json.error === 'string') {
    const description = typeof json.error_description === 'string' ? json.error_description : undefined;
    const hint = OAUTH_HINTS[json.error] ?? 'see the server\'s error_description';
    throw new CredentialError(
      'TOKEN_ENDPOINT_ERROR',
      `token endpoint ${where} refused the request with HTTP ${response.status} ${json.error}${description ? ` (${description})` : ''}: ${hint}`,
      { status: response.status, oauthError: json.error, oauthErrorDescription: description },
    );
  }
  if (!response.ok || !json) {
    throw new CredentialError('BAD_RESPONSE', `token endpoint ${where} answered HTTP ${response.status} ${response.headers.get('content-type') ?? 'without a content type'}, not a JSON token response${json ? '' : `: ${snippet(text)}`}; check tokenEndpoint`, { status: response.status });
  }
  return json;
}

export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat === '' ? '(empty body)' : JSON.stringify(flat.length > 100 ? `${flat.slice(0, 97)}...` : flat);
}
