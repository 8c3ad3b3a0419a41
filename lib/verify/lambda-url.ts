import { AuthError } from './errors';

/**
 * The IAM identity Lambda writes into a function URL event (payload format 2.0) when the URL's
 * auth type is `AWS_IAM` and the SigV4 signature checked out.
 */
export interface LambdaUrlIamAuthorizer {
  readonly accessKey?: string;
  readonly accountId?: string;
  readonly callerId?: string;
  readonly cognitoIdentity?: { readonly amr: readonly string[]; readonly identityId: string; readonly identityPoolId: string } | null;
  readonly principalOrgId?: string | null;
  readonly userArn?: string;
  readonly userId?: string;
}

/** The parts of a Lambda function URL event (payload format 2.0) this module reads. */
export interface LambdaUrlEvent {
  readonly version?: string;
  readonly rawPath?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly requestContext?: {
    readonly accountId?: string;
    readonly authorizer?: { readonly iam?: LambdaUrlIamAuthorizer | null } | null;
    readonly http?: { readonly method?: string; readonly path?: string; readonly sourceIp?: string };
  };
}

export interface LambdaUrlCallerOptions {
  /**
   * IAM role ARNs (`arn:aws:iam::123456789012:role/Name`, any partition, optional path) and
   * 12-digit account IDs allowed to call. A role entry admits sessions of that role; an account
   * entry admits every principal of that account that IAM let through. Role paths are ignored
   * when matching: the session ARN Lambda reports carries no path, and a role name is unique
   * within its account whatever its path, so partition + account + name is still exact.
   * @default undefined: any caller that IAM let through (the function URL's resource policy
   * and the caller's identity policy are then the only gate). An empty list admits nobody.
   */
  readonly allowedCallers?: readonly string[];
}

/** The verified caller of a function URL request. */
export interface LambdaUrlCaller {
  /** The caller's account. */
  readonly accountId: string;
  /** For an assumed-role session: the role's ARN, without its path (see `allowedCallers`). */
  readonly roleArn?: string;
  readonly roleName?: string;
  readonly sessionName?: string;
  /** The caller's ARN as IAM reports it (session, user, root or federated-user ARN). */
  readonly principalArn: string;
  /** IAM's unique ID, e.g. `AROA...:session` for a role session, `AIDA...` for a user. */
  readonly userId: string;
  readonly sourceIp: string;
}

const ACCOUNT_ID = /^\d{12}$/;
// Partition (aws, aws-cn, aws-us-gov, aws-iso-b, ...), optional path, role name per IAM's rules.
const ROLE_ARN = /^arn:(aws(?:-[a-z]+)*):iam::(\d{12}):role(?:\/[!-.0-~]+)*\/([\w+=,.@-]{1,64})$/;
const PRINCIPAL_ARN = /^arn:(aws(?:-[a-z]+)*):(iam|sts)::(\d{12}):([!-~]+)$/;
const ASSUMED_ROLE = /^assumed-role\/([\w+=,.@-]{1,64})\/([^/]+)$/;

/** True when `entry` is something `allowedCallers` accepts: an IAM role ARN or a 12-digit account ID. */
export function isAllowedCallerEntry(entry: string): boolean {
  return ACCOUNT_ID.test(entry) || ROLE_ARN.test(entry);
}

/**
 * Reads the IAM caller of a function URL request and enforces `allowedCallers`.
 *
 * The identity is only as trustworthy as the event's origin: Lambda writes it for function URL
 * requests, but anyone allowed to call `lambda:InvokeFunction` on the function directly can
 * send a forged event. Grant invoke only with `lambda:InvokedViaFunctionUrl` (as
 * `IamFunctionUrl.grantInvoke` does) and keep plain invoke rights away from untrusted principals.
 *
 * @throws AuthError `NO_IAM_IDENTITY` (401) when the event carries no usable IAM identity,
 *   `CALLER_NOT_ALLOWED` (403) when the caller is not in `allowedCallers`
 * @throws TypeError when an `allowedCallers` entry is neither a role ARN nor an account ID
 */
export function lambdaUrlCaller(event: LambdaUrlEvent, options: LambdaUrlCallerOptions = {}): LambdaUrlCaller {
  const iam = event?.requestContext?.authorizer?.iam;
  if (!iam || typeof iam.userArn !== 'string' || typeof iam.userId !== 'string') {
    throw new AuthError('NO_IAM_IDENTITY', 'the request carries no IAM identity; call the function URL with a SigV4-signed request (auth type AWS_IAM)');
  }
  const arn = PRINCIPAL_ARN.exec(iam.userArn);
  // Lambda reports the account twice; disagreement means the event was not written by Lambda.
  if (!arn || (iam.accountId !== undefined && iam.accountId !== arn[3])) {
    throw new AuthError('NO_IAM_IDENTITY', 'requestContext.authorizer.iam.userArn is not a well-formed IAM principal ARN of requestContext.authorizer.iam.accountId');
  }
  const [, partition, service, accountId, resource] = arn;
  const role = service === 'sts' ? ASSUMED_ROLE.exec(resource) : null;
  const caller: LambdaUrlCaller = {
    accountId,
    ...(role && { roleArn: `arn:${partition}:iam::${accountId}:role/${role[1]}`, roleName: role[1], sessionName: role[2] }),
    principalArn: iam.userArn,
    userId: iam.userId,
    sourceIp: event.requestContext?.http?.sourceIp ?? '',
  };

  if (options.allowedCallers) {
    // Every entry is checked, not just those before a match, so a typo fails on the first request whoever calls.
    const entries = options.allowedCallers.map(parseEntry);
    if (!entries.some((entry) => admits(entry, caller, partition))) {
      throw new AuthError('CALLER_NOT_ALLOWED', `caller ${caller.roleArn ?? caller.principalArn} is not an allowed caller of this function`);
    }
  }
  return caller;
}

/** An allow-list entry: an account, or (with `roleName`) one role of that account in `partition`. */
interface Entry {
  readonly accountId: string;
  readonly partition?: string;
  readonly roleName?: string;
}

function parseEntry(entry: string): Entry {
  if (ACCOUNT_ID.test(entry)) return { accountId: entry };
  const role = ROLE_ARN.exec(entry);
  if (!role) throw new TypeError(`allowedCallers entry ${JSON.stringify(entry)} is neither an IAM role ARN (arn:aws:iam::123456789012:role/Name) nor a 12-digit account ID`);
  return { partition: role[1], accountId: role[2], roleName: role[3] };
}

function admits(entry: Entry, caller: LambdaUrlCaller, partition: string): boolean {
  if (entry.accountId !== caller.accountId) return false;
  return entry.roleName === undefined || (entry.partition === partition && entry.roleName === caller.roleName);
}
