import 'cdktf/lib/testing/adapters/jest';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, TerraformStack, TerraformVariable, Testing } from 'cdktf';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { CloudRunServiceIamBinding } from '@cdktf/provider-google/lib/cloud-run-service-iam-binding';
import { CloudRunServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-service-iam-member';
import { CloudRunV2ServiceIamBinding } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-binding';
import { CloudfunctionsFunction } from '@cdktf/provider-google/lib/cloudfunctions-function';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { CloudfunctionsFunctionIamMember } from '@cdktf/provider-google/lib/cloudfunctions-function-iam-member';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { DataGoogleClientConfig } from '@cdktf/provider-google/lib/data-google-client-config';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { StorageBucket } from '@cdktf/provider-google/lib/storage-bucket';
import { StorageBucketObject } from '@cdktf/provider-google/lib/storage-bucket-object';
import { CallerServiceAccount, InvokerBinding, PrivateCloudFunction, PrivateCloudRunFunction, type PrivateFunctionProps } from '../../lib/gcp';
import { ValidationError } from '../../lib/validation';
import { FIXTURE_HANDLER, fullSynth, newStack, readZip, resources, synthJson } from './util';

Testing.setupJest();

const base = { name: 'user-profiles', region: 'europe-west1', entry: FIXTURE_HANDLER };
const generations = [
  { gen: 1, Fn: PrivateCloudFunction, type: CloudfunctionsFunction.tfResourceType },
  { gen: 2, Fn: PrivateCloudRunFunction, type: Cloudfunctions2Function.tfResourceType },
] as const;

describe.each(generations)('generation $gen: secure defaults', ({ gen, Fn }) => {
  const stack = newStack();
  const fn = new Fn(stack, 'Fn', base);
  const synth = Testing.synth(stack);

  test('private bucket, content-addressed object, dedicated identity without roles', () => {
    expect(synth).toHaveResourceWithProperties(StorageBucket, {
      location: 'EUROPE-WEST1',
      uniform_bucket_level_access: true,
      public_access_prevention: 'enforced',
    });
    const [object] = resources(stack, StorageBucketObject.tfResourceType);
    expect(object.name).toMatch(/^s2s-auth\/user-profiles\/[0-9a-f]{64}\.zip$/);
    expect(object.source).toMatch(/^assets\/.+\/[0-9a-f]{64}\/archive\.zip$/);
    const [account] = resources(stack, ServiceAccount.tfResourceType);
    expect(account.account_id).toMatch(/^fn-user-profiles-[0-9a-f]{6}$/);
    expect(synth).not.toMatch(/google_project_iam|google_storage_bucket_iam|allUsers|allAuthenticatedUsers/);
  });

  test('project comes from the provider through google_client_config', () => {
    expect(synth).toHaveDataSource(DataGoogleClientConfig);
    expect(fn.project).toMatch(/^\$\{TfToken\[/);
  });

  test('no invoker bindings unless asked', () => {
    expect(synth).not.toHaveResource(CloudfunctionsFunctionIamMember);
    expect(synth).not.toHaveResource(CloudRunV2ServiceIamMember);
  });

  test('the function itself', () => {
    if (gen === 1) {
      expect(synth).toHaveResourceWithProperties(CloudfunctionsFunction, {
        name: 'user-profiles',
        region: 'europe-west1',
        runtime: 'nodejs22',
        entry_point: 'handler',
        trigger_http: true,
        https_trigger_security_level: 'SECURE_ALWAYS',
        ingress_settings: 'ALLOW_ALL',
        available_memory_mb: 256,
        timeout: 60,
        environment_variables: { S2S_AUDIENCE: 'https://europe-west1-${data.google_client_config.S2sAuthClientConfig.project}.cloudfunctions.net/user-profiles' },
      });
    } else {
      expect(resources(stack, Cloudfunctions2Function.tfResourceType)).toMatchObject([{
        name: 'user-profiles',
        location: 'europe-west1',
        build_config: { runtime: 'nodejs22', entry_point: 'handler' },
        service_config: {
          ingress_settings: 'ALLOW_ALL',
          available_memory: '256Mi',
          timeout_seconds: 60,
          all_traffic_on_latest_revision: true,
          environment_variables: { S2S_AUDIENCE: 'https://europe-west1-${data.google_client_config.S2sAuthClientConfig.project}.cloudfunctions.net/user-profiles' },
        },
      }]);
    }
  });
});

test('an explicit project gives a literal audience, equal for both generations', () => {
  const stack = newStack();
  const one = new PrivateCloudFunction(stack, 'One', { ...base, name: 'search', project: 'my-project-1' });
  const two = new PrivateCloudRunFunction(stack, 'Two', { ...base, project: 'my-project-1' });
  expect(one.audience).toBe('https://europe-west1-my-project-1.cloudfunctions.net/search');
  expect(two.audience).toBe('https://europe-west1-my-project-1.cloudfunctions.net/user-profiles');
  expect(Testing.synth(stack)).not.toHaveDataSource(DataGoogleClientConfig);
});

test('tuning props reach the resources', () => {
  const stack = newStack();
  new PrivateCloudFunction(stack, 'One', {
    ...base, name: 'one', runtime: 'nodejs20', memoryMiB: 512, timeoutSeconds: 540, maxInstances: 5,
    ingress: 'ALLOW_INTERNAL_ONLY', labels: { team: 'auth' }, environment: { LOG_LEVEL: 'debug' },
    allowedCallerEmails: ['login-caller@test-project.iam.gserviceaccount.com', 'a@example.com'],
  });
  new PrivateCloudRunFunction(stack, 'Two', { ...base, name: 'two', memoryMiB: 1024, timeoutSeconds: 3600, maxInstances: 3, ingress: 'ALLOW_INTERNAL_AND_GCLB', serviceAccountEmail: 'runner@test-project.iam.gserviceaccount.com' });
  const synth = Testing.synth(stack);
  expect(synth).toHaveResourceWithProperties(CloudfunctionsFunction, {
    runtime: 'nodejs20', available_memory_mb: 512, timeout: 540, max_instances: 5, ingress_settings: 'ALLOW_INTERNAL_ONLY', labels: { team: 'auth' },
    environment_variables: {
      S2S_AUDIENCE: expect.stringMatching(/cloudfunctions\.net\/one$/),
      S2S_ALLOWED_EMAILS: 'login-caller@test-project.iam.gserviceaccount.com,a@example.com',
      LOG_LEVEL: 'debug',
    },
  });
  expect(resources(stack, Cloudfunctions2Function.tfResourceType)).toMatchObject([{
    service_config: { available_memory: '1024Mi', timeout_seconds: 3600, max_instance_count: 3, ingress_settings: 'ALLOW_INTERNAL_AND_GCLB', service_account_email: 'runner@test-project.iam.gserviceaccount.com' },
  }]);
  // Only One created its own runtime identity.
  expect(resources(stack, ServiceAccount.tfResourceType)).toHaveLength(1);
});

test('an existing bucket is used as is', () => {
  const stack = newStack();
  new PrivateCloudFunction(stack, 'Fn', { ...base, sourceBucket: 'shared-artifacts' });
  const synth = Testing.synth(stack);
  expect(synth).not.toHaveResource(StorageBucket);
  expect(synth).toHaveResourceWithProperties(StorageBucketObject, { bucket: 'shared-artifacts' });
  expect(synth).toHaveResourceWithProperties(CloudfunctionsFunction, { source_archive_bucket: 'shared-artifacts' });
});

describe('invokers', () => {
  const member = 'serviceAccount:login-caller@test-project.iam.gserviceaccount.com';

  test('1st gen: roles/cloudfunctions.invoker on the function', () => {
    const stack = newStack();
    const fn = new PrivateCloudFunction(stack, 'Fn', { ...base, invokers: [member] });
    expect(fn.grantInvoke(member)).toBe(fn.grantInvoke(member));
    expect(resources(stack, CloudfunctionsFunctionIamMember.tfResourceType)).toEqual([{
      cloud_function: expect.stringMatching(/^\$\{google_cloudfunctions_function\.Fn_[0-9A-F]{8}\.name\}$/),
      member,
      project: '${data.google_client_config.S2sAuthClientConfig.project}',
      region: 'europe-west1',
      role: 'roles/cloudfunctions.invoker',
    }]);
  });

  test('2nd gen: roles/run.invoker on the Cloud Run service behind the function', () => {
    const stack = newStack();
    const fn = new PrivateCloudRunFunction(stack, 'Fn', base);
    const binding = fn.grantInvoke('group:callers@example.com');
    expect(binding.role).toBe('roles/run.invoker');
    expect(Testing.synth(stack)).toHaveResourceWithProperties(CloudRunV2ServiceIamMember, {
      name: '${google_cloudfunctions2_function.Fn_9270CBC0.service_config[0].service}',
      location: 'europe-west1',
      role: 'roles/run.invoker',
      member: 'group:callers@example.com',
    });
    expect(Testing.synth(stack)).not.toHaveResource(CloudfunctionsFunctionIamMember);
  });

  test.each(['allUsers', 'allAuthenticatedUsers'])('%s is refused unless allowPublic', (pub) => {
    const stack = newStack();
    expect(() => new PrivateCloudFunction(stack, 'A', { ...base, invokers: [pub] })).toThrow(new RegExp(`invalid prop 'invokers': must not be ${pub}.*allowPublic`));
    const fn = new PrivateCloudRunFunction(stack, 'B', base);
    expect(() => fn.grantInvoke(pub)).toThrow(/invalid prop 'member': must not be/);
    expect(() => new InvokerBinding(stack, 'C', { function: fn, member: pub })).toThrow(ValidationError);
  });

  test('allowPublic grants, and writes a warning into the stack annotations', () => {
    const stack = newStack('public');
    const fn = new PrivateCloudRunFunction(stack, 'Fn', { ...base, invokers: ['allUsers'], allowPublic: true });
    expect(resources(stack, CloudRunV2ServiceIamMember.tfResourceType)).toEqual([expect.objectContaining({ member: 'allUsers' })]);
    const { annotations } = fullSynth(stack);
    expect(annotations).toEqual([expect.objectContaining({ level: '@cdktf/warn', constructPath: expect.stringContaining(fn.node.path), message: expect.stringMatching(/allUsers may invoke function/) })]);
  });

  test('a private function has no annotations', () => {
    const stack = newStack('private');
    new PrivateCloudRunFunction(stack, 'Fn', { ...base, invokers: [member] });
    expect(fullSynth(stack).annotations).toEqual([]);
  });
});

// Cloud Run verifies the ID token for IAM and forwards it with its signature stripped; the
// handler may trust such a token only while every request must pass that IAM check.
describe('2nd gen: S2S_CLOUD_RUN_VERIFIED and public invokers', () => {
  const envOf = (stack: TerraformStack): Record<string, string> => {
    const [gen1] = resources(stack, CloudfunctionsFunction.tfResourceType) as { environment_variables: Record<string, string> }[];
    const [gen2] = resources(stack, Cloudfunctions2Function.tfResourceType) as { service_config: { environment_variables: Record<string, string> } }[];
    return gen1?.environment_variables ?? gen2.service_config.environment_variables;
  };
  const iap = { audience: '/projects/123456789/global/backendServices/987654321' };

  test.each([
    { kind: 'gen 2, reference handler', Fn: PrivateCloudRunFunction, props: { name: 'fn', region: 'europe-west1' }, set: true },
    { kind: 'gen 2, custom entry (same S2S_* variables as the reference handler)', Fn: PrivateCloudRunFunction, props: base, set: true },
    { kind: 'gen 2 with allowPublic', Fn: PrivateCloudRunFunction, props: { ...base, allowPublic: true }, set: false },
    { kind: 'gen 2 behind IAP (the IAP header is not stripped)', Fn: PrivateCloudRunFunction, props: { name: 'fn', region: 'europe-west1', iap }, set: false },
    { kind: 'gen 1, reference handler', Fn: PrivateCloudFunction, props: { name: 'fn', region: 'europe-west1' }, set: false },
    { kind: 'gen 1, custom entry', Fn: PrivateCloudFunction, props: base, set: false },
  ])('$kind: set = $set', ({ Fn, props, set }) => {
    const stack = newStack();
    const fn = new Fn(stack, 'Fn', props);
    expect(fn.trustsCloudRunIam).toBe(set);
    if (set) expect(envOf(stack)).toHaveProperty('S2S_CLOUD_RUN_VERIFIED', 'true');
    else expect(envOf(stack)).not.toHaveProperty('S2S_CLOUD_RUN_VERIFIED');
  });

  test('users cannot set it through environment', () => {
    expect(() => new PrivateCloudFunction(newStack(), 'Fn', { ...base, environment: { S2S_CLOUD_RUN_VERIFIED: 'true' } })).toThrow(/'environment': must not set S2S_\* variables/);
  });

  test.each(['allUsers', 'allAuthenticatedUsers'])('%s added later through grantInvoke is refused, even with allowPublic on the grant', (pub) => {
    const stack = newStack();
    const fn = new PrivateCloudRunFunction(stack, 'Fn', base);
    const grant = () => fn.grantInvoke(pub, { allowPublic: true });
    expect(grant).toThrow(ValidationError);
    expect(grant).toThrow(new RegExp(`^test/Fn/Invoker-[0-9a-f]{8}: invalid prop 'member': must not be ${pub} for test/Fn: .*S2S_CLOUD_RUN_VERIFIED=true.*set allowPublic: true on the function itself`));
    expect(resources(stack, CloudRunV2ServiceIamMember.tfResourceType)).toEqual([]);
  });

  test('a separately constructed InvokerBinding with a public member is refused', () => {
    const stack = newStack();
    const fn = new PrivateCloudRunFunction(stack, 'Fn', base);
    const elsewhere = new TerraformStack(stack.node.scope as App, 'other');
    expect(() => new InvokerBinding(elsewhere, 'Public', { function: fn, member: 'allUsers', allowPublic: true })).toThrow(/^other\/Public: invalid prop 'member': must not be allUsers for test\/Fn/);
  });

  test('the same grant is fine where the variable is not set: gen 1, or gen 2 with allowPublic', () => {
    const stack = newStack();
    new PrivateCloudFunction(stack, 'One', { ...base, name: 'one' }).grantInvoke('allUsers', { allowPublic: true });
    new PrivateCloudRunFunction(stack, 'Two', { ...base, name: 'two', allowPublic: true }).grantInvoke('allAuthenticatedUsers', { allowPublic: true });
    expect(() => Testing.synth(stack, true)).not.toThrow();
  });

  describe("the provider's own Cloud Run IAM resources are checked at synth", () => {
    const synthWith = (grant: (fn: PrivateCloudRunFunction, stack: TerraformStack) => void, props: Partial<PrivateFunctionProps> = {}) => {
      const stack = newStack();
      const fn = new PrivateCloudRunFunction(stack, 'Fn', { ...base, ...props });
      grant(fn, stack);
      return () => Testing.synth(stack, true);
    };
    const refusal = /\[test\/Fn\] test\/Fn: invalid prop 'allowPublic': must be true for allUsers to invoke this function \(test\/Raw grants it\): .*S2S_CLOUD_RUN_VERIFIED=true/;

    test.each([
      ['v2 member naming fn.functionName', (fn: PrivateCloudRunFunction, s: TerraformStack) => new CloudRunV2ServiceIamMember(s, 'Raw', { name: fn.functionName, location: fn.region, role: 'roles/run.invoker', member: 'allUsers' })],
      ['v2 member naming a fresh reference to the service', (fn: PrivateCloudRunFunction, s: TerraformStack) => new CloudRunV2ServiceIamMember(s, 'Raw', { name: fn.resource.serviceConfig.service, role: 'roles/run.invoker', member: 'allUsers' })],
      ['v2 binding naming the literal name', (_fn: PrivateCloudRunFunction, s: TerraformStack) => new CloudRunV2ServiceIamBinding(s, 'Raw', { name: 'user-profiles', location: 'europe-west1', role: 'roles/run.invoker', members: ['group:a@example.com', 'allUsers'] })],
      ['v1 member', (fn: PrivateCloudRunFunction, s: TerraformStack) => new CloudRunServiceIamMember(s, 'Raw', { service: fn.resource.name, location: fn.region, role: 'roles/run.invoker', member: 'allUsers' })],
      ['v1 binding', (fn: PrivateCloudRunFunction, s: TerraformStack) => new CloudRunServiceIamBinding(s, 'Raw', { service: fn.functionName, role: 'roles/run.invoker', members: ['allUsers'] })],
    ])('%s', (_case, grant) => {
      const run = synthWith(grant);
      expect(run).toThrow(refusal);
      expect(run).toThrow(/set allowPublic: true \(its handler then verifies every signature\) or remove that grant/);
    });

    test('private grants, other services, other regions and allowPublic functions pass', () => {
      expect(synthWith((fn, s) => new CloudRunV2ServiceIamMember(s, 'Raw', { name: fn.functionName, role: 'roles/run.invoker', member: 'group:a@example.com' }))).not.toThrow();
      expect(synthWith((_fn, s) => new CloudRunV2ServiceIamMember(s, 'Raw', { name: 'another-service', role: 'roles/run.invoker', member: 'allUsers' }))).not.toThrow();
      expect(synthWith((_fn, s) => new CloudRunV2ServiceIamMember(s, 'Raw', { name: 'user-profiles', location: 'us-central1', role: 'roles/run.invoker', member: 'allUsers' }))).not.toThrow();
      expect(synthWith((fn, s) => new CloudRunV2ServiceIamMember(s, 'Raw', { name: fn.functionName, role: 'roles/run.invoker', member: 'allUsers' }), { allowPublic: true })).not.toThrow();
    });

    test('app.synth() refuses too, as cdktf synth would', () => {
      const app = Testing.app();
      const stack = new TerraformStack(app, 'test');
      new GoogleProvider(stack, 'google', { project: 'test-project', region: 'europe-west1' });
      const fn = new PrivateCloudRunFunction(stack, 'Fn', base);
      new CloudRunV2ServiceIamMember(stack, 'Raw', { name: fn.functionName, role: 'roles/run.invoker', member: 'allUsers' });
      expect(() => app.synth()).toThrow(refusal);
    });
  });
});

test('IDs derived from members and projects do not move when unrelated tokens are created first', () => {
  // A token's string carries a process-wide counter; an ID hashed from it would rename the
  // resource, and Terraform would drop the grant and create it again.
  const keysOf = (extraTokens: number) => {
    const stack = newStack();
    for (let i = 0; i < extraTokens; i++) new TerraformVariable(stack, `unrelated${i}`, { type: 'string' });
    const caller = new CallerServiceAccount(stack, 'Caller', { accountId: 'login-caller', tokenCreators: [`serviceAccount:${new TerraformVariable(stack, 'ci', { type: 'string' }).stringValue}`] });
    const fn = new PrivateCloudRunFunction(stack, 'Fn', { ...base, invokers: [caller.member], enableApis: true });
    fn.grantInvoke(caller.resource.member); // another token for the same member: the same binding
    const synth = synthJson(stack).resource;
    return [CloudRunV2ServiceIamMember, ServiceAccountIamMember, ProjectService].map((type) => Object.keys(synth[type.tfResourceType]).sort());
  };
  const before = keysOf(0);
  expect(before[0]).toHaveLength(1);
  expect(keysOf(7)).toEqual(before);
});

test('enableApis enables each API once per project, never disabling it on destroy', () => {
  const stack = newStack();
  new PrivateCloudFunction(stack, 'One', { ...base, name: 'one', enableApis: true });
  new PrivateCloudRunFunction(stack, 'Two', { ...base, name: 'two', enableApis: true });
  const services = resources(stack, ProjectService.tfResourceType);
  expect(services.map((s) => s.service).sort()).toEqual([
    'artifactregistry.googleapis.com', 'cloudbuild.googleapis.com', 'cloudfunctions.googleapis.com', 'iam.googleapis.com', 'run.googleapis.com',
  ]);
  expect(services.every((s) => s.disable_on_destroy === false)).toBe(true);
  expect(resources(stack, Cloudfunctions2Function.tfResourceType)[0].depends_on).toHaveLength(5);
});

describe('validation errors name the prop', () => {
  const cases: [string, 1 | 2, Partial<PrivateFunctionProps>, RegExp][] = [
    ['name', 1, { name: '1bad' }, /'name': must be 1-63 letters/],
    ['name', 1, { name: 'ends-' }, /'name'/],
    ['name', 2, { name: 'Upper_Case' }, /'name': must be 1-63 lowercase/],
    ['name', 2, { name: 'a'.repeat(64) }, /'name'/],
    ['region', 1, { region: 'Europe West' }, /'region': must be a Google Cloud region/],
    ['project', 1, { project: 'Bad_Project' }, /'project': must be a Google Cloud project ID/],
    ['runtime', 1, { runtime: 'python312' }, /'runtime': must be a literal Node.js runtime/],
    ['runtime', 2, { runtime: 'nodejs18' }, /'runtime': .*NN >= 20 \(older ones are decommissioned\)/],
    ['entryPoint', 1, { entry: undefined, entryPoint: 'main' }, /'entryPoint': only applies with 'entry'/],
    ['entryPoint', 1, { entryPoint: 'not valid' }, /'entryPoint': must be the name of an exported function/],
    ['memoryMiB', 1, { memoryMiB: 300 }, /'memoryMiB': must be one of 128, 256/],
    ['memoryMiB', 2, { memoryMiB: 64 }, /'memoryMiB': must be a whole number of MiB from 128 to 32768/],
    ['timeoutSeconds', 1, { timeoutSeconds: 541 }, /'timeoutSeconds': must be a whole number of seconds from 1 to 540/],
    ['timeoutSeconds', 2, { timeoutSeconds: 0 }, /'timeoutSeconds': .* 1 to 3600/],
    ['maxInstances', 2, { maxInstances: 0 }, /'maxInstances'/],
    ['ingress', 1, { ingress: 'PUBLIC' as never }, /'ingress': must be ALLOW_ALL/],
    ['labels', 2, { labels: { Team: 'x' } }, /'labels': keys must start with a lowercase letter/],
    ['labels', 2, { labels: { team: 'Has Space' } }, /'labels': value of 'team'/],
    ['labels', 1, { labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }, /'labels': must have at most 64 entries/],
    ['environment', 1, { environment: { PORT: '1' } }, /'environment': must not set a name Google Cloud Functions reserves/],
    ['environment', 1, { environment: { X_GOOGLE_FOO: '1' } }, /'environment'/],
    ['environment', 2, { environment: { S2S_AUDIENCE: 'https://elsewhere' } }, /'environment': must not set S2S_\* variables/],
    ['environment', 2, { environment: { '1BAD': 'x' } }, /'environment': names must be/],
    ['serviceAccountEmail', 1, { serviceAccountEmail: 'runner' }, /'serviceAccountEmail': must be an email/],
    ['sourceBucket', 1, { sourceBucket: 'gs://bucket' }, /'sourceBucket': must be a bucket name/],
    ['allowedCallerEmails', 1, { allowedCallerEmails: [] }, /'allowedCallerEmails': must list at least one/],
    ['allowedCallerEmails', 2, { allowedCallerEmails: ['login-caller'] }, /'allowedCallerEmails': must be an email/],
    ['allowedCallerEmails', 2, { allowedCallerEmails: ['a@example.com'], iap: { audience: '/projects/1/global/backendServices/2' } }, /'allowedCallerEmails': does not apply with iap/],
    ['iap.audience', 2, { iap: { audience: 'https://example.com' } }, /'iap\.audience': must be \/projects\/PROJECT_NUMBER/],
    // The iap handler's own rule: each of these would fail its cold start with 500 MISCONFIGURED.
    ['iap.audience', 1, { iap: { audience: '/projects/0123/apps/my-project' } }, /'iap\.audience': must be .*; here projectNumber must be the numeric project number/],
    ['iap.audience', 2, { iap: { audience: '/projects/123/global/backendServices/web-backend' } }, /'iap\.audience': must be .*; here backendServiceId must be the numeric id/],
    ['iap.healthCheckPaths', 2, { iap: { audience: '/projects/1/apps/my-project', healthCheckPaths: ['healthz'] } }, /'iap\.healthCheckPaths'/],
    ['iap.jwksUrl', 2, { iap: { audience: '/projects/1/apps/my-project', jwksUrl: 'http://insecure' } }, /'iap\.jwksUrl': must be an https URL/],
    ['invokers', 1, { invokers: ['login@example.com'] }, /'invokers': must be an IAM principal/],
    ['invokers', 1, { invokers: ['serviceAccount:not-an-email'] }, /'invokers': .*serviceAccount: takes an email/],
    ['invokers', 2, { invokers: ['domain:not a domain'] }, /'invokers': .*domain: takes a domain name/],
    ['invokers', 2, { invokers: ['principal://bad'] }, /'invokers': .*federated principals/],
    ['invokers', 2, { invokers: ['user:a@example.com', 'user:a@example.com'] }, /'invokers': must not list a member twice/],
    ['entry', 2, { entry: '/nonexistent/handler.ts' }, /'entry': must be the path of an existing handler file/],
  ];
  test.each(cases)('%s (gen %s) %j', (_prop, gen, override, message) => {
    const Fn = gen === 1 ? PrivateCloudFunction : PrivateCloudRunFunction;
    const create = () => new Fn(newStack(), 'Fn', { ...base, ...override } as PrivateFunctionProps);
    expect(create).toThrow(ValidationError);
    expect(create).toThrow(message);
    expect(create).toThrow(/^test\/Fn: invalid prop/);
  });

  test('unresolved values are left to Terraform', () => {
    const stack = newStack();
    const number = (id: string) => new TerraformVariable(stack, id, { type: 'number' }).numberValue;
    const string = (id: string) => new TerraformVariable(stack, id, { type: 'string' }).stringValue;
    const list = (id: string) => new TerraformVariable(stack, id, { type: 'list(string)' }).listValue;
    new PrivateCloudRunFunction(stack, 'Two', {
      ...base, name: string('name'), entryPoint: string('entry_point'), memoryMiB: number('memory'), timeoutSeconds: number('timeout'),
      maxInstances: number('max'), ingress: string('ingress') as never, allowedCallerEmails: list('emails'),
    });
    new PrivateCloudFunction(stack, 'One', { name: 'one', region: 'europe-west1', iap: { audience: '/projects/1/apps/my-project', healthCheckPaths: list('paths') } });
    const [two] = resources(stack, Cloudfunctions2Function.tfResourceType);
    expect(two).toMatchObject({
      name: '${var.name}',
      build_config: { entry_point: '${var.entry_point}' },
      service_config: { available_memory: '${var.memory}Mi', timeout_seconds: '${var.timeout}', max_instance_count: '${var.max}', ingress_settings: '${var.ingress}', environment_variables: { S2S_ALLOWED_EMAILS: '${join(",", var.emails)}' } },
    });
    expect(resources(stack, CloudfunctionsFunction.tfResourceType)[0]).toMatchObject({ environment_variables: { S2S_IAP_HEALTH_CHECK_PATHS: '${join(",", var.paths)}' } });
    // A service account ID cannot come from a token: it is derived from the construct path instead.
    expect(resources(stack, ServiceAccount.tfResourceType).map((a) => String(a.account_id)).sort()).toEqual([expect.stringMatching(/^fn-[0-9a-f]{12}$/), expect.stringMatching(/^fn-one-[0-9a-f]{6}$/)]);
  });

  test('members built from tokens keep their kind checked but not their value', () => {
    const stack = newStack();
    const fn = new PrivateCloudRunFunction(stack, 'Fn', base);
    expect(() => fn.grantInvoke(`serviceAccount:${fn.serviceAccountEmail}`)).not.toThrow();
    expect(() => fn.grantInvoke(`robot:${fn.serviceAccountEmail}`)).toThrow(/'member': must be an IAM principal/);
  });
});

/** Synthesizes like `cdktf synth` and returns the path of the stack's (first) uploaded archive. */
function archiveOf(stack: TerraformStack): string {
  const { dir } = fullSynth(stack);
  const [object] = resources(stack, StorageBucketObject.tfResourceType);
  return path.join(dir, String(object.source));
}

describe('the uploaded archive', () => {
  test.each(generations)('gen $gen: package.json main + the exported entry point', ({ Fn }) => {
    const stack = newStack();
    new Fn(stack, 'Fn', { ...base, runtime: 'nodejs20' });
    const zip = readZip(archiveOf(stack));
    expect(zip.names).toEqual(['index.js', 'package.json']);
    const manifest = JSON.parse(zip.read('package.json'));
    expect(manifest).toMatchObject({ main: 'index.js', engines: { node: '20.x' } });
    expect(manifest.dependencies).toBeUndefined();

    const extracted = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-gcp-zip-'));
    fs.writeFileSync(path.join(extracted, 'index.js'), zip.read('index.js'));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(path.join(extracted, manifest.main));
    expect(typeof mod.handler).toBe('function');
    const sent: unknown[] = [];
    const res = { status: (code: number) => (sent.push(code), res), json: (body: unknown) => void sent.push(body) };
    mod.handler({}, res);
    expect(sent).toEqual([200, { ok: true }]);
  });

  test('unzip -t accepts the archive', () => {
    const stack = newStack();
    new PrivateCloudFunction(stack, 'Fn', base);
    expect(execFileSync('unzip', ['-t', archiveOf(stack)], { encoding: 'utf8' })).toMatch(/No errors detected/);
  });

  test('50 functions on one entry: one archive in cdktf.out, and no process spawned to zip it', () => {
    const stack = newStack();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-gcp-entry-'));
    // Fresh content: neither this process nor an earlier run has zipped it.
    const entry = path.join(dir, 'shared.ts');
    fs.writeFileSync(entry, `export const handler = (_q: unknown, r: { send(b: string): void }) => r.send(${JSON.stringify(`${process.pid}-${Date.now()}`)});\n`);
    const other = path.join(dir, 'other.ts');
    fs.writeFileSync(other, `export const handler = (_q: unknown, r: { send(b: string): void }) => r.send(${JSON.stringify(`other-${process.pid}-${Date.now()}`)});\n`);
    // cdktf's AssetType.ARCHIVE zips with execSync('node ...'): any child process here is a regression.
    const childProcess = require('node:child_process') as Record<string, unknown>; // eslint-disable-line @typescript-eslint/no-require-imports
    const spies = ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork'].map((name) => jest.spyOn(childProcess as never, name as never));
    let synthesized: ReturnType<typeof fullSynth>;
    try {
      for (let i = 0; i < 50; i++) new PrivateCloudFunction(stack, `Fn${i}`, { ...base, name: `fn-${i}`, entry });
      new PrivateCloudRunFunction(stack, 'Other', { ...base, name: 'other', entry: other });
      synthesized = fullSynth(stack);
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    const zips = fs.readdirSync(path.join(synthesized.dir, 'assets'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.zip'));
    expect(zips).toHaveLength(2);
    const objects = resources(stack, StorageBucketObject.tfResourceType);
    expect(new Set(objects.map((o) => o.source)).size).toBe(2);
    for (const object of objects) expect(readZip(path.join(synthesized.dir, String(object.source))).names).toEqual(['index.js', 'package.json']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('identical sources give byte-identical archives and the same object name', () => {
    const a = newStack('a');
    new PrivateCloudFunction(a, 'Fn', base);
    const b = newStack('b');
    new PrivateCloudFunction(b, 'Fn', base);
    const digest = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    expect(digest(archiveOf(a))).toBe(digest(archiveOf(b)));
    expect(resources(a, StorageBucketObject.tfResourceType)[0].name).toBe(resources(b, StorageBucketObject.tfResourceType)[0].name);
  });

  test('a changed handler changes the object name, so the function redeploys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-gcp-entry-'));
    const entry = path.join(dir, 'h.ts');
    const objectName = (source: string, mtime: number) => {
      fs.writeFileSync(entry, source);
      fs.utimesSync(entry, mtime, mtime);
      const stack = newStack();
      new PrivateCloudRunFunction(stack, 'Fn', { ...base, entry });
      return String(resources(stack, StorageBucketObject.tfResourceType)[0].name);
    };
    const first = objectName('export const handler = (_q: unknown, r: { send(b: string): void }) => r.send("v1");\n', 1_000);
    const second = objectName('export const handler = (_q: unknown, r: { send(b: string): void }) => r.send("v2");\n', 2_000);
    expect(second).not.toBe(first);
    expect(objectName('export const handler = (_q: unknown, r: { send(b: string): void }) => r.send("v1");\n', 3_000)).toBe(first);
  });
});

// These need the reference handlers built by `npm run build` (scripts/build-handlers.mjs).
describe('default handlers', () => {
  const built = (name: string) => path.join(__dirname, '..', '..', 'dist', 'handlers', name, 'index.js');

  test.each(generations)('gen $gen deploys the google-id-token reference handler by default', ({ Fn }) => {
    const stack = newStack();
    new Fn(stack, 'Fn', { name: 'user-profiles', region: 'europe-west1', allowedCallerEmails: ['a@example.com'] });
    const zip = readZip(archiveOf(stack));
    expect(zip.read('index.js')).toBe(fs.readFileSync(built('google-id-token'), 'utf8'));
  });

  test('iap switches the default handler to iap and configures it', () => {
    const stack = newStack();
    const fn = new PrivateCloudRunFunction(stack, 'Fn', {
      name: 'admin', region: 'europe-west1',
      iap: { audience: '/projects/123456789/global/backendServices/987654321', healthCheckPaths: ['/healthz', '/ready'], jwksUrl: 'https://keys.example.com/iap' },
    });
    expect(resources(stack, Cloudfunctions2Function.tfResourceType)).toMatchObject([{
      service_config: {
        environment_variables: {
          S2S_IAP_AUDIENCE: '/projects/123456789/global/backendServices/987654321',
          S2S_IAP_HEALTH_CHECK_PATHS: '/healthz,/ready',
          S2S_IAP_JWKS_URL: 'https://keys.example.com/iap',
        },
      },
    }]);
    const [resource] = resources(stack, Cloudfunctions2Function.tfResourceType) as { service_config: { environment_variables: object } }[];
    expect(resource.service_config.environment_variables).not.toHaveProperty('S2S_AUDIENCE');
    expect(fn.audience).toMatch(/cloudfunctions\.net\/admin$/);
    const zip = readZip(archiveOf(stack));
    expect(zip.read('index.js')).toBe(fs.readFileSync(built('iap'), 'utf8'));
  });

  test.each([
    ['a domain-scoped App Engine project', '/projects/123456789/apps/example.com:admin-app'],
    ['IAP enabled on the Cloud Run service', '/projects/123456789/locations/europe-west1/services/admin'],
  ])('iap.audience accepts every form the iap handler accepts: %s', (_name, audience) => {
    const stack = newStack();
    new PrivateCloudRunFunction(stack, 'Fn', { name: 'admin', region: 'europe-west1', iap: { audience } });
    expect(resources(stack, Cloudfunctions2Function.tfResourceType)).toMatchObject([{ service_config: { environment_variables: { S2S_IAP_AUDIENCE: audience } } }]);
  });
});
