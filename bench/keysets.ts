/**
 * Target 4: key sets under load, counted at the loopback key server. A cold start with 1,000
 * concurrent requests must cost one key-set fetch, and a flood of made-up `kid`s at most one
 * fetch per cooldown. The peers run the cold start beside s2s-auth, each with its usual key
 * source pointed at the same kind of loopback URL.
 */
import { randomBytes } from 'node:crypto';
import { JwtVerifier as AwsJwtVerifier } from 'aws-jwt-verify';
import { SimpleJwksCache } from 'aws-jwt-verify/jwk';
import { OAuth2Client } from 'google-auth-library';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { GOOGLE_ISSUERS, GoogleIdTokenVerifier, KeySetCache } from '../lib/verify';
import { certificateFor, forgeJwt, nowSec, testKey, type TestKey } from '../test/peers/keys';
import type { KeySetServer } from '../test/peers/keyset-server';
import { Table, verdict, type Scale } from './harness';

const AUDIENCE = 'https://europe-west1-s2s-bench.cloudfunctions.net/keysets';
const MAX_AGE = { cacheControl: 'public, max-age=3600' };

function googleToken(key: TestKey, i: number): string {
  const now = nowSec();
  return forgeJwt({ alg: 'RS256', kid: key.kid, typ: 'JWT' }, {
    iss: 'https://accounts.google.com', aud: AUDIENCE, sub: `${300000000 + i}`, email: `c${i}@s2s-bench.iam.gserviceaccount.com`, email_verified: true, iat: now, exp: now + 3600,
  }, key);
}

/** A well-formed token naming a key nobody published (the signature is never reached). */
function unknownKidToken(): string {
  const now = nowSec();
  return forgeJwt({ alg: 'RS256', kid: randomBytes(20).toString('hex'), typ: 'JWT' }, { iss: 'https://accounts.google.com', aud: AUDIENCE, sub: '1', iat: now, exp: now + 3600 }, { hmacSecret: randomBytes(32) });
}

async function settle(promises: readonly Promise<unknown>[]): Promise<{ accepted: number; refused: number }> {
  const results = await Promise.allSettled(promises);
  const accepted = results.filter((r) => r.status === 'fulfilled').length;
  return { accepted, refused: results.length - accepted };
}

export async function keySetSection(server: KeySetServer, scale: Scale): Promise<Table[]> {
  const requests = scale.quick ? 200 : 1000;
  const key = testKey('RS256');
  // Distinct subjects; signing RS256 is slow, so requests cycle over a smaller set of tokens.
  const tokens = Array.from({ length: Math.min(requests, 100) }, (_, i) => googleToken(key, i));
  const tokenFor = (i: number): string => tokens[i % tokens.length];
  const certificate = await certificateFor(key, 'accounts.google.com');

  const cold = new Table(`Key sets: ${requests} concurrent first requests (fetches counted at the key server)`, ['verifier', 'key-set fetches', 'requests accepted', 'target: 1 fetch']);
  const contenders: { name: string; path: string; serve: (path: string) => string; verify: (url: string) => (token: string) => Promise<unknown> }[] = [
    {
      name: 's2s-auth `GoogleIdTokenVerifier`',
      path: '/cold/s2s',
      serve: (p) => server.jwks(p, [key], MAX_AGE),
      verify: (url) => {
        const verifier = new GoogleIdTokenVerifier({ audience: AUDIENCE, certsUrl: url, keySetCache: new KeySetCache() });
        return (token) => verifier.verify(token);
      },
    },
    {
      name: 'jose `createRemoteJWKSet` + `jwtVerify`',
      path: '/cold/jose',
      serve: (p) => server.jwks(p, [key], MAX_AGE),
      verify: (url) => {
        const jwks = createRemoteJWKSet(new URL(url));
        return (token) => jwtVerify(token, jwks, { issuer: [...GOOGLE_ISSUERS], audience: AUDIENCE, algorithms: ['RS256'] });
      },
    },
    {
      name: 'aws-jwt-verify `JwtVerifier`',
      path: '/cold/aws',
      serve: (p) => server.jwks(p, [key], MAX_AGE),
      verify: (url) => {
        // aws-jwt-verify fetches over https only: its own JWKS cache gets a plain-fetch fetcher for loopback http.
        const jwksCache = new SimpleJwksCache({ fetcher: { fetch: async (uri: string) => (await fetch(uri)).arrayBuffer() } });
        const verifier = AwsJwtVerifier.create({ issuer: 'https://accounts.google.com', audience: AUDIENCE, jwksUri: url }, { jwksCache });
        return (token) => verifier.verify(token);
      },
    },
    {
      name: 'google-auth-library `verifyIdToken`',
      path: '/cold/gal',
      serve: (p) => server.x509(p, { [key.kid]: certificate }, MAX_AGE),
      verify: (url) => {
        const client = new OAuth2Client({ endpoints: { oauth2FederatedSignonPemCertsUrl: url } });
        return (token) => client.verifyIdToken({ idToken: token, audience: AUDIENCE });
      },
    },
  ];
  for (const c of contenders) {
    const verify = c.verify(c.serve(c.path));
    const { accepted } = await settle(Array.from({ length: requests }, (_, i) => verify(tokenFor(i))));
    const fetches = server.hits(c.path);
    const s2s = c.name.startsWith('s2s-auth');
    cold.row(s2s ? `**${c.name}**` : c.name, fetches, `${accepted} / ${requests}`, s2s ? verdict(fetches === 1 && accepted === requests) : fetches === 1 ? 'also 1' : `${fetches} fetches`);
  }

  return [cold, await unknownKidFlood(server, key, tokenFor, scale)];
}

/**
 * A flood of unknown `kid`s over simulated time (the key-set cache takes an injected clock):
 * every simulated second brings a burst of made-up kids plus one genuine request.
 */
async function unknownKidFlood(server: KeySetServer, key: TestKey, tokenFor: (i: number) => string, scale: Scale): Promise<Table> {
  const cooldownSec = 30;
  const seconds = scale.quick ? 60 : 300;
  const perSecond = scale.quick ? 10 : 50;
  let now = Date.now();
  const path = '/flood/s2s';
  const url = server.jwks(path, [key], MAX_AGE);
  const verifier = new GoogleIdTokenVerifier({ audience: AUDIENCE, certsUrl: url, keySetCache: new KeySetCache({ clock: () => now, unknownKidCooldownSec: cooldownSec }) });
  await verifier.verify(tokenFor(0));
  const warm = server.hits(path);
  let refused = 0;
  let genuine = 0;
  for (let second = 0; second < seconds; second++) {
    now += 1000;
    const burst = Array.from({ length: perSecond }, () => verifier.verify(unknownKidToken()));
    const result = await settle([...burst, verifier.verify(tokenFor(second + 1))]);
    refused += result.refused;
    genuine += result.accepted;
  }
  const fetches = server.hits(path) - warm;
  const limit = Math.ceil(seconds / cooldownSec);
  const table = new Table(`Key sets: unknown-kid flood, ${perSecond} made-up kids per second for ${seconds} simulated seconds`, ['verifier', 'unknown-kid requests refused', 'genuine requests accepted', 'key-set fetches', `target ≤ 1 per ${cooldownSec} s cooldown (${limit})`]);
  table.row('**s2s-auth `GoogleIdTokenVerifier`**', `${refused} / ${seconds * perSecond}`, `${genuine} / ${seconds}`, fetches, verdict(fetches <= limit && refused === seconds * perSecond && genuine === seconds));
  return table;
}
