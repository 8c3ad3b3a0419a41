import { randomBytes, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SigV4Rejection, verifySigV4, type CredentialLookup, type KnownCredentials } from './sigv4-server';

/**
 * A loopback stand-in for AWS STS that speaks the real AssumeRole Query protocol: a SigV4-signed
 * form POST (`Action=AssumeRole&Version=2011-06-15&RoleArn=...`) answered with the XML STS
 * returns, or an `<ErrorResponse>` with the status STS uses. The caller's own signature (service
 * `sts`) is checked against `sourceCredentials`, so an SDK that signs wrongly is refused as AWS
 * would. It issues fresh temporary credentials per call, counts calls, and exposes `lookup` for
 * {@link startSigV4Server} so requests signed with issued credentials can be verified.
 */

/** A role callers may assume, with the trust-policy conditions the stand-in enforces. */
export interface StandInRole {
  readonly roleArn: string;
  /** When set, AssumeRole must carry exactly this ExternalId (`sts:ExternalId` condition). */
  readonly externalId?: string;
  /** The role's MaxSessionDuration: a longer DurationSeconds is a ValidationError, as in IAM. @default 3600 (IAM's default) */
  readonly maxSessionSeconds?: number;
}

/** The roles the suites give the stand-in: a plain one, and one whose trust policy demands an ExternalId. */
export const ROLE = 'arn:aws:iam::111122223333:role/orders-caller';
export const GUARDED_ROLE = 'arn:aws:iam::111122223333:role/partner/guarded';
export const EXTERNAL_ID = 'partner-7f3a:2024';
export const STAND_IN_ROLES: readonly StandInRole[] = [{ roleArn: ROLE }, { roleArn: GUARDED_ROLE, externalId: EXTERNAL_ID }];

export interface StsOptions {
  /** Signing region of the stand-in (the region callers configure). @default 'us-east-1' */
  readonly region?: string;
  /** Long-term credentials allowed to call AssumeRole; their identity is arn:aws:iam::<account>:user/caller. */
  readonly sourceCredentials: readonly { readonly accessKeyId: string; readonly secretAccessKey: string; readonly accountId?: string }[];
  /** Roles that may be assumed; any other RoleArn is AccessDenied. */
  readonly roles: readonly StandInRole[];
  /**
   * How far the stand-in's clock is ahead of this machine's (negative: behind): it then checks
   * signatures, dates its answers (`Date` header) and sets expirations by that clock, as an AWS a
   * client's clock disagrees with. Give a function URL stand-in the same offset. @default 0
   */
  readonly clockOffsetMs?: number;
}

/** One AssumeRole call as received (parameters as sent on the wire). */
export interface AssumeRoleCall {
  readonly RoleArn?: string;
  readonly RoleSessionName?: string;
  readonly DurationSeconds?: string;
  readonly ExternalId?: string;
  readonly SourceIdentity?: string;
}

export interface Sts {
  /** Endpoint URL for `stsEndpoint` / the SDK's `endpoint`. */
  readonly url: string;
  readonly region: string;
  /** Successful and failed AssumeRole calls, in order. */
  readonly calls: AssumeRoleCall[];
  /** How many AssumeRole calls issued credentials. */
  issued(): number;
  /** Looks up source credentials and credentials this stand-in issued (for {@link startSigV4Server}). */
  readonly lookup: CredentialLookup;
  /**
   * Lifetime of issued credentials in seconds, overriding DurationSeconds (STS issues shorter
   * sessions when role chaining): set it low to exercise refresh without waiting 15 minutes.
   */
  lifetimeSeconds?: number;
  /** Makes the next AssumeRole calls fail with this STS error (one entry per call). */
  failNext(code: string, message: string, status?: number): void;
  close(): Promise<void>;
}

const XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export async function startSts(options: StsOptions): Promise<Sts> {
  const region = options.region ?? 'us-east-1';
  const known = new Map<string, KnownCredentials>();
  for (const source of options.sourceCredentials) {
    const accountId = source.accountId ?? '111122223333';
    known.set(source.accessKeyId, { ...source, iam: { accountId, userArn: `arn:aws:iam::${accountId}:user/caller`, userId: `AIDA${source.accessKeyId.slice(4)}` } });
  }
  const calls: AssumeRoleCall[] = [];
  const failures: { code: string; message: string; status: number }[] = [];
  let issued = 0;
  const now = () => Date.now() + (options.clockOffsetMs ?? 0);

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void handle(req, Buffer.concat(chunks)).then(({ status, xml }) => {
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID(), date: new Date(now()).toUTCString() });
        res.end(xml);
      });
    });
  });

  async function handle(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; xml: string }> {
    const form = new URLSearchParams(body.toString('utf8'));
    if (req.method !== 'POST' || form.get('Action') !== 'AssumeRole' || form.get('Version') !== '2011-06-15') {
      return error(400, 'InvalidAction', 'Could not find operation for this request; expected a form POST Action=AssumeRole&Version=2011-06-15');
    }
    const call: AssumeRoleCall = Object.fromEntries(['RoleArn', 'RoleSessionName', 'DurationSeconds', 'ExternalId', 'SourceIdentity'].flatMap((k) => (form.has(k) ? [[k, form.get(k)!]] : [])));
    calls.push(call);
    let caller: KnownCredentials;
    try {
      caller = await verifySigV4({ method: req.method, url: req.url ?? '/', headers: req.headers }, body, { service: 'sts', region, lookup: (id) => known.get(id), clockOffsetMs: options.clockOffsetMs });
    } catch (err) {
      if (err instanceof SigV4Rejection) return error(403, err.code, err.message);
      throw err;
    }
    const failure = failures.shift();
    if (failure) return error(failure.status, failure.code, failure.message);
    const role = options.roles.find((r) => r.roleArn === call.RoleArn);
    if (!role || (role.externalId !== undefined && role.externalId !== call.ExternalId)) {
      return error(403, 'AccessDenied', `User: ${caller.iam.userArn} is not authorized to perform: sts:AssumeRole on resource: ${call.RoleArn}`);
    }
    const session = call.RoleSessionName ?? '';
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) return error(400, 'ValidationError', '1 validation error detected: Value at \'roleSessionName\' failed to satisfy constraint');
    const duration = Number(call.DurationSeconds ?? 3600);
    if (duration > (role.maxSessionSeconds ?? 3600)) return error(400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.');
    const lifetime = sts.lifetimeSeconds ?? duration;
    const [, accountId, roleName] = /^arn:aws:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(role.roleArn)!;
    const roleId = `AROA${randomBytes(8).toString('hex').toUpperCase()}`;
    const credentials: KnownCredentials = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(60).toString('base64'),
      // STS states expirations in whole seconds; round up so a session never lives less than asked.
      expiration: new Date(Math.ceil(now() / 1000 + lifetime) * 1000),
      issuedAt: new Date(now()),
      iam: { accountId, userArn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${session}`, userId: `${roleId}:${session}` },
    };
    known.set(credentials.accessKeyId, credentials);
    issued += 1;
    return {
      status: 200,
      xml: `<AssumeRoleResponse xmlns="${XMLNS}">
  <AssumeRoleResult>
${call.SourceIdentity ? `    <SourceIdentity>${escape(call.SourceIdentity)}</SourceIdentity>\n` : ''}    <AssumedRoleUser>
      <AssumedRoleId>${escape(credentials.iam.userId)}</AssumedRoleId>
      <Arn>${escape(credentials.iam.userArn)}</Arn>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>${credentials.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${credentials.secretAccessKey}</SecretAccessKey>
      <SessionToken>${credentials.sessionToken}</SessionToken>
      <Expiration>${credentials.expiration!.toISOString().replace('.000Z', 'Z')}</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`,
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const sts: Sts = {
    url: `http://127.0.0.1:${port}`,
    region,
    calls,
    issued: () => issued,
    lookup: (id) => known.get(id),
    failNext: (code, message, status = 403) => {
      failures.push({ code, message, status });
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((err) => (err ? reject(err) : resolve()));
    }),
  };
  return sts;
}

function error(status: number, code: string, message: string): { status: number; xml: string } {
  return {
    status,
    xml: `<ErrorResponse xmlns="${XMLNS}">
  <Error>
    <Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type>
    <Code>${escape(code)}</Code>
    <Message>${escape(message)}</Message>
  </Error>
  <RequestId>${randomUUID()}</RequestId>
</ErrorResponse>
`,
  };
}

function escape(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
