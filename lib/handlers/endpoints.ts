// Reference backend behind Cloud Endpoints (ESP / ESPv2): ESP verified the caller's JWT and
// forwards its claims in X-Endpoint-API-UserInfo; this answers with that caller if its issuer
// is one S2S_ENDPOINTS_ISSUERS accepts. The header proves nothing by itself: deploy this only
// where ESP is the sole way in (Cloud Run ingress restricted, invoker = the proxy's identity).
import { ENDPOINTS_USERINFO_HEADER, decodeEndpointsUserInfo } from '../verify/endpoints-userinfo';
import { identityFunction } from './internal/cloud-function';
import { ConfigError, list } from './internal/config';

export const handler = identityFunction('endpoints', (env) => {
  const issuers = list(env, 'S2S_ENDPOINTS_ISSUERS');
  if (!issuers) throw new ConfigError('S2S_ENDPOINTS_ISSUERS', 'is required and not set (comma-separated iss values of the API\'s x-google-issuer entries)');
  return async (headers) => ({ claims: decodeEndpointsUserInfo(headers[ENDPOINTS_USERINFO_HEADER], { issuers }) });
}, ({ issuer, subject, email, audiences }) => ({ issuer, subject, email, audiences }));
