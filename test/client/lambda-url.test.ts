import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { CredentialError, LambdaUrlClient, type LambdaUrlClientOptions } from '../../lib/client';
import { startSigV4Server, verifySigV4, type Echo, type SigV4Server } from '../peers/sigv4-server';
import { EXTERNAL_ID, GUARDED_ROLE, ROLE, STAND_IN_ROLES, startSts, type Sts } from '../peers/sts';
import { thrown } from './util';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const REGION = 'eu-west-1';
const SOURCE = { accessKeyId: 'AKIAS2SSOURCE0000001', secretAccessKey: 'source/secret/0123456789abcdefghijklmnopq' };

let sts: Sts;
let fn: SigV4Server;

beforeAll(async () => {
  sts = await startSts({ region: REGION, sourceCredentials: [SOURCE], roles: STAND_IN_ROLES });
  fn = await startSigV4Server({ region: REGION, lookup: sts.lookup });
});
afterAll(async () => {
  await sts.close();
  await fn.close();
});
beforeEach(() => {
  sts.lifetimeSeconds = undefined;
});

const client = (options: Partial<LambdaUrlClientOptions> = {}) => new LambdaUrlClient({ region: REGION, roleArn: ROLE, credentials: SOURCE, stsEndpoint: sts.url, ...options });

async function echo(response: Response): Promise<Echo> {
  const text = await response.text();
  if (response.status !== 200) throw new Error(`function URL answered ${response.status}: ${text}`);
  return JSON.parse(text) as Echo;
}

describe('signing', () => {
  test('a signed POST passes a server that recomputes the signature with AWS\'s signer', async () => {
    const c = client({ sessionName: 'orders-7f3a' });
    const res = await c.fetch(`${fn.url}/orders/42?b=2&a=1&a=0`, { method: 'post', headers: { 'Content-Type': 'application/json', 'X-Trace': 'abc' }, body: '{"qty":3}' });
    const seen = await echo(res);
    expect(seen).toMatchObject({ method: 'POST', path: '/orders/42', query: 'b=2&a=1&a=0', body: '{"qty":3}' });
    expect(seen.headers).toMatchObject({ 'content-type': 'application/json', 'x-trace': 'abc', host: fn.url.slice('http://'.length) });
    expect(seen.headers['x-amz-content-sha256']).toBe(createHash('sha256').update('{"qty":3}').digest('hex'));
    expect(seen.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=ASIA[0-9A-F]{16}\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[^,]*content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token;x-trace, Signature=/);
    expect(seen.iam.userArn).toBe('arn:aws:sts::111122223333:assumed-role/orders-caller/orders-7f3a');
  });

  test('paths needing encoding, repeated and empty query parameters, and GET without body', async () => {
    const seen = await echo(await client().fetch(`${fn.url}/a%20b/%C3%A9t%C3%A9/x+y?q=hello%20world&q=&z=%2F&empty`));
    expect(seen).toMatchObject({ method: 'GET', path: '/a%20b/%C3%A9t%C3%A9/x+y', query: 'q=hello%20world&q=&z=%2F&empty', body: '' });
  });

  test('parsed URLs are reused, within a bound: each request is still signed for its own path and query', async () => {
    const c = client();
    for (let i = 0; i < 300; i++) await c.sign(`${fn.url}/p/${i}?i=${i}`);
    for (const i of [0, 299]) expect(await echo(await c.fetch(`${fn.url}/p/${i}?i=${i}`))).toMatchObject({ path: `/p/${i}`, query: `i=${i}` });
  });

  test('a literal + in the query is signed as a plus, as AWS reads it', async () => {
    const seen = await echo(await client().fetch(`${fn.url}/search?q=c++&tag=a%2Bb&sp=x%20y`));
    expect(seen.query).toBe('q=c++&tag=a%2Bb&sp=x%20y');
  });

  test('redirects are returned, not followed with the signed headers', async () => {
    let elsewhere = 0;
    const other = await startSigV4Server({ region: REGION, lookup: sts.lookup, handle: () => ((elsewhere += 1), { status: 200, body: '{}' }) });
    const redirecting = await startSigV4Server({ region: REGION, lookup: sts.lookup, handle: () => ({ status: 302, headers: { location: `${other.url}/landing` }, body: '' }) });
    try {
      const res = await client().fetch(`${redirecting.url}/go`);
      expect(res.status).toBe(302);
      expect(res.headers.get('location')).toBe(`${other.url}/landing`);
      expect(elsewhere).toBe(0);
      expect(other.rejected).toEqual([]);
    } finally {
      await other.close();
      await redirecting.close();
    }
  });

  test.each([
    ['a Uint8Array', new TextEncoder().encode('bytes'), 'bytes', undefined],
    ['a Buffer', Buffer.from('buffer'), 'buffer', undefined],
    ['an ArrayBuffer', new TextEncoder().encode('ab').buffer, 'ab', undefined],
    ['URLSearchParams', new URLSearchParams({ a: '1 2', b: 'é' }), 'a=1+2&b=%C3%A9', 'application/x-www-form-urlencoded;charset=UTF-8'],
    ['a Blob', new Blob(['blob'], { type: 'text/csv' }), 'blob', 'text/csv'],
  ])('%s body is hashed and sent unchanged', async (_kind, body, sent, contentType) => {
    const seen = await echo(await client().fetch(`${fn.url}/up`, { method: 'PUT', body }));
    expect(seen.body).toBe(sent);
    if (contentType) expect(seen.headers['content-type']).toBe(contentType);
  });

  test('FormData is serialized once, with its multipart boundary signed', async () => {
    const form = new FormData();
    form.set('name', 'value');
    const seen = await echo(await client().fetch(`${fn.url}/form`, { method: 'POST', body: form }));
    expect(seen.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(seen.body).toContain('name="name"\r\n\r\nvalue');
  });

  test('a stream body is refused with a clear error', async () => {
    const stream = new ReadableStream({ start: (c) => c.close() });
    await expect(client().sign(`${fn.url}/x`, { method: 'POST', body: stream })).rejects.toMatchObject({ code: 'UNSUPPORTED_BODY', message: expect.stringMatching(/buffer it first/) });
  });

  test('user headers are kept (Headers and pair forms too) but signature headers are always ours', async () => {
    const c = client();
    const forged = { authorization: 'AWS4-HMAC-SHA256 forged', 'x-amz-date': '20000101T000000Z', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-security-token': 'forged' };
    for (const headers of [new Headers({ ...forged, 'x-one': '1' }), Object.entries({ ...forged, 'x-one': '1' }), { ...forged, 'X-One': '1' }]) {
      const seen = await echo(await c.fetch(`${fn.url}/h`, { method: 'POST', headers, body: 'b' }));
      expect(seen.headers['x-one']).toBe('1');
      expect(seen.headers.authorization).not.toContain('forged');
      expect(seen.headers['x-amz-security-token']).not.toBe('forged');
    }
  });

  test('sign() returns a request any HTTP client can send', async () => {
    const signed = await client().sign(new URL(`${fn.url}/s?x=1`), { method: 'DELETE', headers: { 'x-k': 'v' } });
    expect(signed).toMatchObject({ url: `${fn.url}/s?x=1`, method: 'DELETE' });
    expect(Object.keys(signed.headers).sort()).toEqual(['authorization', 'host', 'x-amz-content-sha256', 'x-amz-date', 'x-amz-security-token', 'x-k']);
    const res = await fetch(signed.url, { method: signed.method, headers: signed.headers });
    expect((await echo(res)).method).toBe('DELETE');
  });
});

describe('the SigV4 stand-in refuses what AWS refuses', () => {
  const send = (signed: { url: string; method: string; headers: Record<string, string> }, body?: string) =>
    fetch(signed.url, { method: signed.method, headers: signed.headers, body });

  test('a body changed after signing', async () => {
    const signed = await client().sign(`${fn.url}/t`, { method: 'POST', body: 'amount=1' });
    const res = await send(signed, 'amount=1000');
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ Message: expect.stringMatching(/x-amz-content-sha256 header does not match/) });
  });

  test('a body changed with its hash header recomputed', async () => {
    const signed = await client().sign(`${fn.url}/t`, { method: 'POST', body: 'amount=1' });
    const res = await send({ ...signed, headers: { ...signed.headers, 'x-amz-content-sha256': createHash('sha256').update('amount=9').digest('hex') } }, 'amount=9');
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ Message: expect.stringMatching(/signature we calculated does not match/) });
  });

  test('a signed header, the path or the query changed', async () => {
    const signed = await client().sign(`${fn.url}/t?x=1`, { headers: { 'x-role': 'reader' } });
    for (const tampered of [
      { ...signed, headers: { ...signed.headers, 'x-role': 'admin' } },
      { ...signed, url: `${fn.url}/u?x=1` },
      { ...signed, url: `${fn.url}/t?x=2` },
    ]) {
      const res = await send(tampered);
      expect(res.status).toBe(403);
      expect(res.headers.get('x-amzn-errortype')).toBe('SignatureDoesNotMatch');
    }
  });

  test('a signature older than 5 minutes', async () => {
    const creds = await issued();
    const signer = new SignatureV4({ service: 'lambda', region: REGION, sha256: Hash.bind(null, 'sha256'), credentials: creds });
    const host = fn.url.slice('http://'.length);
    const old = await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/t', headers: { host } }, { signingDate: new Date(Date.now() - 6 * 60_000) });
    const res = await send({ url: `${fn.url}/t`, method: 'GET', headers: old.headers });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ Message: expect.stringMatching(/^Signature expired/) });
  });

  test('unknown credentials and a wrong secret', async () => {
    const unknown = await new LambdaUrlClient({ region: REGION, credentials: { accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' } }).fetch(`${fn.url}/t`);
    expect(unknown.status).toBe(403);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('InvalidClientTokenId');
    const wrong = await new LambdaUrlClient({ region: REGION, credentials: { ...SOURCE, secretAccessKey: 'wrong' } }).fetch(`${fn.url}/t`);
    expect(wrong.status).toBe(403);
    expect(wrong.headers.get('x-amzn-errortype')).toBe('SignatureDoesNotMatch');
  });

  test('a signature for another region or service', async () => {
    const res = await new LambdaUrlClient({ region: 'us-east-1', credentials: SOURCE }).fetch(`${fn.url}/t`);
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ Message: expect.stringMatching(/scoped to a valid region and service eu-west-1\/lambda/) });
  });

  test('expired session credentials', async () => {
    const expired = { ...(await issued()), expiration: new Date(Date.now() - 1000) };
    const signer = new SignatureV4({ service: 'lambda', region: REGION, sha256: Hash.bind(null, 'sha256'), credentials: expired });
    const { headers } = await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/t', headers: { host: fn.url.slice('http://'.length) } });
    const lookup = (id: string) => (id === expired.accessKeyId ? { ...sts.lookup(id)!, expiration: expired.expiration } : undefined);
    await expect(verifySigV4({ method: 'GET', url: '/t', headers }, Buffer.alloc(0), { service: 'lambda', region: REGION, lookup })).rejects.toMatchObject({ code: 'ExpiredToken' });
  });

  test('a query signed with \'+\' read as a space (AWS reads a literal plus)', async () => {
    const signer = new SignatureV4({ service: 'lambda', region: REGION, sha256: Hash.bind(null, 'sha256'), credentials: await issued() });
    const host = fn.url.slice('http://'.length);
    const formDecoded = await signer.sign({ method: 'GET', protocol: 'http:', hostname: '127.0.0.1', path: '/q', query: { q: 'a b' }, headers: { host } });
    const res = await send({ url: `${fn.url}/q?q=a+b`, method: 'GET', headers: formDecoded.headers });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('SignatureDoesNotMatch');
  });
});

describe('STS AssumeRole', () => {
  test('one STS call however many requests, sequential or concurrent', async () => {
    const before = sts.issued();
    const c = client();
    const first = await Promise.all(Array.from({ length: 50 }, (_, i) => c.fetch(`${fn.url}/c/${i}`).then(echo)));
    for (let i = 0; i < 20; i++) await echo(await c.fetch(`${fn.url}/s/${i}`));
    expect(sts.issued() - before).toBe(1);
    expect(new Set(first.map((e) => e.iam.accessKey)).size).toBe(1);
  });

  test('AssumeRole parameters are passed through, and the SDK\'s own signature is checked by the stand-in', async () => {
    const c = client({ roleArn: GUARDED_ROLE, externalId: EXTERNAL_ID, sessionName: 'nightly-sync', durationSeconds: 900, sourceIdentity: 'alice@example.com' });
    const seen = await echo(await c.fetch(`${fn.url}/g`));
    expect(seen.iam.userArn).toBe('arn:aws:sts::111122223333:assumed-role/guarded/nightly-sync');
    expect(sts.calls.at(-1)).toEqual({ RoleArn: GUARDED_ROLE, RoleSessionName: 'nightly-sync', DurationSeconds: '900', ExternalId: EXTERNAL_ID, SourceIdentity: 'alice@example.com' });
  });

  test('the default session name is s2s-auth-<epoch ms>', async () => {
    await echo(await client().fetch(`${fn.url}/n`));
    expect(sts.calls.at(-1)?.RoleSessionName).toMatch(/^s2s-auth-\d{13}$/);
  });

  test('credentials are refreshed before they expire, once per lifetime', async () => {
    // Shorter than the 5-minute margin, so refreshed at half life; long enough that a loaded
    // machine still gets to the refresh well before the first session expires.
    sts.lifetimeSeconds = 6;
    const before = sts.issued();
    const c = client();
    const a = await echo(await c.fetch(`${fn.url}/r`));
    const b = await echo(await c.fetch(`${fn.url}/r`));
    expect(sts.issued() - before).toBe(1);
    const first = sts.lookup(a.iam.accessKey)!;
    const halfLife = (first.expiration!.getTime() - first.issuedAt!.getTime()) / 2;
    // + 1 s: the client reads STS's clock from its one-second-resolution Date header.
    await sleep(first.issuedAt!.getTime() + halfLife + 1000 - Date.now());
    const [d, e] = await Promise.all([c.fetch(`${fn.url}/r`).then(echo), c.fetch(`${fn.url}/r`).then(echo)]);
    expect(sts.issued() - before).toBe(2);
    expect(b.iam.accessKey).toBe(a.iam.accessKey);
    expect(d.iam.accessKey).not.toBe(a.iam.accessKey);
    expect(e.iam.accessKey).toBe(d.iam.accessKey);
    expect(sts.lookup(d.iam.accessKey)!.issuedAt!.getTime()).toBeLessThan(first.expiration!.getTime());
  });

  test('a machine clock 10 minutes behind AWS: the SDK learns the offset from STS, requests are signed in AWS time', async () => {
    const ahead = 10 * 60_000;
    const skewedSts = await startSts({ region: REGION, sourceCredentials: [SOURCE], roles: [{ roleArn: ROLE }], clockOffsetMs: ahead });
    const skewedFn = await startSigV4Server({ region: REGION, lookup: skewedSts.lookup, clockOffsetMs: ahead });
    try {
      const c = client({ stsEndpoint: skewedSts.url });
      const seen = await echo(await c.fetch(`${skewedFn.url}/skew`));
      expect(seen.iam.userArn).toMatch(/:assumed-role\/orders-caller\//);
      // The SDK's first STS call was refused as skewed, corrected and retried.
      expect(skewedSts.calls).toHaveLength(2);
      expect(skewedSts.issued()).toBe(1);
      const date = seen.headers['x-amz-date'];
      const signedAt = Date.UTC(+date.slice(0, 4), +date.slice(4, 6) - 1, +date.slice(6, 8), +date.slice(9, 11), +date.slice(11, 13), +date.slice(13, 15));
      expect(Math.abs(signedAt - (Date.now() + ahead))).toBeLessThan(60_000);
    } finally {
      await skewedSts.close();
      await skewedFn.close();
    }
  });

  test('STS throttling is retried by the SDK: one session, no error', async () => {
    const before = sts.issued();
    const calls = sts.calls.length;
    sts.failNext('Throttling', 'Rate exceeded', 400);
    await echo(await client().fetch(`${fn.url}/throttled`));
    expect(sts.calls.length - calls).toBe(2);
    expect(sts.issued() - before).toBe(1);
  });

  test('a session longer than the role allows: STS_FAILED naming durationSeconds', async () => {
    const err = await client({ roleArn: GUARDED_ROLE, externalId: EXTERNAL_ID, durationSeconds: 7200 }).fetch(`${fn.url}/long`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STS_FAILED', awsCode: 'ValidationError', status: 400, message: expect.stringMatching(/exceeds the MaxSessionDuration .*lower durationSeconds to at most the role's maximum session duration/) });
  });

  test('an STS endpoint that never answers fails within timeoutMs', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const started = Date.now();
      const err = await client({ stsEndpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`, timeoutMs: 200 }).fetch(`${fn.url}/x`).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STS_FAILED', message: expect.stringMatching(/^cannot assume role .*: STS did not answer within 200 ms; check stsEndpoint/) });
      // Three attempts of 200 ms plus the SDK's backoff, not the default 10 s per attempt.
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  test('a wrong ExternalId is AccessDenied, surfaced as STS_FAILED with the fix', async () => {
    const err = await client({ roleArn: GUARDED_ROLE, externalId: 'not-the-one' }).fetch(`${fn.url}/x`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect(err).toMatchObject({ code: 'STS_FAILED', awsCode: 'AccessDenied', status: 403 });
    expect((err as Error).message).toMatch(/^cannot assume role arn:aws:iam::111122223333:role\/partner\/guarded: STS answered AccessDenied: User: arn:aws:iam::111122223333:user\/caller is not authorized .*check that the role's trust policy allows/);
  });

  test('a failed refresh is not cached: the next request tries STS again', async () => {
    const c = client();
    const before = sts.issued();
    sts.failNext('AccessDenied', 'temporarily denied');
    await expect(c.fetch(`${fn.url}/f`)).rejects.toMatchObject({ code: 'STS_FAILED', awsCode: 'AccessDenied' });
    await echo(await c.fetch(`${fn.url}/f`));
    expect(sts.issued() - before).toBe(1);
  });

  test('source credentials STS does not accept', async () => {
    const err = await client({ credentials: { ...SOURCE, secretAccessKey: 'wrong' } }).fetch(`${fn.url}/x`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STS_FAILED', awsCode: 'SignatureDoesNotMatch', message: expect.stringMatching(/source credentials are invalid or expired/) });
    expect((err as Error).message).not.toContain('wrong');
  });

  test('an unreachable STS endpoint', async () => {
    const err = await client({ stsEndpoint: 'http://127.0.0.1:1' }).fetch(`${fn.url}/x`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STS_FAILED', message: expect.stringMatching(/^cannot assume role .*ECONNREFUSED.*check stsEndpoint/) });
  });
});

describe('source credentials', () => {
  const ENV = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE'];
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const name of ENV) {
      saved[name] = process.env[name];
      delete process.env[name];
    }
    // Keep the default chain on this machine: no shared files, no instance metadata.
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
  });
  afterEach(() => {
    for (const name of ENV) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  test('without a role, requests are signed with explicit credentials', async () => {
    const seen = await echo(await new LambdaUrlClient({ region: REGION, credentials: SOURCE }).fetch(`${fn.url}/direct`));
    expect(seen.iam).toMatchObject({ accessKey: SOURCE.accessKeyId, userArn: 'arn:aws:iam::111122223333:user/caller' });
  });

  test('a provider is called once while its credentials stay valid', async () => {
    let calls = 0;
    const provider = async () => {
      calls += 1;
      return { ...SOURCE, expiration: new Date(Date.now() + 3600_000) };
    };
    const c = new LambdaUrlClient({ region: REGION, credentials: provider });
    await Promise.all([1, 2, 3].map(() => c.fetch(`${fn.url}/p`).then(echo)));
    expect(calls).toBe(1);
  });

  test('ambient credentials from the default chain (environment), with and without a role', async () => {
    process.env.AWS_ACCESS_KEY_ID = SOURCE.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = SOURCE.secretAccessKey;
    const direct = await echo(await new LambdaUrlClient({ region: REGION }).fetch(`${fn.url}/ambient`));
    expect(direct.iam.accessKey).toBe(SOURCE.accessKeyId);
    const viaRole = await echo(await new LambdaUrlClient({ region: REGION, roleArn: ROLE, stsEndpoint: sts.url }).fetch(`${fn.url}/ambient`));
    expect(viaRole.iam.userArn).toMatch(/:assumed-role\/orders-caller\/s2s-auth-/);
  });

  test('credentials that have expired are refused before signing, with the fix', async () => {
    const expiration = new Date(Date.now() - 1000);
    const fixed = new LambdaUrlClient({ region: REGION, credentials: { ...SOURCE, expiration } });
    await expect(fixed.fetch(`${fn.url}/old`)).rejects.toMatchObject({ code: 'STS_FAILED', message: `cannot resolve AWS credentials: the credentials expired at ${expiration.toISOString()}; pass fresh ones, or a provider function (such as the AWS SDK's fromIni()) that renews them` });
    const provider = new LambdaUrlClient({ region: REGION, credentials: async () => ({ ...SOURCE, expiration }) });
    await expect(provider.sign(`${fn.url}/old`)).rejects.toMatchObject({ code: 'STS_FAILED', message: expect.stringMatching(/the credentials expired at/) });
    expect(fn.rejected.filter((r) => r.code === 'ExpiredToken')).toEqual([]);
  });

  test('STS credentials that arrive expired point at the clock', async () => {
    sts.lifetimeSeconds = -60;
    await expect(client().fetch(`${fn.url}/old`)).rejects.toMatchObject({ code: 'BAD_RESPONSE', message: expect.stringMatching(/^STS issued credentials for arn:aws:iam::111122223333:role\/orders-caller that expired at .*, before their first use; check this machine's clock/) });
  });

  test('no credentials anywhere is a clear error', async () => {
    await expect(new LambdaUrlClient({ region: REGION }).fetch(`${fn.url}/none`)).rejects.toMatchObject({
      code: 'STS_FAILED',
      message: expect.stringMatching(/^cannot resolve AWS credentials: no source AWS credentials found; set AWS_ACCESS_KEY_ID/),
    });
  });
});

describe('option validation', () => {
  test.each<[string, Partial<LambdaUrlClientOptions>, RegExp]>([
    ['region', { region: 'EU-WEST' }, /invalid option 'region': must be an AWS region such as us-east-1 .*\(got "EU-WEST"\)/],
    ['region', { region: undefined as unknown as string }, /invalid option 'region'/],
    ['roleArn', { roleArn: 'arn:aws:iam::1234:role/x' }, /invalid option 'roleArn': must be an IAM role ARN/],
    ['roleArn', { roleArn: 'arn:aws:iam::111122223333:user/x' }, /invalid option 'roleArn'/],
    ['externalId', { externalId: 'has space' }, /invalid option 'externalId': must be 2 to 1224 characters/],
    ['externalId', { externalId: 'x' }, /invalid option 'externalId'/],
    ['sessionName', { sessionName: 'a/b' }, /invalid option 'sessionName': must be 2 to 64 characters/],
    ['sessionName', { sessionName: 'x'.repeat(65) }, /invalid option 'sessionName'/],
    ['sourceIdentity', { sourceIdentity: 'a b' }, /invalid option 'sourceIdentity'/],
    ['durationSeconds', { durationSeconds: 899 }, /invalid option 'durationSeconds': must be an integer between 900 and 43200.*\(got 899\)/],
    ['durationSeconds', { durationSeconds: 43201 }, /invalid option 'durationSeconds'/],
    ['durationSeconds', { durationSeconds: 1000.5 }, /invalid option 'durationSeconds'/],
    ['credentials', { credentials: { accessKeyId: 'AKIA' } as never }, /invalid option 'credentials': must be \{ accessKeyId, secretAccessKey, sessionToken\? \}/],
    ['stsEndpoint', { stsEndpoint: 'http://sts.example.com' }, /invalid option 'stsEndpoint': must be an absolute https:\/\/ URL/],
    ['stsEndpoint', { stsEndpoint: 'not a url' }, /invalid option 'stsEndpoint'/],
    ['timeoutMs', { timeoutMs: 0 }, /invalid option 'timeoutMs': must be an integer number of milliseconds/],
  ])('%s', (option, bad, message) => {
    const err = thrown(() => client(bad));
    expect(err).toBeInstanceOf(CredentialError);
    expect(err).toMatchObject({ code: 'INVALID_OPTION', option, message: expect.stringMatching(message) });
  });

  test.each(['externalId', 'sessionName', 'durationSeconds', 'sourceIdentity'])('%s without roleArn', (option) => {
    const value = option === 'durationSeconds' ? 900 : 'valid-value';
    expect(() => new LambdaUrlClient({ region: REGION, credentials: SOURCE, [option]: value })).toThrow(new RegExp(`invalid option '${option}': only applies when roleArn is set`));
  });

  test('a secret never appears in an option error', () => {
    expect(() => client({ credentials: { accessKeyId: '', secretAccessKey: 'TOP-SECRET' } })).toThrow(/^(?!.*TOP-SECRET)/);
  });

  test.each([
    ['not http(s)', 'ftp://example.com/x'],
    ['relative', '/relative'],
    ['plain http off loopback (the signed headers carry the session token)', 'http://abc.lambda-url.eu-west-1.on.aws/x'],
    ['a URL object that is not http(s)', new URL('file:///etc/passwd')],
  ])('a URL that is %s', async (_what, url) => {
    await expect(client().sign(url)).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'url', message: expect.stringMatching(/must be an absolute https:\/\/ URL/) });
  });

  test('a malformed %-escape in the query', async () => {
    await expect(client().sign('https://abc.lambda-url.eu-west-1.on.aws/x?q=100%')).rejects.toMatchObject({ code: 'INVALID_OPTION', option: 'url', message: expect.stringMatching(/malformed %-escape .*write a literal % as %25/) });
  });
});

async function issued(): Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration: Date }> {
  const c = client();
  const { headers } = await c.sign(`${fn.url}/probe`);
  const accessKeyId = /Credential=([^/]+)\//.exec(headers.authorization)![1];
  const known = sts.lookup(accessKeyId)!;
  return { accessKeyId, secretAccessKey: known.secretAccessKey, sessionToken: known.sessionToken, expiration: known.expiration! };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
