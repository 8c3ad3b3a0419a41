/**
 * What every reference-handler test does the same way: run the built bundle inside the real
 * functions-framework, call it over HTTP on 127.0.0.1, and check the shape of refusals.
 */
import * as net from 'node:net';
import type { ReferenceHandler } from '../../lib/bundling';
import { startFunction, type RunningFunction } from '../peers/functions-framework';

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON body. */
  readonly body: Record<string, unknown>;
}

export async function get(fn: RunningFunction, path = '/', headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(`${fn.url}${path}`, { headers });
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return { status: res.status, headers: res.headers, body: await res.json() as Record<string, unknown> };
}

/**
 * Sends one request written byte by byte on a socket (fetch and node:http refuse to send
 * non-ASCII or control bytes in headers, attackers do not) and returns the status and body.
 */
export function rawGet(fn: RunningFunction, header: Buffer): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(fn.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(Number(port), hostname, () => {
      socket.end(Buffer.concat([Buffer.from(`GET / HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n`), header, Buffer.from('\r\n\r\n')]));
    });
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!status) return reject(new Error(`not an HTTP response: ${JSON.stringify(text.slice(0, 200))}`));
      resolve({ status: Number(status[1]), body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
  });
}

/** A refusal: the status, the stable code, a safe message and, for 401, the RFC 6750 challenge. */
export function expectRefused(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, error: reply.body.error }).toEqual({ status, error: code });
  expect(typeof reply.body.message).toBe('string');
  expect(reply.headers.get('cache-control')).toBe('no-store');
  const challenge = reply.headers.get('www-authenticate');
  if (status === 401) expect(challenge).toMatch(/^Bearer error="invalid_token", error_description="[\x20-\x21\x23-\x5b\x5d-\x7e]*"$/);
  else if (code === 'INSUFFICIENT_SCOPE') expect(challenge).toMatch(/^Bearer error="insufficient_scope", error_description="/);
  else expect(challenge).toBeNull();
}

/** Runs a handler for the tests of one `describe` block and stops it afterwards; `fn()` is the running function. */
export function runFunction(handler: ReferenceHandler, env: () => Record<string, string>): () => RunningFunction {
  let fn: RunningFunction | undefined;
  beforeAll(async () => {
    fn = await startFunction({ handler, env: env() });
  });
  afterAll(async () => {
    await fn?.stop();
  });
  return () => fn!;
}

/**
 * The function's first log line matching `pattern`, as soon as the child's output has arrived
 * (its pipe is read on our event loop, so it may trail the HTTP answer on a loaded machine).
 */
export async function logLine(fn: RunningFunction, pattern: RegExp): Promise<string | undefined> {
  for (const deadline = Date.now() + 10_000; ;) {
    const line = fn.logs().split('\n').find((l) => pattern.test(l));
    if (line !== undefined || Date.now() > deadline) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Tokens no verifier may accept and no handler may answer with a 500: wrong shapes, JSON
 * that is not an object, encrypted-token shape, non-base64url characters, and a token over the
 * size limit but well under Node's header limit.
 */
export const GARBAGE_TOKENS: readonly string[] = [
  'x',
  'a.b.c',
  '..',
  'e30.e30.e30.e30.e30',
  `${Buffer.from('[1]').toString('base64url')}.${Buffer.from('null').toString('base64url')}.sig`,
  `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{').toString('base64url')}.`,
  'eyJhbGciOiJSUzI1NiJ9.e30.%%%',
  'A'.repeat(9000),
];

/**
 * The requests that must end in a refusal (never a 200, never a 5xx) for a handler reading
 * its credential from `header`: garbage values, non-ASCII and control bytes, and a header
 * over Node's 16 KiB limit (refused by Node itself with 431).
 */
export function expectGarbageRefused(fn: () => RunningFunction, header: string, format: (token: string) => string = (t) => t): void {
  test.each(GARBAGE_TOKENS.map((t) => [t.length > 40 ? `${t.slice(0, 20)}... (${t.length} chars)` : t, t]))('garbage %s → 401, not 500', async (_label, token) => {
    const reply = await get(fn(), '/', { [header]: format(token) });
    expect(reply.status).toBe(401);
    expect(reply.body.message).not.toMatch(/at .*\.js:\d+/); // no stack trace
  });

  test('non-ASCII bytes in the credential → 401', async () => {
    const reply = await rawGet(fn(), Buffer.concat([Buffer.from(`${header}: ${format('')}`), Buffer.from('tökén✓.ü.é', 'utf8')]));
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body)).toMatchObject({ error: expect.stringMatching(/^(MALFORMED_TOKEN|MISSING_TOKEN)$/) });
  });

  test('control bytes in the header → 400 from the HTTP parser, never reaching the function', async () => {
    const reply = await rawGet(fn(), Buffer.from(`${header}: ${format('a\x01b')}`));
    expect(reply.status).toBe(400);
  });

  test('a header over 16 KiB → 431 from Node, not 500', async () => {
    const res = await fetch(`${fn().url}/`, { headers: { [header]: format('A'.repeat(20_000)) } });
    expect(res.status).toBe(431);
  });
}

/**
 * Starts `handler` with `env`, which must be refused at cold start: every request answers
 * 500 MISCONFIGURED, and the log names the variable exactly once.
 */
export async function expectMisconfigured(handler: ReferenceHandler, env: Record<string, string>, log: RegExp): Promise<void> {
  const fn = await startFunction({ handler, env });
  try {
    for (let i = 0; i < 2; i++) {
      const reply = await get(fn, '/');
      expect(reply.status).toBe(500);
      expect(reply.body).toEqual({ error: 'MISCONFIGURED', message: 'the function is misconfigured; see its logs' });
    }
    await logLine(fn, /misconfigured/);
    const lines = fn.logs().split('\n').filter((line) => line.includes('misconfigured'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^s2s-auth ${handler} handler is misconfigured and refuses every request: ${log.source}`));
  } finally {
    await fn.stop();
  }
}
