import { authenticate, requestPath, type HttpRequestLike } from '../../verify/adapters';
import { jsonAnswer, sendAnswer, type AnswerSink, type HttpAnswer } from '../../verify/http';
import type { RequestHeaders, Verifier } from '../../verify/jwt';
import { answerRequest } from './answer';
import { loadConfig } from './config';

/** A functions-framework HTTP function (Cloud Functions gen 1 and gen 2). */
export type CloudFunction = (req: HttpRequestLike, res: AnswerSink) => Promise<void>;

/**
 * Decides one request: the verified claims, or the answer to send instead (a health check or
 * a refusal). It may also reject with an AuthError, which becomes that refusal.
 */
export type Gate<C> = (headers: RequestHeaders, path: string) => Promise<{ claims: C } | { answer: HttpAnswer }>;

/** The gate of a token verifier: health-check paths, then the verifier's credential. */
export function verifierGate<C>(verifier: Verifier<C>): Gate<C> {
  return (headers, path) => authenticate(verifier, headers, path);
}

/**
 * Builds a reference Cloud Function: `read` turns the environment into a gate once, at cold
 * start (a bad variable makes every request a 500 MISCONFIGURED); each request then gets 200
 * with `identity(claims)` or the refusal. The identity is built from verified claims only,
 * never from request headers a caller could set.
 */
export function identityFunction<C>(name: string, read: (env: NodeJS.ProcessEnv) => Gate<C>, identity: (claims: C) => unknown): CloudFunction {
  const setup = loadConfig(name, read);
  return async (req, res) => {
    sendAnswer(res, await answerRequest(name, setup, async (gate) => {
      const result = await gate(req.headers, requestPath(req));
      return 'answer' in result ? result.answer : jsonAnswer(200, identity(result.claims));
    }));
  };
}
