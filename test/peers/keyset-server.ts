/**
 * A real HTTP server on 127.0.0.1 (port 0) that publishes key sets and metadata documents the
 * way Google and OAuth servers do, with knobs to make it misbehave. Shared by the verifier,
 * handler, client and benchmark tests.
 *
 *   const server = await KeySetServer.start();
 *   const url = server.jwks('/certs', [key], { cacheControl: 'public, max-age=300' });
 *   server.x509('/robot/x509/sa@p.iam.gserviceaccount.com', { [key.kid]: pem });
 *   server.json('/.well-known/openid-configuration', { issuer, jwks_uri });
 *   server.fault('/certs', 'http-500');   // or 'slow', 'bad-json', undefined to heal
 *   server.hits('/certs');                // GETs answered on that path
 *   await server.close();
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestKey } from './keys';

/**
 * A misbehaviour: an HTTP 500/503, a response that never arrives in time, a body that is not
 * JSON, or the connection dropped without an answer (every time, or once and then healed: what
 * a client meets when it reuses a kept-alive connection the server has already closed).
 */
export type Fault = 'http-500' | 'http-503' | 'slow' | 'bad-json' | 'reset' | 'reset-once';

export interface ServeOptions {
  /** `Cache-Control` header of the response. @default none */
  readonly cacheControl?: string;
  /** `Age` header of the response (seconds already spent in a cache). @default none */
  readonly age?: number;
}

interface Route {
  body: string;
  options: ServeOptions;
  fault?: Fault;
  hits: number;
}

export class KeySetServer {
  private readonly routes = new Map<string, Route>();
  /** How long a 'slow' response is held before it is sent, in ms. */
  slowMs = 10_000;

  private constructor(private readonly server: Server, readonly origin: string) {}

  static async start(): Promise<KeySetServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const peer = new KeySetServer(server, `http://127.0.0.1:${port}`);
    server.on('request', (req, res) => peer.answer(req.url ?? '/', req.method ?? 'GET', res));
    return peer;
  }

  /** Serves `{"keys":[...]}` with the public JWKs of `keys` at `path`; returns its URL. */
  jwks(path: string, keys: readonly TestKey[], options: ServeOptions = {}): string {
    return this.json(path, { keys: keys.map((k) => k.publicJwk) }, options);
  }

  /** Serves Google's x509 form, `{ kid: PEM certificate }`, at `path`; returns its URL. */
  x509(path: string, certificates: Readonly<Record<string, string>>, options: ServeOptions = {}): string {
    return this.json(path, certificates, options);
  }

  /** Serves any JSON document at `path` (replacing what was there, keeping its hit count); returns its URL. */
  json(path: string, body: unknown, options: ServeOptions = {}): string {
    const route = this.routes.get(path);
    this.routes.set(path, { body: JSON.stringify(body), options, fault: route?.fault, hits: route?.hits ?? 0 });
    return this.url(path);
  }

  /** Makes `path` misbehave, or behave again with `undefined`. */
  fault(path: string, fault: Fault | undefined): void {
    const route = this.routes.get(path);
    if (!route) throw new Error(`KeySetServer: nothing is served at ${path}`);
    route.fault = fault;
  }

  /** GET requests received on `path` (including failed ones). */
  hits(path: string): number {
    return this.routes.get(path)?.hits ?? 0;
  }

  url(path: string): string {
    return `${this.origin}${path}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(url: string, method: string, res: import('node:http').ServerResponse): void {
    const route = this.routes.get(url.split('?')[0]);
    if (!route || method !== 'GET') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    route.hits++;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (route.options.cacheControl) headers['cache-control'] = route.options.cacheControl;
    if (route.options.age !== undefined) headers.age = String(route.options.age);
    switch (route.fault) {
      case 'http-500':
      case 'http-503':
        res.writeHead(route.fault === 'http-500' ? 500 : 503, { 'content-type': 'text/plain' }).end('backend error');
        return;
      case 'bad-json':
        res.writeHead(200, headers).end('<html>not json</html>');
        return;
      case 'reset':
      case 'reset-once':
        if (route.fault === 'reset-once') route.fault = undefined;
        res.socket?.destroy();
        return;
      case 'slow': {
        const timer = setTimeout(() => res.writeHead(200, headers).end(route.body), this.slowMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      default:
        res.writeHead(200, headers).end(route.body);
    }
  }
}
