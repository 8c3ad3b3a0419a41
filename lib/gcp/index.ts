// s2s-auth/gcp: CDKTF constructs for service-to-service authentication on Google Cloud.
export { PrivateCloudFunction, type PrivateCloudFunctionProps } from './cloud-function';
export { PrivateCloudRunFunction, type PrivateCloudRunFunctionProps } from './cloud-run-function';
export { PrivateFunctionBase, type PrivateFunctionProps, type FunctionIngress, type IapOptions } from './function-base';
export { InvokerBinding, type InvokerBindingProps, type GrantInvokeOptions, type IPrivateFunction } from './invoker-binding';
export { CallerServiceAccount, type CallerServiceAccountProps } from './caller-service-account';
export {
  EndpointsApi,
  endpointsSecurityDefinitions,
  type EndpointsApiProps,
  type EndpointsIssuer,
  type EndpointsBackend,
  type EndpointsOperation,
  type HttpMethod,
  type JwtLocation,
} from './endpoints';
