import 'cdktf/lib/testing/adapters/jest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { Testing } from 'cdktf';
import { EndpointsService } from '@cdktf/provider-google/lib/endpoints-service';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { CallerServiceAccount, EndpointsApi, endpointsSecurityDefinitions, type EndpointsApiProps, type EndpointsIssuer } from '../../lib/gcp';
import { ValidationError } from '../../lib/validation';
import { newStack, resources } from './util';

Testing.setupJest();

/** @apidevtools/swagger-parser's verdict; it has ESM-only dependencies, so it runs in a child node. */
function swaggerValidate(doc: unknown): { ok: boolean; message: string } {
  const run = spawnSync(process.execPath, [path.join(__dirname, 'fixtures', 'validate-openapi.mjs')], { input: JSON.stringify(doc), encoding: 'utf8' });
  return { ok: run.status === 0, message: `${run.stdout}${run.stderr}`.trim() };
}

const SERVICE = 'orders.endpoints.test-project.cloud.goog';
const BILLING = 'billing-caller@test-project.iam.gserviceaccount.com';
const REPORTING = 'reporting-caller@test-project.iam.gserviceaccount.com';
const props: EndpointsApiProps = {
  serviceName: SERVICE,
  title: 'Orders',
  backend: { address: 'https://europe-west1-test-project.cloudfunctions.net/orders', jwtAudience: 'https://europe-west1-test-project.cloudfunctions.net/orders', pathTranslation: 'APPEND_PATH_TO_ADDRESS', deadline: 10 },
  issuers: [
    { name: 'billing', serviceAccount: BILLING },
    { name: 'reporting', serviceAccount: REPORTING, audiences: ['https://orders.example.com', 'orders-api'], jwtLocations: [{ header: 'Authorization', valuePrefix: 'Bearer ' }, { query: 'jwt' }] },
    { name: 'auth0', issuer: 'https://tenant.auth0.com/', jwksUri: 'https://tenant.auth0.com/.well-known/jwks.json', jwtLocations: [{ header: 'X-Token' }] },
  ],
  paths: {
    '/orders': { get: { operationId: 'listOrders' }, post: { operationId: 'createOrder', security: ['billing'] } },
    '/orders/{orderId}': { delete: { operationId: 'deleteOrder', security: ['billing'], backend: { address: 'https://admin.example.com/delete', pathTranslation: 'CONSTANT_ADDRESS' } } },
    '/healthz': { get: { operationId: 'health', security: [] } },
  },
};

describe('generated OpenAPI document', () => {
  const stack = newStack();
  const api = new EndpointsApi(stack, 'Api', props);
  const doc = api.document as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

  test('is a valid OpenAPI 2.0 document', () => {
    expect(swaggerValidate(doc)).toEqual({ ok: true, message: 'valid' });
    // The validator does reject: without the declared path parameter the document is invalid.
    const broken = structuredClone(doc);
    delete broken.paths['/orders/{orderId}'].delete.parameters;
    expect(swaggerValidate(broken)).toEqual({ ok: false, message: expect.stringMatching(/orderId/) });
  });

  test('the resource carries the same document, as JSON', () => {
    const [service] = resources(stack, EndpointsService.tfResourceType);
    expect(service.service_name).toBe(SERVICE);
    expect(JSON.parse(String(service.openapi_config))).toEqual(doc);
    expect(api.audience).toBe(`https://${SERVICE}`);
  });

  // Formats from https://cloud.google.com/endpoints/docs/openapi/service-account-authentication
  // and https://cloud.google.com/endpoints/docs/openapi/openapi-extensions.
  test('a service account issuer: iss = email, x509 key URL, audience defaulting to https://SERVICE_NAME', () => {
    expect(doc.securityDefinitions.billing).toEqual({
      authorizationUrl: '',
      flow: 'implicit',
      type: 'oauth2',
      'x-google-issuer': BILLING,
      'x-google-jwks_uri': `https://www.googleapis.com/robot/v1/metadata/x509/${BILLING}`,
      'x-google-audiences': `https://${SERVICE}`,
    });
  });

  test('x-google-audiences is ONE comma-separated string; jwt locations use header/value_prefix and query', () => {
    const reporting = doc.securityDefinitions.reporting;
    expect(reporting['x-google-audiences']).toBe('https://orders.example.com,orders-api');
    expect(typeof reporting['x-google-audiences']).toBe('string');
    expect(reporting['x-google-jwt-locations']).toEqual([{ header: 'Authorization', value_prefix: 'Bearer ' }, { query: 'jwt' }]);
    expect(doc.securityDefinitions.auth0).toMatchObject({
      'x-google-issuer': 'https://tenant.auth0.com/',
      'x-google-jwks_uri': 'https://tenant.auth0.com/.well-known/jwks.json',
      'x-google-jwt-locations': [{ header: 'X-Token' }],
    });
  });

  test('API-level security is an OR over every issuer; operations narrow it or open it explicitly', () => {
    expect(doc.security).toEqual([{ billing: [] }, { reporting: [] }, { auth0: [] }]);
    expect(doc.paths['/orders'].get.security).toBeUndefined();
    expect(doc.paths['/orders'].post.security).toEqual([{ billing: [] }]);
    expect(doc.paths['/healthz'].get.security).toEqual([]);
  });

  test('x-google-backend at API and operation level, in the extension\'s snake_case', () => {
    expect(doc['x-google-backend']).toEqual({
      address: 'https://europe-west1-test-project.cloudfunctions.net/orders',
      jwt_audience: 'https://europe-west1-test-project.cloudfunctions.net/orders',
      path_translation: 'APPEND_PATH_TO_ADDRESS',
      deadline: 10,
    });
    expect(doc.paths['/orders/{orderId}'].delete['x-google-backend']).toEqual({ address: 'https://admin.example.com/delete', path_translation: 'CONSTANT_ADDRESS' });
  });

  test('path template parameters are declared', () => {
    expect(doc.paths['/orders/{orderId}'].delete.parameters).toEqual([{ name: 'orderId', in: 'path', required: true, type: 'string' }]);
  });
});

test('CallerServiceAccount issuers: token emails land in the document as Terraform references', () => {
  const stack = newStack();
  const caller = new CallerServiceAccount(stack, 'Caller', { accountId: 'login-caller' });
  new EndpointsApi(stack, 'Api', { serviceName: SERVICE, title: 'T', issuers: [{ name: 'login', serviceAccount: caller }], enableApis: true });
  const [service] = resources(stack, EndpointsService.tfResourceType);
  const doc = JSON.parse(String(service.openapi_config));
  expect(doc.securityDefinitions.login['x-google-issuer']).toMatch(/^\$\{google_service_account\.Caller_[0-9A-F]{8}\.email\}$/);
  expect(doc.securityDefinitions.login['x-google-jwks_uri']).toMatch(/^https:\/\/www\.googleapis\.com\/robot\/v1\/metadata\/x509\/\$\{google_service_account\.Caller_[0-9A-F]{8}\.email\}$/);
  // The three Google APIs, and the API's own service once its configuration exists.
  expect(resources(stack, ProjectService.tfResourceType).map((s) => s.service).sort()).toEqual([
    expect.stringMatching(/^\$\{google_endpoints_service\.Api_[0-9A-F]{8}\.service_name\}$/), 'endpoints.googleapis.com', 'servicecontrol.googleapis.com', 'servicemanagement.googleapis.com',
  ]);
  expect(resources(stack, ProjectService.tfResourceType).every((s) => s.disable_on_destroy === false)).toBe(true);
});

test('a base document is extended, not replaced', () => {
  const stack = newStack();
  const base = {
    swagger: '2.0',
    info: { title: 'Legacy', version: '2.1.0' },
    host: 'ignored.example.com',
    securityDefinitions: { api_key: { type: 'apiKey', name: 'key', in: 'query' } },
    paths: { '/legacy': { get: { operationId: 'legacy', security: [{ api_key: [] }], responses: { '200': { description: 'OK' } } } } },
  };
  const api = new EndpointsApi(stack, 'Api', { serviceName: SERVICE, openapi: base, issuers: [{ name: 'billing', serviceAccount: BILLING }], paths: { '/legacy': { post: { operationId: 'legacyPost' } } } });
  const doc = api.document as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  expect(swaggerValidate(doc)).toEqual({ ok: true, message: 'valid' });
  expect(doc.info).toEqual({ title: 'Legacy', version: '2.1.0' });
  expect(doc.host).toBe(SERVICE);
  expect(Object.keys(doc.securityDefinitions)).toEqual(['api_key', 'billing']);
  expect(Object.keys(doc.paths['/legacy'])).toEqual(['get', 'post']);
  expect(base.host).toBe('ignored.example.com'); // the caller's object is not mutated
});

describe('endpointsSecurityDefinitions (pure)', () => {
  test('renders the documented format', () => {
    expect(endpointsSecurityDefinitions([{ name: 'a', serviceAccount: BILLING }])).toEqual({
      a: { authorizationUrl: '', flow: 'implicit', type: 'oauth2', 'x-google-issuer': BILLING, 'x-google-jwks_uri': `https://www.googleapis.com/robot/v1/metadata/x509/${BILLING}` },
    });
  });

  const bad: [string, EndpointsIssuer[], RegExp][] = [
    ['duplicate names', [{ name: 'a', serviceAccount: BILLING }, { name: 'a', serviceAccount: REPORTING }], /'issuers\[1\]\.name': must be unique/],
    ['bad name', [{ name: 'has space', serviceAccount: BILLING }], /'issuers\[0\]\.name'/],
    ['empty audiences', [{ name: 'a', serviceAccount: BILLING, audiences: [] }], /'issuers\[0\]\.audiences': must list at least one audience/],
    ['blank audience', [{ name: 'a', serviceAccount: BILLING, audiences: [' '] }], /'issuers\[0\]\.audiences\[0\]'/],
    ['comma in audience', [{ name: 'a', serviceAccount: BILLING, audiences: ['a,b'] }], /'issuers\[0\]\.audiences\[0\]': .*without commas/],
    ['repeated audience', [{ name: 'a', serviceAccount: BILLING, audiences: ['x', 'x'] }], /'issuers\[0\]\.audiences': must not repeat/],
    ['malformed email', [{ name: 'a', serviceAccount: 'billing-caller' }], /'issuers\[0\]\.serviceAccount': must be a service account email/],
    ['malformed issuer', [{ name: 'a', issuer: 'tenant.auth0.com', jwksUri: 'https://tenant.auth0.com/jwks' }], /'issuers\[0\]\.issuer': must be an https URL or an email/],
    ['http jwks', [{ name: 'a', issuer: 'https://tenant.auth0.com/', jwksUri: 'http://tenant.auth0.com/jwks' }], /'issuers\[0\]\.jwksUri': must be an https URL/],
    ['both kinds', [{ name: 'a', serviceAccount: BILLING, issuer: 'https://x.example.com' }], /'issuers\[0\]': give serviceAccount, or issuer and jwksUri, not both/],
    ['neither kind', [{ name: 'a', issuer: 'https://x.example.com' }], /'issuers\[0\]': needs serviceAccount, or both issuer and jwksUri/],
    ['unknown location kind', [{ name: 'a', serviceAccount: BILLING, jwtLocations: [{ cookie: 'jwt' } as never] }], /'issuers\[0\]\.jwtLocations\[0\]': must be \{ header, valuePrefix\? \} or \{ query \}/],
    ['header and query at once', [{ name: 'a', serviceAccount: BILLING, jwtLocations: [{ header: 'X', query: 'q' } as never] }], /'issuers\[0\]\.jwtLocations\[0\]'/],
    ['bad header name', [{ name: 'a', serviceAccount: BILLING, jwtLocations: [{ header: 'Bad Header' }] }], /'issuers\[0\]\.jwtLocations\[0\]\.header'/],
    ['empty prefix', [{ name: 'a', serviceAccount: BILLING, jwtLocations: [{ header: 'Authorization', valuePrefix: '' }] }], /'issuers\[0\]\.jwtLocations\[0\]\.valuePrefix'/],
    ['empty locations', [{ name: 'a', serviceAccount: BILLING, jwtLocations: [] }], /'issuers\[0\]\.jwtLocations': must list at least one/],
  ];
  test.each(bad)('%s is a ValidationError naming the field', (_case, issuers, message) => {
    expect(() => endpointsSecurityDefinitions(issuers)).toThrow(ValidationError);
    expect(() => endpointsSecurityDefinitions(issuers)).toThrow(message);
  });
});

describe('EndpointsApi validation errors name the prop', () => {
  const cases: [string, Partial<EndpointsApiProps>, RegExp][] = [
    ['serviceName', { serviceName: 'https://orders.example.com' }, /'serviceName': must be a lowercase DNS name/],
    ['title', { title: undefined }, /'title': is required/],
    ['openapi', { openapi: { openapi: '3.0.0' } }, /'openapi': must be an OpenAPI 2\.0 document/],
    ['audience', { audience: 'a,b' }, /'audience'/],
    ['security', { security: ['nobody'] }, /'security\[0\]': must name a defined issuer .*ESP would not reject/],
    ['operation security', { paths: { '/x': { get: { operationId: 'x', security: ['typo'] } } } }, /'paths\['\/x'\]\.get\.security\[0\]': must name a defined issuer/],
    ['partial template', { paths: { '/items/prefix_{id}': { get: { operationId: 'x' } } } }, /'paths\['\/items\/prefix_\{id\}'\]': .*whole segments/],
    ['root path', { paths: { '/': { get: { operationId: 'x' } } } }, /'paths\['\/'\]': ESP rejects requests on the root path/],
    ['operationId', { paths: { '/x': { get: { operationId: '' } } } }, /'paths\['\/x'\]\.get\.operationId'/],
    ['duplicate operationId', { paths: { '/x': { get: { operationId: 'same' } }, '/y': { get: { operationId: 'same' } } } }, /'paths\['\/y'\]\.get\.operationId': must be unique/],
    ['method', { paths: { '/x': { fetch: { operationId: 'x' } } as never } }, /'paths\['\/x'\]\.fetch': must be one of get/],
    ['backend.address', { backend: { address: 'orders.example.com' } }, /'backend\.address': must be an http\(s\):\/\/ or grpc\(s\):\/\/ URL/],
    ['backend.jwtAudience', { backend: { address: 'https://x.example.com', jwtAudience: 'a', disableAuth: true } }, /'backend\.jwtAudience': cannot be set with disableAuth/],
    ['backend.pathTranslation', { backend: { address: 'https://x.example.com', pathTranslation: 'APPEND' as never } }, /'backend\.pathTranslation'/],
    ['backend.deadline', { backend: { address: 'https://x.example.com', deadline: 0 } }, /'backend\.deadline': must be a positive number/],
    ['backend.protocol', { backend: { address: 'https://x.example.com', protocol: 'h3' as never } }, /'backend\.protocol'/],
    ['method colliding with base', { openapi: { swagger: '2.0', info: { title: 'x', version: '1' }, paths: { '/x': { get: { operationId: 'old', responses: {} } } } }, paths: { '/x': { get: { operationId: 'x' } } } }, /'paths\['\/x'\]\.get': is already defined by the base openapi document/],
    ['issuer colliding with base', { openapi: { swagger: '2.0', info: { title: 'x', version: '1' }, paths: {}, securityDefinitions: { billing: {} } } }, /'issuers': must not redefine/],
    ['project', { project: 'X' }, /'project': must be a Google Cloud project ID/],
  ];
  test.each(cases)('%s', (_prop, override, message) => {
    const create = () => new EndpointsApi(newStack(), 'Api', { ...props, ...override });
    expect(create).toThrow(ValidationError);
    expect(create).toThrow(message);
    expect(create).toThrow(/^test\/Api: invalid prop/);
  });
});
