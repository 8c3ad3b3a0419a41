import type { Construct, IConstruct } from 'constructs';
import { TerraformStack, Token } from 'cdktf';
import { CloudRunServiceIamBinding } from '@cdktf/provider-google/lib/cloud-run-service-iam-binding';
import { CloudRunServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-service-iam-member';
import { CloudRunV2ServiceIamBinding } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-binding';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { ValidationError } from '../validation';
import { PrivateFunctionBase, type PrivateFunctionProps } from './function-base';
import { isPublicMember, PUBLIC_INVOKER_CONFLICT, synthesizedText } from './internal';

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
 * Stripped signatures: Cloud Run verifies the caller's ID token for its IAM check and passes
 * `Authorization` on with the signature replaced by `SIGNATURE_REMOVED_BY_GOOGLE`
 * (https://cloud.google.com/run/docs/authenticating/service-to-service), so the handler cannot
 * check it again. The construct therefore sets `S2S_CLOUD_RUN_VERIFIED=true` (unless `iap` or
 * `allowPublic` is set, see {@link trustsCloudRunIam}; for a custom `entry` too, like the
 * other `S2S_*` variables): the `google-id-token` handler then accepts such a token after
 * checking its claims (audience, expiry, `allowedCallerEmails`), and only when no
 * `X-Serverless-Authorization` header is present. A caller that sends its IAM token in
 * `X-Serverless-Authorization` gets `Authorization` passed on intact, and it is fully verified.
 *
 * That trust holds only while Cloud Run checks IAM on every request, so a public invoker
 * (`allUsers` / `allAuthenticatedUsers`) is refused at synth time: in `invokers`, through
 * {@link grantInvoke} or an {@link InvokerBinding}, and on the provider's own
 * `google_cloud_run_service_iam_*` / `google_cloud_run_v2_service_iam_*` member and binding
 * resources naming this function's service anywhere in the app. (An `_iam_policy` resource or a
 * binding made outside this app cannot be seen: never make such a function public by those means.) To serve the public, set
 * `allowPublic: true` on the function: the variable is then not set and every signature is verified.
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
    if (this.trustsCloudRunIam) {
      // InvokerBinding refuses public members itself; this catches the provider's raw IAM resources.
      const names = [this.cloudRunServiceName, this.functionName, props.name];
      this.node.addValidation({ validate: () => this.publicRawGrants(names) });
    }
  }

  private publicRawGrants(serviceNames: readonly string[]): string[] {
    // Resolved, a reference reads the same however it was obtained (fn.functionName,
    // fn.resource.name, ...); references from another stack are matched as given.
    const stack = TerraformStack.of(this);
    const resolved = new Set(serviceNames.map((name) => synthesizedText(this, name)));
    const given = new Set(serviceNames);
    const errors: string[] = [];
    for (const node of this.node.root.node.findAll()) {
      const grant = cloudRunGrant(node);
      if (!grant || grant.service === undefined) continue;
      const ours = TerraformStack.of(node) === stack ? resolved.has(synthesizedText(this, grant.service)) : given.has(grant.service);
      if (!ours) continue;
      // A literal service name could belong to a namesake in another region.
      if (grant.location !== undefined && !Token.isUnresolved(grant.location) && grant.location !== this.region) continue;
      for (const member of grant.members.filter(isPublicMember)) {
        const rule = `must be true for ${member} to invoke this function (${node.node.path} grants it): ${PUBLIC_INVOKER_CONFLICT}; set allowPublic: true (its handler then verifies every signature) or remove that grant`;
        errors.push(new ValidationError('allowPublic', rule, false, this.node.path).message);
      }
    }
    return errors;
  }
}

/** The service, location and literal members of a Cloud Run IAM member/binding resource. */
function cloudRunGrant(node: IConstruct): { service?: string; location?: string; members: string[] } | undefined {
  const one = (member: string | undefined) => (member === undefined ? [] : [member]);
  const list = (members: string[] | undefined) => (members === undefined || Token.isUnresolved(members) ? [] : members);
  if (node instanceof CloudRunV2ServiceIamMember) return { service: node.nameInput, location: node.locationInput, members: one(node.memberInput) };
  if (node instanceof CloudRunV2ServiceIamBinding) return { service: node.nameInput, location: node.locationInput, members: list(node.membersInput) };
  if (node instanceof CloudRunServiceIamMember) return { service: node.serviceInput, location: node.locationInput, members: one(node.memberInput) };
  if (node instanceof CloudRunServiceIamBinding) return { service: node.serviceInput, location: node.locationInput, members: list(node.membersInput) };
  return undefined;
}
