import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OAuth2Client } from 'google-auth-library';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { CredentialError, GoogleIdTokenSource, signServiceAccountJwt, type GoogleIdTokenSourceOptions, type ServiceAccountKey } from '../../lib/client';
import { GOOGLE_ISSUER, startGoogleTokenServer, testServiceAccount, type GoogleTokenServer, type TestServiceAccount } from '../peers/google-token';
import { testKey } from '../peers/keys';
import { KeySetServer } from '../peers/keyset-server';
import { closedPort, thrown } from './util';

const AUDIENCE = 'https://orders-abc123-ew.a.run.app';
const verifier = new OAuth2Client();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-client-google-'));

let sa: TestServiceAccount;
let stranger: TestServiceAccount;
let google: GoogleTokenServer;
let keyFile: string;

beforeAll(async () => {
  sa = await testServiceAccount('orders-caller@s2s-test.iam.gserviceaccount.com');
  stranger = await testServiceAccount('stranger@other.iam.gserviceaccount.com');
  google = await startGoogleTokenServer({ serviceAccounts: [sa] });
  keyFile = path.join(dir, 'key.json');
  fs.writeFileSync(keyFile, JSON.stringify(sa.key));
});
afterAll(() => google.close());
beforeEach(() => {
  google.idTokenLifetimeSec = 3600;
});

/** google-auth-library's verdict on an ID token signed by the stand-in's "Google" key. */
async function googleVerifies(token: string, audience = AUDIENCE) {
  const certs = (await (await fetch(google.x509Uri)).json()) as Record<string, string>;
  return (await verifier.verifySignedJwtWithCertsAsync(token, certs, audience, [GOOGLE_ISSUER])).getPayload();
}

describe('signServiceAccountJwt', () => {
  test('google-auth-library\'s verifier accepts it with the account\'s certificate', async () => {
    const jwt = await signServiceAccountJwt({ key: sa.key, audience: 'orders.endpoints.s2s-test.cloud.goog' });
    const ticket = await verifier.verifySignedJwtWithCertsAsync(jwt, { [sa.key.private_key_id]: sa.certificate }, 'orders.endpoints.s2s-test.cloud.goog', [sa.email], 3600);
    const claims = ticket.getPayload()!;
    expect(claims).toMatchObject({ iss: sa.email, sub: sa.email, aud: 'orders.endpoints.s2s-test.cloud.goog' });
    expect(claims.exp - claims.iat).toBe(3600);
    expect(decodeProtectedHeader(jwt)).toEqual({ alg: 'RS256', typ: 'JWT', kid: sa.key.private_key_id });
  });

  test('the verifier refuses it for another audience or another account\'s certificate (the check is real)', async () => {
    const jwt = await signServiceAccountJwt({ key: sa.key, audience: 'a' });
    await expect(verifier.verifySignedJwtWithCertsAsync(jwt, { [sa.key.private_key_id]: sa.certificate }, 'b', [sa.email], 3600)).rejects.toThrow(/Wrong recipient/);
    await expect(verifier.verifySignedJwtWithCertsAsync(jwt, { [sa.key.private_key_id]: stranger.certificate }, 'a', [sa.email], 3600)).rejects.toThrow(/Invalid token signature/);
  });

  test('from a key file, with a shorter lifetime', async () => {
    const claims = decodeJwt(await signServiceAccountJwt({ keyFile, audience: 'x', expiresInSec: 60 }));
    expect(claims.exp! - claims.iat!).toBe(60);
    expect(claims.iss).toBe(sa.email);
  });

  test.each<[string, object, RegExp]>([
    ['audience', { audience: '' }, /invalid option 'audience': is required/],
    ['expiresInSec', { expiresInSec: 3601 }, /invalid option 'expiresInSec': must be an integer between 1 and 3600 seconds \(Google accepts self-signed JWTs for at most one hour\) \(got 3601\)/],
    ['expiresInSec', { expiresInSec: 0 }, /invalid option 'expiresInSec'/],
    ['expiresInSec', { expiresInSec: 1.5 }, /invalid option 'expiresInSec'/],
    ['key', { key: undefined }, /invalid option 'key': pass exactly one of key \(the parsed JSON key\) and keyFile \(its path\)/],
    ['key', { keyFile: '/tmp/x.json' }, /invalid option 'key': pass exactly one of key/],
  ])('invalid %s', async (option, bad, message) => {
    await expect(signServiceAccountJwt({ key: sa.key, audience: 'a', ...bad })).rejects.toMatchObject({ code: 'INVALID_OPTION', option, message: expect.stringMatching(message) });
  });

  test.each<[string, (key: ServiceAccountKey) => unknown, RegExp]>([
    ['not an object', () => 'key.json', /key is not a usable service-account key: expected the JSON object of a service-account key/],
    ['a user credential', (k) => ({ ...k, type: 'authorized_user' }), /field 'type' is "authorized_user", expected "service_account" \(this is a user credential from `gcloud auth application-default login`/],
    ['no private_key', (k) => ({ ...k, private_key: undefined }), /field 'private_key' is missing or empty/],
    ['no client_email', (k) => ({ ...k, client_email: '' }), /field 'client_email' is missing or empty/],
    ['no private_key_id', (k) => ({ ...k, private_key_id: undefined }), /field 'private_key_id' is missing or empty/],
    ['a bad client_email', (k) => ({ ...k, client_email: 'not-an-email' }), /field 'client_email' is not an email address \(got "not-an-email"\)/],
    ['a PKCS#1 private_key', (k) => ({ ...k, private_key: testKey('RS256').privateKey.export({ format: 'pem', type: 'pkcs1' }).toString() }), /field 'private_key' is not a PKCS#8 PEM private key/],
    ['a corrupt private_key', (k) => ({ ...k, private_key: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n' }), /field 'private_key' of the service-account key orders-caller@s2s-test.iam.gserviceaccount.com is not an RSA private key/],
    ['an EC private_key', (k) => ({ ...k, private_key: testKey('ES256').privatePem }), /is not an RSA private key/],
  ])('a key that is %s is BAD_KEY naming the field, without key material', async (_what, mutate, message) => {
    const err = await signServiceAccountJwt({ key: mutate(sa.key) as ServiceAccountKey, audience: 'a' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect(err).toMatchObject({ code: 'BAD_KEY', option: 'key', message: expect.stringMatching(message) });
    expect((err as Error).message).not.toMatch(/MII|AAAA/);
  });

  test('a key file that is missing or not JSON', async () => {
    await expect(signServiceAccountJwt({ keyFile: path.join(dir, 'nope.json'), audience: 'a' })).rejects.toMatchObject({ code: 'BAD_KEY', option: 'keyFile', message: expect.stringMatching(/^cannot read keyFile ".*nope\.json": ENOENT; pass the path of a service-account JSON key/) });
    const notJson = path.join(dir, 'key.pem');
    fs.writeFileSync(notJson, sa.key.private_key);
    const err = await signServiceAccountJwt({ keyFile: notJson, audience: 'a' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'BAD_KEY', option: 'keyFile', message: expect.stringMatching(/key\.pem" is not JSON/) });
    expect((err as Error).message).not.toContain('PRIVATE KEY');
  });
});

describe('GoogleIdTokenSource with a service-account key (JWT-bearer exchange)', () => {
  const source = (options: Partial<GoogleIdTokenSourceOptions> = {}) => new GoogleIdTokenSource({ audience: AUDIENCE, key: sa.key, tokenEndpoint: google.tokenEndpoint, ...options } as GoogleIdTokenSourceOptions);

  test('exchanges an assertion the endpoint verified with google-auth-library for a Google-signed ID token', async () => {
    const before = google.requests.token;
    const token = await source().getToken();
    expect(google.requests.token - before).toBe(1);
    expect(await googleVerifies(token)).toMatchObject({ iss: GOOGLE_ISSUER, aud: AUDIENCE, email: sa.email, email_verified: true, sub: sa.uniqueId });
  });

  test('one request for concurrent callers, then cached until shortly before exp', async () => {
    const s = source({ key: undefined, keyFile });
    const before = google.requests.token;
    const tokens = await Promise.all(Array.from({ length: 100 }, () => s.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(await s.getToken()).toBe(tokens[0]);
    expect(google.requests.token - before).toBe(1);
    const info = await s.getTokenInfo();
    expect(info.expiresAt!.getTime()).toBe(decodeJwt(tokens[0]).exp! * 1000);
  });

  // The exact rule (kept until half life) is proven on a fake clock in refresh.test.ts; here only
  // lower-bounded waits, so a slow machine cannot turn the check around.
  test('a token shorter-lived than the 5-minute margin is replaced once past half its life', async () => {
    google.idTokenLifetimeSec = 2;
    const s = source();
    const before = google.requests.token;
    const first = await s.getToken();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await s.getToken()).not.toBe(first);
    expect(google.requests.token - before).toBe(2);
  });

  test('the endpoint refuses an assertion from an account it does not know: invalid_grant with the fix', async () => {
    const err = await source({ key: stranger.key }).getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialError);
    expect(err).toMatchObject({ code: 'TOKEN_ENDPOINT_ERROR', status: 400, oauthError: 'invalid_grant', oauthErrorDescription: 'Invalid JWT Signature.' });
    expect((err as Error).message).toMatch(/refused the request with HTTP 400 invalid_grant \(Invalid JWT Signature\.\): the assertion was refused: check that the service-account key is not deleted or disabled/);
  });

  test('the endpoint refuses an assertion signed by another key under the account\'s key id', async () => {
    const forged = { ...sa.key, private_key: stranger.key.private_key };
    await expect(source({ key: forged }).getToken()).rejects.toMatchObject({ code: 'TOKEN_ENDPOINT_ERROR', oauthError: 'invalid_grant', oauthErrorDescription: 'Invalid JWT: Invalid token signature' });
  });

  test('answers that are not a token response', async () => {
    const s = source();
    google.failNext('token', { status: 502, headers: { 'content-type': 'text/html' }, body: '<html>Bad Gateway</html>' });
    await expect(s.getToken()).rejects.toMatchObject({ code: 'BAD_RESPONSE', status: 502, message: expect.stringMatching(/answered HTTP 502 text\/html, not a JSON token response: "<html>Bad Gateway<\/html>"/) });
    google.failNext('token', { status: 200, body: '{"access_token":"ya29.x","token_type":"Bearer"}' });
    await expect(s.getToken()).rejects.toMatchObject({ code: 'BAD_RESPONSE', message: expect.stringMatching(/without an id_token/) });
    google.failNext('token', { status: 200, body: '{"id_token":"not-a-jwt"}' });
    await expect(s.getToken()).rejects.toMatchObject({ code: 'BAD_RESPONSE', message: expect.stringMatching(/not a JWT with a numeric exp claim/) });
    // A failed fetch is not cached: the next call asks again and succeeds.
    expect(await googleVerifies(await s.getToken())).toMatchObject({ aud: AUDIENCE });
  });

  test('an ID token that arrives expired is refused', async () => {
    google.idTokenLifetimeSec = -60;
    await expect(source().getToken()).rejects.toMatchObject({ code: 'BAD_RESPONSE', message: expect.stringMatching(/expired at .* before it arrived; check this machine's clock/) });
  });

  test('an unreachable token endpoint is NETWORK', async () => {
    const port = await closedPort();
    await expect(source({ tokenEndpoint: `http://127.0.0.1:${port}/token` }).getToken()).rejects.toMatchObject({
      code: 'NETWORK',
      message: `cannot reach the token endpoint at http://127.0.0.1:${port}/token (ECONNREFUSED): check the URL and that it is reachable from here`,
    });
  });
});

describe('GoogleIdTokenSource on the metadata server', () => {
  const saved = process.env.GCE_METADATA_HOST;
  afterEach(() => {
    if (saved === undefined) delete process.env.GCE_METADATA_HOST;
    else process.env.GCE_METADATA_HOST = saved;
  });

  test('asks for a full-format identity token with Metadata-Flavor: Google, once for concurrent callers', async () => {
    const s = new GoogleIdTokenSource({ audience: AUDIENCE, metadataHost: google.metadataHost });
    const before = google.requests.metadata;
    const tokens = await Promise.all(Array.from({ length: 50 }, () => s.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(google.requests.metadata - before).toBe(1);
    const claims = await googleVerifies(tokens[0]);
    expect(claims).toMatchObject({ aud: AUDIENCE, email: sa.email, google: { compute_engine: { instance_name: 'caller-vm' } } });
  });

  test('the stand-in refuses requests without the header (so the client does send it)', async () => {
    const res = await fetch(`http://${google.metadataHost}/computeMetadata/v1/instance/service-accounts/default/identity?audience=x`);
    expect(res.status).toBe(403);
  });

  test('GCE_METADATA_HOST is honoured, as by Google\'s libraries', async () => {
    process.env.GCE_METADATA_HOST = google.metadataHost;
    const token = await new GoogleIdTokenSource({ audience: 'https://other.example' }).getToken();
    expect(decodeJwt(token).aud).toBe('https://other.example');
  });

  test('a refusal by the metadata server', async () => {
    google.failNext('metadata', { status: 404, body: 'Not Found' });
    await expect(new GoogleIdTokenSource({ audience: AUDIENCE, metadataHost: google.metadataHost }).getToken()).rejects.toMatchObject({
      code: 'METADATA_UNAVAILABLE',
      status: 404,
      message: expect.stringMatching(/refused the identity request with HTTP 404 "Not Found": the instance has no service account attached/),
    });
  });

  test('no metadata server (not on Google Cloud)', async () => {
    const port = await closedPort();
    await expect(new GoogleIdTokenSource({ audience: AUDIENCE, metadataHost: `127.0.0.1:${port}` }).getToken()).rejects.toMatchObject({
      code: 'METADATA_UNAVAILABLE',
      message: `cannot reach the Google metadata server at http://127.0.0.1:${port}/computeMetadata/v1/instance/service-accounts/default/identity (ECONNREFUSED): outside Google Cloud pass key or keyFile, or set GCE_METADATA_HOST`,
    });
  });

  test('something that is not a metadata server, and one that does not answer in time', async () => {
    const other = await KeySetServer.start();
    try {
      const host = other.origin.slice('http://'.length);
      await expect(new GoogleIdTokenSource({ audience: AUDIENCE, metadataHost: host }).getToken()).rejects.toMatchObject({ code: 'BAD_RESPONSE', message: expect.stringMatching(/without the Metadata-Flavor: Google header/) });
      other.json('/computeMetadata/v1/instance/service-accounts/default/identity', {});
      other.fault('/computeMetadata/v1/instance/service-accounts/default/identity', 'slow');
      await expect(new GoogleIdTokenSource({ audience: AUDIENCE, metadataHost: host, timeoutMs: 200 }).getToken()).rejects.toMatchObject({ code: 'METADATA_UNAVAILABLE', message: expect.stringMatching(/\(no answer within 200 ms\)/) });
    } finally {
      await other.close();
    }
  });
});

describe('GoogleIdTokenSource options', () => {
  test.each<[string, object, RegExp]>([
    ['audience', { audience: ' ' }, /invalid option 'audience': is required/],
    ['metadataHost', { key: undefined, metadataHost: 'evil.example/x?' }, /invalid option 'metadataHost': must be a host name or IP address with an optional :port/],
    ['metadataHost', { metadataHost: '127.0.0.1' }, /invalid option 'metadataHost': only applies without key \/ keyFile/],
    ['tokenEndpoint', { key: undefined, tokenEndpoint: 'https://oauth2.googleapis.com/token' }, /invalid option 'tokenEndpoint': only applies with key \/ keyFile/],
    ['tokenEndpoint', { tokenEndpoint: 'http://oauth2.example.com/token' }, /invalid option 'tokenEndpoint': must be an absolute https:\/\/ URL \(http:\/\/ only for localhost/],
    ['tokenEndpoint', { tokenEndpoint: 'https://user:pw@oauth2.example.com/token' }, /invalid option 'tokenEndpoint': must not contain credentials/],
    ['timeoutMs', { timeoutMs: 0 }, /invalid option 'timeoutMs'/],
    ['key', { keyFile: '/etc/key.json' }, /invalid option 'key': pass exactly one of key/],
  ])('%s', (option, bad, message) => {
    const err = thrown(() => new GoogleIdTokenSource({ audience: AUDIENCE, key: sa.key, ...bad } as GoogleIdTokenSourceOptions));
    expect(err).toMatchObject({ code: 'INVALID_OPTION', option, message: expect.stringMatching(message) });
  });

  test('a bad key is refused in the constructor, naming the field', () => {
    expect(thrown(() => new GoogleIdTokenSource({ audience: AUDIENCE, key: { ...sa.key, client_email: undefined } as unknown as ServiceAccountKey }))).toMatchObject({ code: 'BAD_KEY', message: expect.stringMatching(/field 'client_email'/) });
  });

  test('GCE_METADATA_HOST is validated and named when wrong', () => {
    process.env.GCE_METADATA_HOST = 'http://169.254.169.254';
    try {
      expect(thrown(() => new GoogleIdTokenSource({ audience: AUDIENCE }))).toMatchObject({ option: 'GCE_METADATA_HOST' });
    } finally {
      delete process.env.GCE_METADATA_HOST;
    }
  });
});
