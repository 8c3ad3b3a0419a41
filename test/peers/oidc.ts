import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Launches a real OAuth 2.0 authorization server (oidc-provider, see oidc-server.mjs) in a child
 * process on 127.0.0.1 and describes it: everything a caller needs to get client-credentials
 * tokens, and everything a verifier needs to check them (issuer, JWKS, audience, scopes).
 *
 *   const oidc = await startOidcProvider();
 *   new ClientCredentialsTokenSource({ tokenEndpoint: oidc.tokenEndpoint, clientId: oidc.client.id,
 *     clientSecret: oidc.client.secret, resource: oidc.resource.indicator, scope: 'orders:read' });
 *   new AccessTokenVerifier({ issuer: oidc.issuer, audience: oidc.resource.indicator, jwksUri: oidc.jwksUri });
 *   await oidc.stop();
 *
 * Access tokens are RS256 JWTs (RFC 9068: `typ: at+jwt`, `iss`, `aud` = the resource indicator,
 * `client_id`, `scope`, `jti`, `iat`, `exp`), valid `resource.accessTokenTTL` seconds.
 */

export interface OidcClient {
  readonly id: string;
  /** Contains `+ : / % ` and spaces on purpose: only RFC 6749 §2.3.1 form-encoding survives Basic auth. */
  readonly secret: string;
  /** Scopes the client may request. */
  readonly scope: string;
}

export interface OidcResource {
  /** RFC 8707 resource indicator; also the `aud` of its access tokens. */
  readonly indicator: string;
  /** Scopes the resource server defines, space-separated. */
  readonly scope: string;
  readonly accessTokenTTL: number;
}

export interface OidcPeerOptions {
  /** @default one client 's2s-caller' allowed 'orders:read orders:write' */
  readonly clients?: readonly OidcClient[];
  /** @default one resource 'https://orders.api.s2s.test/' with 'orders:read orders:write orders:admin', 300 s tokens */
  readonly resources?: readonly OidcResource[];
}

export interface OidcPeer {
  /** `iss` of every token; discovery at `${issuer}/.well-known/openid-configuration`. */
  readonly issuer: string;
  readonly tokenEndpoint: string;
  readonly jwksUri: string;
  /** The first (default) client and resource. */
  readonly client: OidcClient;
  readonly resource: OidcResource;
  readonly clients: readonly OidcClient[];
  readonly resources: readonly OidcResource[];
  /** POSTs the token endpoint has received so far. */
  tokenRequests(): Promise<number>;
  /** Everything the server wrote to stderr (oidc-provider's warnings, crashes). */
  logs(): string;
  stop(): Promise<void>;
}

const SCRIPT = path.join(__dirname, 'oidc-server.mjs');

export async function startOidcProvider(options: OidcPeerOptions = {}): Promise<OidcPeer> {
  const clients = options.clients ?? [{ id: 's2s-caller', secret: `s3cr+t:with/special %chars ${randomBytes(6).toString('hex')}`, scope: 'orders:read orders:write' }];
  const resources = options.resources ?? [{ indicator: 'https://orders.api.s2s.test/', scope: 'orders:read orders:write orders:admin', accessTokenTTL: 300 }];
  const config = {
    clients: clients.map((c) => ({ client_id: c.id, client_secret: c.secret, scope: c.scope })),
    resources,
  };
  const child = spawn(process.execPath, [SCRIPT], { env: { ...process.env, OIDC_PEER_CONFIG: JSON.stringify(config) }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const started = await new Promise<{ issuer: string; tokenEndpoint: string; jwksUri: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`oidc-provider did not start within 15 s:\n${stderr}`)), 15_000);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(JSON.parse(line) as { issuer: string; tokenEndpoint: string; jwksUri: string });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`oidc-provider exited with ${code} before starting:\n${stderr}`));
    });
  });

  return {
    ...started,
    client: clients[0],
    resource: resources[0],
    clients,
    resources,
    tokenRequests: async () => ((await (await fetch(`${started.issuer}/__stats`)).json()) as { tokenRequests: number }).tokenRequests,
    logs: () => stderr,
    stop: async () => {
      // Closing stdin is the shutdown signal (see oidc-server.mjs); kill only if it lingers.
      child.stdin.end();
      const timer = setTimeout(() => child.kill(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };
}
