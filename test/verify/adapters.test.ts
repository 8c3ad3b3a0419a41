import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { requireAuth, withAuth, withFunctionUrlAuth } from '../../lib/verify/adapters';
import { GoogleIdTokenVerifier } from '../../lib/verify/google-id-token';
import { IapVerifier, type IapClaims } from '../../lib/verify/iap';
import { KeySetCache } from '../../lib/verify/key-set';
import { nowSec, signJwt, testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';

const IAP_AUD = '/projects/1234567890/apps/my-project';
const FN_URL = 'https://receiver-abc-ew.a.run.app';
const iapKey = testKey('ES256');
const googleKey = testKey('RS256');
let keys: KeySetServer;
let iap: IapVerifier;
let google: GoogleIdTokenVerifier;
const servers: Server[] = [];

beforeAll(async () => {
  keys = await KeySetServer.start();
  iap = new IapVerifier({ audience: IAP_AUD, jwksUrl: keys.jwks('/iap', [iapKey]), healthCheckPaths: ['/healthz'], keySetCache: new KeySetCache() });
  google = new GoogleIdTokenVerifier({ audience: FN_URL, certsUrl: keys.jwks('/certs', [googleKey]), allowedEmails: ['caller@p.iam.gserviceaccount.com'], keySetCache: new KeySetCache() });
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  await keys.close();
});

/** Registers `handler` with functions-framework and serves it on 127.0.0.1. */
async function serve(name: string, handler: functions.HttpFunction): Promise<string> {
  functions.http(name, handler);
  const server = getTestServer(name);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function iapToken(claims: Record<string, unknown> = {}): Promise<string> {
  return signJwt(iapKey, { iss: 'https://cloud.google.com/iap', aud: IAP_AUD, sub: 'accounts.google.com:1', email: 'jane@example.com', iat: nowSec(), exp: nowSec() + 600, ...claims });
}

function idToken(claims: Record<string, unknown> = {}): Promise<string> {
  return signJwt(googleKey, { iss: 'https://accounts.google.com', aud: FN_URL, sub: '42', email: 'caller@p.iam.gserviceaccount.com', email_verified: true, iat: nowSec(), exp: nowSec() + 3600, ...claims });
}

describe('withAuth on functions-framework (IAP)', () => {
  let base: string;
  beforeAll(async () => {
    base = await serve('iap-fn', withAuth(iap, (req, res) => {
      res.json({ email: (req.auth as IapClaims).email });
    }));
  });

  test('a verified request reaches the handler with req.auth', async () => {
    const res = await fetch(`${base}/orders`, { headers: { 'x-goog-iap-jwt-assertion': await iapToken() } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ email: 'jane@example.com' });
  });

  test('spoofed identity headers and bearer tokens get a 401 with the challenge', async () => {
    const res = await fetch(`${base}/orders`, { headers: { 'x-goog-authenticated-user-email': 'accounts.google.com:boss@example.com', authorization: `Bearer ${await iapToken()}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer error="invalid_token", error_description="the request has no x-goog-iap-jwt-assertion header/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ error: 'MISSING_TOKEN', message: expect.stringContaining('Identity-Aware Proxy') });
  });

  test('a health-check path answers 200 without a token (query string ignored), other paths do not', async () => {
    const health = await fetch(`${base}/healthz?probe=1`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect((await fetch(`${base}/healthz/deep`)).status).toBe(401);
  });

  test('a bad token is refused with its code', async () => {
    const res = await fetch(`${base}/`, { headers: { 'x-goog-iap-jwt-assertion': await iapToken({ aud: '/projects/1/apps/other' }) } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'WRONG_AUDIENCE' });
  });
});

describe('requireAuth middleware (Google ID token)', () => {
  let base: string;
  beforeAll(async () => {
    const middleware = requireAuth(google);
    base = await serve('google-mw', (req, res) => middleware(req, res, () => {
      res.json({ sub: (req as typeof req & { auth: { sub: string } }).auth.sub });
    }));
  });

  test('next() runs only for a verified, allowed caller', async () => {
    const ok = await fetch(base, { headers: { authorization: `Bearer ${await idToken()}` } });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ sub: '42' });
  });

  test('a caller outside the allow-list gets a 403 without a challenge', async () => {
    const res = await fetch(base, { headers: { authorization: `Bearer ${await idToken({ email: 'intruder@p.iam.gserviceaccount.com' })}` } });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(await res.json()).toMatchObject({ error: 'CALLER_NOT_ALLOWED' });
  });
});

describe('failures never leak internals', () => {
  test('keys unavailable: 503 with a safe message; the cause is logged', async () => {
    const broken = await KeySetServer.start();
    broken.jwks('/certs', [googleKey]);
    broken.fault('/certs', 'http-503');
    const verifier = new GoogleIdTokenVerifier({ audience: FN_URL, certsUrl: broken.url('/certs'), keySetCache: new KeySetCache() });
    const base = await serve('keys-down', withAuth(verifier, (_req, res) => {
      res.send('unreachable');
    }));
    const logged: unknown[][] = [];
    const spy = jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args));
    try {
      const res = await fetch(base, { headers: { authorization: `Bearer ${await idToken()}` } });
      expect(res.status).toBe(503);
      const body = await res.text();
      expect(JSON.parse(body)).toEqual({ error: 'KEYS_UNAVAILABLE', message: 'the signing keys are unavailable; try again later' });
      expect(body).not.toContain('127.0.0.1');
      expect(String(((logged[0][2] as Error).cause as Error).message)).toContain(broken.url('/certs'));
    } finally {
      spy.mockRestore();
      await broken.close();
    }
  });

  test('a throwing handler becomes an opaque 500', async () => {
    const base = await serve('throws', withAuth(google, () => {
      throw new Error('database password is hunter2');
    }));
    const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      const res = await fetch(base, { headers: { authorization: `Bearer ${await idToken()}` } });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: 'INTERNAL', message: 'internal error' });
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('withFunctionUrlAuth (Lambda function URL events)', () => {
  const handler = (event: { headers?: Record<string, string>; rawPath?: string }) => withFunctionUrlAuth(google, (event: { headers?: Record<string, string>; rawPath?: string }, claims) => ({ statusCode: 200, body: JSON.stringify({ path: event.rawPath, sub: claims.sub }) }))(event);

  test('a verified event reaches the handler with the claims', async () => {
    const result = await handler({ rawPath: '/work', headers: { authorization: `Bearer ${await idToken()}`, host: 'abc.lambda-url.eu-west-1.on.aws' } });
    expect(result).toEqual({ statusCode: 200, body: JSON.stringify({ path: '/work', sub: '42' }) });
  });

  test('a missing or bad token is a function URL result with the refusal', async () => {
    expect(await handler({ rawPath: '/work', headers: {} })).toMatchObject({ statusCode: 401, headers: { 'www-authenticate': expect.stringContaining('invalid_token') }, body: expect.stringContaining('MISSING_TOKEN') });
    expect(await handler({ rawPath: '/work' })).toMatchObject({ statusCode: 401 });
    expect(await handler({ headers: { authorization: 'Bearer not-a-jwt' } })).toMatchObject({ statusCode: 401, body: expect.stringContaining('MALFORMED_TOKEN') });
  });
});
