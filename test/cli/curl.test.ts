import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { echoBody, startSigV4Server, type Echo, type SigV4Server, type VerifiedRequest } from '../peers/sigv4-server';
import { EXTERNAL_ID, GUARDED_ROLE, ROLE, STAND_IN_ROLES, startSts, type Sts } from '../peers/sts';
import { assertBuilt, closedUrl, s2s, tempFile } from './support';

const REGION = 'eu-west-1';
const SOURCE = { accessKeyId: 'AKIAS2SCLISOURCE0001', secretAccessKey: 'cli/source/secret/0123456789abcdefghijklm' };

let sts: Sts;
let fn: SigV4Server;
// Answers that only the CLI's output handling cares about (bytes, redirects, silence), so no
// signature check: the signed path is covered against `fn`.
let raw: http.Server;
let rawUrl: string;
const BINARY = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80]);

// Echoes what the function URL received, minus the signature and session token, so any
// credential found in the command's output was printed by the command itself.
function echo(request: VerifiedRequest) {
  if (request.rawPath === '/missing') return { status: 404, headers: { 'x-trace': 'nope' }, body: '{"message":"no such order"}' };
  const { authorization: _a, 'x-amz-security-token': _t, ...headers } = request.headers;
  return {
    status: 200,
    headers: { 'x-trace': 'abc' },
    body: echoBody(request, headers),
  };
}

beforeAll(async () => {
  assertBuilt();
  sts = await startSts({ region: REGION, sourceCredentials: [SOURCE], roles: STAND_IN_ROLES });
  fn = await startSigV4Server({ region: REGION, lookup: sts.lookup, handle: echo });
  raw = http.createServer((req, res) => {
    if (req.url === '/binary') res.writeHead(200, { 'content-type': 'image/png' }).end(BINARY);
    else if (req.url === '/moved') res.writeHead(302, { location: 'https://elsewhere.example.com/login' }).end('moved');
    // '/silent' never answers: only --max-time ends the request.
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sts?.close();
  await fn?.close();
  raw?.closeAllConnections();
  await new Promise((resolve) => raw?.close(resolve));
});

/** What a user on a machine with source credentials sets; STS goes to the stand-in, as the AWS SDK reads it. */
const env = (extra: Record<string, string> = {}) => ({ AWS_ACCESS_KEY_ID: SOURCE.accessKeyId, AWS_SECRET_ACCESS_KEY: SOURCE.secretAccessKey, AWS_ENDPOINT_URL_STS: sts.url, ...extra });

/** The temporary credentials STS issued for the request the function URL echoed. */
function issuedSecrets(seen: Echo): string[] {
  const issued = sts.lookup(seen.iam.accessKey);
  if (!issued?.sessionToken) throw new Error('the request was not signed with credentials issued by the STS stand-in');
  return [issued.secretAccessKey, issued.sessionToken];
}

describe('s2s curl', () => {
  test('assumes the role through the STS named by AWS_ENDPOINT_URL_STS, signs a POST with headers and prints the body', async () => {
    const calls = sts.calls.length;
    const res = await s2s(['curl', `${fn.url}/orders/42?b=2&a=1`, '--role-arn', ROLE, '--region', REGION, '-H', 'Content-Type: application/json', '-H', 'x-request-id:  r-1 ', '-d', '{"qty":3}'], { env: env() });
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const seen = JSON.parse(res.stdout) as Echo;
    expect(seen).toMatchObject({ method: 'POST', path: '/orders/42', query: 'b=2&a=1', body: '{"qty":3}' });
    expect(seen.headers).toMatchObject({ 'content-type': 'application/json', 'x-request-id': 'r-1' });
    expect(seen.iam.userArn).toMatch(/^arn:aws:sts::111122223333:assumed-role\/orders-caller\/s2s-auth-\d+$/);
    expect(sts.calls.slice(calls)).toEqual([expect.objectContaining({ RoleArn: ROLE })]);
    for (const secret of [SOURCE.secretAccessKey, ...issuedSecrets(seen)]) {
      expect(res.stdout).not.toContain(secret);
      expect(res.stderr).not.toContain(secret);
    }
  });

  test('--external-id is passed to AssumeRole for a role whose trust policy requires it', async () => {
    const res = await s2s(['curl', `${fn.url}/`, '--role-arn', GUARDED_ROLE, '--external-id', EXTERNAL_ID, '--region', REGION], { env: env() });
    expect(res.code).toBe(0);
    expect((JSON.parse(res.stdout) as Echo).iam.userArn).toContain(':assumed-role/guarded/');

    const refused = await s2s(['curl', `${fn.url}/`, '--role-arn', GUARDED_ROLE, '--region', REGION], { env: env() });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^s2s curl: cannot assume role arn:aws:iam::111122223333:role\/partner\/guarded: STS answered AccessDenied: .*check that the role's trust policy allows the source principal/);
  });

  test('without --role-arn the ambient credentials sign the request and STS is not called; AWS_REGION gives the region', async () => {
    const calls = sts.calls.length;
    const res = await s2s(['curl', `${fn.url}/whoami`], { env: env({ AWS_REGION: REGION }) });
    expect(res.code).toBe(0);
    expect((JSON.parse(res.stdout) as Echo).iam).toMatchObject({ userArn: 'arn:aws:iam::111122223333:user/caller', accessKey: SOURCE.accessKeyId });
    expect(sts.calls.length).toBe(calls);
  });

  test('-i prints the status line and response headers before the body', async () => {
    const res = await s2s(['curl', '-i', `${fn.url}/ping`, '--region', REGION], { env: env() });
    expect(res.code).toBe(0);
    const [head, body] = res.stdout.split('\n\n');
    expect(head.split('\n')[0]).toBe('HTTP 200 OK');
    expect(head).toContain('\nx-trace: abc');
    expect(head).toContain('\ncontent-type: application/json');
    expect(JSON.parse(body)).toMatchObject({ method: 'GET', path: '/ping' });
  });

  test('--json prints status, headers and body as one object', async () => {
    const res = await s2s(['curl', `${fn.url}/ping`, '--region', REGION, '-X', 'delete', '--json'], { env: env() });
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { status: number; statusText: string; headers: Record<string, string>; body: string };
    expect(out).toMatchObject({ status: 200, statusText: 'OK', headers: { 'x-trace': 'abc' } });
    expect(JSON.parse(out.body)).toMatchObject({ method: 'DELETE', path: '/ping' });
  });

  test('--json keeps a binary body intact as base64 and says so; a UTF-8 body stays text', async () => {
    const res = await s2s(['curl', `${rawUrl}/binary`, '--region', REGION, '--json'], { env: env() });
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const out = JSON.parse(res.stdout) as { body: string; bodyEncoding: string };
    expect(out.bodyEncoding).toBe('base64');
    expect(Buffer.from(out.body, 'base64').equals(BINARY)).toBe(true);

    const text = JSON.parse((await s2s(['curl', `${fn.url}/ping`, '--region', REGION, '--json'], { env: env() })).stdout) as { body: string; bodyEncoding: string };
    expect(text.bodyEncoding).toBe('utf8');
    expect(JSON.parse(text.body)).toMatchObject({ path: '/ping' });
  });

  test('without --json a binary body is written byte for byte', async () => {
    const res = await s2s(['curl', `${rawUrl}/binary`, '--region', REGION], { env: env() });
    expect(res.code).toBe(0);
    expect(res.stdoutBytes.equals(BINARY)).toBe(true);
  });

  test('a redirect is not followed: the 3xx answer is printed, its Location named on stderr, exit 0', async () => {
    const res = await s2s(['curl', `${rawUrl}/moved`, '--region', REGION], { env: env() });
    expect(res.code).toBe(0);
    expect(res.stdout).toBe('moved');
    expect(res.stderr).toBe('s2s curl: HTTP 302 redirect to https://elsewhere.example.com/login not followed (a SigV4 signature is valid only for its own URL); call that URL if you trust it\n');
  });

  test('--max-time ends a request that gets no answer: exit 1 saying so', async () => {
    const res = await s2s(['curl', `${rawUrl}/silent`, '--region', REGION, '-m', '0.5'], { env: env() });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`s2s curl: no complete answer from ${rawUrl} within --max-time 0.5 s\n`);
  });

  test('--data-file sends a file, or stdin with -, byte for byte', async () => {
    const file = tempFile('order.json', '{"qty":5,"note":"é"}\n');
    const fromFile = await s2s(['curl', `${fn.url}/orders`, '--region', REGION, '--data-file', file, '-X', 'PUT'], { env: env() });
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ method: 'PUT', body: '{"qty":5,"note":"é"}\n' });
    const fromStdin = await s2s(['curl', `${fn.url}/orders`, '--region', REGION, '--data-file', '-'], { env: env(), stdin: 'line 1\nline 2' });
    expect(JSON.parse(fromStdin.stdout)).toMatchObject({ method: 'POST', body: 'line 1\nline 2' });
  });

  test('HTTP >= 400 prints the body, puts the status on stderr and exits 1', async () => {
    const res = await s2s(['curl', `${fn.url}/missing`, '--region', REGION], { env: env() });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('{"message":"no such order"}');
    expect(res.stderr).toBe(`s2s curl: HTTP 404 Not Found from ${fn.url}/missing\n`);

    const json = await s2s(['curl', `${fn.url}/missing`, '--region', REGION, '--json'], { env: env() });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 404, body: '{"message":"no such order"}' });
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'HTTP_ERROR', message: expect.stringContaining('HTTP 404 Not Found'), exitCode: 1 } });
  });

  test('a 403 from the function URL names the AWS error type and what to check', async () => {
    // Signed for the wrong region: the server refuses as Lambda does.
    const res = await s2s(['curl', `${fn.url}/`, '--region', 'us-east-1'], { env: env() });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^s2s curl: HTTP 403 Forbidden \(SignatureDoesNotMatch\) from http:\/\/127\.0\.0\.1:\d+\/; the function URL refused the caller: check the signing region/);
  });

  test('the region comes from a *.lambda-url.REGION.on.aws URL (STS is signed for it before anything is sent to the URL)', async () => {
    // The stand-in checks that STS requests are signed for eu-west-1, then refuses the unknown role,
    // so the function URL itself (not reachable from a test) is never contacted.
    const unknownRole = 'arn:aws:iam::111122223333:role/not-trusted';
    const inferred = await s2s(['curl', 'https://abcdefghij0123456789abcdef012345.lambda-url.eu-west-1.on.aws/x', '--role-arn', unknownRole], { env: env() });
    expect(inferred.code).toBe(1);
    expect(inferred.stderr).toContain('STS answered AccessDenied');

    const otherRegion = await s2s(['curl', 'https://abcdefghij0123456789abcdef012345.lambda-url.us-east-2.on.aws/x', '--role-arn', unknownRole], { env: env() });
    expect(otherRegion.code).toBe(1);
    expect(otherRegion.stderr).toContain("scoped to a valid region and service eu-west-1/sts, not 'us-east-2/sts'");
  });

  test('STS failures exit 1 with the STS error and no credentials in the output', async () => {
    sts.failNext('ExpiredToken', 'The security token included in the request is expired');
    const res = await s2s(['curl', `${fn.url}/`, '--role-arn', ROLE, '--region', REGION], { env: env() });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('STS answered ExpiredToken');
    expect(res.stderr).toContain('the source credentials are invalid or expired; refresh them');
    expect(res.stderr).not.toContain(SOURCE.secretAccessKey);
  });

  test('no source credentials at all: says where credentials come from', async () => {
    const res = await s2s(['curl', `${fn.url}/`, '--region', REGION], { env: { AWS_ENDPOINT_URL_STS: sts.url } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^s2s curl: cannot resolve AWS credentials: no source AWS credentials found; set AWS_ACCESS_KEY_ID/);
  });

  test('a refused connection exits 1 naming the host', async () => {
    const closed = await closedUrl();
    const res = await s2s(['curl', `${closed}/`, '--region', REGION], { env: env() });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`s2s curl: cannot reach ${closed} (ECONNREFUSED): check the URL and that it is reachable from here\n`);
  });

  test.each([
    [['curl'], 'missing URL'],
    [['curl', 'not a url'], 'URL "not a url" is not an absolute http(s) URL'],
    [['curl', 'ftp://example.com/'], 'URL "ftp://example.com/" is not an absolute http(s) URL'],
    [['curl', 'http://127.0.0.1:9/'], 'cannot tell the signing region: 127.0.0.1 is not a *.lambda-url.REGION.on.aws host and AWS_REGION is not set; pass --region'],
    [['curl', 'http://127.0.0.1:9/', '--region', 'eu-west-1', '-H', 'no colon'], '--header "no colon" is not \'NAME: VALUE\''],
    [['curl', 'http://127.0.0.1:9/', '--region', 'eu-west-1', '-d', 'a', '--data-file', 'f'], 'pass either --data or --data-file, not both'],
    [['curl', 'http://127.0.0.1:9/', '--region', 'eu-west-1', '--data-file', '/does/not/exist'], '--data-file: cannot read "/does/not/exist" (no such file)'],
    [['curl', 'http://127.0.0.1:9/', '--region', 'Europe'], "--region: invalid option 'region': must be an AWS region such as us-east-1"],
    [['curl', 'http://127.0.0.1:9/', '--region', 'eu-west-1', '--role-arn', 'orders-caller'], "--role-arn: invalid option 'roleArn': must be an IAM role ARN"],
    [['curl', 'http://127.0.0.1:9/', '--region', 'eu-west-1', '--external-id', 'x1'], "--external-id: invalid option 'externalId': only applies when roleArn is set"],
    [['curl', 'http://127.0.0.1:9/', '--bogus'], "Unknown option '--bogus'"],
    [['curl', 'http://127.0.0.1:9/', '--region', 'eu-west-1', '-X', 'GET', '-d', 'x'], 'a GET request cannot have a body; drop --data / --data-file or pass -X POST'],
    [['curl', 'http://127.0.0.1:9/', '--region', 'eu-west-1', '-X', 'GE T'], '--request "GE T" is not an HTTP method, e.g. -X PUT'],
    [['curl', 'http://127.0.0.1:9/', '--region'], "Option '--region <value>' argument missing"],
    [['curl', 'http://127.0.0.1:9/', '--region', 'eu-west-1', '--max-time', '0'], '--max-time must be a number of seconds between 0 and 86400'],
    [['curl', 'http://orders.example.com/', '--region', 'eu-west-1'], "URL: invalid option 'url': must be an absolute https:// URL (http:// only for localhost / 127.0.0.1)"],
  ])('usage error %j exits 2 and says what to fix', async (args, message) => {
    const res = await s2s(args, { env: env() });
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(`s2s curl: ${message}`);
    expect(res.stderr).toMatch(/Run 's2s curl --help' for usage\.\n$/);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });
});
