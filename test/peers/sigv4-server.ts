import { createHash, timingSafeEqual } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { LambdaUrlIamAuthorizer } from '../../lib/verify/lambda-url';

/**
 * A loopback stand-in for an AWS endpoint that requires SigV4 (a Lambda function URL with
 * `AWS_IAM` auth, or STS itself). It checks a request the way AWS does, by RECOMPUTING the
 * signature with AWS's own signer (@smithy/signature-v4) from the request as received and the
 * secret of the credentials it names, and refuses with 403 and an AWS-style message:
 * unknown / mismatched session token, expired credentials, a clock skew over 5 minutes, a body
 * that does not match `x-amz-content-sha256`, or any signed header, path, query or body changed.
 * The query is canonicalised from the raw query string, as AWS does: '+' is a literal plus.
 */

/** Credentials the server knows, with the IAM identity AWS would attach to them. */
export interface KnownCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
  /** When STS issued them (the stand-in's clock); absent for long-term credentials. */
  readonly issuedAt?: Date;
  /** What Lambda writes into `requestContext.authorizer.iam` for this caller. */
  readonly iam: Required<Pick<LambdaUrlIamAuthorizer, 'accountId' | 'userArn' | 'userId'>>;
}

/** Resolves an access key id to the credentials it belongs to; undefined if unknown. */
export type CredentialLookup = (accessKeyId: string) => KnownCredentials | undefined;

/** A request whose signature checked out. */
export interface VerifiedRequest {
  readonly method: string;
  /** Path as received (still percent-encoded). */
  readonly rawPath: string;
  /** Query string as received, without `?`. */
  readonly rawQuery: string;
  /** Received headers, lower-case names. */
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  /** The IAM identity, shaped like a function URL event's `requestContext.authorizer.iam`. */
  readonly iam: LambdaUrlIamAuthorizer;
  readonly sourceIp: string;
}

export interface SigV4Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body: string;
}

/** Why a request was refused: `code` as AWS names it, `message` close to AWS's wording. */
export class SigV4Rejection extends Error {
  constructor(readonly code: 'IncompleteSignature' | 'InvalidClientTokenId' | 'ExpiredToken' | 'SignatureDoesNotMatch' | 'InvalidSignatureException', message: string) {
    super(message);
    this.name = 'SigV4Rejection';
  }
}

export interface VerifySigV4Options {
  /** Signing name the request must be scoped to, e.g. `lambda` or `sts`. */
  readonly service: string;
  readonly region: string;
  readonly lookup: CredentialLookup;
  /** Largest accepted difference between `x-amz-date` and now. @default 5 minutes (as AWS) */
  readonly maxSkewMs?: number;
  /** How far this server's clock is ahead of the machine's (negative: behind), to play an AWS a client's clock disagrees with. @default 0 */
  readonly clockOffsetMs?: number;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/(\d{8})\/([^/\s]+)\/([^/\s]+)\/aws4_request, ?SignedHeaders=([a-z0-9;._-]+), ?Signature=([0-9a-f]{64})$/;
const SHA256 = Hash.bind(null, 'sha256');

/** Checks one received request; returns the caller's credentials or throws a {@link SigV4Rejection}. */
export async function verifySigV4(req: { method: string; url: string; headers: http.IncomingHttpHeaders }, body: Buffer, options: VerifySigV4Options): Promise<KnownCredentials> {
  const header = (name: string): string | undefined => {
    const value = req.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const auth = AUTHORIZATION.exec(header('authorization') ?? '');
  if (!auth) throw new SigV4Rejection('IncompleteSignature', 'Authorization header requires a AWS4-HMAC-SHA256 Credential, SignedHeaders and Signature');
  const [, accessKeyId, scopeDate, region, service, signedHeaders, signature] = auth;
  if (region !== options.region || service !== options.service) {
    throw new SigV4Rejection('SignatureDoesNotMatch', `Credential should be scoped to a valid region and service ${options.region}/${options.service}, not '${region}/${service}'`);
  }
  const amzDate = header('x-amz-date') ?? '';
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!date || amzDate.slice(0, 8) !== scopeDate) throw new SigV4Rejection('IncompleteSignature', 'X-Amz-Date is missing or does not match the credential scope date');
  const signingDate = new Date(Date.UTC(+date[1], +date[2] - 1, +date[3], +date[4], +date[5], +date[6]));
  const skew = options.maxSkewMs ?? 5 * 60_000;
  const now = Date.now() + (options.clockOffsetMs ?? 0);
  if (Math.abs(now - signingDate.getTime()) > skew) {
    throw new SigV4Rejection('InvalidSignatureException', `Signature expired: ${amzDate} is now earlier than ${new Date(now - skew).toISOString()}`);
  }

  const known = options.lookup(accessKeyId);
  if (!known || (known.sessionToken ?? undefined) !== header('x-amz-security-token')) {
    throw new SigV4Rejection('InvalidClientTokenId', 'The security token included in the request is invalid.');
  }
  if (known.expiration && known.expiration.getTime() <= now) {
    throw new SigV4Rejection('ExpiredToken', 'The security token included in the request is expired');
  }

  const names = signedHeaders.split(';');
  if (!names.includes('host') || !names.includes('x-amz-date')) throw new SigV4Rejection('IncompleteSignature', 'SignedHeaders must include host and x-amz-date');
  const contentHash = header('x-amz-content-sha256');
  if (contentHash !== undefined && contentHash !== createHash('sha256').update(body).digest('hex')) {
    throw new SigV4Rejection('SignatureDoesNotMatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
  }
  const headers: Record<string, string> = {};
  for (const name of names) {
    const value = header(name);
    if (value === undefined) throw new SigV4Rejection('SignatureDoesNotMatch', `signed header '${name}' is missing from the request`);
    headers[name] = value;
  }
  const [rawPath, rawQuery = ''] = splitUrl(req.url);
  const query: Record<string, string | string[]> = {};
  for (const pair of rawQuery.split('&').filter(Boolean)) {
    const at = pair.indexOf('=');
    const [key, value] = (at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)]).map(decodeURIComponent);
    const seen = query[key];
    query[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  const signer = new SignatureV4({ service, region, sha256: SHA256, applyChecksum: false, credentials: known });
  const expected = await signer.sign(
    { method: req.method, protocol: 'http:', hostname: '', path: rawPath, query, headers, body: body.length > 0 ? body : undefined },
    { signingDate, signableHeaders: new Set(names) },
  );
  const match = AUTHORIZATION.exec(expected.headers.authorization);
  if (!match || match[5] !== signedHeaders || !timingSafeEqual(Buffer.from(match[6]), Buffer.from(signature))) {
    throw new SigV4Rejection('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return known;
}

function splitUrl(url: string): [string, string | undefined] {
  const at = url.indexOf('?');
  return at < 0 ? [url, undefined] : [url.slice(0, at), url.slice(at + 1)];
}

export interface SigV4ServerOptions extends Omit<VerifySigV4Options, 'service'> {
  /** @default 'lambda' */
  readonly service?: string;
  /** Answers a verified request. @default - 200 with the request and the caller's IAM identity as JSON */
  readonly handle?: (request: VerifiedRequest) => SigV4Reply | Promise<SigV4Reply>;
}

export interface SigV4Server {
  /** Base URL, e.g. `http://127.0.0.1:41234`, no trailing slash. */
  readonly url: string;
  /** Requests accepted and refused so far (refusals with their AWS error code). */
  readonly accepted: VerifiedRequest[];
  readonly rejected: { readonly code: string; readonly message: string }[];
  close(): Promise<void>;
}

/** Starts a SigV4-checking HTTP server on 127.0.0.1 (random port). */
export async function startSigV4Server(options: SigV4ServerOptions): Promise<SigV4Server> {
  const accepted: VerifiedRequest[] = [];
  const rejected: { code: string; message: string }[] = [];
  const verifyOptions = { ...options, service: options.service ?? 'lambda' };
  const handle = options.handle ?? echo;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      void answer(req, body).then((reply) => {
        res.writeHead(reply.status, { 'content-type': 'application/json', date: new Date(Date.now() + (options.clockOffsetMs ?? 0)).toUTCString(), ...reply.headers });
        res.end(reply.body);
      });
    });
  });

  async function answer(req: http.IncomingMessage, body: Buffer): Promise<SigV4Reply> {
    try {
      const known = await verifySigV4({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers }, body, verifyOptions);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      const [rawPath, rawQuery = ''] = splitUrl(req.url ?? '/');
      const verified: VerifiedRequest = {
        method: req.method ?? 'GET',
        rawPath,
        rawQuery,
        headers,
        body,
        iam: { accessKey: known.accessKeyId, ...known.iam, callerId: known.iam.userId, cognitoIdentity: null, principalOrgId: null },
        sourceIp: req.socket.remoteAddress ?? '',
      };
      accepted.push(verified);
      return await handle(verified);
    } catch (err) {
      if (!(err instanceof SigV4Rejection)) return { status: 500, body: JSON.stringify({ Message: 'stand-in failure', Detail: String(err) }) };
      rejected.push({ code: err.code, message: err.message });
      return { status: 403, headers: { 'x-amzn-errortype': err.code }, body: JSON.stringify({ Message: err.message }) };
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accepted,
    rejected,
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    }),
  };
}

/** The JSON body of the default handler's answer: what the function URL received. */
export interface Echo {
  readonly method: string;
  readonly path: string;
  readonly query: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly iam: { readonly userArn: string; readonly accountId: string; readonly accessKey: string };
}

/** The default handler's body for `request`, with `headers` in place of those received (e.g. to leave out the signature). */
export function echoBody(request: VerifiedRequest, headers: Record<string, string> = request.headers): string {
  return JSON.stringify({ method: request.method, path: request.rawPath, query: request.rawQuery, body: request.body.toString('utf8'), headers, iam: request.iam });
}

function echo(request: VerifiedRequest): SigV4Reply {
  return { status: 200, body: echoBody(request) };
}
