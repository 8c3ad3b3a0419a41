import type { Construct } from 'constructs';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { PrivateFunctionBase, type PrivateFunctionProps } from './function-base';

export type PrivateCloudRunFunctionProps = PrivateFunctionProps;

/**
 * A 2nd gen HTTP function, a.k.a. Cloud Run function (google_cloudfunctions2_function), that
 * only IAM-authorised callers can invoke, with the same secure defaults as
 * {@link PrivateCloudFunction}. Invokers get `roles/run.invoker` on the Cloud Run service
 * behind the function ({@link cloudRunServiceName}).
 *
 * Audience: Cloud Run accepts ID tokens whose `aud` is the function's
 * `https://REGION-PROJECT.cloudfunctions.net/NAME` URL or one of its `run.app` URLs. The
 * construct uses the cloudfunctions.net form ({@link audience}) because it is known before
 * deployment: it goes into the function's own `S2S_AUDIENCE` without a Terraform cycle, and
 * needs no project number.
 *
 * Cloud Run strips the signature of the token it verified before passing `Authorization` on
 * (https://cloud.google.com/run/docs/authenticating/service-to-service). A handler that
 * re-verifies the token needs the caller to send the IAM token in `X-Serverless-Authorization`,
 * which Cloud Run checks instead, and the token to re-verify in `Authorization`.
 */
export class PrivateCloudRunFunction extends PrivateFunctionBase {
  /** The google_cloudfunctions2_function resource. */
  readonly resource: Cloudfunctions2Function;
  readonly functionName: string;
  /** The function's cloudfunctions.net URL (equal to {@link audience}). */
  readonly url: string;
  /** The Cloud Run service's own `run.app` URL. */
  readonly serviceUrl: string;
  override readonly cloudRunServiceName: string;

  constructor(scope: Construct, id: string, props: PrivateCloudRunFunctionProps) {
    super(scope, id, props, {
      generation: 2,
      // The function name becomes the Cloud Run service name: lowercase letters, digits and hyphens.
      nameRule: /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/,
      nameRuleText: 'must be 1-63 lowercase letters, digits or hyphens, start with a letter and not end with a hyphen (it names the Cloud Run service)',
      maxTimeoutSeconds: 3600,
      memory: { min: 128, max: 32768 },
      services: ['cloudfunctions.googleapis.com', 'run.googleapis.com', 'cloudbuild.googleapis.com', 'artifactregistry.googleapis.com'],
    });
    const r = this.resolved;
    this.resource = new Cloudfunctions2Function(this, 'Resource', {
      project: this.project,
      location: this.region,
      name: props.name,
      labels: r.labels,
      buildConfig: {
        runtime: r.runtime,
        entryPoint: r.entryPoint,
        source: { storageSource: { bucket: r.bucket, object: r.object } },
      },
      serviceConfig: {
        serviceAccountEmail: r.serviceAccountEmail,
        environmentVariables: r.environment,
        ingressSettings: r.ingress,
        availableMemory: `${r.memoryMiB}Mi`,
        timeoutSeconds: r.timeoutSeconds,
        maxInstanceCount: r.maxInstances,
        allTrafficOnLatestRevision: true,
      },
      dependsOn: r.dependsOn,
    });
    this.functionName = this.resource.name;
    this.url = this.resource.url;
    this.serviceUrl = this.resource.serviceConfig.uri;
    this.cloudRunServiceName = this.resource.serviceConfig.service;
    this.grantInitialInvokers(props.invokers);
  }
}
