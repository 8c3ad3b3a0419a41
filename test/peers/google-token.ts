import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { OAuth2Client } from 'google-auth-library';
import { decodeProtectedHeader } from 'jose';
import type { ServiceAccountKey } from '../../lib/client';
import { certificateFor, nowSec, signJwt, testKey, type TestKey } from './keys';

/**
 * Loopback stand-ins for the two places Google ID tokens come from, on one 127.0.0.1 server:
 *
 * - the OAuth 2.0 token endpoint (`POST /token`): the RFC 7523 JWT-bearer grant with a
 *   service-account assertion carrying `target_audience`. The assertion is verified with
 *   google-auth-library's own verifier (`OAuth2Client.verifySignedJwtWithCertsAsync`) against the
 *   account's X.509 certificate, audience = this endpoint, issuer = the account's email, at most
 *   one hour of lifetime, as Google does; then a Google-style ID token is issued.
 * - the metadata server (`GET /computeMetadata/v1/instance/service-accounts/default/identity`):
 *   refuses requests without `Metadata-Flavor: Google`, answers with that header set, and
 *   issues an ID token for the instance's service account (`format=full` adds the
 *   `google.compute_engine` claim).
 *
 * ID tokens are RS256, signed by `googleKey`, published as Google does at `/oauth2/v3/certs`
 * (JWKS) and `/oauth2/v1/certs` (x509 PEM map), with `iss` = `https://accounts.google.com`.
 */

/** A service account with a JSON key, as `gcloud iam service-accounts keys create` writes it. */
export interface TestServiceAccount {
  readonly email: string;
  /** Numeric unique id: the `sub` / `azp` of its ID tokens. */
  readonly uniqueId: string;
  readonly key: ServiceAccountKey;
  readonly signingKey: TestKey;
  /** Self-signed X.509 certificate (PEM) of the key, as Google publishes at /robot/v1/metadata/x509/<email>. */
  readonly certificate: string;
}

let accounts = 0;

/** A fresh service account and key; the key id is the `private_key_id` of the JSON key. */
export async function testServiceAccount(email = `caller-${accounts + 1}@s2s-test.iam.gserviceaccount.com`): Promise<TestServiceAccount> {
  const n = ++accounts;
  // Google key ids are 40 hex digits; unique ids are 21 decimal digits.
  const signingKey = testKey('RS256', `${Date.now().toString(16)}${String(n).padStart(8, '0')}`.padStart(40, '0'));
  const uniqueId = String(100000000000000000000n + BigInt(n));
  return {
    email,
    uniqueId,
    signingKey,
    certificate: await certificateFor(signingKey, email),
    key: {
      type: 'service_account',
      project_id: 's2s-test',
      private_key_id: signingKey.kid,
      private_key: signingKey.privatePem,
      client_email: email,
      client_id: uniqueId,
      auth_uri: 'https://accounts.google.com/o/oauth2/auth',
      token_uri: 'https://oauth2.googleapis.com/token',
    },
  };
}

export const GOOGLE_ISSUER = 'https://accounts.google.com';

export interface GoogleTokenServerOptions {
  /** Accounts the token endpoint knows; the first is also the instance's account on the metadata server. */
  readonly serviceAccounts: readonly TestServiceAccount[];
}

/** A canned answer that replaces the next real one on a route. */
export interface CannedReply {
  readonly status: number;
  readonly body: string;
  readonly headers?: Record<string, string>;
}

export interface GoogleTokenServer {
  readonly origin: string;
  /** For `tokenEndpoint`. */
  readonly tokenEndpoint: string;
  /** For `metadataHost` / `GCE_METADATA_HOST`: `127.0.0.1:<port>`. */
  readonly metadataHost: string;
  /** The key that signs ID tokens. */
  readonly googleKey: TestKey;
  readonly jwksUri: string;
  readonly x509Uri: string;
  /** Requests received per route, including refused ones. */
  readonly requests: { token: number; metadata: number };
  /** Lifetime of issued ID tokens, in seconds (negative: already expired). @default 3600 */
  idTokenLifetimeSec: number;
  /** Replaces the next answers of a route with canned ones, in order. */
  failNext(route: 'token' | 'metadata', reply: CannedReply): void;
  close(): Promise<void>;
}

const METADATA_IDENTITY = '/computeMetadata/v1/instance/service-accounts/default/identity';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export async function startGoogleTokenServer(options: GoogleTokenServerOptions): Promise<GoogleTokenServer> {
  const googleKey = testKey('RS256');
  const googleCert = await certificateFor(googleKey, 'accounts.google.com');
  const byKid = new Map(options.serviceAccounts.map((sa) => [sa.key.private_key_id, sa]));
  const verifier = new OAuth2Client();
  const canned: Record<'token' | 'metadata', CannedReply[]> = { token: [], metadata: [] };
  let origin = '';

  const idToken = (sa: TestServiceAccount, audience: string, extra: Record<string, unknown> = {}) => {
    const iat = nowSec();
    return signJwt(googleKey, { iss: GOOGLE_ISSUER, aud: audience, azp: sa.uniqueId, sub: sa.uniqueId, email: sa.email, email_verified: true, iat, exp: iat + peer.idTokenLifetimeSec, ...extra });
  };

  async function token(body: string): Promise<CannedReply> {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== JWT_BEARER) return oauthError(400, 'unsupported_grant_type', 'Invalid grant_type: ' + (form.get('grant_type') ?? ''));
    const assertion = form.get('assertion') ?? '';
    let sa: TestServiceAccount | undefined;
    try {
      sa = byKid.get(decodeProtectedHeader(assertion).kid ?? '');
    } catch {
      return oauthError(400, 'invalid_request', 'Invalid JWT: the assertion is not a JWT');
    }
    if (!sa) return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.');
    let claims: Record<string, unknown>;
    try {
      const ticket = await verifier.verifySignedJwtWithCertsAsync(assertion, { [sa.key.private_key_id]: sa.certificate }, `${origin}/token`, [sa.email], 3600);
      claims = ticket.getPayload() as unknown as Record<string, unknown>;
    } catch (err) {
      return oauthError(400, 'invalid_grant', `Invalid JWT: ${(err as Error).message.replace(/: .*$/s, '')}`);
    }
    if (typeof claims.target_audience !== 'string' || claims.target_audience === '') {
      return oauthError(400, 'invalid_request', 'this stand-in only issues ID tokens: the assertion needs a target_audience claim');
    }
    return { status: 200, body: JSON.stringify({ id_token: await idToken(sa, claims.target_audience) }) };
  }

  async function metadata(req: http.IncomingMessage): Promise<CannedReply> {
    if (req.headers['metadata-flavor'] !== 'Google') {
      return { status: 403, headers: { 'content-type': 'text/html' }, body: 'Missing required header "Metadata-Flavor": "Google"' };
    }
    const query = new URL(req.url ?? '/', origin).searchParams;
    const audience = query.get('audience');
    if (!audience) return { status: 400, headers: { 'content-type': 'text/html' }, body: 'non-empty audience parameter required' };
    const sa = options.serviceAccounts[0];
    const full = query.get('format') === 'full'
      ? { google: { compute_engine: { project_id: 's2s-test', project_number: 123456789012, zone: 'europe-west1-b', instance_id: '4242', instance_name: 'caller-vm', instance_creation_timestamp: 1700000000 } } }
      : {};
    return { status: 200, headers: { 'content-type': 'text/html' }, body: await idToken(sa, audience, full) };
  }

  function answer(req: http.IncomingMessage, path: string, body: string): Promise<CannedReply> {
    const route = req.method === 'POST' && path === '/token' ? 'token' : req.method === 'GET' && path === METADATA_IDENTITY ? 'metadata' : undefined;
    if (route === undefined) {
      if (path === '/oauth2/v3/certs') return Promise.resolve({ status: 200, body: JSON.stringify({ keys: [googleKey.publicJwk] }) });
      if (path === '/oauth2/v1/certs') return Promise.resolve({ status: 200, body: JSON.stringify({ [googleKey.kid]: googleCert }) });
      return Promise.resolve({ status: 404, body: '{"error":"not_found"}' });
    }
    peer.requests[route] += 1;
    const next = canned[route].shift();
    if (next) return Promise.resolve(next);
    return route === 'token' ? token(body) : metadata(req);
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0];
      void answer(req, path, Buffer.concat(chunks).toString('utf8')).then((reply) => {
        // The real metadata server marks every answer, errors included.
        const flavor: Record<string, string> = path === METADATA_IDENTITY ? { 'metadata-flavor': 'Google' } : {};
        res.writeHead(reply.status, { 'content-type': 'application/json', ...flavor, ...reply.headers });
        res.end(reply.body);
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;
  const peer: GoogleTokenServer = {
    origin,
    tokenEndpoint: `${origin}/token`,
    metadataHost: `127.0.0.1:${port}`,
    googleKey,
    jwksUri: `${origin}/oauth2/v3/certs`,
    x509Uri: `${origin}/oauth2/v1/certs`,
    requests: { token: 0, metadata: 0 },
    idTokenLifetimeSec: 3600,
    failNext: (route, reply) => {
      canned[route].push(reply);
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    }),
  };
  return peer;
}

function oauthError(status: number, error: string, description: string): CannedReply {
  return { status, body: JSON.stringify({ error, error_description: description }) };
}
