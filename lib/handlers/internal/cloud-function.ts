import { authenticate, type HttpRequestLike } from '../../verify/adapters';
import { errorAnswer, jsonAnswer, sendAnswer, type AnswerSink, type HttpAnswer } from '../../verify/http';
import type { Verifier } from '../../verify/jwt';
import { loadConfig } from './config';

/** A functions-framework HTTP function (Cloud Functions gen 1 and gen 2). */
export type CloudFunction = (req: HttpRequestLike, res: AnswerSink) => Promise<void>;

/**
 * Builds a reference Cloud Function: `read` turns the environment into a verifier once, at
 * cold start (a bad variable makes every request a 500 MISCONFIGURED); each request then gets
 * 200 with `identity(claims)` or the verifier's refusal. The identity is built from verified
 * claims only, never from request headers a caller could set.
 */
export function identityFunction<C>(name: string, read: (env: NodeJS.ProcessEnv) => Verifier<C>, identity: (claims: C) => unknown): CloudFunction {
  const setup = loadConfig(name, read);
  return async (req, res) => {
    let answer: HttpAnswer;
    if ('answer' in setup) {
      answer = setup.answer;
    } else {
      try {
        const result = await authenticate(setup.config, req.headers, req.path ?? (req.url ?? '/').split('?')[0]);
        answer = 'answer' in result ? result.answer : jsonAnswer(200, identity(result.claims));
      } catch (err) {
        console.error(`s2s-auth ${name} failed`, err);
        answer = errorAnswer(err);
      }
      // One line per refusal: the audit trail of who was turned away and why (5xx are logged with their cause already).
      if (answer.status >= 400 && answer.status < 500) console.warn(`s2s-auth ${name} refused ${answer.status} ${answer.body}`);
    }
    sendAnswer(res, answer);
  };
}
