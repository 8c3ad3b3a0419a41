import { errorAnswer, functionUrlResult, jsonAnswer, sendAnswer, type AnswerSink, type FunctionUrlResult, type HttpAnswer } from './http';
import type { RequestHeaders, Verifier } from './jwt';

/** The part of a Node/Express/functions-framework request the adapters read. */
export interface HttpRequestLike {
  readonly headers: RequestHeaders;
  /** Express's path without the query string. */
  readonly path?: string;
  /** Node's raw target, used when `path` is absent. */
  readonly url?: string;
}

/** A request whose credential was verified: `auth` holds the verifier's claims. */
export type AuthenticatedRequest<R, C> = R & { auth: C };

/** The part of a Lambda function URL event (payload format 2.0) the adapter reads. */
export interface FunctionUrlEventLike {
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly rawPath?: string;
}

const HEALTHY = jsonAnswer(200, { status: 'ok' });

/**
 * The decision shared by every adapter: a health-check path answers 200, anything else must
 * carry a credential that `verifier` accepts. Refusals become safe answers; 5xx are logged
 * with their cause (the caller only sees the code).
 */
export async function authenticate<C>(verifier: Verifier<C>, headers: RequestHeaders, path: string): Promise<{ claims: C } | { answer: HttpAnswer }> {
  if (verifier.isHealthCheck?.(path)) return { answer: HEALTHY };
  try {
    return { claims: await verifier.verifyRequest(headers) };
  } catch (err) {
    return { answer: refusal(err) };
  }
}

function refusal(err: unknown): HttpAnswer {
  const answer = errorAnswer(err);
  if (answer.status >= 500) console.error('s2s-auth: request refused with', answer.status, err);
  return answer;
}

/** The request path without its query string (Express sets `path`; raw Node only `url`). */
export function requestPath(req: HttpRequestLike): string {
  return req.path ?? (req.url ?? '/').split('?')[0];
}

/**
 * Express/Connect middleware: verifies the request's credential (the IAP header for
 * {@link IapVerifier}, `Authorization: Bearer` for the others), sets `req.auth` to the claims
 * and calls `next()`; otherwise answers the refusal (401/403/503 JSON with the RFC 6750
 * challenge) and does not call `next`.
 */
export function requireAuth<C>(verifier: Verifier<C>) {
  return async <R extends HttpRequestLike>(req: R, res: AnswerSink, next: (err?: unknown) => void): Promise<void> => {
    const result = await authenticate(verifier, req.headers, requestPath(req));
    if ('answer' in result) return sendAnswer(res, result.answer);
    (req as AuthenticatedRequest<R, C>).auth = result.claims;
    next();
  };
}

/**
 * Wraps a functions-framework (or any `(req, res)`) handler so it only runs for verified
 * requests, with the claims in `req.auth`. A handler that throws gets an opaque 500 (and a
 * log line), never a stack trace to the caller.
 */
export function withAuth<C, R extends HttpRequestLike, S extends AnswerSink>(
  verifier: Verifier<C>,
  handler: (req: AuthenticatedRequest<R, C>, res: S) => unknown,
): (req: R, res: S) => Promise<void> {
  return async (req, res) => {
    const result = await authenticate(verifier, req.headers, requestPath(req));
    if ('answer' in result) return sendAnswer(res, result.answer);
    (req as AuthenticatedRequest<R, C>).auth = result.claims;
    try {
      await handler(req as AuthenticatedRequest<R, C>, res);
    } catch (err) {
      console.error('s2s-auth: handler failed', err);
      if (res.headersSent) res.end();
      else sendAnswer(res, errorAnswer(err));
    }
  };
}

/**
 * Wraps a Lambda function URL handler so it only runs for verified requests (bearer tokens;
 * Lambda lower-cases header names), receiving the claims as its second argument.
 */
export function withFunctionUrlAuth<C, E extends FunctionUrlEventLike, T>(
  verifier: Verifier<C>,
  handler: (event: E, claims: C) => T | Promise<T>,
): (event: E) => Promise<T | FunctionUrlResult> {
  return async (event) => {
    const result = await authenticate(verifier, event.headers ?? {}, event.rawPath ?? '/');
    if ('answer' in result) return functionUrlResult(result.answer);
    try {
      return await handler(event, result.claims);
    } catch (err) {
      console.error('s2s-auth: handler failed', err);
      return functionUrlResult(errorAnswer(err));
    }
  };
}
