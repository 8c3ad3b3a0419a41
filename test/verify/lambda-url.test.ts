import { AuthError } from '../../lib/verify/errors';
import { isAllowedCallerEntry, lambdaUrlCaller, type LambdaUrlEvent } from '../../lib/verify/lambda-url';
import { ASSUMED_ROLE, FEDERATED_USER, IAM_USER, ROOT, urlEvent } from '../aws/fixtures/lambda-url-events';

function refusal(event: unknown, allowedCallers?: readonly string[]): AuthError {
  try {
    lambdaUrlCaller(event as LambdaUrlEvent, { allowedCallers });
  } catch (err) {
    if (err instanceof AuthError) return err;
    throw err;
  }
  throw new Error('expected lambdaUrlCaller to refuse the caller');
}

describe('lambdaUrlCaller reads the IAM caller', () => {
  test('assumed-role session: role ARN, name and session from the sts ARN', () => {
    expect(lambdaUrlCaller(urlEvent(ASSUMED_ROLE))).toEqual({
      accountId: '111122223333',
      roleArn: 'arn:aws:iam::111122223333:role/orders-service',
      roleName: 'orders-service',
      sessionName: 'orders-7f3a',
      principalArn: 'arn:aws:sts::111122223333:assumed-role/orders-service/orders-7f3a',
      userId: 'AROA3XFRBF23EXAMPLE:orders-7f3a',
      sourceIp: '203.0.113.7',
    });
  });

  test('IAM user (with a path): no role fields', () => {
    expect(lambdaUrlCaller(urlEvent(IAM_USER))).toEqual({
      accountId: '111122223333',
      principalArn: 'arn:aws:iam::111122223333:user/ops/example-user',
      userId: 'AIDACKCEVSQ6C2EXAMPLE',
      sourceIp: '203.0.113.7',
    });
  });

  test('account root and federated users are principals without a role', () => {
    expect(lambdaUrlCaller(urlEvent(ROOT))).toEqual(expect.objectContaining({ accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:root' }));
    expect(lambdaUrlCaller(urlEvent(ROOT)).roleArn).toBeUndefined();
    expect(lambdaUrlCaller(urlEvent(FEDERATED_USER)).roleArn).toBeUndefined();
  });

  test.each([
    ['aws-cn', 'arn:aws-cn:sts::111122223333:assumed-role/orders-service/s1', 'arn:aws-cn:iam::111122223333:role/orders-service'],
    ['aws-us-gov', 'arn:aws-us-gov:sts::111122223333:assumed-role/orders-service/s1', 'arn:aws-us-gov:iam::111122223333:role/orders-service'],
    ['aws-iso-b', 'arn:aws-iso-b:sts::111122223333:assumed-role/orders-service/s1', 'arn:aws-iso-b:iam::111122223333:role/orders-service'],
  ])('keeps the %s partition in the role ARN', (_partition, userArn, roleArn) => {
    expect(lambdaUrlCaller(urlEvent({ ...ASSUMED_ROLE, userArn })).roleArn).toBe(roleArn);
  });

  test('session names may hold the characters STS allows (=,.@-)', () => {
    const caller = lambdaUrlCaller(urlEvent({ ...ASSUMED_ROLE, userArn: 'arn:aws:sts::111122223333:assumed-role/orders-service/alice@example.com' }));
    expect(caller.sessionName).toBe('alice@example.com');
  });
});

describe('lambdaUrlCaller refuses requests without an IAM identity (401 NO_IAM_IDENTITY)', () => {
  const noAuthorizer = urlEvent(ASSUMED_ROLE);
  delete (noAuthorizer.requestContext as { authorizer?: unknown }).authorizer;

  test.each([
    ['no authorizer (auth type NONE or a direct invoke)', noAuthorizer],
    ['authorizer.iam null', { requestContext: { authorizer: { iam: null } } }],
    ['a JWT authorizer instead of IAM', { requestContext: { authorizer: { jwt: { claims: {}, scopes: null } } } }],
    ['no userArn', urlEvent({ ...ASSUMED_ROLE, userArn: undefined })],
    ['no userId', urlEvent({ ...ASSUMED_ROLE, userId: undefined })],
    ['a userArn that is not an IAM ARN', urlEvent({ ...ASSUMED_ROLE, userArn: 'arn:aws:s3:::bucket' })],
    ['a userArn of another account than accountId', urlEvent({ ...ASSUMED_ROLE, accountId: '444455556666' })],
    ['an empty event', {}],
    ['a null event', null],
  ])('%s', (_name, event) => {
    const err = refusal(event);
    expect(err.code).toBe('NO_IAM_IDENTITY');
    expect(err.status).toBe(401);
  });
});

describe('allowedCallers', () => {
  const caller = urlEvent(ASSUMED_ROLE);

  test.each([
    ['the role ARN', ['arn:aws:iam::111122223333:role/orders-service']],
    ['the role ARN with a path (paths are not in session ARNs)', ['arn:aws:iam::111122223333:role/services/eu/orders-service']],
    ['the account ID', ['111122223333']],
    ['one match among others', ['999988887777', 'arn:aws:iam::111122223333:role/billing', 'arn:aws:iam::111122223333:role/orders-service']],
  ])('admits a caller matching %s', (_name, allowedCallers) => {
    expect(lambdaUrlCaller(caller, { allowedCallers }).roleName).toBe('orders-service');
  });

  test.each([
    ['another role of the same account', ['arn:aws:iam::111122223333:role/billing']],
    ['the same role name in another account', ['arn:aws:iam::999988887777:role/orders-service']],
    ['the same role in another partition', ['arn:aws-cn:iam::111122223333:role/orders-service']],
    ['a role whose path ends with the caller role name', ['arn:aws:iam::111122223333:role/orders-service/orders-7f3a']],
    ['a role name that only starts like the caller role', ['arn:aws:iam::111122223333:role/orders']],
    ['another account', ['999988887777']],
    ['an empty list', []],
  ])('refuses (403 CALLER_NOT_ALLOWED) a caller not matching: %s', (_name, allowedCallers) => {
    const err = refusal(caller, allowedCallers);
    expect(err.code).toBe('CALLER_NOT_ALLOWED');
    expect(err.status).toBe(403);
    // Names the caller, never the allow-list.
    expect(err.message).toBe('caller arn:aws:iam::111122223333:role/orders-service is not an allowed caller of this function');
  });

  test('a role entry never admits an IAM user of the same name', () => {
    const user = urlEvent({ ...IAM_USER, userArn: 'arn:aws:iam::111122223333:user/orders-service' });
    expect(refusal(user, ['arn:aws:iam::111122223333:role/orders-service']).code).toBe('CALLER_NOT_ALLOWED');
    expect(lambdaUrlCaller(user, { allowedCallers: ['111122223333'] }).accountId).toBe('111122223333');
  });

  test('an invalid entry is a programming error, never a silent allow', () => {
    expect(() => lambdaUrlCaller(caller, { allowedCallers: ['*'] })).toThrow(TypeError);
    expect(() => lambdaUrlCaller(caller, { allowedCallers: ['arn:aws:sts::111122223333:assumed-role/orders-service/x'] })).toThrow(/neither an IAM role ARN/);
  });

  test('an invalid entry after a matching one still fails, whoever the caller', () => {
    expect(() => lambdaUrlCaller(caller, { allowedCallers: ['111122223333', 'arn:aws:iam::111122223333:user/typo'] })).toThrow(/"arn:aws:iam::111122223333:user\/typo" is neither an IAM role ARN/);
  });

  test('the identity check runs before the allow-list', () => {
    expect(refusal({}, ['111122223333']).code).toBe('NO_IAM_IDENTITY');
  });
});

test.each([
  ['111122223333', true],
  ['arn:aws:iam::111122223333:role/orders-service', true],
  ['arn:aws-us-gov:iam::111122223333:role/a/b/orders-service', true],
  ['11112222333', false],
  ['*', false],
  ['arn:aws:iam::111122223333:user/orders-service', false],
  ['arn:aws:sts::111122223333:assumed-role/orders-service/s', false],
  ['arn:aws:iam::111122223333:role/', false],
  [' 111122223333', false],
])('isAllowedCallerEntry(%j) is %s', (entry, ok) => {
  expect(isAllowedCallerEntry(entry)).toBe(ok);
});
