import { isAuthError } from '../../verify/errors';
import { errorAnswer, type HttpAnswer } from '../../verify/http';
import type { Setup } from './config';

/**
 * Answers one request to handler `name`: the cold-start answer when it is misconfigured,
 * otherwise what `decide` makes of the configuration. An AuthError becomes its safe
 * 401/403/503 and anything else a 500, logged with its cause. Each refusal is one log line,
 * `s2s-auth NAME refused STATUS BODY` with the JSON body the caller got: the audit trail of
 * who was turned away and why, in one format for every handler.
 */
export async function answerRequest<T>(name: string, setup: Setup<T>, decide: (config: T) => HttpAnswer | Promise<HttpAnswer>): Promise<HttpAnswer> {
  if ('answer' in setup) return setup.answer;
  let answer: HttpAnswer;
  try {
    answer = await decide(setup.config);
  } catch (err) {
    if (!isAuthError(err)) console.error(`s2s-auth ${name} failed`, err);
    answer = errorAnswer(err);
  }
  if (answer.status >= 400 && answer.status < 500) console.warn(`s2s-auth ${name} refused ${answer.status} ${answer.body}`);
  return answer;
}
