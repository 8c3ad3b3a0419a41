import { AuthError } from './errors';

/** A framework-neutral HTTP answer; adapters turn it into a Lambda result or an Express `res`. */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function jsonAnswer(status: number, payload: unknown, headers: Record<string, string> = {}): HttpAnswer {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }, body: JSON.stringify(payload) };
}

/**
 * Maps any error to a safe answer. An AuthError keeps its status, code and message (written
 * to be shown to callers), with the RFC 6750 challenge on 401/403; anything else becomes an
 * opaque 500 and the caller never sees its message or stack.
 */
export function errorAnswer(err: unknown): HttpAnswer {
  if (err instanceof AuthError) {
    const challenge = err.status === 401
      ? { 'www-authenticate': `Bearer error="invalid_token", error_description="${headerSafe(err.message)}"` }
      : err.code === 'INSUFFICIENT_SCOPE'
        ? { 'www-authenticate': `Bearer error="insufficient_scope", error_description="${headerSafe(err.message)}"` }
        : undefined;
    return jsonAnswer(err.status, { error: err.code, message: err.message }, challenge);
  }
  return jsonAnswer(500, { error: 'INTERNAL', message: 'internal error' });
}

// RFC 6750 error_description is limited to printable ASCII without '"' and '\'.
function headerSafe(text: string): string {
  return text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?').slice(0, 200);
}

/**
 * Extracts the credentials of an `Authorization: Bearer <token>` header (scheme is
 * case-insensitive per RFC 7235). Returns undefined when absent or of another scheme.
 */
export function bearerToken(header: string | readonly string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  const match = value === undefined ? null : /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(value);
  return match ? match[1] : undefined;
}

/** The part of Node's `ServerResponse` (and so Express's and functions-framework's `res`) an answer needs. */
export interface AnswerSink {
  statusCode: number;
  readonly headersSent?: boolean;
  setHeader(name: string, value: string): unknown;
  end(body?: string): unknown;
}

/** Writes an answer to a Node/Express/functions-framework response. */
export function sendAnswer(res: AnswerSink, answer: HttpAnswer): void {
  res.statusCode = answer.status;
  for (const [name, value] of Object.entries(answer.headers)) res.setHeader(name, value);
  res.end(answer.body);
}

/** A Lambda function URL (payload format 2.0) result. */
export interface FunctionUrlResult {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Turns an answer into a Lambda function URL result. */
export function functionUrlResult(answer: HttpAnswer): FunctionUrlResult {
  return { statusCode: answer.status, headers: answer.headers, body: answer.body };
}
