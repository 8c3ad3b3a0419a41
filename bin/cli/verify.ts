import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  AccessTokenVerifier, AUTH_ERROR_STATUS, CLOUD_RUN_REMOVED_SIGNATURE, GoogleIdTokenVerifier, IAP_AUDIENCE_FORMS, IapVerifier, ServiceAccountJwtVerifier, type CheckResult, type Verifier,
} from '../../lib/verify';
import { EXIT, UsageError, command, positionals, print, printJson, readInput, required, requiredList, words, type Command, type ExitCode, type Group, type OptionSpecs, type Parsed } from './command';

const TOKEN_ARG = 'TOKEN|-';

const CLOCK_TOLERANCE = { type: 'string', value: 'SECONDS', help: 'allowed clock difference for exp, iat and nbf (default 30)' } as const;

const DESCRIPTION = [
  'Runs every check the verifier runs in a deployed handler and prints the decoded header and claims, then each check with PASS, FAIL or SKIP (not evaluated because a check it depends on failed), what was expected and what the token carries. Unlike a handler it does not stop at the first failure. Exit code 0 only when every check passes.',
  'Pass the token as an argument, or - to read it from stdin (keeps it out of the process list). A leading "Bearer " is ignored.',
];

/** What a command explains a token with: a verifier, or one that explains as a request would be verified. */
type Explainer = Pick<Verifier<unknown>, 'explain'>;

/** Builds the explainer from the parsed options; the library's TypeError/RangeError become usage errors naming the flag. */
type Build<O extends OptionSpecs> = (values: Parsed<O & { 'clock-tolerance': typeof CLOCK_TOLERANCE }>['values']) => Explainer;

function verifyCommand<O extends OptionSpecs>(spec: { name: string; summary: string; options: O; examples: readonly string[] }, flags: Readonly<Record<string, string>>, build: Build<O>): Command {
  // --clock-tolerance is added here, so it is named here too.
  const names: Readonly<Record<string, string>> = { ...flags, clockToleranceSec: '--clock-tolerance' };
  return command({ ...spec, args: TOKEN_ARG, description: DESCRIPTION, options: { ...spec.options, 'clock-tolerance': CLOCK_TOLERANCE } }, async (parsed) => {
    const [arg] = positionals(parsed, [TOKEN_ARG]);
    const token = readToken(arg);
    let verifier: Explainer;
    try {
      verifier = build(parsed.values);
    } catch (err) {
      if (!(err instanceof TypeError || err instanceof RangeError)) throw err;
      // "IapVerifier: jwksUrl must use https ..." → "--jwks-url must use https ..."
      throw new UsageError(err.message.replace(/^\w+: ([\w.[\]]+)/, (whole, option: string) => names[option.replace(/^issuers\[\d+\]\./, '')] ?? whole));
    }
    return explain(verifier, token, parsed.values.json === true);
  });
}

function readToken(arg: string): string {
  const text = arg === '-' ? readInput('-', TOKEN_ARG).toString('utf8') : arg;
  const token = text.trim().replace(/^Bearer\s+/i, '');
  if (token === '') throw new UsageError(arg === '-' ? 'stdin is empty; pipe the token in, e.g. s2s token id --audience URL | s2s verify id-token - --audience URL' : 'the token is empty');
  return token;
}

function clockTolerance(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds) || seconds < 0) throw new UsageError(`--clock-tolerance must be a number of seconds >= 0 (got ${JSON.stringify(value)})`);
  return seconds;
}

async function explain(verifier: Explainer, token: string, json: boolean): Promise<ExitCode> {
  const checks = await verifier.explain(token);
  const header = decoded(() => decodeProtectedHeader(token));
  const claims = decoded(() => decodeJwt(token));
  const failed = checks.filter((c) => !c.ok);
  // explain gives a code to every check that ran and failed; the others were not evaluated.
  const skipped = failed.filter((c) => c.code === undefined).length;
  const first = failed.find((c) => c.code !== undefined);
  const rejection = first?.code === undefined ? undefined : { code: first.code, status: AUTH_ERROR_STATUS[first.code], message: first.detail };
  if (json) {
    printJson({ valid: failed.length === 0, header: header ?? null, claims: claims ?? null, checks, rejection: rejection ?? null });
  } else {
    const lines = ['Header', indent(header ? JSON.stringify(header, null, 2) : '(not decodable)'), '', 'Claims', indent(claims ? JSON.stringify(claims, null, 2) : '(not decodable)'), '', 'Checks'];
    lines.push(...checks.flatMap(checkLines));
    lines.push('', failed.length === 0
      ? `VALID: all ${checks.length} checks passed`
      : `INVALID: ${failed.length - skipped} of ${checks.length} checks failed${skipped ? ` and ${skipped} could not be evaluated` : ''}${rejection ? `; a handler answers ${rejection.status} ${rejection.code}: ${rejection.message}` : ''}`);
    print(lines.join('\n'));
  }
  return failed.length === 0 ? EXIT.OK : EXIT.FAILED;
}

function checkLines(check: CheckResult): string[] {
  const lines = [`  ${check.ok ? 'PASS' : check.code ? 'FAIL' : 'SKIP'}  ${check.name}`, `        expected: ${check.expected}`, `        actual:   ${check.actual}`];
  if (check.detail) lines.push(`        ${check.code ? `${check.code}: ` : ''}${check.detail}`);
  // The reason behind a safe message (a key URL and why it could not be fetched): what the operator needs.
  if (check.cause) lines.push(`        cause: ${check.cause}`);
  return lines;
}

function decoded<T>(decode: () => T): T | undefined {
  try {
    return decode();
  } catch {
    return undefined;
  }
}

function indent(text: string): string {
  return text.split('\n').map((line) => `  ${line}`).join('\n');
}

const iap = verifyCommand({
  name: 's2s verify iap',
  summary: 'Verifies the signed header Identity-Aware Proxy adds (x-goog-iap-jwt-assertion): ES256 with a key from IAP\'s JWK set, iss https://cloud.google.com/iap, aud = --audience, at most 10 minutes of lifetime.',
  options: {
    audience: { type: 'string', value: 'AUD', help: IAP_AUDIENCE_FORMS },
    'jwks-url': { type: 'string', value: 'URL', help: 'IAP\'s public keys (default https://www.gstatic.com/iap/verify/public_key-jwk)' },
  },
  examples: ['s2s verify iap "$IAP_JWT" --audience /projects/123456789012/apps/my-project'],
}, { audience: '--audience', jwksUrl: '--jwks-url' }, (v) => new IapVerifier({
  audience: required(v.audience, '--audience', '/projects/123456789012/apps/my-project'),
  jwksUrl: v['jwks-url'],
  clockToleranceSec: clockTolerance(v['clock-tolerance']),
}));

const idToken = verifyCommand({
  name: 's2s verify id-token',
  summary: 'Verifies a Google-signed ID token, as a Cloud Function or Cloud Run service checks its callers: RS256 with a key from Google\'s certs, iss accounts.google.com, aud = --audience, optionally the caller\'s email.',
  options: {
    audience: { type: 'string', value: 'URL', multiple: true, help: 'accepted aud: the function or service URL' },
    'allowed-email': { type: 'string', value: 'EMAIL', multiple: true, help: 'caller email allowed (verified emails only; default: any caller)' },
    'allowed-subject': { type: 'string', value: 'SUB', multiple: true, help: 'caller sub (numeric Google account id) allowed (default: any caller)' },
    'certs-url': { type: 'string', value: 'URL', help: 'Google\'s public keys (default https://www.googleapis.com/oauth2/v3/certs)' },
    'cloud-run': {
      type: 'boolean',
      help: `explain as a handler deployed with S2S_CLOUD_RUN_VERIFIED=true (PrivateCloudRunFunction) sees a request carrying this token in Authorization and no X-Serverless-Authorization: a token whose signature Cloud Run verified and replaced with ${CLOUD_RUN_REMOVED_SIGNATURE} passes on its claims alone. This command cannot check that signature; only Cloud Run's IAM check vouches for it`,
    },
  },
  examples: [
    's2s token id --audience https://orders-abc123-ew.a.run.app | s2s verify id-token - --audience https://orders-abc123-ew.a.run.app --allowed-email caller@my-project.iam.gserviceaccount.com',
    's2s verify id-token "$TOKEN_FROM_THE_HANDLER_LOG" --audience https://orders-abc123-ew.a.run.app --cloud-run',
  ],
}, { audience: '--audience', allowedEmails: '--allowed-email', allowedSubjects: '--allowed-subject', certsUrl: '--certs-url' }, (v) => {
  const verifier = new GoogleIdTokenVerifier({
    audience: requiredList(v.audience, '--audience', 'https://orders-abc123-ew.a.run.app'),
    allowedEmails: v['allowed-email'],
    allowedSubjects: v['allowed-subject'],
    certsUrl: v['certs-url'],
    trustCloudRunSignatureCheck: v['cloud-run'] === true,
    clockToleranceSec: clockTolerance(v['clock-tolerance']),
  });
  // Only verifyRequest weighs Cloud Run's check, so explain the request such a handler receives.
  return v['cloud-run'] ? { explain: (token) => verifier.explain(token, { authorization: `Bearer ${token}` }) } : verifier;
});

const saJwt = verifyCommand({
  name: 's2s verify sa-jwt',
  summary: 'Verifies a JWT self-signed by a service account, as ESP / ESPv2 check Cloud Endpoints callers: iss = sub = --issuer, a key from the account\'s published keys, aud = --audience, at most one hour of lifetime.',
  options: {
    issuer: { type: 'string', value: 'EMAIL', help: 'the service account allowed to call (x-google-issuer)' },
    audience: { type: 'string', value: 'AUD', multiple: true, help: 'accepted aud (x-google-audiences)' },
    'jwks-url': { type: 'string', value: 'URL', help: 'the account\'s keys, x509 or JWK set (default https://www.googleapis.com/robot/v1/metadata/x509/EMAIL)' },
  },
  examples: ['s2s token sa-jwt --key-file caller-key.json --audience orders.endpoints.my-project.cloud.goog | s2s verify sa-jwt - --issuer caller@my-project.iam.gserviceaccount.com --audience orders.endpoints.my-project.cloud.goog'],
}, { issuer: '--issuer', audiences: '--audience', jwksUri: '--jwks-url' }, (v) => new ServiceAccountJwtVerifier({
  issuers: [{
    issuer: required(v.issuer, '--issuer', 'caller@my-project.iam.gserviceaccount.com'),
    audiences: requiredList(v.audience, '--audience', 'orders.endpoints.my-project.cloud.goog'),
    jwksUri: v['jwks-url'],
  }],
  clockToleranceSec: clockTolerance(v['clock-tolerance']),
}));

const accessToken = verifyCommand({
  name: 's2s verify access-token',
  summary: 'Verifies an OAuth 2.0 JWT access token (RFC 9068), as a resource server checks it: typ, a key from the issuer\'s JWK set (discovered from its metadata unless --jwks-url), iss, aud, lifetime, then the required scopes.',
  options: {
    issuer: { type: 'string', value: 'URL', help: 'the authorization server\'s issuer identifier, compared exactly' },
    audience: { type: 'string', value: 'AUD', multiple: true, help: 'this resource server\'s identifier; aud must contain one' },
    scope: { type: 'string', value: 'SCOPE', multiple: true, help: 'scope the token must carry (space-separated lists are split)' },
    'jwks-url': { type: 'string', value: 'URL', help: 'the issuer\'s JWK set (default: jwks_uri from the issuer\'s metadata)' },
  },
  examples: ['s2s token client-credentials --token-endpoint https://auth.example.com/oauth2/token --client-id orders-batch --client-secret-file secret.txt | s2s verify access-token - --issuer https://auth.example.com --audience https://orders.example.com --scope orders:read'],
}, { issuer: '--issuer', audience: '--audience', requiredScopes: '--scope', jwksUri: '--jwks-url' }, (v) => new AccessTokenVerifier({
  issuer: required(v.issuer, '--issuer', 'https://auth.example.com'),
  audience: requiredList(v.audience, '--audience', 'https://orders.example.com'),
  requiredScopes: v.scope === undefined ? undefined : words(v.scope),
  jwksUri: v['jwks-url'],
  clockToleranceSec: clockTolerance(v['clock-tolerance']),
}));

export const verify: Group = {
  name: 's2s verify',
  summary: 'Verifies a token with the same checks the deployed handlers run, and explains each one.',
  subcommands: {
    iap: { summary: 'the IAP signed header (x-goog-iap-jwt-assertion)', load: () => Promise.resolve(iap) },
    'id-token': { summary: 'a Google-signed ID token (Cloud Functions, Cloud Run)', load: () => Promise.resolve(idToken) },
    'sa-jwt': { summary: 'a service-account self-signed JWT (Cloud Endpoints)', load: () => Promise.resolve(saJwt) },
    'access-token': { summary: 'an OAuth 2.0 JWT access token (RFC 9068)', load: () => Promise.resolve(accessToken) },
  },
  examples: ['s2s verify id-token "$TOKEN" --audience https://orders-abc123-ew.a.run.app'],
};
