/**
 * Test signing keys and token minting, shared by every test that needs a token issuer
 * (verifiers, handlers, client, benchmarks).
 *
 * - `testKey('ES256' | 'RS256', kid?)` makes a fresh key pair (node:crypto) and its public JWK.
 * - `signJwt(key, claims, header?)` mints a well-formed JWT with jose, like a real issuer.
 * - `forgeJwt(header, payload, signer)` assembles any token byte by byte, for attacks jose
 *   refuses to produce (`alg: none`, `crit`, HS256 keyed with the public key, garbage JSON).
 * - `certificateFor(key, commonName)` wraps the public key in a self-signed X.509 certificate
 *   (the `selfsigned` package; node:crypto cannot create certificates), for Google's x509 form.
 */
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { SignJWT, type JWK, type JWTPayload } from 'jose';
import { generate } from 'selfsigned';

export type TestAlg = 'ES256' | 'RS256';

export interface TestKey {
  readonly kid: string;
  readonly alg: TestAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as published in a JWK set: kid, alg and use included. */
  readonly publicJwk: JWK;
  /** PKCS#8 PEM of the private key (what a service-account key file holds). */
  readonly privatePem: string;
}

let counter = 0;

/** A fresh key pair. RSA keys are 2048-bit, EC keys P-256. */
export function testKey(alg: TestAlg, kid = `test-${alg.toLowerCase()}-${++counter}`): TestKey {
  const { privateKey, publicKey } = alg === 'ES256'
    ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    kid,
    alg,
    privateKey,
    publicKey,
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
    privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** Seconds since the epoch, as JWT NumericDates are. */
export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

/**
 * Mints a JWT signed by `key` with jose. `header` is merged over `{ alg, kid }` (set a field to
 * undefined to drop it); `claims` are used as given, so include `iat`/`exp` yourself.
 */
export async function signJwt(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const protectedHeader = Object.fromEntries(Object.entries({ alg: key.alg, kid: key.kid, ...header }).filter(([, v]) => v !== undefined));
  return new SignJWT(claims).setProtectedHeader(protectedHeader as { alg: string }).sign(key.privateKey);
}

/** How `forgeJwt` signs: with a test key, HMAC-SHA256 with a secret, or not at all. */
export type Signer = TestKey | { readonly hmacSecret: Buffer | string } | 'none';

/**
 * Builds a token from raw parts without any validation: `header` and `payload` may be
 * objects (JSON-encoded) or strings (used verbatim, so they can be invalid JSON).
 */
export function forgeJwt(header: object | string, payload: object | string, signer: Signer): string {
  const encode = (part: object | string): string => Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  if (signer === 'none') return `${input}.`;
  if ('hmacSecret' in signer) return `${input}.${createHmac('sha256', signer.hmacSecret).update(input).digest('base64url')}`;
  const signature = signer.alg === 'ES256'
    ? sign('sha256', Buffer.from(input), { key: signer.privateKey, dsaEncoding: 'ieee-p1363' })
    : sign('sha256', Buffer.from(input), signer.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** A self-signed X.509 certificate (PEM) for `key`'s public key, as Google's x509 endpoints serve. */
export async function certificateFor(key: TestKey, commonName: string): Promise<string> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    algorithm: 'sha256',
    keyType: key.alg === 'ES256' ? 'ec' : 'rsa',
    keyPair: {
      privateKey: key.privatePem,
      publicKey: key.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    },
  });
  return pems.cert;
}
