import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FunctionUrlResult } from '../../lib/verify/http';
import type { LambdaUrlEvent } from '../../lib/verify/lambda-url';
import { ASSUMED_ROLE, IAM_USER, urlEvent } from '../aws/fixtures/lambda-url-events';

// The deployed artifact, built by `npm test`'s pretest (scripts/build-handlers.mjs).
const BUNDLE = path.join(__dirname, '..', '..', 'dist', 'handlers', 'lambda-url', 'index.js');
type Handler = (event: unknown) => Promise<FunctionUrlResult>;

/** Loads the bundle as a cold start with `allowedCallers` as S2S_ALLOWED_CALLERS (undefined = unset). */
function coldStart(allowedCallers?: string): Handler {
  const saved = process.env.S2S_ALLOWED_CALLERS;
  if (allowedCallers === undefined) delete process.env.S2S_ALLOWED_CALLERS;
  else process.env.S2S_ALLOWED_CALLERS = allowedCallers;
  try {
    let handler: Handler | undefined;
    jest.isolateModules(() => {
      // A fresh require per cold start: the bundle reads its configuration when it loads.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      handler = (require(BUNDLE) as { handler: Handler }).handler;
    });
    return handler!;
  } finally {
    if (saved === undefined) delete process.env.S2S_ALLOWED_CALLERS;
    else process.env.S2S_ALLOWED_CALLERS = saved;
  }
}

const ROLE = 'arn:aws:iam::111122223333:role/orders-service';
let warn: jest.SpyInstance;
let error: jest.SpyInstance;

beforeAll(() => {
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run 'npm run build:handlers' (npm test does it in pretest)`);
});
beforeEach(() => {
  // Captured, not silenced blindly: several tests assert what is logged.
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => jest.restoreAllMocks());

test('the bundle is small and self-contained', () => {
  const code = fs.readFileSync(BUNDLE, 'utf8');
  expect(code.length).toBeLessThan(16 * 1024);
  expect(code).not.toMatch(/require\("(?!node:)[^"]+"\)/);
});

test('answers 200 with the verified identity of an allowed role', async () => {
  const result = await coldStart(`999988887777, ${ROLE}`)(urlEvent(ASSUMED_ROLE));
  expect(result.statusCode).toBe(200);
  expect(result.headers).toEqual({ 'content-type': 'application/json', 'cache-control': 'no-store' });
  expect(JSON.parse(result.body)).toEqual({
    accountId: '111122223333',
    roleArn: ROLE,
    roleName: 'orders-service',
    sessionName: 'orders-7f3a',
    principalArn: 'arn:aws:sts::111122223333:assumed-role/orders-service/orders-7f3a',
    sourceIp: '203.0.113.7',
  });
  expect(warn).not.toHaveBeenCalled();
});

test('without S2S_ALLOWED_CALLERS any IAM caller is answered', async () => {
  const handler = coldStart(undefined);
  const result = await handler(urlEvent(IAM_USER));
  expect(result.statusCode).toBe(200);
  expect(JSON.parse(result.body)).toEqual({ accountId: '111122223333', principalArn: 'arn:aws:iam::111122223333:user/ops/example-user', sourceIp: '203.0.113.7' });
  expect((await coldStart('')(urlEvent(IAM_USER))).statusCode).toBe(200);
});

test('an account entry admits the principals of that account', async () => {
  expect((await coldStart('111122223333')(urlEvent(IAM_USER))).statusCode).toBe(200);
});

test('refuses a caller outside S2S_ALLOWED_CALLERS with 403 and logs the refusal', async () => {
  const result = await coldStart('arn:aws:iam::111122223333:role/billing,999988887777')(urlEvent(ASSUMED_ROLE));
  expect(result.statusCode).toBe(403);
  expect(JSON.parse(result.body)).toEqual({ error: 'CALLER_NOT_ALLOWED', message: `caller ${ROLE} is not an allowed caller of this function` });
  expect(result.headers['www-authenticate']).toBeUndefined();
  // The same audit line as every other handler: status and the JSON body the caller got.
  expect(warn).toHaveBeenCalledWith(`s2s-auth lambda-url refused 403 ${result.body}`);
});

test.each([
  ['an event without an authorizer (a direct invoke)', { ...urlEvent(ASSUMED_ROLE), requestContext: { http: { sourceIp: '203.0.113.7' } } }],
  ['an empty event', {}],
  ['a null event', null],
])('answers 401 NO_IAM_IDENTITY to %s', async (_name, event) => {
  const result = await coldStart(ROLE)(event as LambdaUrlEvent);
  expect(result.statusCode).toBe(401);
  expect(JSON.parse(result.body).error).toBe('NO_IAM_IDENTITY');
  expect(result.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
});

describe('a bad S2S_ALLOWED_CALLERS fails closed', () => {
  test.each([
    ['a wildcard', '*'],
    ['a user ARN', 'arn:aws:iam::111122223333:user/ops'],
    ['a session ARN', 'arn:aws:sts::111122223333:assumed-role/orders-service/s'],
    ['one bad entry among good ones', `${ROLE},11112222333`],
  ])('%s: every request gets 500 MISCONFIGURED, logged once at cold start', async (_name, value) => {
    const handler = coldStart(value);
    expect(error).toHaveBeenCalledTimes(1);
    expect(error.mock.calls[0][0]).toMatch(/lambda-url handler is misconfigured .*S2S_ALLOWED_CALLERS must be comma-separated IAM role ARNs/);
    for (let i = 0; i < 2; i++) {
      const result = await handler(urlEvent(ASSUMED_ROLE));
      expect(result.statusCode).toBe(500);
      expect(JSON.parse(result.body)).toEqual({ error: 'MISCONFIGURED', message: 'the function is misconfigured; see its logs' });
    }
    expect(error).toHaveBeenCalledTimes(1);
  });
});

test('an unexpected failure is an opaque 500 that leaks nothing to the caller', async () => {
  const hostile = { requestContext: { get authorizer(): never { throw new Error('secret internal detail'); } } };
  const result = await coldStart(ROLE)(hostile);
  expect(result.statusCode).toBe(500);
  expect(JSON.parse(result.body)).toEqual({ error: 'INTERNAL', message: 'internal error' });
  expect(result.body).not.toContain('secret');
  expect(error).toHaveBeenCalledWith('s2s-auth lambda-url failed', expect.objectContaining({ message: 'secret internal detail' }));
});
