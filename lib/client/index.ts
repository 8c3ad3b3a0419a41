export { CredentialError, isCredentialError, type CredentialErrorCode, type CredentialErrorDetails } from './errors';
export { LambdaUrlClient, type AwsCredentials, type AwsCredentialsProvider, type LambdaUrlClientOptions, type SignedRequest } from './lambda-url';
export { signServiceAccountJwt, type ServiceAccountKey, type ServiceAccountKeyInput, type SignServiceAccountJwtOptions } from './service-account';
export { GoogleIdTokenSource, GOOGLE_TOKEN_ENDPOINT, type GoogleIdTokenSourceOptions } from './google-id-token';
export { ClientCredentialsTokenSource, type AccessTokenInfo, type ClientCredentialsTokenSourceOptions } from './client-credentials';
export type { TokenInfo } from './internal/refresh';
