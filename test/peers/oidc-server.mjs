// A real OAuth 2.0 authorization server (oidc-provider, ESM-only, hence this child-process
// script) on 127.0.0.1, random port. Started by test/peers/oidc.ts; use that launcher.
//
// Configuration: the JSON in the OIDC_PEER_CONFIG environment variable:
//   { clients: [{ client_id, client_secret, scope, token_endpoint_auth_method? }],
//     resources: [{ indicator, scope, accessTokenTTL? }] }
// Enabled: the client credentials grant, RFC 8707 resource indicators (every resource issues
// RS256 JWT access tokens, RFC 9068, with aud = the indicator), introspection.
// On start it prints ONE line of JSON to stdout: { issuer, tokenEndpoint, jwksUri, port }.
// It exits when its stdin closes, so it never outlives the test process.
//
// GET /__stats answers { tokenRequests } (POSTs to the token endpoint so far), for tests that
// prove caching.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { errors, Provider } from 'oidc-provider';

const config = JSON.parse(process.env.OIDC_PEER_CONFIG ?? '{}');
const resources = new Map((config.resources ?? []).map((r) => [r.indicator, r]));

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

const signingKey = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: `peer-${randomBytes(4).toString('hex')}`, alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients: (config.clients ?? []).map((c) => ({
    client_id: c.client_id,
    client_secret: c.client_secret,
    scope: c.scope,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: c.token_endpoint_auth_method ?? 'client_secret_basic',
  })),
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: [...new Set((config.resources ?? []).flatMap((r) => r.scope.split(' ')))],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, indicator) => {
        const resource = resources.get(indicator);
        if (!resource) throw new errors.InvalidTarget();
        return {
          scope: resource.scope,
          audience: indicator,
          accessTokenTTL: resource.accessTokenTTL ?? 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
  },
});

let tokenRequests = 0;
provider.use(async (ctx, next) => {
  if (ctx.method === 'GET' && ctx.path === '/__stats') {
    ctx.body = { tokenRequests };
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/token') tokenRequests += 1;
  await next();
});

server.on('request', provider.callback());
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.stdout.write(`${JSON.stringify({ issuer, tokenEndpoint: `${issuer}/token`, jwksUri: `${issuer}/jwks`, port })}\n`);
