// Example CDKTF app (cdktf.json: `node dist/bin/gcp-app.js`): the service-to-service scenarios of
// Google's Cloud Functions and Cloud Endpoints guides, with built-in defaults so that
// `cdktf synth` needs no credentials.
import { Construct } from 'constructs';
import { App, TerraformOutput, TerraformStack, Token } from 'cdktf';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { ComputeBackendService } from '@cdktf/provider-google/lib/compute-backend-service';
import { ComputeRegionNetworkEndpointGroup } from '@cdktf/provider-google/lib/compute-region-network-endpoint-group';
import { CallerServiceAccount, EndpointsApi, PrivateCloudFunction, PrivateCloudRunFunction } from '../lib/gcp';

export interface GcpExampleStackProps {
  /** @default 's2s-auth-example' */
  readonly project?: string;
  /** @default 'europe-west1' */
  readonly region?: string;
}

export class GcpExampleStack extends TerraformStack {
  constructor(scope: Construct, id: string, props: GcpExampleStackProps = {}) {
    super(scope, id);
    const project = props.project ?? 's2s-auth-example';
    const region = props.region ?? 'europe-west1';
    // The constructs take their project from this provider (google_client_config).
    new GoogleProvider(this, 'google', { project, region });

    // 1. Function to function: `login` may call `user-profiles`, but not `search`.
    const login = new CallerServiceAccount(this, 'Login', { accountId: 'login-caller', displayName: 'login function', enableApis: true });
    const userProfiles = new PrivateCloudRunFunction(this, 'UserProfiles', {
      name: 'user-profiles',
      region,
      invokers: [login.member],
      allowedCallerEmails: [login.email],
      maxInstances: 10,
      labels: { app: 's2s-auth-example' },
      enableApis: true,
    });
    const search = new PrivateCloudFunction(this, 'Search', {
      name: 'search',
      region,
      maxInstances: 10,
      labels: { app: 's2s-auth-example' },
      enableApis: true,
    });

    // 2. Endpoints: two callers sign JWTs as themselves; each has its own security definition.
    const billing = new CallerServiceAccount(this, 'Billing', { accountId: 'billing-caller' });
    const reporting = new CallerServiceAccount(this, 'Reporting', { accountId: 'reporting-caller' });
    const gateway = new CallerServiceAccount(this, 'Gateway', { accountId: 'esp-gateway', description: 'Runs ESPv2; the only invoker of orders-backend' });
    const backend = new PrivateCloudRunFunction(this, 'OrdersBackend', { name: 'orders-backend', region, invokers: [gateway.member] });
    const api = new EndpointsApi(this, 'OrdersApi', {
      serviceName: `orders.endpoints.${project}.cloud.goog`,
      title: 'Orders',
      backend: { address: backend.url, jwtAudience: backend.audience, pathTranslation: 'APPEND_PATH_TO_ADDRESS', deadline: 10 },
      issuers: [
        { name: 'billing_caller', serviceAccount: billing },
        { name: 'reporting_caller', serviceAccount: reporting, jwtLocations: [{ header: 'Authorization', valuePrefix: 'Bearer ' }] },
      ],
      paths: {
        '/orders': { get: { operationId: 'listOrders', summary: 'Either caller' } },
        '/orders/{orderId}': { delete: { operationId: 'deleteOrder', summary: 'Billing only', security: ['billing_caller'] } },
      },
      enableApis: true,
    });

    // 3. Behind IAP: a serverless NEG and an IAP-enabled backend service in front of the
    // function (attach the backend service to your HTTPS load balancer's URL map). The function
    // checks IAP's signed header for this backend service's audience.
    const projectInfo = new DataGoogleProject(this, 'Project', { projectId: project });
    const adminName = 'admin-console';
    const neg = new ComputeRegionNetworkEndpointGroup(this, 'AdminNeg', {
      name: 'admin-console-neg',
      region,
      networkEndpointType: 'SERVERLESS',
      cloudFunction: { function: adminName },
    });
    const adminBackend = new ComputeBackendService(this, 'AdminBackend', {
      name: 'admin-console-backend',
      loadBalancingScheme: 'EXTERNAL_MANAGED',
      protocol: 'HTTPS',
      backend: [{ group: neg.id }],
      iap: { enabled: true },
    });
    const admin = new PrivateCloudRunFunction(this, 'AdminConsole', {
      name: adminName,
      region,
      ingress: 'ALLOW_INTERNAL_AND_GCLB',
      iap: {
        audience: `/projects/${projectInfo.number}/global/backendServices/${Token.asString(adminBackend.generatedId)}`,
        healthCheckPaths: ['/healthz'],
      },
      // IAP calls the Cloud Run service as its service agent.
      invokers: [`serviceAccount:service-${projectInfo.number}@gcp-sa-iap.iam.gserviceaccount.com`],
    });

    new TerraformOutput(this, 'UserProfilesAudience', { value: userProfiles.audience });
    new TerraformOutput(this, 'SearchUrl', { value: search.url });
    new TerraformOutput(this, 'OrdersApiConfigId', { value: api.configId });
    new TerraformOutput(this, 'AdminConsoleUrl', { value: admin.url });
  }
}

if (require.main === module) {
  const app = new App();
  new GcpExampleStack(app, 's2s-auth-gcp-example');
  app.synth();
}
