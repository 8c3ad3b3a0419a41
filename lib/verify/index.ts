// s2s-auth/verify: request-time verification (jose + node:crypto, no cloud SDK).
export * from './errors';
export * from './http';
export { KeySetCache, defaultKeySetCache, type Algorithm, type KeySetCacheOptions, type PublicKey } from './key-set';
export {
  DEFAULT_CLOCK_TOLERANCE_SEC, DEFAULT_MAX_TOKEN_BYTES, DEFAULT_TOKEN_CACHE_SIZE, JwtVerifier, VerifiedTokenCache,
  type CheckResult, type JwtVerifierOptions, type RequestHeaders, type Verifier,
} from './jwt';
export * from './iap';
export * from './google-id-token';
export * from './adapters';
export * from './lambda-url';
export * from './service-account-jwt';
export * from './endpoints-userinfo';
export * from './access-token';
