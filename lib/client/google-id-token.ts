import { CredentialError, invalidOption } from './errors';
import { endpointUrl, nonEmpty, postTokenRequest, send, snippet, timeoutMs } from './internal/http';
import { jwtExpiry, tokenCache, type Refreshing, type TokenInfo } from './internal/refresh';
import { importServiceAccountKey, readServiceAccountKey, signWithServiceAccount, type LoadedServiceAccountKey, type ServiceAccountKey } from './service-account';

export const GOOGLE_TOKEN_ENDPOINT = 'https://oauth2.googleapis.com/token';
const DEFAULT_METADATA_HOST = 'metadata.google.internal';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface GoogleIdTokenSourceOptions {
  /** `aud` of the ID tokens: the URL of the Cloud Function / Cloud Run service, or the IAP client id. */
  readonly audience: string;
  /**
   * Service-account key to exchange for ID tokens at `tokenEndpoint` (outside Google Cloud).
   * Without `key` / `keyFile`, tokens come from the metadata server of the instance.
   * @default - use the metadata server
   */
  readonly key?: ServiceAccountKey;
  /** Path of a service-account JSON key; as `key`. @default - use the metadata server */
  readonly keyFile?: string;
  /**
   * Metadata server `host[:port]`. Only without a key.
   * @default - the `GCE_METADATA_HOST` environment variable (as Google's own libraries read it), else `metadata.google.internal`
   */
  readonly metadataHost?: string;
  /** OAuth 2.0 token endpoint for the JWT-bearer exchange. Only with a key. @default https://oauth2.googleapis.com/token */
  readonly tokenEndpoint?: string;
  /** Per-request timeout. @default 10000 */
  readonly timeoutMs?: number;
}

/**
 * Google-signed OpenID Connect ID tokens for calling IAM-protected Cloud Functions, Cloud Run and
 * IAP: from the metadata server on Google Cloud, or by exchanging a self-signed service-account
 * JWT carrying `target_audience` (RFC 7523 JWT-bearer grant). Tokens are cached until 5 minutes
 * before their `exp`; concurrent callers share one request.
 */
export class GoogleIdTokenSource {
  private readonly tokens: Refreshing<TokenInfo>;

  constructor(options: GoogleIdTokenSourceOptions) {
    const audience = nonEmpty('audience', options?.audience);
    const timeout = timeoutMs(options.timeoutMs);
    const withKey = options.key !== undefined || options.keyFile !== undefined;
    let fetchToken: () => Promise<string>;
    if (withKey) {
      if (options.metadataHost !== undefined) throw invalidOption('metadataHost', 'only applies without key / keyFile (tokens then come from the metadata server)');
      const key = readServiceAccountKey(options);
      const option = options.key ? 'key' : 'keyFile';
      const endpoint = endpointUrl('tokenEndpoint', options.tokenEndpoint ?? GOOGLE_TOKEN_ENDPOINT);
      let loaded: Promise<LoadedServiceAccountKey> | undefined;
      fetchToken = async () => {
        const signer = await (loaded ??= importServiceAccountKey(key, option));
        // RFC 7523 §3: the assertion's audience is the token endpoint itself.
        const assertion = await signWithServiceAccount(signer, { aud: endpoint.href, target_audience: audience }, 3600);
        const answer = await postTokenRequest(endpoint, new URLSearchParams({ grant_type: JWT_BEARER, assertion }), {}, timeout);
        if (typeof answer.id_token !== 'string') {
          throw new CredentialError('BAD_RESPONSE', `token endpoint ${endpoint.origin}${endpoint.pathname} answered without an id_token; check tokenEndpoint (it must be Google's OAuth 2.0 token endpoint)`);
        }
        return answer.id_token;
      };
    } else {
      if (options.tokenEndpoint !== undefined) throw invalidOption('tokenEndpoint', 'only applies with key / keyFile (without them tokens come from the metadata server)');
      const fromEnv = options.metadataHost === undefined ? process.env.GCE_METADATA_HOST : undefined;
      const host = options.metadataHost ?? fromEnv ?? DEFAULT_METADATA_HOST;
      const url = metadataUrl(host, fromEnv === undefined ? 'metadataHost' : 'GCE_METADATA_HOST');
      url.search = new URLSearchParams({ audience, format: 'full' }).toString();
      fetchToken = () => fromMetadata(url, host, timeout);
    }
    this.tokens = tokenCache('ID token', async () => {
      const token = await fetchToken();
      const expiresAt = jwtExpiry(token);
      if (!expiresAt) throw new CredentialError('BAD_RESPONSE', 'the ID token received is not a JWT with a numeric exp claim; check tokenEndpoint / metadataHost');
      return { token, expiresAt };
    });
  }

  /** A valid ID token for `audience`, to send as `Authorization: Bearer <token>`. */
  async getToken(): Promise<string> {
    return (await this.tokens.get()).token;
  }

  /** The token with its expiry. */
  getTokenInfo(): Promise<TokenInfo> {
    return this.tokens.get();
  }
}

function metadataUrl(host: string, option: string): URL {
  // A host, optionally with a port: nothing that could redirect the request elsewhere.
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) {
    throw invalidOption(option, 'must be a host name or IP address with an optional :port, e.g. 169.254.169.254 or 127.0.0.1:8080', host);
  }
  return new URL(`http://${host}/computeMetadata/v1/instance/service-accounts/default/identity`);
}

async function fromMetadata(url: URL, host: string, timeout: number): Promise<string> {
  const response = await send('Google metadata server', url, { headers: { 'Metadata-Flavor': 'Google' } }, timeout, 'outside Google Cloud pass key or keyFile, or set GCE_METADATA_HOST', 'METADATA_UNAVAILABLE');
  const text = await response.text();
  if (response.headers.get('metadata-flavor') !== 'Google') {
    throw new CredentialError('BAD_RESPONSE', `${host} answered HTTP ${response.status} without the Metadata-Flavor: Google header, so it is not a Google metadata server; check metadataHost / GCE_METADATA_HOST`, { status: response.status });
  }
  if (!response.ok) {
    const hint = response.status === 404 ? 'the instance has no service account attached' : 'see the metadata server\'s answer';
    throw new CredentialError('METADATA_UNAVAILABLE', `the metadata server at ${host} refused the identity request with HTTP ${response.status} ${snippet(text)}: ${hint}`, { status: response.status });
  }
  return text.trim();
}

