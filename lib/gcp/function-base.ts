import { Construct } from 'constructs';
import { AssetType, Fn, TerraformAsset, TerraformStack, type ITerraformDependable } from 'cdktf';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { bundleEntry, referenceHandler, type Bundle } from '../bundling';
import { ValidationError } from '../validation';
import { checkIapAudience } from '../verify/iap';
import { check, checkEmail, checkLabels, checkRegion, enableServices, forEachUniqueMember, isUnresolved, resolveProject, shortHash, synthesizedText } from './internal';
import { InvokerBinding, type GrantInvokeOptions, type IPrivateFunction } from './invoker-binding';
import { functionSourceArchive, type FunctionSource } from './source';

/** Where requests may come from, before IAM is even consulted. */
export type FunctionIngress = 'ALLOW_ALL' | 'ALLOW_INTERNAL_ONLY' | 'ALLOW_INTERNAL_AND_GCLB';

/** The function sits behind Identity-Aware Proxy and verifies IAP's signed header. */
export interface IapOptions {
  /**
   * The `aud` IAP signs for: `/projects/PROJECT_NUMBER/global/backendServices/SERVICE_ID` for a
   * load balancer backend, `/projects/PROJECT_NUMBER/apps/PROJECT_ID` for App Engine, or
   * `/projects/PROJECT_NUMBER/locations/REGION/services/SERVICE_NAME` for IAP enabled on the
   * Cloud Run service itself. Checked with the `iap` handler's own rule (`checkIapAudience`).
   */
  readonly audience: string;
  /** Paths answered without a header (load balancer health checks). @default none */
  readonly healthCheckPaths?: string[];
  /** Override of IAP's key set URL (tests, private mirrors). @default Google's IAP key set */
  readonly jwksUrl?: string;
}

/** Props shared by {@link PrivateCloudFunction} (1st gen) and {@link PrivateCloudRunFunction} (2nd gen). */
export interface PrivateFunctionProps {
  /** Function name, unique per project and region (Google's naming rules are checked at synth). */
  readonly name: string;
  /** Region, e.g. `europe-west1`. */
  readonly region: string;
  /**
   * Project ID.
   * @default the provider's project, read through a `google_client_config` data source
   */
  readonly project?: string;
  /**
   * Your handler file (.ts or .js), bundled with esbuild into one `index.js`. It must export
   * `entryPoint` as a functions-framework HTTP handler `(req, res)`. It gets the same `S2S_*`
   * variables as the reference handler would (docs/ARCHITECTURE.md), so it can build its
   * verifier from them with s2s-auth/verify.
   * @default the pre-built reference handler: `google-id-token` (verifies the caller's Google ID
   * token for `audience` and answers with the caller's identity), or `iap` when `iap` is set
   */
  readonly entry?: string;
  /** Exported function to run. Only with `entry`. @default 'handler' */
  readonly entryPoint?: string;
  /**
   * Node.js runtime, `nodejsNN` with NN >= 20 (nodejs18 and older are decommissioned: Google
   * refuses to deploy them). A literal: it also sets the bundle's esbuild target.
   * @default 'nodejs22'
   */
  readonly runtime?: string;
  /**
   * Extra environment variables. Names Google reserves and the `S2S_*` variables this
   * construct sets are refused.
   * @default none
   */
  readonly environment?: Record<string, string>;
  /**
   * Runtime identity of the function.
   * @default a dedicated service account holding no roles (never the project's default compute
   * account, which typically holds Editor)
   */
  readonly serviceAccountEmail?: string;
  /**
   * Name of an existing bucket to upload the source archive to.
   * @default a private bucket in `region`: uniform bucket-level access, public access prevention enforced
   */
  readonly sourceBucket?: string;
  /**
   * Network ingress. IAM still decides who may call; narrow this when callers are all in your
   * VPC (`ALLOW_INTERNAL_ONLY`) or behind a load balancer / IAP (`ALLOW_INTERNAL_AND_GCLB`).
   * @default 'ALLOW_ALL' so that callers on other serverless platforms can reach it; never unauthenticated
   */
  readonly ingress?: FunctionIngress;
  /** Members granted the invoker role (see {@link InvokerBinding}). @default none: nobody but project owners can call */
  readonly invokers?: string[];
  /**
   * Permit `allUsers` / `allAuthenticatedUsers` in `invokers` (a warning is annotated).
   *
   * On 2nd gen this also means Cloud Run no longer vouches for callers, so the function is not
   * told to trust tokens whose signature Cloud Run stripped (no `S2S_CLOUD_RUN_VERIFIED`): a
   * public service skips the IAM check and passes `Authorization` on intact, and the handler
   * verifies its signature itself. Set it only together with a public invoker: on a function
   * that stays IAM-checked, Cloud Run strips every signature and the handler refuses them all.
   * @default false
   */
  readonly allowPublic?: boolean;
  /**
   * Emails the reference `google-id-token` handler admits (`S2S_ALLOWED_EMAILS`): defense in
   * depth on top of IAM, which also admits project owners and editors.
   * @default any caller that passed IAM
   */
  readonly allowedCallerEmails?: string[];
  /** Put the function behind IAP: the default handler becomes `iap`. @default not behind IAP */
  readonly iap?: IapOptions;
  /** Memory in MiB. @default 256 */
  readonly memoryMiB?: number;
  /** Request timeout in seconds. @default 60 */
  readonly timeoutSeconds?: number;
  /** Upper bound on instances (caps cost under load). @default the platform's default */
  readonly maxInstances?: number;
  /** Labels on the function. @default none */
  readonly labels?: Record<string, string>;
  /** Enable the Google APIs the function needs (`google_project_service`, never disabled on destroy). @default false */
  readonly enableApis?: boolean;
}

/** What differs between the generations, as the base class needs it. */
export interface GenerationSpec {
  readonly generation: 1 | 2;
  readonly nameRule: RegExp;
  readonly nameRuleText: string;
  readonly maxTimeoutSeconds: number;
  /** Allowed memory sizes in MiB, or an inclusive range. */
  readonly memory: readonly number[] | { readonly min: number; readonly max: number };
  readonly services: readonly string[];
}

/** Settings resolved by {@link PrivateFunctionBase} for the generation-specific resource. */
export interface ResolvedFunction {
  readonly runtime: string;
  readonly entryPoint: string;
  readonly environment: Record<string, string>;
  readonly serviceAccountEmail: string;
  readonly bucket: string;
  readonly object: string;
  readonly ingress: FunctionIngress;
  readonly memoryMiB: number;
  readonly timeoutSeconds: number;
  readonly maxInstances?: number;
  readonly labels?: Record<string, string>;
  /** The enabled APIs, when `enableApis` is set. */
  readonly dependsOn?: ITerraformDependable[];
}

// Set by the platform (https://cloud.google.com/functions/docs/configuring/env-var#reserved_keys).
const RESERVED_ENV = new Set([
  'ENTRY_POINT', 'GCP_PROJECT', 'GCLOUD_PROJECT', 'GOOGLE_CLOUD_PROJECT', 'FUNCTION_TRIGGER_TYPE', 'FUNCTION_NAME',
  'FUNCTION_MEMORY_MB', 'FUNCTION_TIMEOUT_SEC', 'FUNCTION_IDENTITY', 'FUNCTION_REGION', 'FUNCTION_TARGET',
  'FUNCTION_SIGNATURE_TYPE', 'K_SERVICE', 'K_REVISION', 'K_CONFIGURATION', 'PORT',
]);

/** The machinery both generations share: validation, bundling, upload, identity, audience, invokers. */
export abstract class PrivateFunctionBase extends Construct implements IPrivateFunction {
  readonly generation: 1 | 2;
  readonly project: string;
  readonly region: string;
  /**
   * What callers put in the ID token's `aud`: `https://REGION-PROJECT.cloudfunctions.net/NAME`.
   * Built from props, not from the deployed resource, so it can feed the function's own
   * environment without a Terraform cycle.
   */
  readonly audience: string;
  /** The runtime service account's email. */
  readonly serviceAccountEmail: string;
  /** The service account created when `serviceAccountEmail` was not given. */
  readonly serviceAccount?: ServiceAccount;
  /** The uploaded source archive. */
  readonly sourceObject: StorageBucketObject;
  /** The bucket created when `sourceBucket` was not given. */
  readonly bucket?: StorageBucket;
  abstract readonly functionName: string;
  abstract readonly url: string;
  readonly cloudRunServiceName?: string;
  /**
   * True on 2nd gen unless `iap` or `allowPublic` is set: every request has passed Cloud Run's
   * IAM check, which verified the caller's ID token and stripped its signature before passing
   * it on, so the function is told to trust such a token's claims (`S2S_CLOUD_RUN_VERIFIED=true`).
   * Public invokers are then refused: without the IAM check a stripped token proves nothing.
   */
  readonly trustsCloudRunIam: boolean;

  protected readonly resolved: ResolvedFunction;
  private readonly allowPublic: boolean;

  protected constructor(scope: Construct, id: string, props: PrivateFunctionProps, spec: GenerationSpec) {
    super(scope, id);
    this.generation = spec.generation;
    this.allowPublic = props.allowPublic === true;
    this.trustsCloudRunIam = spec.generation === 2 && props.iap === undefined && !this.allowPublic;

    if (!isUnresolved(props.name)) check(spec.nameRule.test(props.name), 'name', spec.nameRuleText, props.name, this);
    checkRegion(props.region, this);
    this.region = props.region;
    this.project = resolveProject(this, props.project);
    this.audience = `https://${props.region}-${this.project}.cloudfunctions.net/${props.name}`;

    const runtime = props.runtime ?? 'nodejs22';
    const major = /^nodejs([0-9]{2})$/.exec(runtime);
    check(major !== null && Number(major[1]) >= 20, 'runtime', 'must be a literal Node.js runtime nodejsNN with NN >= 20 (older ones are decommissioned), e.g. nodejs22', runtime, this);
    const nodeMajor = Number(major![1]);

    if (props.entry === undefined) check(props.entryPoint === undefined || props.entryPoint === 'handler', 'entryPoint', "only applies with 'entry': the reference handlers export 'handler'", props.entryPoint, this);
    const entryPoint = props.entryPoint ?? 'handler';
    if (!isUnresolved(entryPoint)) check(/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(entryPoint), 'entryPoint', 'must be the name of an exported function', entryPoint, this);

    const memoryMiB = props.memoryMiB ?? 256;
    const memory = spec.memory;
    if (!isUnresolved(memoryMiB)) {
      if ('min' in memory) check(Number.isInteger(memoryMiB) && memoryMiB >= memory.min && memoryMiB <= memory.max, 'memoryMiB', `must be a whole number of MiB from ${memory.min} to ${memory.max}`, memoryMiB, this);
      else check(memory.includes(memoryMiB), 'memoryMiB', `must be one of ${memory.join(', ')}`, memoryMiB, this);
    }
    const timeoutSeconds = props.timeoutSeconds ?? 60;
    if (!isUnresolved(timeoutSeconds)) check(Number.isInteger(timeoutSeconds) && timeoutSeconds >= 1 && timeoutSeconds <= spec.maxTimeoutSeconds, 'timeoutSeconds', `must be a whole number of seconds from 1 to ${spec.maxTimeoutSeconds}`, timeoutSeconds, this);
    if (props.maxInstances !== undefined && !isUnresolved(props.maxInstances)) check(Number.isInteger(props.maxInstances) && props.maxInstances >= 1, 'maxInstances', 'must be a whole number >= 1', props.maxInstances, this);
    const ingress = props.ingress ?? 'ALLOW_ALL';
    if (!isUnresolved(ingress)) check(['ALLOW_ALL', 'ALLOW_INTERNAL_ONLY', 'ALLOW_INTERNAL_AND_GCLB'].includes(ingress), 'ingress', 'must be ALLOW_ALL, ALLOW_INTERNAL_ONLY or ALLOW_INTERNAL_AND_GCLB', ingress, this);
    checkLabels(props.labels, this);

    const environment = { ...this.verifierEnvironment(props) };
    for (const [key, value] of Object.entries(props.environment ?? {})) {
      check(/^[A-Za-z_][A-Za-z0-9_]*$/.test(key), 'environment', 'names must be letters, digits and underscores, not starting with a digit', key, this);
      check(!RESERVED_ENV.has(key) && !key.startsWith('X_GOOGLE_'), 'environment', 'must not set a name Google Cloud Functions reserves', key, this);
      check(!(key in environment) && !key.startsWith('S2S_'), 'environment', 'must not set S2S_* variables: they come from this construct\'s props (audience, allowedCallerEmails, iap, allowPublic)', key, this);
      environment[key] = value;
    }

    const dependsOn = props.enableApis ? enableServices(this, this.project, [...spec.services, ...(props.serviceAccountEmail ? [] : ['iam.googleapis.com'])]) : undefined;

    if (props.serviceAccountEmail !== undefined) {
      checkEmail(props.serviceAccountEmail, 'serviceAccountEmail', this);
      this.serviceAccountEmail = props.serviceAccountEmail;
    } else {
      this.serviceAccount = new ServiceAccount(this, 'ServiceAccount', {
        project: this.project,
        accountId: runtimeAccountId(props.name, this.node.path),
        displayName: `Runtime identity of function ${props.name}`.slice(0, 100),
        description: 'Created by s2s-auth; holds no roles unless you grant them.',
        dependsOn,
      });
      this.serviceAccountEmail = this.serviceAccount.email;
    }

    let bucket = props.sourceBucket;
    if (bucket !== undefined) {
      if (!isUnresolved(bucket)) check(/^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$/.test(bucket), 'sourceBucket', 'must be a bucket name (3-63 lowercase letters, digits, dots, hyphens or underscores), without gs://', bucket, this);
    } else {
      this.bucket = new StorageBucket(this, 'SourceBucket', {
        project: this.project,
        // Bucket names are global: the project ID (at most 30 characters) makes this one unique
        // and keeps it within the 63-character limit.
        name: `${this.project}-s2s-src-${shortHash(this.node.path)}`,
        location: isUnresolved(props.region) ? props.region : props.region.toUpperCase(),
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        // Holds only build inputs this construct re-uploads; must not block `destroy`.
        forceDestroy: true,
        labels: props.labels,
      });
      bucket = this.bucket.name;
    }

    const code: Bundle = props.entry !== undefined
      ? bundleEntry({ entry: props.entry, target: `node${nodeMajor}`, path: this.node.path })
      : referenceHandler(props.iap ? 'iap' : 'google-id-token');
    const source = functionSourceArchive(code, nodeMajor);
    this.sourceObject = new StorageBucketObject(this, 'SourceObject', {
      bucket,
      // The content hash in the name makes a changed handler a new object, which redeploys the function.
      name: `s2s-auth/${props.name}/${source.hash}.zip`,
      source: sourceAsset(this, source).path,
      contentType: 'application/zip',
    });

    this.resolved = {
      runtime,
      entryPoint,
      environment,
      serviceAccountEmail: this.serviceAccountEmail,
      bucket,
      object: this.sourceObject.name,
      ingress,
      memoryMiB,
      timeoutSeconds,
      maxInstances: props.maxInstances,
      labels: props.labels,
      dependsOn,
    };
  }

  grantInvoke(member: string, options: GrantInvokeOptions = {}): InvokerBinding {
    const id = `Invoker-${shortHash(synthesizedText(this, member))}`;
    const existing = this.node.tryFindChild(id);
    if (existing instanceof InvokerBinding) return existing;
    try {
      return new InvokerBinding(this, id, { function: this, member, allowPublic: options.allowPublic });
    } catch (err) {
      // A refused binding is already attached to the tree; detached, a retry validates again
      // instead of being handed the half-built construct.
      this.node.tryRemoveChild(id);
      throw err;
    }
  }

  /** Called by subclasses once their resource exists. */
  protected grantInitialInvokers(invokers: readonly string[] | undefined): void {
    forEachUniqueMember(invokers, 'invokers', this, { allowPublic: this.allowPublic, publicHint: 'set allowPublic: true only for a function meant to be public' }, (member) => {
      this.grantInvoke(member, { allowPublic: this.allowPublic });
    });
  }

  // The variables the reference handlers read (docs/ARCHITECTURE.md); set for a custom `entry`
  // too, so code using s2s-auth/verify reads the same configuration.
  private verifierEnvironment(props: PrivateFunctionProps): Record<string, string> {
    if (props.iap) {
      check(props.allowedCallerEmails === undefined, 'allowedCallerEmails', 'does not apply with iap: IAP decides who gets through, with its own IAM policy', props.allowedCallerEmails, this);
      const { audience, healthCheckPaths, jwksUrl } = props.iap;
      if (!isUnresolved(audience)) {
        // The handler's own rule: an audience accepted here never fails its cold start.
        try {
          checkIapAudience(audience);
        } catch (err) {
          throw new ValidationError('iap.audience', (err as Error).message, audience, this.node.path);
        }
      }
      const paths = healthCheckPaths === undefined || isUnresolved(healthCheckPaths) ? [] : healthCheckPaths;
      for (const p of paths) if (!isUnresolved(p)) check(/^\/[^,\s]*$/.test(p), 'iap.healthCheckPaths', 'must be absolute paths without commas or spaces', p, this);
      if (jwksUrl !== undefined && !isUnresolved(jwksUrl)) check(/^https:\/\/[^\s]+$/.test(jwksUrl), 'iap.jwksUrl', 'must be an https URL', jwksUrl, this);
      return {
        S2S_IAP_AUDIENCE: audience,
        ...(healthCheckPaths?.length ? { S2S_IAP_HEALTH_CHECK_PATHS: commaList(healthCheckPaths) } : {}),
        ...(jwksUrl ? { S2S_IAP_JWKS_URL: jwksUrl } : {}),
      };
    }
    const emails = props.allowedCallerEmails;
    if (emails !== undefined && !isUnresolved(emails)) {
      check(emails.length > 0, 'allowedCallerEmails', 'must list at least one email, or be left unset', emails, this);
      emails.forEach((e) => checkEmail(e, 'allowedCallerEmails', this));
    }
    return {
      S2S_AUDIENCE: this.audience,
      ...(emails ? { S2S_ALLOWED_EMAILS: commaList(emails) } : {}),
      ...(this.trustsCloudRunIam ? { S2S_CLOUD_RUN_VERIFIED: 'true' } : {}),
    };
  }
}

// One asset per distinct archive per stack, so 50 functions on one entry put one zip in
// cdktf.out. Its ID is the content hash: the same archive always lands at the same path.
function sourceAsset(scope: Construct, source: FunctionSource): TerraformAsset {
  const stack = TerraformStack.of(scope);
  const id = `S2sAuthSourceZip-${source.hash}`;
  const existing = stack.node.tryFindChild(id);
  if (existing instanceof TerraformAsset) return existing;
  return new TerraformAsset(stack, id, { path: source.file, type: AssetType.FILE, assetHash: source.hash });
}

// Service account IDs: 6-30 chars, ^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$. A slug of the function
// name keeps it recognisable; the path hash keeps it unique across stacks sharing a project.
function runtimeAccountId(name: string, path: string): string {
  if (isUnresolved(name)) return `fn-${shortHash(path, 12)}`;
  const slug = name.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 19).replace(/-+$/, '');
  return `fn-${slug}-${shortHash(path, 6)}`;
}

// A whole-list token (e.g. a Terraform variable) is only joined by Terraform itself.
function commaList(items: string[]): string {
  return isUnresolved(items) ? Fn.join(',', items) : items.join(',');
}
