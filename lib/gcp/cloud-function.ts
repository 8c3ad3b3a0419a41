import type { Construct } from 'constructs';
import { CloudfunctionsFunction } from '@cdktf/provider-google/lib/cloudfunctions-function';
import { PrivateFunctionBase, type PrivateFunctionProps } from './function-base';

export type PrivateCloudFunctionProps = PrivateFunctionProps;

/**
 * A 1st gen HTTP Cloud Function (google_cloudfunctions_function) that only IAM-authorised
 * callers can invoke: no `allUsers` binding, HTTPS only (`SECURE_ALWAYS`), its own runtime
 * identity with no roles, and by default the `google-id-token` reference handler that checks
 * the caller's ID token again (audience, optional email allow-list) and answers who called.
 *
 * Callers get an ID token for {@link audience} (`https://REGION-PROJECT.cloudfunctions.net/NAME`)
 * and need `roles/cloudfunctions.invoker`: list them in `invokers` or call {@link grantInvoke}.
 *
 * @example
 * const fn = new PrivateCloudFunction(stack, 'UserProfiles', { name: 'user-profiles', region: 'europe-west1' });
 * fn.grantInvoke(login.member);
 */
export class PrivateCloudFunction extends PrivateFunctionBase {
  /** The google_cloudfunctions_function resource. */
  readonly resource: CloudfunctionsFunction;
  readonly functionName: string;
  /** `https_trigger_url` of the deployed function (equal to {@link audience}). */
  readonly url: string;

  constructor(scope: Construct, id: string, props: PrivateCloudFunctionProps) {
    super(scope, id, props, {
      generation: 1,
      // gcloud: "must contain only Latin letters, digits, hyphens or underscores, start with a letter, not end with a hyphen, at most 63 characters"
      nameRule: /^[A-Za-z](?:[-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?$/,
      nameRuleText: 'must be 1-63 letters, digits, hyphens or underscores, start with a letter and not end with a hyphen',
      maxTimeoutSeconds: 540,
      memory: [128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768],
      services: ['cloudfunctions.googleapis.com', 'cloudbuild.googleapis.com', 'artifactregistry.googleapis.com'],
    });
    const r = this.resolved;
    this.resource = new CloudfunctionsFunction(this, 'Resource', {
      project: this.project,
      region: this.region,
      name: props.name,
      runtime: r.runtime,
      entryPoint: r.entryPoint,
      sourceArchiveBucket: r.bucket,
      sourceArchiveObject: r.object,
      triggerHttp: true,
      httpsTriggerSecurityLevel: 'SECURE_ALWAYS',
      ingressSettings: r.ingress,
      serviceAccountEmail: r.serviceAccountEmail,
      environmentVariables: r.environment,
      availableMemoryMb: r.memoryMiB,
      timeout: r.timeoutSeconds,
      maxInstances: r.maxInstances,
      labels: r.labels,
      dependsOn: r.dependsOn,
    });
    this.functionName = this.resource.name;
    this.url = this.resource.httpsTriggerUrl;
    this.grantInitialInvokers(props.invokers);
  }
}
