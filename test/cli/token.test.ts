import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startGoogleTokenServer, testServiceAccount, type GoogleTokenServer, type TestServiceAccount } from '../peers/google-token';
import { startOidcProvider, type OidcPeer } from '../peers/oidc';
import { assertBuilt, closedUrl, s2s, tempFile } from './support';

const AUDIENCE = 'https://orders-abc123-ew.a.run.app';

let google: GoogleTokenServer;
let account: TestServiceAccount;
let unknownAccount: TestServiceAccount;
let keyFile: string;
let oidc: OidcPeer;

beforeAll(async () => {
  assertBuilt();
  account = await testServiceAccount();
  unknownAccount = await testServiceAccount();
  google = await startGoogleTokenServer({ serviceAccounts: [account] });
  keyFile = tempFile('caller-key.json', JSON.stringify(account.key));
  oidc = await startOidcProvider();
});
afterAll(async () => {
  await google?.close();
  await oidc?.stop();
});

const tokenEnv = () => ({ S2S_GOOGLE_TOKEN_ENDPOINT: google.tokenEndpoint });

/** Nothing the command prints may contain the service account's private key. */
function expectNoPrivateKey(output: string): void {
  const body = account.key.private_key.split('\n')[1];
  expect(output).not.toContain('PRIVATE KEY');
  expect(output).not.toContain(body);
}

describe('s2s token id', () => {
  test('--key-file: exchanges a signed assertion at the token endpoint named by S2S_GOOGLE_TOKEN_ENDPOINT and prints the ID token alone', async () => {
    const before = google.requests.token;
    const res = await s2s(['token', 'id', '--audience', AUDIENCE, '--key-file', keyFile], { env: tokenEnv() });
    expect(res).toMatchObject({ code: 0, stderr: '' });
    expect(res.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(decodeJwt(res.stdout.trim())).toMatchObject({ iss: 'https://accounts.google.com', aud: AUDIENCE, email: account.email, email_verified: true });
    expect(decodeProtectedHeader(res.stdout.trim()).kid).toBe(google.googleKey.kid);
    expect(google.requests.token).toBe(before + 1);
    expectNoPrivateKey(res.stdout + res.stderr);
  });

  test('--token-endpoint takes precedence over the environment variable', async () => {
    const res = await s2s(['token', 'id', '--audience', AUDIENCE, '--key-file', keyFile, '--token-endpoint', google.tokenEndpoint], { env: { S2S_GOOGLE_TOKEN_ENDPOINT: 'http://127.0.0.1:9/unused' } });
    expect(res.code).toBe(0);
    expect(decodeJwt(res.stdout.trim()).aud).toBe(AUDIENCE);
  });

  test('without a key: asks the metadata server named by GCE_METADATA_HOST (format=full)', async () => {
    const before = google.requests.metadata;
    const res = await s2s(['token', 'id', '--audience', AUDIENCE], { env: { GCE_METADATA_HOST: google.metadataHost } });
    expect(res.code).toBe(0);
    expect(decodeJwt(res.stdout.trim())).toMatchObject({ aud: AUDIENCE, email: account.email, google: { compute_engine: { project_id: 's2s-test' } } });
    expect(google.requests.metadata).toBe(before + 1);
  });

  test('--json prints the token with its expiry', async () => {
    const res = await s2s(['token', 'id', '--audience', AUDIENCE, '--key-file', keyFile, '--json'], { env: tokenEnv() });
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { token: string; expiresAt: string };
    expect(Object.keys(out).sort()).toEqual(['expiresAt', 'token']);
    expect(new Date(out.expiresAt).getTime()).toBe((decodeJwt(out.token).exp as number) * 1000);
  });

  test('a key the token endpoint does not know: the OAuth error code and what to check, exit 1', async () => {
    const unknownKey = tempFile('other-key.json', JSON.stringify(unknownAccount.key));
    const res = await s2s(['token', 'id', '--audience', AUDIENCE, '--key-file', unknownKey], { env: tokenEnv() });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(res.stderr).toMatch(/^s2s token id: token endpoint http:\/\/127\.0\.0\.1:\d+\/token refused the request with HTTP 400 invalid_grant \(Invalid JWT Signature\.\): the assertion was refused: check that the service-account key is not deleted or disabled/);
    expect(res.stderr).not.toContain('PRIVATE KEY');
  });

  test('--json errors are one JSON object on stderr', async () => {
    google.failNext('token', { status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'Invalid grant: account not found' }) });
    const res = await s2s(['token', 'id', '--audience', AUDIENCE, '--key-file', keyFile, '--json'], { env: tokenEnv() });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    expect(JSON.parse(res.stderr)).toEqual({ error: { code: 'TOKEN_ENDPOINT_ERROR', message: expect.stringContaining('invalid_grant (Invalid grant: account not found)'), exitCode: 1 } });
  });

  test('an unreachable metadata server exits 1 and says what to do outside Google Cloud', async () => {
    const host = (await closedUrl()).slice('http://'.length);
    const res = await s2s(['token', 'id', '--audience', AUDIENCE], { env: { GCE_METADATA_HOST: host } });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`s2s token id: cannot reach the Google metadata server at http://${host}/computeMetadata/v1/instance/service-accounts/default/identity (ECONNREFUSED): outside Google Cloud pass key or keyFile, or set GCE_METADATA_HOST\n`);
  });

  test('a malformed GCE_METADATA_HOST is a usage error naming the variable once', async () => {
    const res = await s2s(['token', 'id', '--audience', AUDIENCE], { env: { GCE_METADATA_HOST: 'http://169.254.169.254/' } });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/^s2s token id: invalid option 'GCE_METADATA_HOST': must be a host name or IP address with an optional :port/);
  });

  test.each([
    [['token', 'id'], '--audience is required, e.g. --audience https://'],
    [['token', 'id', '--audience', AUDIENCE, '--key-file', '/no/such/key.json'], '--key-file: cannot read keyFile "/no/such/key.json": ENOENT; pass the path of a service-account JSON key'],
    [['token', 'id', '--audience', AUDIENCE, '--token-endpoint', 'https://oauth2.googleapis.com/token'], '--token-endpoint only applies with --key-file'],
    [['token', 'id', '--audience', AUDIENCE, 'extra'], 'unexpected argument "extra"'],
    [['token', 'idd'], 'unknown command "idd"; expected one of id, sa-jwt, client-credentials'],
  ])('usage error %j exits 2', async (args, message) => {
    const res = await s2s(args, { env: tokenEnv() });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
    expect(res.stderr).not.toMatch(/\n\s+at /);
  });

  test.each([
    ['not JSON', '{ "type": "service_account", ', 'is not JSON; pass the service-account JSON key file that `gcloud iam service-accounts keys create` writes'],
    ['a user credential', '{"type":"authorized_user","client_id":"x","refresh_token":"secret-refresh"}', 'field \'type\' is "authorized_user", expected "service_account" (this is a user credential from `gcloud auth application-default login`; create a service-account key instead)'],
  ])('a key file that is %s exits 2 naming --key-file', async (_what, content, message) => {
    const file = tempFile('key.json', content);
    const res = await s2s(['token', 'id', '--audience', AUDIENCE, '--key-file', file], { env: tokenEnv() });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('s2s token id: --key-file: ');
    expect(res.stderr).toContain(message);
    expect(res.stderr).not.toContain('secret-refresh');
  });
});

describe('s2s token sa-jwt', () => {
  test('signs iss = sub = the account, aud, kid = private_key_id, one hour by default', async () => {
    const res = await s2s(['token', 'sa-jwt', '--key-file', keyFile, '--audience', 'orders.endpoints.s2s-test.cloud.goog']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const token = res.stdout.trim();
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: account.email, sub: account.email, aud: 'orders.endpoints.s2s-test.cloud.goog' });
    expect((claims.exp as number) - (claims.iat as number)).toBe(3600);
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: account.key.private_key_id });
    expectNoPrivateKey(res.stdout);
  });

  test('--expires sets the lifetime; --json adds the expiry', async () => {
    const res = await s2s(['token', 'sa-jwt', '--key-file', keyFile, '--audience', 'a', '--expires', '600', '--json']);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { token: string; expiresAt: string };
    const claims = decodeJwt(out.token);
    expect((claims.exp as number) - (claims.iat as number)).toBe(600);
    expect(out.expiresAt).toBe(new Date((claims.exp as number) * 1000).toISOString());
  });

  test.each([
    [['--audience', 'a'], '--key-file is required'],
    [['--key-file', 'KEY'], '--audience is required'],
    [['--key-file', 'KEY', '--audience', 'a', '--expires', 'soon'], '--expires must be a whole number of seconds between 1 and 3600 (got "soon")'],
    [['--key-file', 'KEY', '--audience', 'a', '--expires', '7200'], "--expires: invalid option 'expiresInSec': must be an integer between 1 and 3600 seconds"],
    [['--key-file', 'KEY', '--audience', 'a', '--expires', '0'], "--expires: invalid option 'expiresInSec'"],
  ])('usage error %j exits 2', async (args, message) => {
    const res = await s2s(['token', 'sa-jwt', ...args.map((a) => (a === 'KEY' ? keyFile : a))]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
  });
});

describe('s2s token client-credentials', () => {
  const args = () => ['token', 'client-credentials', '--token-endpoint', oidc.tokenEndpoint, '--client-id', oidc.client.id, '--resource', oidc.resource.indicator];

  test('secret from S2S_CLIENT_SECRET: prints an RFC 9068 access token from a real oidc-provider', async () => {
    const res = await s2s([...args(), '--scope', 'orders:read'], { env: { S2S_CLIENT_SECRET: oidc.client.secret } });
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const token = res.stdout.trim();
    expect(decodeProtectedHeader(token).typ).toBe('at+jwt');
    expect(decodeJwt(token)).toMatchObject({ iss: oidc.issuer, aud: oidc.resource.indicator, client_id: oidc.client.id, scope: 'orders:read' });
    expect(res.stdout).not.toContain(oidc.client.secret);
  });

  test('secret from --client-secret-file (trailing newline ignored) or stdin; --json has the granted scope and expiry', async () => {
    const file = tempFile('secret.txt', `${oidc.client.secret}\n`);
    const res = await s2s([...args(), '--client-secret-file', file, '--scope', 'orders:read orders:write', '--json']);
    expect(res.code).toBe(0);
    const out = JSON.parse(res.stdout) as { token: string; tokenType: string; expiresAt: string; scope: string };
    expect(out).toMatchObject({ tokenType: 'Bearer', scope: 'orders:read orders:write' });
    expect(new Date(out.expiresAt).getTime()).toBeGreaterThan(Date.now() + 200_000);
    expect(decodeJwt(out.token).scope).toBe('orders:read orders:write');

    const fromStdin = await s2s([...args(), '--client-secret-file', '-'], { stdin: oidc.client.secret });
    expect(fromStdin.code).toBe(0);
    expect(decodeJwt(fromStdin.stdout.trim()).client_id).toBe(oidc.client.id);
  });

  test('a wrong secret: invalid_client and what to check, exit 1, neither secret printed', async () => {
    const wrong = `${oidc.client.secret}-but-wrong`;
    const res = await s2s([...args(), '--json'], { env: { S2S_CLIENT_SECRET: wrong } });
    expect(res.code).toBe(1);
    expect(res.stdout).toBe('');
    const { error } = JSON.parse(res.stderr) as { error: { code: string; message: string } };
    expect(error.code).toBe('TOKEN_ENDPOINT_ERROR');
    expect(error.message).toMatch(/refused the request with HTTP 401 invalid_client .*: check the client id and secret/);
    expect(res.stderr).not.toContain(wrong);
    expect(res.stderr).not.toContain(oidc.client.secret);
  });

  test('a scope the client may not have: invalid_scope, exit 1', async () => {
    const res = await s2s([...args(), '--scope', 'orders:admin'], { env: { S2S_CLIENT_SECRET: oidc.client.secret } });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('invalid_scope');
    expect(res.stderr).toContain('request only scopes that the client and the resource allow');
  });

  test('--client-secret is refused before anything is sent, and the value is not echoed', async () => {
    for (const form of [['--client-secret', 'hunter2-secret'], ['--client-secret=hunter2-secret']]) {
      const res = await s2s([...args(), ...form]);
      expect(res.code).toBe(2);
      expect(res.stderr).toContain('--client-secret is not accepted: a secret in an argument is visible to every user in the process list and stays in your shell history; use --client-secret-file FILE or the S2S_CLIENT_SECRET environment variable');
      expect(res.stderr).not.toContain('hunter2');
    }
  });

  test.each([
    [[], {}, 'no client secret: pass --client-secret-file FILE or set S2S_CLIENT_SECRET'],
    [['--client-secret-file', '/no/such/secret'], {}, '--client-secret-file: cannot read "/no/such/secret" (no such file)'],
    [['--client-secret-file', 'EMPTY'], {}, 'is empty; put the client secret in it'],
    [['--resource', 'https://orders.example.com/#frag'], { S2S_CLIENT_SECRET: 'x' }, "--resource: invalid option 'resource': must be absolute URIs without a #fragment"],
    [['--scope', 'bad"scope'], { S2S_CLIENT_SECRET: 'x' }, "--scope: invalid option 'scope'"],
  ])('usage error %j exits 2', async (extra, env, message) => {
    const empty = tempFile('empty.txt', '');
    const res = await s2s([...args(), ...extra.map((a) => (a === 'EMPTY' ? empty : a))], { env });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(message);
  });

  test('required options and a non-https endpoint are usage errors', async () => {
    const missing = await s2s(['token', 'client-credentials', '--client-id', 'x'], { env: { S2S_CLIENT_SECRET: 'x' } });
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('--token-endpoint is required') });
    const plain = await s2s(['token', 'client-credentials', '--token-endpoint', 'http://auth.example.com/token', '--client-id', 'x'], { env: { S2S_CLIENT_SECRET: 'x' } });
    expect(plain).toMatchObject({ code: 2, stderr: expect.stringContaining("--token-endpoint: invalid option 'tokenEndpoint': must be an absolute https:// URL (http:// only for localhost / 127.0.0.1)") });
  });

  test('an unreachable token endpoint exits 1 with the reason', async () => {
    const endpoint = `${await closedUrl()}/token`;
    const res = await s2s(['token', 'client-credentials', '--token-endpoint', endpoint, '--client-id', 'x'], { env: { S2S_CLIENT_SECRET: 'x' } });
    expect(res.code).toBe(1);
    expect(res.stderr).toBe(`s2s token client-credentials: cannot reach the token endpoint at ${endpoint} (ECONNREFUSED): check the URL and that it is reachable from here\n`);
  });
});
