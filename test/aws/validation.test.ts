import * as os from 'node:os';
import * as path from 'node:path';
import { App, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IamFunctionUrl, InvokerRole, MIN_EXTERNAL_ID_LENGTH, type IamFunctionUrlProps, type InvokerRoleProps } from '../../lib/aws';
import { ValidationError } from '../../lib/validation';

function functionUrl(props: IamFunctionUrlProps): IamFunctionUrl {
  return new IamFunctionUrl(new Stack(new App(), 'S'), 'Fn', props);
}

function invokerRole(props: Partial<InvokerRoleProps>): InvokerRole {
  const stack = new Stack(new App(), 'S');
  return new InvokerRole(stack, 'Invoker', { targets: [new IamFunctionUrl(stack, 'Fn')], ...props });
}

function failure(build: () => unknown): ValidationError {
  try {
    build();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('IamFunctionUrl rejects at synth', () => {
  test.each<[string, IamFunctionUrlProps, RegExp]>([
    ['a missing entry file', { entry: path.join(os.tmpdir(), 'no-such-handler.ts') }, /invalid prop 'entry': must be the path of an existing handler file/],
    ['a Python runtime', { runtime: lambda.Runtime.PYTHON_3_13 }, /invalid prop 'runtime': must be a Node.js runtime, version 20 or newer .*\(got "python3\.13"\)/],
    ['Node.js 18', { runtime: lambda.Runtime.NODEJS_18_X }, /invalid prop 'runtime': .*\(got "nodejs18\.x"\)/],
    ['handler without entry', { handler: 'main' }, /invalid prop 'handler': can only be set together with entry/],
    ['a handler that is not an identifier', { entry: __filename, handler: 'my-handler' }, /invalid prop 'handler': must be the name of an exported function/],
    ['memorySize below 128', { memorySize: 64 }, /invalid prop 'memorySize': must be a whole number of MB between 128 and 10240 \(got 64\)/],
    ['memorySize above 10240', { memorySize: 20480 }, /invalid prop 'memorySize'/],
    ['a fractional memorySize', { memorySize: 256.5 }, /invalid prop 'memorySize'/],
    ['timeout above 15 minutes', { timeout: Duration.minutes(16) }, /invalid prop 'timeout': must be a whole number of seconds between 1 and 900 \(got 960\)/],
    ['a sub-second timeout', { timeout: Duration.millis(500) }, /invalid prop 'timeout'/],
    ['negative reserved concurrency', { reservedConcurrentExecutions: -1 }, /invalid prop 'reservedConcurrentExecutions'/],
    ['a bad functionName', { functionName: 'who am i' }, /invalid prop 'functionName': must be 1 to 64 letters/],
    ['S2S_ALLOWED_CALLERS in environment', { environment: { S2S_ALLOWED_CALLERS: '*' } }, /invalid prop 'environment': must not set S2S_ALLOWED_CALLERS; use the allowedCallers prop/],
    ['a variable the Lambda runtime sets', { environment: { STAGE: 'prod', AWS_REGION: 'eu-west-1' } }, /invalid prop 'environment': must not set variables the Lambda runtime reserves \(got "AWS_REGION"\)/],
    ['credentials in environment', { environment: { AWS_SECRET_ACCESS_KEY: 'x' } }, /invalid prop 'environment': must not set variables the Lambda runtime reserves/],
    ['a variable name Lambda refuses', { environment: { 'MY-VAR': '1' } }, /invalid prop 'environment': variable names must be letters, digits and underscores, starting with a letter.*\(got "MY-VAR"\)/],
    ['logRetention with logGroup', { logGroup: logs.LogGroup.fromLogGroupName(new Stack(), 'L', 'x'), logRetention: logs.RetentionDays.ONE_DAY }, /invalid prop 'logRetention': cannot be combined with logGroup/],
    ['an empty allowedCallers', { allowedCallers: [] }, /invalid prop 'allowedCallers': must not be empty/],
    ['a wildcard allowed caller', { allowedCallers: ['*'] }, /invalid prop 'allowedCallers': must not contain '\*'/],
    ['an 11-digit account', { allowedCallers: ['11112222333'] }, /invalid prop 'allowedCallers': must contain only 12-digit account IDs or IAM role ARNs .*\(got "11112222333"\)/],
    ['a session ARN as allowed caller', { allowedCallers: ['arn:aws:sts::111122223333:assumed-role/r/s'] }, /invalid prop 'allowedCallers': .*not an sts assumed-role session ARN/],
    ['a user ARN as allowed caller', { allowedCallers: ['arn:aws:iam::111122223333:user/u'] }, /invalid prop 'allowedCallers'/],
  ])('%s', (_name, props, message) => {
    const err = failure(() => functionUrl(props));
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/^S\/Fn: /);
  });

  test('addAllowedCaller validates too', () => {
    const fn = functionUrl({});
    expect(failure(() => fn.addAllowedCaller('arn:aws:iam::111122223333:group/g')).prop).toBe('allowedCallers');
  });
});

describe('InvokerRole rejects at synth', () => {
  test.each<[string, Partial<InvokerRoleProps>, RegExp]>([
    ['no trusted principal', {}, /invalid prop 'trustedAccounts': or trustedRoleArns must name at least one principal/],
    ['empty principal lists', { trustedAccounts: [], trustedRoleArns: [] }, /invalid prop 'trustedAccounts'/],
    ['a bare * account', { trustedAccounts: ['*'] }, /invalid prop 'trustedAccounts': must not contain '\*', which would admit every AWS account/],
    ['a bare * role', { trustedRoleArns: ['*'] }, /invalid prop 'trustedRoleArns': must not contain '\*'/],
    ['a malformed account ID', { trustedAccounts: ['2109876543'] }, /invalid prop 'trustedAccounts': must contain only 12-digit account IDs \(got "2109876543"\)/],
    ['an account ARN instead of an ID', { trustedAccounts: ['arn:aws:iam::210987654321:root'] }, /invalid prop 'trustedAccounts'/],
    ['a session ARN as role', { trustedRoleArns: ['arn:aws:sts::210987654321:assumed-role/caller/s'] }, /invalid prop 'trustedRoleArns': must contain only IAM role ARNs .*not an sts assumed-role session ARN/],
    ['a wildcard in a role ARN', { trustedRoleArns: ['arn:aws:iam::210987654321:role/*'] }, /invalid prop 'trustedRoleArns'/],
    ['a session shorter than an hour', { trustedAccounts: ['210987654321'], maxSessionDuration: Duration.minutes(30) }, /invalid prop 'maxSessionDuration': must be between 1 and 12 hours \(got "30 minutes"\)/],
    ['a session longer than 12 hours', { trustedAccounts: ['210987654321'], maxSessionDuration: Duration.hours(13) }, /invalid prop 'maxSessionDuration'/],
    ['a bad organization ID', { trustedAccounts: ['210987654321'], organizationId: 'r-abcd' }, /invalid prop 'organizationId': must be an AWS Organizations ID/],
  ])('%s', (_name, props, message) => {
    const err = failure(() => invokerRole(props));
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/^S\/Invoker: /);
  });

  test.each([
    ['too short', 'x'.repeat(MIN_EXTERNAL_ID_LENGTH - 1)],
    ['too long', 'x'.repeat(1225)],
    ['with a character STS refuses', `${'x'.repeat(MIN_EXTERNAL_ID_LENGTH)} space`],
  ])('an external ID %s, without echoing the secret', (_name, externalId) => {
    const err = failure(() => invokerRole({ trustedAccounts: ['210987654321'], externalId }));
    expect(err.prop).toBe('externalId');
    expect(err.message).toMatch(new RegExp(`must be ${MIN_EXTERNAL_ID_LENGTH} to 1224 characters .*\\(got ${externalId.length} characters\\)`));
    expect(err.message).not.toContain(externalId);
  });

  test('a role without targets fails synth validation', () => {
    const app = new App();
    const stack = new Stack(app, 'S');
    new InvokerRole(stack, 'Invoker', { trustedAccounts: ['210987654321'] });
    expect(() => app.synth()).toThrow(/S\/Invoker: invalid prop 'targets': must name at least one IamFunctionUrl/);
  });
});

test('unresolved tokens are not checked at synth', () => {
  const stack = new Stack(new App(), 'S');
  const token = (name: string) => Lazy.string({ produce: () => name });
  const fn = new IamFunctionUrl(stack, 'Fn', {
    memorySize: Token.asNumber(Lazy.number({ produce: () => 512 })),
    functionName: token('fn'),
    allowedCallers: [token('anything')],
  });
  expect(() => new InvokerRole(stack, 'Invoker', {
    targets: [fn],
    trustedAccounts: [token('account')],
    trustedRoleArns: [token('role')],
    externalId: token('x'),
    organizationId: token('org'),
  })).not.toThrow();
});
