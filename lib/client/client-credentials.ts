import { CredentialError, invalidOption } from './errors';
import { endpointUrl, nonEmpty, postTokenRequest, timeoutMs } from './internal/http';
import { jwtExpiry, tokenCache, type Refreshing, type TokenInfo } from './internal/refresh';

export interface ClientCredentialsTokenSourceOptions {
  /** The authorization server's token endpoint (its metadata's `token_endpoint`). */
  readonly tokenEndpoint: string;
  readonly clientId: string;
  /** Sent only in the `Authorization: Basic` header, never logged or put in error messages. */
  readonly clientSecret: string;
  /** RFC 8707 resource indicator(s): absolute URIs of the APIs the token is for. @default - none */
  readonly resource?: string | readonly string[];
  /** Scopes to request; a space-separated string or a list. @default - the server's default for the client */
  readonly scope?: string | readonly string[];
  /** Auth0-style `audience` parameter, for servers without RFC 8707. @default - none */
  readonly audience?: string;
  /** Per-request timeout. @default 10000 */
  readonly timeoutMs?: number;
}

export interface AccessTokenInfo extends TokenInfo {
  /** The scopes granted, when the server says (it may grant fewer than requested). */
  readonly scope?: string;
}

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * OAuth 2.0 client credentials grant (RFC 6749 §4.4) with HTTP Basic client authentication.
 * Tokens are cached until 5 minutes (at most half their life) before `expires_in` runs out;
 * concurrent callers share one request.
 */
export class ClientCredentialsTokenSource {
  private readonly tokens: Refreshing<AccessTokenInfo>;

  constructor(options: ClientCredentialsTokenSourceOptions) {
    const endpoint = endpointUrl('tokenEndpoint', options?.tokenEndpoint);
    const clientId = nonEmpty('clientId', options.clientId);
    const clientSecret = nonEmpty('clientSecret', options.clientSecret, true);
    const timeout = timeoutMs(options.timeoutMs);
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    for (const resource of list(options.resource)) {
      let ok = false;
      try {
        ok = new URL(resource).hash === '' && !resource.includes('#');
      } catch {
        ok = false;
      }
      if (!ok) throw invalidOption('resource', 'must be absolute URIs without a #fragment (RFC 8707), e.g. https://api.example.com', resource);
      form.append('resource', resource);
    }
    const scopes = typeof options.scope === 'string' ? options.scope.split(' ').filter(Boolean) : list(options.scope);
    for (const scope of scopes) {
      if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) throw invalidOption('scope', 'each scope must be printable ASCII without spaces, " or \\ (RFC 6749 §3.3)', scope);
    }
    if (scopes.length > 0) form.set('scope', scopes.join(' '));
    if (options.audience !== undefined) form.set('audience', nonEmpty('audience', options.audience));
    const authorization = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
    const where = `${endpoint.origin}${endpoint.pathname}`;

    this.tokens = tokenCache('access token', async () => {
      const answer = await postTokenRequest(endpoint, form, { authorization }, timeout);
      const token = answer.access_token;
      if (typeof token !== 'string' || token === '') {
        throw new CredentialError('BAD_RESPONSE', `token endpoint ${where} answered without an access_token; check tokenEndpoint`);
      }
      const type = answer.token_type;
      if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer')) {
        throw new CredentialError('BAD_RESPONSE', `token endpoint ${where} issued a ${JSON.stringify(type)} token, not a Bearer token; this client sends Bearer tokens only (disable DPoP / mTLS binding for the client)`);
      }
      const lifetime = typeof answer.expires_in === 'string' ? Number(answer.expires_in) : answer.expires_in;
      const expiresAt = typeof lifetime === 'number' && Number.isFinite(lifetime) && lifetime > 0
        ? new Date(Date.now() + lifetime * 1000)
        : jwtExpiry(token);
      return { token, expiresAt, scope: typeof answer.scope === 'string' ? answer.scope : undefined };
    });
  }

  /** A valid access token, to send as `Authorization: Bearer <token>`. */
  async getToken(): Promise<string> {
    return (await this.tokens.get()).token;
  }

  /** The token with its expiry and granted scope. */
  getTokenInfo(): Promise<AccessTokenInfo> {
    return this.tokens.get();
  }
}

function list(value: string | readonly string[] | undefined): readonly string[] {
  return value === undefined ? [] : typeof value === 'string' ? [value] : value;
}

// RFC 6749 §2.3.1: the client id and secret are form-urlencoded before Basic encoding, so a
// secret containing ':' or non-ASCII characters survives the round trip.
function formEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, '+');
}
