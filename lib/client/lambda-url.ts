import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { CredentialError, invalidOption } from './errors';
import { endpointUrl, timeoutMs } from './internal/http';
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
  /**
   * Time allowed to connect to STS and to get its answer, per attempt (the AWS SDK retries
   * throttling and transient failures, 3 attempts in all). The function URL request itself is
   * bounded by the `signal` you pass to `fetch`.
   * @default 10000
   */
  readonly timeoutMs?: number;
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

/** A request URL, parsed into what the signer needs. */
interface Target {
  readonly href: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly host: string;
  readonly path: string;
  readonly query?: Readonly<Record<string, string | string[]>>;
}

const MAX_TARGETS = 256;
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
 * Clock skew: AWS refuses signatures more than 5 minutes off its clock. With `roleArn`, the AWS
 * SDK learns the offset of this machine's clock from STS's answers, and requests are signed and
 * credentials judged in AWS time. Without a role nothing tells the client AWS's time: keep the
 * clock synchronised (NTP).
 *
 * ```ts
 * const client = new LambdaUrlClient({ region: 'eu-west-1', roleArn: 'arn:aws:iam::123456789012:role/caller' });
 * const res = await client.fetch('https://abc.lambda-url.eu-west-1.on.aws/orders', { method: 'POST', body: JSON.stringify(order) });
 * ```
 */
export class LambdaUrlClient {
  private readonly signers: Refreshing<SignatureV4>;
  /** AWS's time as best known here, epoch ms. */
  private readonly now: () => number;
  private readonly targets = new Map<string, Target>();

  constructor(options: LambdaUrlClientOptions) {
    const { region, roleArn, externalId, sessionName, durationSeconds, sourceIdentity, credentials, stsEndpoint } = options ?? ({} as LambdaUrlClientOptions);
    const timeout = timeoutMs(options?.timeoutMs);
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
    const sts = new STSClient({ region, endpoint, credentials, requestHandler: { connectionTimeout: timeout, requestTimeout: timeout, throwOnRequestTimeout: true } });
    // The SDK keeps the offset between this machine's clock and the Date of STS's answers.
    this.now = () => Date.now() + (sts.config.systemClockOffset ?? 0);
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
        throw stsError(err, roleArn, timeout);
      }
      const now = this.now();
      // Every request signed with them would be refused (403 ExpiredToken): say why instead.
      if (creds.expiration && creds.expiration.getTime() <= now) throw expired(creds.expiration, roleArn);
      const signer = new SignatureV4({ service: 'lambda', region, sha256: SHA256, credentials: creds });
      return { value: signer, refreshAt: creds.expiration ? refreshTime(creds.expiration.getTime(), now) : Infinity };
    }, this.now);
  }

  /**
   * Signs a request for a function URL without sending it (e.g. to send it with another HTTP
   * client, or to print it). Bodies: string, Buffer / Uint8Array / ArrayBuffer / typed array,
   * URLSearchParams, Blob and FormData (buffered to hash them). Streams are refused: buffer them
   * first, the signature covers the body's SHA-256.
   */
  async sign(input: string | URL, init: RequestInit = {}): Promise<SignedRequest> {
    const target = this.target(typeof input === 'string' ? input : input?.href);
    const headers = headersOf(init.headers);
    const body = isBuffered(init.body) ? await bufferBody(init.body, headers) : signableBody(init.body, headers);
    headers.host = target.host;
    const signer = this.signers.peek() ?? (await this.signers.get());
    const method = (init.method ?? 'GET').toUpperCase();
    const { protocol, hostname, path, query } = target;
    const signed = await signer.sign({ method, protocol, hostname, path, query, headers, body }, { signingDate: new Date(this.now()) });
    return { url: target.href, method, headers: signed.headers, body };
  }

  // Callers sign the same few URLs over and over: parsing them once keeps signing close to the
  // bare signer's cost. Bounded, oldest entry out first.
  private target(input: string | undefined): Target {
    const key = String(input);
    let target = this.targets.get(key);
    if (!target) {
      // Signed headers carry the session token: plain http only where it cannot be overheard.
      const url = endpointUrl('url', input);
      const query = url.search === '' ? undefined : queryOf(url.search);
      target = Object.freeze({ href: url.href, protocol: url.protocol, hostname: url.hostname, host: url.host, path: url.pathname, query });
      if (this.targets.size >= MAX_TARGETS) this.targets.delete(this.targets.keys().next().value!);
      this.targets.set(key, target);
    }
    return target;
  }

  /**
   * Signs and sends a request with the global `fetch`, and returns its `Response` as is (a 403
   * from the function URL is a Response, not an error). `init` is passed through to `fetch`
   * apart from `headers` and `body`, which are sent as signed. Redirects are returned, not
   * followed (`redirect: 'manual'` unless you say otherwise): a signature is only valid for its
   * own URL, and following would hand the session token to wherever the redirect points.
   */
  async fetch(input: string | URL, init: RequestInit = {}): Promise<Response> {
    const signed = await this.sign(input, init);
    return fetch(signed.url, { ...init, method: signed.method, headers: signed.headers, body: signed.body as BodyInit | undefined, redirect: init.redirect ?? 'manual' });
  }
}

function isCredentials(value: unknown): value is AwsCredentials {
  const c = value as AwsCredentials | undefined;
  return typeof c === 'object' && c !== null && typeof c.accessKeyId === 'string' && c.accessKeyId !== '' && typeof c.secretAccessKey === 'string' && c.secretAccessKey !== '';
}

// SigV4 canonicalises the query as sent, where '+' is a literal plus (%2B); URLSearchParams
// would decode it to a space and sign a query AWS never sees.
function queryOf(search: string): Readonly<Record<string, string | string[]>> {
  const query: Record<string, string | string[]> = {};
  for (const pair of search.slice(1).split('&')) {
    if (pair === '') continue;
    const at = pair.indexOf('=');
    const key = decodeQuery(at < 0 ? pair : pair.slice(0, at));
    const value = at < 0 ? '' : decodeQuery(pair.slice(at + 1));
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  // Shared by every request to this URL: the signer copies it, nothing may change it.
  for (const value of Object.values(query)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(query);
}

function decodeQuery(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw invalidOption('url', `has a malformed %-escape in its query (${JSON.stringify(text.slice(0, 40))}); write a literal % as %25`);
  }
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

function expired(at: Date, roleArn: string | undefined): CredentialError {
  return roleArn === undefined
    ? new CredentialError('STS_FAILED', `cannot resolve AWS credentials: the credentials expired at ${at.toISOString()}; pass fresh ones, or a provider function (such as the AWS SDK's fromIni()) that renews them`)
    : new CredentialError('BAD_RESPONSE', `STS issued credentials for ${roleArn} that expired at ${at.toISOString()}, before their first use; check this machine's clock and stsEndpoint`);
}

function stsError(err: unknown, roleArn: string | undefined, timeout: number): CredentialError {
  if (err instanceof CredentialError) return err;
  const what = roleArn ? `cannot assume role ${roleArn}` : 'cannot resolve AWS credentials';
  if (err instanceof STSServiceException) {
    const hint = err.name === 'AccessDenied'
      ? 'check that the role\'s trust policy allows the source principal (and any sts:ExternalId / sts:SourceIdentity condition)'
      : err.name === 'InvalidClientTokenId' || err.name === 'SignatureDoesNotMatch' || err.name === 'ExpiredToken'
        ? 'the source credentials are invalid or expired; refresh them'
        : err.name === 'RegionDisabledException'
          ? 'activate STS in this region (IAM > Account settings) or use another region'
          : err.name === 'ValidationError' && /DurationSeconds/i.test(err.message)
            ? 'lower durationSeconds to at most the role\'s maximum session duration (and 3600 when the source credentials are themselves a role session)'
            : 'see the STS error';
    return new CredentialError('STS_FAILED', `${what}: STS answered ${err.name}: ${err.message}; ${hint}`, { awsCode: err.name, status: err.$metadata.httpStatusCode, cause: err });
  }
  const name = err instanceof Error ? err.name : 'Error';
  if (name === 'CredentialsProviderError') {
    return new CredentialError('STS_FAILED', `${what}: no source AWS credentials found; set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE, run on an AWS compute role, or pass 'credentials'`, { cause: err });
  }
  const message = name === 'TimeoutError' ? `STS did not answer within ${timeout} ms` : err instanceof Error ? err.message : String(err);
  return new CredentialError('STS_FAILED', `${what}: ${message}; check stsEndpoint, region and network access to STS`, { cause: err });
}
