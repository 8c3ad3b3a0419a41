import 'cdktf/lib/testing/adapters/jest';
import { Testing } from 'cdktf';
import { CloudRunV2ServiceIamMember } from '@cdktf/provider-google/lib/cloud-run-v2-service-iam-member';
import { CloudfunctionsFunctionIamMember } from '@cdktf/provider-google/lib/cloudfunctions-function-iam-member';
import { Cloudfunctions2Function } from '@cdktf/provider-google/lib/cloudfunctions2-function';
import { EndpointsService } from '@cdktf/provider-google/lib/endpoints-service';
import { GcpExampleStack } from '../../bin/gcp-app';
import { resources } from './util';

Testing.setupJest();

const app = Testing.app();
const stack = new GcpExampleStack(app, 's2s-auth-gcp-example');
const synth = Testing.synth(stack);

test('snapshot (content hashes masked: handler changes are covered by functions.test.ts)', () => {
  expect(synth.replace(/[0-9a-f]{64}/g, '<sha256>')).toMatchSnapshot();
});

test('login may invoke user-profiles, and nothing may invoke search', () => {
  const grants = resources(stack, CloudRunV2ServiceIamMember.tfResourceType);
  const login = grants.filter((g) => String(g.member).includes('google_service_account.Login_'));
  expect(login).toEqual([expect.objectContaining({ name: expect.stringContaining('google_cloudfunctions2_function.UserProfiles_'), role: 'roles/run.invoker' })]);
  expect(synth).not.toHaveResource(CloudfunctionsFunctionIamMember);
  // IAM-checked 2nd gen: the handler trusts the token Cloud Run verified and stripped.
  const userProfiles = resources(stack, Cloudfunctions2Function.tfResourceType).find((f) => f.name === 'user-profiles') as { service_config: { environment_variables: Record<string, string> } };
  expect(userProfiles.service_config.environment_variables).toMatchObject({ S2S_CLOUD_RUN_VERIFIED: 'true', S2S_ALLOWED_EMAILS: expect.stringContaining('google_service_account.Login_') });
});

test('the Endpoints API has one security definition per caller, and deleteOrder admits billing only', () => {
  const [service] = resources(stack, EndpointsService.tfResourceType);
  const doc = JSON.parse(String(service.openapi_config));
  expect(Object.keys(doc.securityDefinitions)).toEqual(['billing_caller', 'reporting_caller']);
  expect(doc.security).toEqual([{ billing_caller: [] }, { reporting_caller: [] }]);
  expect(doc.paths['/orders/{orderId}'].delete.security).toEqual([{ billing_caller: [] }]);
  expect(doc['x-google-backend'].address).toMatch(/^\$\{google_cloudfunctions2_function\.OrdersBackend_[0-9A-F]{8}\.url\}$/);
});

test('the IAP function checks the backend service audience and admits the IAP service agent', () => {
  const admin = resources(stack, Cloudfunctions2Function.tfResourceType).find((f) => f.name === 'admin-console') as { service_config: { environment_variables: Record<string, string>; ingress_settings: string } };
  expect(admin.service_config.ingress_settings).toBe('ALLOW_INTERNAL_AND_GCLB');
  expect(admin.service_config.environment_variables).toEqual({
    S2S_IAP_AUDIENCE: expect.stringMatching(/^\/projects\/\$\{data\.google_project\.Project\.number\}\/global\/backendServices\/\$\{google_compute_backend_service\.AdminBackend\.generated_id\}$/),
    S2S_IAP_HEALTH_CHECK_PATHS: '/healthz',
  });
  expect(resources(stack, CloudRunV2ServiceIamMember.tfResourceType)).toContainEqual(expect.objectContaining({
    member: 'serviceAccount:service-${data.google_project.Project.number}@gcp-sa-iap.iam.gserviceaccount.com',
  }));
});
