import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { ClientCredentialsTokenSource, CredentialError, type ClientCredentialsTokenSourceOptions } from '../../lib/client';
import { signJwt, testKey } from '../peers/keys';
import { startOidcProvider, type OidcPeer } from '../peers/oidc';
import { closedPort, thrown } from './util';

const SHORT = 'https://short-lived.api.s2s.test/';
let oidc: OidcPeer;

beforeAll(async () => {
  oidc = await startOidcProvider({
    clients: [{ id: 's2s-caller', secret: 's3cr+t:with/special %chars', scope: 'orders:read orders:write' }],
    resources: [
      { indicator: 'https://orders.api.s2s.test/', scope: 'orders:read orders:write orders:admin', accessTokenTTL: 300 },
      { indicator: SHORT, scope: 'orders:read', accessTokenTTL: 2 },
    ],
  });
});
afterAll(() => oidc.stop());

const source = (options: Partial<ClientCredentialsTokenSourceOptions> = {}) => new ClientCredentialsTokenSource({
  tokenEndpoint: oidc.tokenEndpoint,
  clientId: oidc.client.id,
  clientSecret: oidc.client.secret,
  resource: oidc.resource.indicator,
  scope: 'orders:read',
  ...options,
});

describe('against a real oidc-provider', () => {
  test('obtains a JWT access token for the resource, verifiable with the issuer\'s JWKS', async () => {
    const s = source({ scope: ['orders:read', 'orders:write'] });
    const info = await s.getTokenInfo();
    const { payload, protectedHeader } = await jwtVerify(info.token, createRemoteJWKSet(new URL(oidc.jwksUri)), { issuer: oidc.issuer, audience: oidc.resource.indicator, typ: 'at+jwt' });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload).toMatchObject({ client_id: 's2s-caller', scope: 'orders:read orders:write' });
    expect(info.scope).toBe('orders:read orders:write');
    expect(Math.abs(info.expiresAt!.getTime() - (Date.now() + 300_000))).toBeLessThan(5_000);
  });

  test('one token request for 1,000 concurrent getToken() calls, then served from cache', async () => {
    const s = source();
    const before = await oidc.tokenRequests();
    const tokens = await Promise.all(Array.from({ length: 1000 }, () => s.getToken()));
    expect(new Set(tokens).size).toBe(1);
    for (let i = 0; i < 10; i++) expect(await s.getToken()).toBe(tokens[0]);
    expect((await oidc.tokenRequests()) - before).toBe(1);
  });

  // The exact rule (kept until half life) is proven on a fake clock in refresh.test.ts; here only
  // lower-bounded waits, so a slow machine cannot turn the check around.
  test('a token living less than the 5-minute margin is replaced once past half its life', async () => {
    const s = source({ resource: SHORT });
    const before = await oidc.tokenRequests();
    const first = await s.getToken();
    expect(decodeJwt(first).aud).toBe(SHORT);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await s.getToken()).not.toBe(first);
    expect((await oidc.tokenRequests()) - before).toBe(2);
  });

  test('a wrong secret is invalid_client, typed, without the secret, and not cached', async () => {
    const s = source({ clientSecret: 'wrong+secret value' });
    const before = await oidc.tokenRequests();
    const err = await s.getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect(err).toMatchObject({ code: 'TOKEN_ENDPOINT_ERROR', status: 401, oauthError: 'invalid_client', oauthErrorDescription: 'client authentication failed' });
    expect((err as Error).message).toBe(`token endpoint ${oidc.tokenEndpoint} refused the request with HTTP 401 invalid_client (client authentication failed): check the client id and secret (or the service-account key), and that the client may authenticate this way`);
    await expect(s.getToken()).rejects.toMatchObject({ oauthError: 'invalid_client' });
    expect((await oidc.tokenRequests()) - before).toBe(2);
  });

  test('an unknown client is invalid_client too', async () => {
    await expect(source({ clientId: 'nobody' }).getToken()).rejects.toMatchObject({ code: 'TOKEN_ENDPOINT_ERROR', oauthError: 'invalid_client' });
  });

  test('a scope the client may not have is invalid_scope', async () => {
    await expect(source({ scope: 'orders:admin' }).getToken()).rejects.toMatchObject({
      code: 'TOKEN_ENDPOINT_ERROR',
      status: 400,
      oauthError: 'invalid_scope',
      message: expect.stringMatching(/invalid_scope \(requested scope is not allowed\): request only scopes that the client and the resource allow$/),
    });
  });

  test('a resource the server does not know is invalid_target', async () => {
    await expect(source({ resource: 'https://unknown.api.s2s.test/' }).getToken()).rejects.toMatchObject({
      code: 'TOKEN_ENDPOINT_ERROR',
      oauthError: 'invalid_target',
      message: expect.stringMatching(/check the resource indicator$/),
    });
  });
});

interface Received {
  authorization?: string;
  contentType?: string;
  form: URLSearchParams;
}

/** A token endpoint answering canned replies in order, for answers no real server gives. */
async function cannedEndpoint(replies: { status: number; body: string; contentType?: string }[]) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      received.push({ authorization: req.headers.authorization, contentType: req.headers['content-type'], form: new URLSearchParams(body) });
      const reply = replies.shift() ?? { status: 500, body: 'no more canned replies' };
      res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' }).end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth/token`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('the request on the wire, and answers that are not a usable token', () => {
  const ok = (extra: object = {}) => ({ status: 200, body: JSON.stringify({ access_token: 'opaque-token', token_type: 'Bearer', expires_in: 3600, ...extra }) });

  test('Basic auth with form-encoded id and secret, several resources, scope and audience', async () => {
    const endpoint = await cannedEndpoint([ok()]);
    try {
      const s = new ClientCredentialsTokenSource({
        tokenEndpoint: endpoint.url,
        clientId: 'my client:1',
        clientSecret: 'p@ss+word/%~ é',
        resource: ['https://a.example/', 'https://b.example/api'],
        scope: ' read  write ',
        audience: 'https://api.example.com',
      });
      expect(await s.getToken()).toBe('opaque-token');
      const [request] = endpoint.received;
      expect(request.contentType).toBe('application/x-www-form-urlencoded');
      expect(Buffer.from(request.authorization!.replace(/^Basic /, ''), 'base64').toString()).toBe('my+client%3A1:p%40ss%2Bword%2F%25%7E+%C3%A9');
      expect([...request.form]).toEqual([
        ['grant_type', 'client_credentials'],
        ['resource', 'https://a.example/'],
        ['resource', 'https://b.example/api'],
        ['scope', 'read write'],
        ['audience', 'https://api.example.com'],
      ]);
      expect(request.form.has('client_secret')).toBe(false);
    } finally {
      await endpoint.close();
    }
  });

  test.each<[string, { status: number; body: string; contentType?: string }, object]>([
    ['HTML error page', { status: 503, body: '<html>down</html>', contentType: 'text/html' }, { code: 'BAD_RESPONSE', status: 503, message: expect.stringMatching(/answered HTTP 503 text\/html, not a JSON token response: "<html>down<\/html>"; check tokenEndpoint$/) }],
    ['JSON that is not an object', { status: 200, body: '["x"]' }, { code: 'BAD_RESPONSE', status: 200 }],
    ['no access_token', { status: 200, body: '{"token_type":"Bearer"}' }, { code: 'BAD_RESPONSE', message: expect.stringMatching(/without an access_token/) }],
    ['a DPoP-bound token', ok({ token_type: 'DPoP' }), { code: 'BAD_RESPONSE', message: expect.stringMatching(/issued a "DPoP" token, not a Bearer token/) }],
    ['unauthorized_client', { status: 400, body: '{"error":"unauthorized_client"}' }, { code: 'TOKEN_ENDPOINT_ERROR', oauthError: 'unauthorized_client', oauthErrorDescription: undefined, message: expect.stringMatching(/HTTP 400 unauthorized_client: the client is not allowed this grant type/) }],
    ['an unknown OAuth error', { status: 400, body: '{"error":"slow_down","error_description":"later"}' }, { code: 'TOKEN_ENDPOINT_ERROR', oauthError: 'slow_down', message: expect.stringMatching(/slow_down \(later\): see the server's error_description$/) }],
  ])('%s', async (_what, reply, expected) => {
    const endpoint = await cannedEndpoint([reply]);
    try {
      const err = await source({ tokenEndpoint: endpoint.url }).getToken().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CredentialError);
      expect(err).toMatchObject(expected);
      expect((err as Error).message).not.toContain(oidc.client.secret);
    } finally {
      await endpoint.close();
    }
  });

  test('a JWT that arrives expired (no expires_in) is refused: a clock problem', async () => {
    const expired = await signJwt(testKey('ES256'), { exp: Math.floor(Date.now() / 1000) - 10 });
    const endpoint = await cannedEndpoint([{ status: 200, body: JSON.stringify({ access_token: expired, token_type: 'bearer' }) }]);
    try {
      await expect(source({ tokenEndpoint: endpoint.url }).getToken()).rejects.toMatchObject({ code: 'BAD_RESPONSE', message: expect.stringMatching(/^the access token received expired at .*, before it arrived; check this machine's clock$/) });
    } finally {
      await endpoint.close();
    }
  });

  test('lifetime: expires_in as a string, else the JWT exp, else used once and not cached', async () => {
    const jwt = await signJwt(testKey('ES256'), { exp: Math.floor(Date.now() / 1000) + 600 });
    const endpoint = await cannedEndpoint([ok({ expires_in: '120' }), ok({ access_token: jwt, expires_in: undefined }), ok({ expires_in: undefined }), ok({ access_token: 'second', expires_in: undefined })]);
    try {
      const asString = await source({ tokenEndpoint: endpoint.url }).getTokenInfo();
      expect(Math.abs(asString.expiresAt!.getTime() - (Date.now() + 120_000))).toBeLessThan(5_000);
      const fromJwt = await source({ tokenEndpoint: endpoint.url }).getTokenInfo();
      expect(fromJwt.expiresAt!.getTime()).toBe(decodeJwt(jwt).exp! * 1000);
      const unknown = source({ tokenEndpoint: endpoint.url });
      expect(await unknown.getTokenInfo()).toEqual({ token: 'opaque-token', expiresAt: undefined, scope: undefined });
      expect(await unknown.getToken()).toBe('second');
      expect(endpoint.received).toHaveLength(4);
    } finally {
      await endpoint.close();
    }
  });

  test('an unreachable endpoint is NETWORK', async () => {
    const port = await closedPort();
    await expect(source({ tokenEndpoint: `http://127.0.0.1:${port}/token` }).getToken()).rejects.toMatchObject({ code: 'NETWORK', message: expect.stringMatching(/\(ECONNREFUSED\)/) });
  });
});

describe('option validation', () => {
  test.each<[string, Partial<ClientCredentialsTokenSourceOptions>, RegExp]>([
    ['tokenEndpoint', { tokenEndpoint: 'http://auth.example.com/token' }, /invalid option 'tokenEndpoint': must be an absolute https:\/\/ URL \(http:\/\/ only for localhost \/ 127\.0\.0\.1\)/],
    ['tokenEndpoint', { tokenEndpoint: '/token' }, /invalid option 'tokenEndpoint'/],
    ['tokenEndpoint', { tokenEndpoint: 'https://auth.example.com/token#x' }, /must not contain credentials or a #fragment/],
    ['clientId', { clientId: '' }, /invalid option 'clientId': is required and must be a non-empty string \(got ""\)/],
    ['clientSecret', { clientSecret: ' ' }, /^invalid option 'clientSecret': is required and must be a non-empty string$/],
    ['resource', { resource: 'orders-api' }, /invalid option 'resource': must be absolute URIs without a #fragment \(RFC 8707\).*\(got "orders-api"\)/],
    ['resource', { resource: ['https://a.example/', 'https://b.example/#frag'] }, /invalid option 'resource'/],
    ['scope', { scope: ['read', 'has space'] }, /invalid option 'scope': each scope must be printable ASCII without spaces/],
    ['scope', { scope: 'read "quoted"' }, /invalid option 'scope'/],
    ['audience', { audience: '' }, /invalid option 'audience'/],
    ['timeoutMs', { timeoutMs: -1 }, /invalid option 'timeoutMs'/],
  ])('%s', (option, bad, message) => {
    const err = thrown(() => source(bad));
    expect(err).toMatchObject({ code: 'INVALID_OPTION', option, message: expect.stringMatching(message) });
  });
});
