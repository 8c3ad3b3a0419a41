import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { CredentialError, invalidOption } from './errors';
import { endpointUrl } from './internal/http';
import { Refreshing, refreshTime, type Fresh } from './internal/refresh';

/** AWS credentials; structurally the same as the AWS SDK's `AwsCredentialIdentity`. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  /** When the credentials stop working; absent for long-term credentials. */
  readonly expiration?: Date;
}

/** A function that resolves credentials, like the AWS SDK's credential providers (`fromIni()`, ...). */
export type AwsCredentialsProvider = () => Promise<AwsCredentials>;

export interface LambdaUrlClientOptions {
  /** Region of the function URL, e.g. `eu-west-1`; also the region of STS. */
  readonly region: string;
  /**
   * Role to assume with STS AssumeRole before signing; the function URL then sees this role
   * as the caller. Without it, requests are signed with the source credentials themselves.
   * @default - no role: sign with the source credentials
   */
  readonly roleArn?: string;
  /** `ExternalId` for AssumeRole, when the role's trust policy requires one. Only with `roleArn`. @default - none */
  readonly externalId?: string;
  /** `RoleSessionName`, visible in CloudTrail and to the function. Only with `roleArn`. @default `s2s-auth-<epoch ms>` */
  readonly sessionName?: string;
  /** Lifetime of the assumed-role session, 900..43200 s (capped by the role's maximum). Only with `roleArn`. @default 3600 */
  readonly durationSeconds?: number;
  /** `SourceIdentity` set on the session; it cannot be changed by later role chaining. Only with `roleArn`. @default - none */
  readonly sourceIdentity?: string;
  /**
   * Source credentials: used to call STS when `roleArn` is set, to sign requests otherwise. A
   * provider is called again when the credentials it returned come within 5 minutes of their
   * `expiration`; credentials without `expiration` are kept for the client's lifetime.
   * @default - the AWS SDK default chain (environment, SSO, shared config and credentials files,
   * web identity, ECS and EC2 instance roles), resolved by `@aws-sdk/client-sts`
   */
  readonly credentials?: AwsCredentials | AwsCredentialsProvider;
  /** STS endpoint, e.g. a VPC endpoint or a local stand-in. @default - the regional endpoint `https://sts.<region>.amazonaws.com` */
  readonly stsEndpoint?: string;
}

/** A request signed with SigV4, ready to send with any HTTP client. */
export interface SignedRequest {
  readonly url: string;
  readonly method: string;
  /** Every header to send, including `host`, `x-amz-date`, `x-amz-content-sha256` and `authorization`. */
  readonly headers: Record<string, string>;
  /** The body exactly as it was hashed; send it unchanged. */
  readonly body?: string | Uint8Array | ArrayBuffer | ArrayBufferView;
}

// The signer instantiates this per hash/HMAC, as the AWS SDK does.
const SHA256 = Hash.bind(null, 'sha256');
const ROLE_ARN = /^arn:aws(-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
// IAM character sets for AssumeRole parameters (AWS STS API reference).
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
// Headers this client computes; a caller's value would break or weaken the signature.
const SIGNATURE_HEADERS = ['authorization', 'x-amz-date', 'x-amz-security-token', 'x-amz-content-sha256'];

/**
 * Calls Lambda function URLs protected by `AWS_IAM` auth: assumes `roleArn` with STS (or uses the
 * source credentials), caches the credentials until 5 minutes before they expire, and signs every
 * request with SigV4 for the `lambda` service, body hash included.
 *
 * ```ts
 * const client = new LambdaUrlClient({ region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/caller' });
 * const res = await client.fetch('https://abc.lambda-url.eu-west-1.on.aws/orders', { method: 'POST', body: JSON.stringify(order) });
 * ```
 */
export class LambdaUrlClient {
  private readonly signers: Refreshing<SignatureV4>;

  constructor(options: LambdaUrlClientOptions) {
    const { region, roleArn, externalId, sessionName, durationSeconds, sourceIdentity, credentials, stsEndpoint } = options ?? ({} as LambdaUrlClientOptions);
    if (typeof region !== 'string' || !REGION.test(region)) throw invalidOption('region', 'must be an AWS region such as us-east-1 or eu-west-1', region);
    if (roleArn !== undefined && (typeof roleArn !== 'string' || !ROLE_ARN.test(roleArn))) {
      throw invalidOption('roleArn', 'must be an IAM role ARN such as arn:aws:iam::123456789012:role/name', roleArn);
    }
    const roleOnly = { externalId, sessionName, durationSeconds, sourceIdentity };
    for (const [option, value] of Object.entries(roleOnly)) {
      if (value !== undefined && roleArn === undefined) throw invalidOption(option, 'only applies when roleArn is set (it is an AssumeRole parameter)');
    }
    if (externalId !== undefined && (typeof externalId !== 'string' || !EXTERNAL_ID.test(externalId))) {
      throw invalidOption('externalId', 'must be 2 to 1224 characters of letters, digits and +=,.@:/-_', externalId);
    }
    if (sessionName !== undefined && (typeof sessionName !== 'string' || !SESSION_NAME.test(sessionName))) {
      throw invalidOption('sessionName', 'must be 2 to 64 characters of letters, digits and +=,.@-_', sessionName);
    }
    if (sourceIdentity !== undefined && (typeof sourceIdentity !== 'string' || !SESSION_NAME.test(sourceIdentity))) {
      throw invalidOption('sourceIdentity', 'must be 2 to 64 characters of letters, digits and +=,.@-_', sourceIdentity);
    }
    if (durationSeconds !== undefined && (!Number.isInteger(durationSeconds) || durationSeconds < 900 || durationSeconds > 43200)) {
      throw invalidOption('durationSeconds', 'must be an integer between 900 and 43200 seconds (and at most the role\'s maximum session duration)', durationSeconds);
    }
    if (credentials !== undefined && typeof credentials !== 'function' && !isCredentials(credentials)) {
      throw invalidOption('credentials', 'must be { accessKeyId, secretAccessKey, sessionToken? } or a function returning a promise of it');
    }
    const endpoint = stsEndpoint === undefined ? undefined : endpointUrl('stsEndpoint', stsEndpoint).href;

    // The STS client also resolves the source credentials (explicit, or the SDK default chain),
    // so both modes share one resolution path and s2s-auth needs no credential-provider dependency.
    const sts = new STSClient({ region, endpoint, credentials });
    const resolveSource = sts.config.credentials;
    const load: () => Promise<AwsCredentials> = roleArn === undefined
      ? () => resolveSource().then((c) => (isCredentials(c) ? c : Promise.reject(new Error('the credential provider returned no accessKeyId / secretAccessKey'))))
      : async () => {
        const { Credentials: c } = await sts.send(new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName ?? `s2s-auth-${Date.now()}`,
          DurationSeconds: durationSeconds,
          ExternalId: externalId,
          SourceIdentity: sourceIdentity,
        }));
        if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !(c.Expiration instanceof Date)) {
          throw new CredentialError('BAD_RESPONSE', `STS AssumeRole answered without complete credentials for ${roleArn}; check stsEndpoint`);
        }
        return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
      };

    // One signer per credential set: the signer and its derived-key cache are reused by every request.
    this.signers = new Refreshing(async (): Promise<Fresh<SignatureV4>> => {
      let creds: AwsCredentials;
      try {
        creds = await load();
      } catch (err) {
        throw stsError(err, roleArn);
      }
      const signer = new SignatureV4({ service: 'lambda', region, sha256: SHA256, credentials: creds });
      return { value: signer, refreshAt: creds.expiration ? refreshTime(creds.expiration.getTime(), Date.now()) : Infinity };
    });
  }

  /**
   * Signs a request for a function URL without sending it (e.g. to send it with another HTTP
   * client, or to print it). Bodies: string, Buffer / Uint8Array / ArrayBuffer / typed array,
   * URLSearchParams, Blob and FormData (buffered to hash them). Streams are refused: buffer them
   * first, the signature covers the body's SHA-256.
   */
  async sign(input: string | URL, init: RequestInit = {}): Promise<SignedRequest> {
    const url = typeof input === 'string' ? parseUrl(input) : input;
    const headers = headersOf(init.headers);
    const body = isBuffered(init.body) ? await bufferBody(init.body, headers) : signableBody(init.body, headers);
    headers.host = url.host;
    const query = url.search === '' ? undefined : queryOf(url.searchParams);
    const signer = this.signers.peek() ?? (await this.signers.get());
    const method = (init.method ?? 'GET').toUpperCase();
    const signed = await signer.sign({ method, protocol: url.protocol, hostname: url.hostname, path: url.pathname, query, headers, body });
    return { url: url.href, method, headers: signed.headers, body };
  }

  /**
   * Signs and sends a request with the global `fetch`, and returns its `Response` as is (a 403
   * from the function URL is a Response, not an error). `init` is passed through to `fetch`
   * apart from `headers` and `body`, which are sent as signed.
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const signed = await this.sign(input, init);
    return fetch(signed.url, { ...init, method: signed.method, headers: signed.headers, body: signed.body as BodyInit | undefined });
  }
}

function isCredentials(value: unknown): value is AwsCredentials {
  const c = value as AwsCredentials | undefined;
  return typeof c === 'object' && c !== null && typeof c.accessKeyId === 'string' && c.accessKeyId !== '' && typeof c.secretAccessKey === 'string' && c.secretAccessKey !== '';
}

function parseUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw invalidOption('url', 'must be an absolute URL such as https://abc.lambda-url.eu-west-1.on.aws/path', input);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidOption('url', 'must be an http(s) URL', input);
  return url;
}

function queryOf(params: URLSearchParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [key, value] of params) {
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

// Plain objects are the common case: copying them directly avoids building a Headers per request.
function headersOf(init: HeadersInit | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  if (init === undefined) return headers;
  if (init instanceof Headers || Array.isArray(init)) {
    new Headers(init).forEach((value, name) => {
      headers[name] = value;
    });
  } else {
    for (const name of Object.keys(init)) headers[name.toLowerCase()] = String(init[name]);
  }
  for (const name of SIGNATURE_HEADERS) delete headers[name];
  return headers;
}

function isBuffered(body: RequestInit['body']): body is Blob | FormData {
  return body instanceof Blob || body instanceof FormData;
}

async function bufferBody(body: Blob | FormData, headers: Record<string, string>): Promise<Uint8Array> {
  // Response serializes exactly as fetch would (multipart boundary included).
  const serialized = new Response(body);
  const type = serialized.headers.get('content-type');
  if (type) headers['content-type'] ??= type;
  return new Uint8Array(await serialized.arrayBuffer());
}

/** A fetch body as something the signer can hash, with the content type fetch would set. */
function signableBody(body: RequestInit['body'], headers: Record<string, string>): SignedRequest['body'] {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || ArrayBuffer.isView(body) || body instanceof ArrayBuffer) return body;
  if (body instanceof URLSearchParams) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded;charset=UTF-8';
    return body.toString();
  }
  throw new CredentialError('UNSUPPORTED_BODY', 'cannot sign a streaming request body: SigV4 covers the SHA-256 of the whole body; buffer it first (e.g. `new Uint8Array(await new Response(stream).arrayBuffer())`)');
}

function stsError(err: unknown, roleArn: string | undefined): CredentialError {
  if (err instanceof CredentialError) return err;
  const what = roleArn ? `cannot assume role ${roleArn}` : 'cannot resolve AWS credentials';
  if (err instanceof STSServiceException) {
    const hint = err.name === 'AccessDenied'
      ? 'check that the role\'s trust policy allows the source principal (and any sts:ExternalId / sts:SourceIdentity condition)'
      : err.name === 'InvalidClientTokenId' || err.name === 'SignatureDoesNotMatch' || err.name === 'ExpiredToken'
        ? 'the source credentials are invalid or expired; refresh them'
        : err.name === 'RegionDisabledException'
          ? 'activate STS in this region (IAM > Account settings) or use another region'
          : 'see the STS error';
    return new CredentialError('STS_FAILED', `${what}: STS answered ${err.name}: ${err.message}; ${hint}`, { awsCode: err.name, status: err.$metadata.httpStatusCode, cause: err });
  }
  const name = err instanceof Error ? err.name : 'Error';
  if (name === 'CredentialsProviderError') {
    return new CredentialError('STS_FAILED', `${what}: no source AWS credentials found; set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, run on an AWS compute role, or pass 'credentials'`, { cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new CredentialError('STS_FAILED', `${what}: ${message}; check stsEndpoint, region and network access to STS`, { cause: err });
}
