import { Construct, type IConstruct } from 'constructs';
import { Annotations, type TerraformResource } from 'cdktf';
import { CloudfunctionsFunctionIamMember } from '@cdktf/provider-google/lib/cloudfunctions-function-iam-member';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { check, checkMember, isPublicMember, PUBLIC_INVOKER_CONFLICT } from './internal';

/** What an {@link InvokerBinding} needs to know about a function (both generations implement it). */
export interface IPrivateFunction extends IConstruct {
  /** 1 for google_cloudfunctions_function, 2 for google_cloudfunctions2_function (Cloud Run functions). */
  readonly generation: 1 | 2;
  /** The function's name (a reference to the deployed resource, so bindings wait for it). */
  readonly functionName: string;
  /** Project the function lives in. */
  readonly project: string;
  /** Region the function runs in. */
  readonly region: string;
  /** The `aud` callers put in their Google ID token. */
  readonly audience: string;
  /** HTTPS URL to call. */
  readonly url: string;
  /** 2nd gen only: the Cloud Run service that serves the function, where `roles/run.invoker` is granted. */
  readonly cloudRunServiceName?: string;
  /**
   * True when the function trusts that Cloud Run's IAM check verified every caller
   * (`S2S_CLOUD_RUN_VERIFIED=true`): public invokers are then refused.
   */
  readonly trustsCloudRunIam: boolean;
  /** Lets `member` call the function; idempotent per member. */
  grantInvoke(member: string, options?: GrantInvokeOptions): InvokerBinding;
}

export interface GrantInvokeOptions {
  /**
   * Permit `allUsers` / `allAuthenticatedUsers`. The function then answers anyone on the
   * internet (or any Google account), so a warning is added to the stack's annotations.
   * @default false
   */
  readonly allowPublic?: boolean;
}

export interface InvokerBindingProps extends GrantInvokeOptions {
  /** The function to open to `member`. */
  readonly function: IPrivateFunction;
  /**
   * Who may call: `serviceAccount:EMAIL`, `user:EMAIL`, `group:EMAIL`, `domain:DOMAIN`,
   * `principal://...` or `principalSet://...` (workload identity federation).
   */
  readonly member: string;
}

/**
 * Grants one member the invoker role the function's generation checks:
 * `roles/cloudfunctions.invoker` on a 1st gen function, `roles/run.invoker` on the Cloud Run
 * service behind a 2nd gen function (2nd gen ignores the Cloud Functions invoker role).
 * Additive (`*_iam_member`): it never removes bindings managed elsewhere.
 */
export class InvokerBinding extends Construct {
  /** The IAM member resource. */
  readonly resource: TerraformResource;
  /** The role granted. */
  readonly role: string;

  constructor(scope: Construct, id: string, props: InvokerBindingProps) {
    super(scope, id);
    const publicOnTrusting = isPublicMember(props.member) && props.function.trustsCloudRunIam;
    check(!publicOnTrusting, 'member', `must not be ${props.member} for ${props.function.node.path}: ${PUBLIC_INVOKER_CONFLICT}; to make that function public, set allowPublic: true on the function itself (its handler then verifies every signature)`, props.member, this);
    checkMember(props.member, 'member', this, { allowPublic: props.allowPublic, publicHint: 'set allowPublic: true only for a function meant to be public' });
    if (isPublicMember(props.member)) {
      Annotations.of(this).addWarning(`s2s-auth: ${props.member} may invoke function ${props.function.node.path}; anyone can call it, so the function itself must authenticate every request`);
    }
    const fn = props.function;
    if (fn.generation === 1) {
      this.role = 'roles/cloudfunctions.invoker';
      this.resource = new CloudfunctionsFunctionIamMember(this, 'Resource', {
        project: fn.project,
        region: fn.region,
        cloudFunction: fn.functionName,
        role: this.role,
        member: props.member,
      });
    } else {
      if (!fn.cloudRunServiceName) throw new Error(`s2s-auth: 2nd gen function ${fn.node.path} exposes no cloudRunServiceName`);
      this.role = 'roles/run.invoker';
      this.resource = new CloudRunV2ServiceIamMember(this, 'Resource', {
        project: fn.project,
        location: fn.region,
        name: fn.cloudRunServiceName,
        role: this.role,
        member: props.member,
      });
    }
  }
}
