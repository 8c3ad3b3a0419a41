import { LambdaUrlClient } from '../../lib/client/lambda-url';
import { CommandFailure, EXIT, UsageError, command, positionals, printJson, readInput, type ExitCode } from './command';

// Function URLs look like https://<url-id>.lambda-url.<region>.on.aws/
const FUNCTION_URL_HOST = /^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$/;
// RFC 9110 token characters: header names and methods.
const HTTP_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const curl = command({
  name: 's2s curl',
  args: 'URL',
  summary: 'Calls a Lambda function URL that uses AWS_IAM auth: assumes --role-arn with STS (or uses your ambient AWS credentials), signs the request with SigV4 for the lambda service and prints the response body.',
  options: {
    request: { type: 'string', short: 'X', value: 'METHOD', help: 'HTTP method (default GET, or POST with a body)' },
    header: { type: 'string', short: 'H', value: "'NAME: VALUE'", multiple: true, help: 'request header, signed with the request' },
    data: { type: 'string', short: 'd', value: 'BODY', help: 'request body, sent and hashed as given' },
    'data-file': { type: 'string', value: 'FILE', help: 'read the request body from FILE (- for stdin)' },
    'role-arn': { type: 'string', value: 'ARN', help: 'IAM role to assume before signing (default: sign with the ambient credentials)' },
    'external-id': { type: 'string', value: 'ID', help: 'ExternalId for AssumeRole, when the role\'s trust policy requires one' },
    region: { type: 'string', value: 'REGION', help: 'signing region (default: from a *.lambda-url.REGION.on.aws URL, else AWS_REGION)' },
    include: { type: 'boolean', short: 'i', help: 'print the status line and response headers before the body' },
    'max-time': { type: 'string', short: 'm', value: 'SECONDS', help: 'give up on the function URL after this long (default: no limit, as curl; a function may run 15 minutes)' },
  },
  environment: {
    AWS_ENDPOINT_URL_STS: 'STS endpoint, e.g. a VPC endpoint or a local stand-in (read by the AWS SDK)',
    'AWS_REGION, AWS_DEFAULT_REGION': 'signing region when neither --region nor the URL gives one',
    'AWS_PROFILE, AWS_ACCESS_KEY_ID, ...': 'source credentials (the AWS SDK default chain)',
  },
  description: [
    'Credentials come from the AWS SDK default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE, SSO, instance or task roles). They are used to call STS, or to sign directly without --role-arn; they are never printed.',
    'Redirects are not followed: the signature is only valid for the URL it was made for, and following would hand the session token to wherever the redirect points. A 3xx answer is printed as it is, with its Location on stderr.',
    'With --json the body is a string: the text when it is UTF-8, otherwise base64 with "bodyEncoding": "base64".',
  ],
  examples: [
    "s2s curl https://abcdefghij0123456789abcdef012345.lambda-url.eu-west-1.on.aws/orders --role-arn arn:aws:iam::123456789012:role/orders-caller -H 'content-type: application/json' -d '{\"qty\":1}'",
    's2s curl -i https://abcdefghij0123456789abcdef012345.lambda-url.eu-west-1.on.aws/health',
  ],
}, async (parsed): Promise<ExitCode> => {
  const { values: v } = parsed;
  const [target] = positionals(parsed, ['URL']);
  const url = URL.canParse(target) ? new URL(target) : undefined;
  if (url?.protocol !== 'https:' && url?.protocol !== 'http:') {
    throw new UsageError(`URL ${JSON.stringify(target)} is not an absolute http(s) URL; pass the function URL, e.g. https://abcdefghij0123456789abcdef012345.lambda-url.eu-west-1.on.aws/path`);
  }
  const region = v.region ?? FUNCTION_URL_HOST.exec(url.hostname)?.[1] ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION);
  if (!region) throw new UsageError(`cannot tell the signing region: ${url.hostname} is not a *.lambda-url.REGION.on.aws host and AWS_REGION is not set; pass --region, e.g. --region eu-west-1`);
  if (v.data !== undefined && v['data-file'] !== undefined) throw new UsageError('pass either --data or --data-file, not both');
  const body = v['data-file'] !== undefined ? new Uint8Array(readInput(v['data-file'], '--data-file')) : v.data;
  const headers = new Headers();
  for (const line of v.header ?? []) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).trim();
    if (colon < 0 || !HTTP_TOKEN.test(name)) throw new UsageError(`--header ${JSON.stringify(line)} is not 'NAME: VALUE', e.g. -H 'content-type: application/json'`);
    headers.append(name, line.slice(colon + 1).trim());
  }
  const method = (v.request ?? (body === undefined ? 'GET' : 'POST')).toUpperCase();
  if (!HTTP_TOKEN.test(method)) throw new UsageError(`--request ${JSON.stringify(v.request)} is not an HTTP method, e.g. -X PUT`);
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) throw new UsageError(`a ${method} request cannot have a body; drop --data / --data-file or pass -X POST`);

  const maxTimeMs = maxTime(v['max-time']);

  const client = new LambdaUrlClient({ region, roleArn: v['role-arn'], externalId: v['external-id'] });
  let response: Response;
  let responseBody: Buffer;
  try {
    response = await client.fetch(url, { method, headers, body, signal: maxTimeMs === undefined ? undefined : AbortSignal.timeout(maxTimeMs) });
    responseBody = Buffer.from(await response.arrayBuffer());
  } catch (err) {
    // The client hands back fetch's own failures (it returns the Response as is); say which and what to do.
    const failure = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (failure?.name === 'TimeoutError') throw new CommandFailure('TIMEOUT', `no complete answer from ${url.origin} within --max-time ${v['max-time']} s`);
    if (err instanceof TypeError && failure.message === 'fetch failed') {
      throw new CommandFailure('NETWORK', `cannot reach ${url.origin} (${failure.cause?.code ?? failure.cause?.message ?? 'network error'}): check the URL and that it is reachable from here`);
    }
    throw err;
  }
  const responseHeaders: [string, string][] = [];
  response.headers.forEach((value, name) => responseHeaders.push([name, value]));

  if (v.json) {
    const text = utf8(responseBody);
    printJson({
      status: response.status,
      statusText: response.statusText,
      headers: Object.fromEntries(responseHeaders),
      body: text ?? responseBody.toString('base64'),
      bodyEncoding: text === undefined ? 'base64' : 'utf8',
    });
  } else {
    if (v.include) process.stdout.write(`${[`HTTP ${response.status} ${response.statusText}`, ...responseHeaders.map(([name, value]) => `${name}: ${value}`)].join('\n')}\n\n`);
    process.stdout.write(responseBody);
  }
  const location = response.headers.get('location');
  if (response.status >= 300 && response.status < 400 && location !== null && !v.json) {
    process.stderr.write(`s2s curl: HTTP ${response.status} redirect to ${location} not followed (a SigV4 signature is valid only for its own URL); call that URL if you trust it\n`);
  }
  if (response.status < 400) return EXIT.OK;
  const errorType = response.headers.get('x-amzn-errortype');
  const hint = response.status === 403
    ? '; the function URL refused the caller: check the signing region, that the role (or your credentials) may call lambda:InvokeFunctionUrl on the function, and the function\'s resource policy'
    : '';
  throw new CommandFailure('HTTP_ERROR', `HTTP ${response.status} ${response.statusText}${errorType ? ` (${errorType})` : ''} from ${url.origin}${url.pathname}${hint}`);
}, {
  url: 'URL',
  region: '--region',
  roleArn: '--role-arn',
  externalId: '--external-id',
});

/** --max-time in milliseconds; undefined when not given. */
function maxTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  // Node timers overflow past ~24.8 days (and then fire at once); a day is more than any function URL answers in.
  if (value.trim() === '' || !(seconds > 0 && seconds <= 86_400)) throw new UsageError(`--max-time must be a number of seconds between 0 and 86400, e.g. --max-time 30 (got ${JSON.stringify(value)})`);
  return Math.ceil(seconds * 1000);
}

/** The body as text when it is valid UTF-8, so --json never hands a script replacement characters instead of bytes. */
function utf8(bytes: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}
