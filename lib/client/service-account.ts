import { readFileSync } from 'node:fs';
import { importPKCS8, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { CredentialError, invalidOption } from './errors';
import { nonEmpty } from './internal/http';

/** A Google service-account JSON key, as `gcloud iam service-accounts keys create` writes it. */
export interface ServiceAccountKey {
  readonly type: 'service_account';
  readonly private_key: string;
  readonly private_key_id: string;
  readonly client_email: string;
  readonly client_id?: string;
  readonly project_id?: string;
  readonly token_uri?: string;
  readonly [field: string]: unknown;
}

/** Where a service-account key comes from: the parsed JSON object, or the path of the JSON file. */
export interface ServiceAccountKeyInput {
  /** The parsed JSON key. Exactly one of `key` and `keyFile`. */
  readonly key?: ServiceAccountKey;
  /** Path of the JSON key file. Exactly one of `key` and `keyFile`. */
  readonly keyFile?: string;
}

export interface SignServiceAccountJwtOptions extends ServiceAccountKeyInput {
  /** `aud` claim: what the API expects, e.g. the Cloud Endpoints service name or its `x-google-audiences`. */
  readonly audience: string;
  /** Lifetime in seconds, 1..3600 (Google refuses self-signed JWTs living longer than an hour). @default 3600 */
  readonly expiresInSec?: number;
}

/** A service-account key ready to sign with. */
export interface LoadedServiceAccountKey {
  readonly email: string;
  readonly keyId: string;
  readonly privateKey: CryptoKey;
}

/**
 * Signs the RS256 JWT a service account sends to a Cloud Endpoints (ESP / ESPv2) API as
 * `Authorization: Bearer`: `iss` = `sub` = the account's email, `aud`, `iat`, `exp`, and the
 * header `kid` = the key's `private_key_id`, so Google's published x509 / JWK sets verify it.
 */
export async function signServiceAccountJwt(options: SignServiceAccountJwtOptions): Promise<string> {
  const audience = nonEmpty('audience', options?.audience);
  const lifetime = options.expiresInSec ?? 3600;
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 3600) {
    throw invalidOption('expiresInSec', 'must be an integer between 1 and 3600 seconds (Google accepts self-signed JWTs for at most one hour)', lifetime);
  }
  const key = await importServiceAccountKey(readServiceAccountKey(options), options.key ? 'key' : 'keyFile');
  return signWithServiceAccount(key, { sub: key.email, aud: audience }, lifetime);
}

/** Signs `claims` plus `iss` (the account's email), `iat` and `exp` with the account's key. */
export function signWithServiceAccount(key: LoadedServiceAccountKey, claims: JWTPayload, lifetimeSec: number): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: key.keyId })
    .setIssuer(key.email)
    .setIssuedAt(now)
    .setExpirationTime(now + lifetimeSec)
    .sign(key.privateKey);
}

/** Reads and checks a service-account key from `key` or `keyFile`; BAD_KEY names the field at fault. */
export function readServiceAccountKey(input: ServiceAccountKeyInput): ServiceAccountKey {
  const { key, keyFile } = input;
  if ((key === undefined) === (keyFile === undefined)) {
    throw invalidOption('key', 'pass exactly one of key (the parsed JSON key) and keyFile (its path)');
  }
  if (key !== undefined) return checkKey(key, 'key');
  const file = nonEmpty('keyFile', keyFile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CredentialError('BAD_KEY', `cannot read keyFile ${JSON.stringify(file)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; pass the path of a service-account JSON key`, { option: 'keyFile', cause: err });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CredentialError('BAD_KEY', `keyFile ${JSON.stringify(file)} is not JSON; pass the service-account JSON key file that \`gcloud iam service-accounts keys create\` writes`, { option: 'keyFile' });
  }
  return checkKey(parsed, 'keyFile');
}

function checkKey(value: unknown, option: 'key' | 'keyFile'): ServiceAccountKey {
  const bad = (reason: string) => new CredentialError('BAD_KEY', `${option} is not a usable service-account key: ${reason}`, { option });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('expected the JSON object of a service-account key');
  const key = value as Record<string, unknown>;
  if (key.type !== 'service_account') {
    throw bad(`field 'type' is ${JSON.stringify(key.type)}, expected "service_account"${key.type === 'authorized_user' ? ' (this is a user credential from `gcloud auth application-default login`; create a service-account key instead)' : ''}`);
  }
  for (const field of ['private_key', 'private_key_id', 'client_email']) {
    if (typeof key[field] !== 'string' || (key[field] as string).trim() === '') throw bad(`field '${field}' is missing or empty`);
  }
  if (!/^[^@\s]+@[^@\s]+$/.test(key.client_email as string)) throw bad(`field 'client_email' is not an email address (got ${JSON.stringify(key.client_email)})`);
  if (!(key.private_key as string).includes('-----BEGIN PRIVATE KEY-----')) throw bad('field \'private_key\' is not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)');
  return key as ServiceAccountKey;
}

export async function importServiceAccountKey(key: ServiceAccountKey, option: 'key' | 'keyFile'): Promise<LoadedServiceAccountKey> {
  try {
    return { email: key.client_email, keyId: key.private_key_id, privateKey: await importPKCS8(key.private_key, 'RS256') };
  } catch (err) {
    // jose's message describes the PEM, never its contents.
    throw new CredentialError('BAD_KEY', `field 'private_key' of the service-account key ${key.client_email} is not an RSA private key: ${(err as Error).message}`, { option, cause: err });
  }
}
