// Reference handler for a Lambda function URL with auth type AWS_IAM: answers with the
// verified caller identity, or refuses callers outside S2S_ALLOWED_CALLERS.
import { functionUrlResult, jsonAnswer, type FunctionUrlResult } from '../verify/http';
import { isAllowedCallerEntry, lambdaUrlCaller, type LambdaUrlEvent } from '../verify/lambda-url';
import { answerRequest } from './internal/answer';
import { ConfigError, list, loadConfig } from './internal/config';

const setup = loadConfig('lambda-url', (env) => {
  const allowedCallers = list(env, 'S2S_ALLOWED_CALLERS');
  const bad = allowedCallers?.find((entry) => !isAllowedCallerEntry(entry));
  if (bad !== undefined) {
    throw new ConfigError('S2S_ALLOWED_CALLERS', `must be comma-separated IAM role ARNs (arn:aws:iam::123456789012:role/Name) or 12-digit account IDs; ${JSON.stringify(bad)} is neither`);
  }
  return { allowedCallers };
});

export async function handler(event: LambdaUrlEvent): Promise<FunctionUrlResult> {
  return functionUrlResult(await answerRequest('lambda-url', setup, (config) => {
    const { accountId, roleArn, roleName, sessionName, principalArn, sourceIp } = lambdaUrlCaller(event, config);
    return jsonAnswer(200, { accountId, roleArn, roleName, sessionName, principalArn, sourceIp });
  }));
}
