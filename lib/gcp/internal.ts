import { createHash } from 'node:crypto';
import { Construct } from 'constructs';
import { DefaultTokenResolver, StringConcat, TerraformStack, Token, Tokenization } from 'cdktf';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { ValidationError } from '../validation';
import { isGoogleCloudRegion } from '../verify/util';

// Shared by the lib/gcp constructs only; not exported from s2s-auth/gcp.

export const isUnresolved = (value: unknown): boolean => Token.isUnresolved(value);

/**
 * What `value` synthesizes to, e.g. `serviceAccount:${google_service_account.x.email}`. Use it
 * wherever a value names a construct or is compared: a token's own string carries a
 * process-wide counter, so a construct ID hashed from it would change (and Terraform destroy
 * and recreate the resource) whenever an unrelated construct is added before it.
 */
export function synthesizedText(scope: Construct, value: string): string {
  if (!isUnresolved(value)) return value;
  return String(Tokenization.resolve(value, { scope: TerraformStack.of(scope), preparing: false, resolver: new DefaultTokenResolver(new StringConcat()) }));
}

/** Throws a ValidationError unless `ok`; callers skip the check for unresolved tokens themselves. */
export function check(ok: boolean, prop: string, rule: string, got: unknown, scope: Construct): void {
  if (!ok) throw new ValidationError(prop, rule, got, scope.node.path);
}

// Google's project ID rule: 6-30 characters, lowercase letters, digits and hyphens, starting
// with a letter and not ending with a hyphen.
const PROJECT_ID = /^[a-z][-a-z0-9]{4,28}[a-z0-9]$/;
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function isEmail(value: string): boolean {
  return EMAIL.test(value);
}

export function checkEmail(value: string, prop: string, scope: Construct): void {
  if (!isUnresolved(value)) check(isEmail(value), prop, 'must be an email address such as caller@PROJECT.iam.gserviceaccount.com', value, scope);
}

export function checkRegion(value: string, scope: Construct): void {
  if (!isUnresolved(value)) check(isGoogleCloudRegion(value), 'region', 'must be a Google Cloud region such as us-central1 or europe-west1', value, scope);
}

/**
 * The project the resources go to: the `project` prop when given, else the provider's
 * default project, read through one `google_client_config` data source per stack.
 */
export function resolveProject(scope: Construct, project: string | undefined): string {
  if (project !== undefined) {
    if (!isUnresolved(project)) check(PROJECT_ID.test(project), 'project', 'must be a Google Cloud project ID: 6-30 lowercase letters, digits or hyphens, starting with a letter', project, scope);
    return project;
  }
  const stack = TerraformStack.of(scope);
  let fromProvider = providerProjects.get(stack);
  if (fromProvider === undefined) {
    // One token string per stack, so that per-project singletons (enableServices) dedupe.
    fromProvider = new DataGoogleClientConfig(stack, 'S2sAuthClientConfig').project;
    providerProjects.set(stack, fromProvider);
  }
  return fromProvider;
}
const providerProjects = new WeakMap<TerraformStack, string>();

/**
 * Enables Google APIs once per stack and project, whichever construct asks first, with
 * `disable_on_destroy = false`: destroying one stack must never switch off an API that other
 * workloads in the same project rely on.
 */
export function enableServices(scope: Construct, project: string, services: readonly string[]): ProjectService[] | undefined {
  if (services.length === 0) return undefined;
  const stack = TerraformStack.of(scope);
  return services.map((service) => {
    const id = `S2sAuthApi-${service.split('.')[0]}-${shortHash(synthesizedText(stack, project))}`;
    const existing = stack.node.tryFindChild(id) as ProjectService | undefined;
    return existing ?? new ProjectService(stack, id, { project, service, disableOnDestroy: false });
  });
}

export function shortHash(text: string, length = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
const EMAIL_KINDS = ['serviceAccount', 'user', 'group'];

/** True for the IAM members that mean "anyone" (`allUsers`, `allAuthenticatedUsers`). */
export function isPublicMember(member: string): boolean {
  return PUBLIC_MEMBERS.has(member);
}

/**
 * Why a function that trusts Cloud Run's IAM check cannot have a public invoker. Cloud Run
 * strips the signature of the token it verified, so the handler trusts such a token's claims;
 * on a public service nothing verified them, and anyone could forge them.
 */
export const PUBLIC_INVOKER_CONFLICT = "the function trusts tokens whose signature Cloud Run's IAM check verified and stripped (S2S_CLOUD_RUN_VERIFIED=true), and a public invoker skips that check, so anyone could send a forged token";

/**
 * Validates an IAM member string (https://cloud.google.com/iam/docs/principal-identifiers).
 * A member built from a token, e.g. `serviceAccount:${account.email}`, still has its kind checked.
 */
export function checkMember(member: string, prop: string, scope: Construct, options: { allowPublic?: boolean; publicHint?: string } = {}): void {
  const rule = 'must be an IAM principal: serviceAccount:EMAIL, user:EMAIL, group:EMAIL, domain:DOMAIN, principal://... or principalSet://...';
  if (typeof member !== 'string') throw new ValidationError(prop, rule, member, scope.node.path);
  if (isPublicMember(member)) {
    check(options.allowPublic === true, prop, `must not be ${member} (anyone could call)${options.publicHint ? `; ${options.publicHint}` : ''}`, member, scope);
    return;
  }
  if (isUnresolved(member) && /^\$\{/.test(member)) return; // wholly a token: nothing literal to check
  const colon = member.indexOf(':');
  const kind = colon > 0 ? member.slice(0, colon) : '';
  const value = member.slice(colon + 1);
  if (kind === 'principal' || kind === 'principalSet') {
    check(/^\/\/[a-z0-9.-]+\.googleapis\.com\/\S+$/.test(value), prop, `${rule}; federated principals look like principal://iam.googleapis.com/projects/NUMBER/locations/global/workloadIdentityPools/POOL/subject/SUBJECT`, member, scope);
    return;
  }
  check(EMAIL_KINDS.includes(kind) || kind === 'domain', prop, rule, member, scope);
  if (isUnresolved(value)) return;
  if (kind === 'domain') check(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i.test(value), prop, `${rule}; domain: takes a domain name such as example.com`, member, scope);
  else check(isEmail(value), prop, `${rule}; ${kind}: takes an email address`, member, scope);
}

/**
 * Checks each member of a list prop ({@link checkMember}, no repeats) and hands it to `use`
 * with its synthesized text, in order, so a bad member stops the loop before anything after it.
 */
export function forEachUniqueMember(
  members: readonly string[] | undefined,
  prop: string,
  scope: Construct,
  options: { allowPublic?: boolean; publicHint?: string },
  use: (member: string, text: string) => void,
): void {
  const seen = new Set<string>();
  for (const member of members ?? []) {
    checkMember(member, prop, scope, options);
    const text = synthesizedText(scope, member);
    check(!seen.has(text), prop, 'must not list a member twice', member, scope);
    seen.add(text);
    use(member, text);
  }
}

/** Google Cloud label rules (https://cloud.google.com/resource-manager/docs/labels-overview). */
export function checkLabels(labels: Record<string, string> | undefined, scope: Construct): void {
  if (!labels) return;
  const keys = Object.keys(labels);
  check(keys.length <= 64, 'labels', 'must have at most 64 entries', keys.length, scope);
  for (const key of keys) {
    if (!isUnresolved(key)) check(/^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u.test(key), 'labels', 'keys must start with a lowercase letter and hold at most 63 lowercase letters, digits, underscores or hyphens', key, scope);
    const value = labels[key];
    if (!isUnresolved(value)) check(/^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u.test(value), 'labels', `value of '${key}' must hold at most 63 lowercase letters, digits, underscores or hyphens`, value, scope);
  }
}
