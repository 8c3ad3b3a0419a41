import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { ServiceAccountKey } from '@cdktf/provider-google/lib/service-account-key';
import { CallerServiceAccount, type CallerServiceAccountProps } from '../../lib/gcp';
import { ValidationError } from '../../lib/validation';
import { newStack, synthJson } from './util';

Testing.setupJest();

test('keyless by default, with the members callers and verifiers need', () => {
  const stack = newStack();
  const caller = new CallerServiceAccount(stack, 'Login', { accountId: 'login-caller', project: 'my-project-1' });
  const synth = Testing.synth(stack);
  expect(synth).toHaveResourceWithProperties(ServiceAccount, { account_id: 'login-caller', display_name: 'login-caller', project: 'my-project-1' });
  expect(synth).not.toHaveResource(ServiceAccountKey);
  expect(synthJson(stack).output).toBeUndefined();
  expect(caller.member).toMatch(/^\$\{TfToken\[/);
  expect(caller.jwksUri).toMatch(/^https:\/\/www\.googleapis\.com\/robot\/v1\/metadata\/x509\/\$\{TfToken\[/);
  expect(caller.jwkUri).toMatch(/^https:\/\/www\.googleapis\.com\/robot\/v1\/metadata\/jwk\/\$\{TfToken\[/);
});

test('createKey exports the private key only as a sensitive output', () => {
  const stack = newStack();
  new CallerServiceAccount(stack, 'Legacy', { accountId: 'legacy-caller', createKey: true });
  const json = synthJson(stack);
  expect(Testing.synth(stack)).toHaveResource(ServiceAccountKey);
  const outputs = Object.values(json.output ?? {});
  expect(outputs).toEqual([expect.objectContaining({ sensitive: true, value: expect.stringMatching(/^\$\{google_service_account_key\.Legacy_Key_[0-9A-F]{8}\.private_key\}$/) })]);
  // Nowhere else: not in a resource, not in another output.
  expect(JSON.stringify(json.resource).match(/private_key/g)).toBeNull();
});

test('tokenCreators may impersonate the account', () => {
  const stack = newStack();
  new CallerServiceAccount(stack, 'Login', { accountId: 'login-caller', tokenCreators: ['serviceAccount:ci@other-project.iam.gserviceaccount.com', 'principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gh/attribute.repository/org/repo'] });
  const members = Object.values(synthJson(stack).resource[ServiceAccountIamMember.tfResourceType]);
  expect(members).toEqual([
    expect.objectContaining({ role: 'roles/iam.serviceAccountTokenCreator', member: 'serviceAccount:ci@other-project.iam.gserviceaccount.com', service_account_id: expect.stringMatching(/^\$\{google_service_account\.Login_[0-9A-F]{8}\.name\}$/) }),
    expect.objectContaining({ role: 'roles/iam.serviceAccountTokenCreator', member: expect.stringMatching(/^principalSet:\/\//) }),
  ]);
});

describe('validation errors name the prop', () => {
  const cases: [string, Partial<CallerServiceAccountProps>, RegExp][] = [
    ['accountId too short', { accountId: 'abc' }, /'accountId': must be 6-30 characters/],
    ['accountId too long', { accountId: 'a'.repeat(31) }, /'accountId'/],
    ['accountId uppercase', { accountId: 'Login-caller' }, /'accountId'/],
    ['accountId trailing hyphen', { accountId: 'login-caller-' }, /'accountId'/],
    ['accountId leading digit', { accountId: '1login-caller' }, /'accountId'/],
    ['public token creator', { tokenCreators: ['allUsers'] }, /'tokenCreators': must not be allUsers/],
    ['authenticated token creator', { tokenCreators: ['allAuthenticatedUsers'] }, /'tokenCreators'/],
    ['bare email token creator', { tokenCreators: ['a@example.com'] }, /'tokenCreators': must be an IAM principal/],
    ['repeated token creator', { tokenCreators: ['user:a@example.com', 'user:a@example.com'] }, /'tokenCreators': must not list a member twice/],
    ['displayName', { displayName: 'x'.repeat(101) }, /'displayName'/],
    ['description', { description: 'x'.repeat(257) }, /'description': must be at most 256 characters/],
    ['project', { project: 'p' }, /'project'/],
  ];
  test.each(cases)('%s', (_case, override, message) => {
    const create = () => new CallerServiceAccount(newStack(), 'Caller', { accountId: 'login-caller', ...override });
    expect(create).toThrow(ValidationError);
    expect(create).toThrow(message);
    expect(create).toThrow(/^test\/Caller: invalid prop/);
  });

  test('the longest and shortest valid IDs pass', () => {
    expect(() => new CallerServiceAccount(newStack(), 'A', { accountId: `a${'b'.repeat(28)}c` })).not.toThrow();
    expect(() => new CallerServiceAccount(newStack(), 'B', { accountId: 'abcdef' })).not.toThrow();
  });
});
