import { decodeJwt } from 'jose';
import { ClientCredentialsTokenSource } from '../../lib/client/client-credentials';
import { GoogleIdTokenSource } from '../../lib/client/google-id-token';
import { signServiceAccountJwt } from '../../lib/client/service-account';
import { EXIT, UsageError, command, positionals, print, printJson, readInput, required, words, type ExitCode, type Group } from './command';

/** Overrides Google's token endpoint for `token id --key-file` (a local stand-in, a private endpoint). */
export const GOOGLE_TOKEN_ENDPOINT_ENV = 'S2S_GOOGLE_TOKEN_ENDPOINT';
/** Where `token client-credentials` reads the client secret when there is no --client-secret-file. */
export const CLIENT_SECRET_ENV = 'S2S_CLIENT_SECRET';

const SA_KEY_EXAMPLE = 'caller-key.json';

/** Prints the token alone (for `$(s2s token ...)`), or with its expiry as JSON. */
function emit(json: boolean | undefined, token: string, expiresAt: Date | undefined, extra: Record<string, unknown> = {}): ExitCode {
  if (json) printJson({ token, expiresAt: expiresAt?.toISOString(), ...extra });
  else print(token);
  return EXIT.OK;
}

function jwtExpiry(token: string): Date | undefined {
  const { exp } = decodeJwt(token);
  return typeof exp === 'number' ? new Date(exp * 1000) : undefined;
}

const id = command({
  name: 's2s token id',
  args: '',
  summary: 'Prints a Google-signed ID token for --audience, like `gcloud auth print-identity-token --audiences`: from the metadata server on Google Cloud, or by exchanging a service-account key (--key-file) at Google\'s token endpoint.',
  description: ['Send it as `Authorization: Bearer <token>` to a Cloud Function, Cloud Run service or IAP-protected app that requires authentication.'],
  options: {
    audience: { type: 'string', value: 'URL', help: 'the aud of the token: the function or service URL (or the IAP OAuth client id)' },
    'key-file': { type: 'string', value: 'SA.json', help: 'service-account JSON key to exchange (default: the metadata server)' },
    'token-endpoint': { type: 'string', value: 'URL', help: `token endpoint for the key exchange (default: $${GOOGLE_TOKEN_ENDPOINT_ENV}, else https://oauth2.googleapis.com/token)` },
  },
  environment: {
    GCE_METADATA_HOST: 'metadata server host[:port] (as Google\'s libraries read it)',
    [GOOGLE_TOKEN_ENDPOINT_ENV]: 'token endpoint for the --key-file exchange, when --token-endpoint is not given',
  },
  examples: [
    's2s token id --audience https://europe-west1-my-project.cloudfunctions.net/orders',
    `curl -H "Authorization: Bearer $(s2s token id --audience https://orders-abc123-ew.a.run.app --key-file ${SA_KEY_EXAMPLE})" https://orders-abc123-ew.a.run.app/`,
  ],
}, async (parsed) => {
  const { values: v } = parsed;
  positionals(parsed, []);
  const audience = required(v.audience, '--audience', 'https://europe-west1-my-project.cloudfunctions.net/orders');
  const keyFile = v['key-file'];
  const tokenEndpoint = v['token-endpoint'] ?? (keyFile === undefined ? undefined : process.env[GOOGLE_TOKEN_ENDPOINT_ENV] || undefined);
  if (v['token-endpoint'] !== undefined && keyFile === undefined) {
    throw new UsageError('--token-endpoint only applies with --key-file (without a key the token comes from the metadata server; set GCE_METADATA_HOST to use another one)');
  }
  const info = await new GoogleIdTokenSource({ audience, keyFile, tokenEndpoint }).getTokenInfo();
  return emit(v.json, info.token, info.expiresAt);
}, (parsed) => ({
  audience: '--audience',
  keyFile: '--key-file',
  tokenEndpoint: parsed.values['token-endpoint'] === undefined ? GOOGLE_TOKEN_ENDPOINT_ENV : '--token-endpoint',
}));

const saJwt = command({
  name: 's2s token sa-jwt',
  args: '',
  summary: 'Prints a JWT self-signed by a service account\'s key, as Cloud Endpoints (ESP / ESPv2) accepts for service-to-service calls: iss = sub = the account\'s email, aud = --audience, kid = the key id.',
  options: {
    'key-file': { type: 'string', value: 'SA.json', help: 'service-account JSON key that signs the token' },
    audience: { type: 'string', value: 'AUD', help: 'the aud claim the API expects (its x-google-audiences, or the Endpoints service name)' },
    expires: { type: 'string', value: 'SECONDS', help: 'lifetime, 1 to 3600 (default 3600)' },
  },
  examples: [
    `s2s token sa-jwt --key-file ${SA_KEY_EXAMPLE} --audience orders.endpoints.my-project.cloud.goog`,
  ],
}, async (parsed) => {
  const { values: v } = parsed;
  positionals(parsed, []);
  const keyFile = required(v['key-file'], '--key-file', SA_KEY_EXAMPLE);
  const audience = required(v.audience, '--audience', 'orders.endpoints.my-project.cloud.goog');
  const expiresInSec = v.expires === undefined ? undefined : Number(v.expires);
  if (expiresInSec !== undefined && (v.expires!.trim() === '' || !Number.isInteger(expiresInSec))) {
    throw new UsageError(`--expires must be a whole number of seconds between 1 and 3600 (got ${JSON.stringify(v.expires)})`);
  }
  const token = await signServiceAccountJwt({ keyFile, audience, expiresInSec });
  return emit(v.json, token, jwtExpiry(token));
}, { keyFile: '--key-file', audience: '--audience', expiresInSec: '--expires' });

const clientCredentials = command({
  name: 's2s token client-credentials',
  args: '',
  summary: 'Prints an OAuth 2.0 access token from the client credentials grant (RFC 6749 §4.4), the client authenticated with HTTP Basic.',
  description: [
    `The client secret is read from --client-secret-file or $${CLIENT_SECRET_ENV}, never from an argument: arguments end up in shell history and in every process listing. It is never printed.`,
  ],
  options: {
    'token-endpoint': { type: 'string', value: 'URL', help: 'the authorization server\'s token endpoint (https; http only for localhost)' },
    'client-id': { type: 'string', value: 'ID', help: 'the client id' },
    'client-secret-file': { type: 'string', value: 'FILE', help: `file holding the client secret (- for stdin; default: $${CLIENT_SECRET_ENV})` },
    resource: { type: 'string', value: 'URI', multiple: true, help: 'RFC 8707 resource indicator: the API the token is for' },
    scope: { type: 'string', value: 'SCOPE', multiple: true, help: 'scope to request (space-separated lists are split)' },
    audience: { type: 'string', value: 'AUD', help: 'Auth0-style audience parameter, for servers without RFC 8707' },
  },
  environment: { [CLIENT_SECRET_ENV]: 'the client secret, when --client-secret-file is not given' },
  refused: {
    'client-secret': `a secret in an argument is visible to every user in the process list and stays in your shell history; use --client-secret-file FILE or the ${CLIENT_SECRET_ENV} environment variable`,
  },
  examples: [
    `${CLIENT_SECRET_ENV}="$(cat secret.txt)" s2s token client-credentials --token-endpoint https://auth.example.com/oauth2/token --client-id orders-batch --scope orders:read`,
    's2s token client-credentials --token-endpoint https://auth.example.com/oauth2/token --client-id orders-batch --client-secret-file secret.txt --resource https://orders.example.com --json',
  ],
}, async (parsed) => {
  const { values: v } = parsed;
  positionals(parsed, []);
  const tokenEndpoint = required(v['token-endpoint'], '--token-endpoint', 'https://auth.example.com/oauth2/token');
  const clientId = required(v['client-id'], '--client-id', 'orders-batch');
  const clientSecret = v['client-secret-file'] !== undefined
    ? readInput(v['client-secret-file'], '--client-secret-file').toString('utf8').replace(/\r?\n$/, '')
    : process.env[CLIENT_SECRET_ENV];
  if (!clientSecret) {
    throw new UsageError(v['client-secret-file'] !== undefined
      ? `--client-secret-file ${JSON.stringify(v['client-secret-file'])} is empty; put the client secret in it`
      : `no client secret: pass --client-secret-file FILE or set ${CLIENT_SECRET_ENV}`);
  }
  const scope = words(v.scope);
  const source = new ClientCredentialsTokenSource({ tokenEndpoint, clientId, clientSecret, resource: v.resource, scope, audience: v.audience });
  const info = await source.getTokenInfo();
  return emit(v.json, info.token, info.expiresAt, { tokenType: 'Bearer', scope: info.scope });
}, (parsed) => ({
  tokenEndpoint: '--token-endpoint',
  clientId: '--client-id',
  clientSecret: parsed.values['client-secret-file'] === undefined ? CLIENT_SECRET_ENV : '--client-secret-file',
  resource: '--resource',
  scope: '--scope',
  audience: '--audience',
}));

export const token: Group = {
  name: 's2s token',
  summary: 'Prints a token to call a protected service with (the token alone on stdout, or --json).',
  subcommands: {
    id: { summary: 'a Google-signed ID token, for Cloud Functions, Cloud Run and IAP', load: () => Promise.resolve(id) },
    'sa-jwt': { summary: 'a JWT self-signed by a service-account key, for Cloud Endpoints', load: () => Promise.resolve(saJwt) },
    'client-credentials': { summary: 'an OAuth 2.0 access token from the client credentials grant', load: () => Promise.resolve(clientCredentials) },
  },
  examples: [
    's2s token id --audience https://europe-west1-my-project.cloudfunctions.net/orders',
    's2s token id --help',
  ],
};
