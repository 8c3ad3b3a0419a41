import { Construct } from 'constructs';
import { EndpointsService } from '@cdktf/provider-google/lib/endpoints-service';
import { ProjectService } from '@cdktf/provider-google/lib/project-service';
import { ValidationError } from '../validation';
import { enableServices, isEmail, isUnresolved, resolveProject } from './internal';

// Field formats follow Google's Cloud Endpoints (OpenAPI 2.0) documentation:
// - https://cloud.google.com/endpoints/docs/openapi/openapi-extensions
//   (x-google-issuer, x-google-jwks_uri, x-google-audiences as ONE comma-separated string,
//   x-google-jwt-locations as a list of {header, value_prefix} or {query}, x-google-backend)
// - https://cloud.google.com/endpoints/docs/openapi/service-account-authentication
//   (a service account issuer: iss = its email, keys at robot/v1/metadata/x509/EMAIL; the JWT's
//   aud defaults to https://SERVICE_NAME)
// - https://cloud.google.com/endpoints/docs/openapi/authenticating-users-custom
//   (any issuer with its own JWKS URI)
// - https://cloud.google.com/endpoints/docs/openapi/openapi-limitations (OR of several OAuth2
//   requirements is supported; undefined security names are NOT checked by ESP and would let
//   unauthenticated requests through, so they are synth errors here; whole-segment path templates only)

/** Where ESP looks for the JWT (`x-google-jwt-locations`). */
export type JwtLocation =
  /** A header, e.g. `{ header: 'Authorization', valuePrefix: 'Bearer ' }` (the prefix is stripped). */
  | { readonly header: string; readonly valuePrefix?: string }
  /** A query parameter, e.g. `{ query: 'access_token' }`. */
  | { readonly query: string };

/** One accepted JWT issuer, rendered as a security definition. */
export interface EndpointsIssuer {
  /** Security definition name, referenced by `security` lists. Letters, digits, `_`, `-`, `.`. */
  readonly name: string;
  /**
   * A calling service account (its email, or a {@link CallerServiceAccount}): the issuer is the
   * email and the keys are its x509 certificates. Give this or `issuer` + `jwksUri`.
   */
  readonly serviceAccount?: string | { readonly email: string };
  /** The `iss` value (URL or email) of any other issuer. */
  readonly issuer?: string;
  /** The other issuer's key set URL (https). */
  readonly jwksUri?: string;
  /** Accepted `aud` values. @default the API's `audience` (`https://SERVICE_NAME`) */
  readonly audiences?: string[];
  /** Where the token is read from. @default ESP's defaults: `Authorization: Bearer`, `x-goog-iap-jwt-assertion`, `?access_token` */
  readonly jwtLocations?: JwtLocation[];
}

/** `x-google-backend`: where ESP forwards requests, and how it authenticates to the backend. */
export interface EndpointsBackend {
  /** Backend URL, e.g. a function's `url`. */
  readonly address: string;
  /** `aud` of the ID token ESP mints for the backend. @default derived by ESP from `address` */
  readonly jwtAudience?: string;
  /** Forward the caller's Authorization header instead of minting a token. @default false */
  readonly disableAuth?: boolean;
  /** How the request path combines with `address`. @default ESP's: APPEND_PATH_TO_ADDRESS at API level, CONSTANT_ADDRESS per operation */
  readonly pathTranslation?: 'APPEND_PATH_TO_ADDRESS' | 'CONSTANT_ADDRESS';
  /** Seconds to wait for the backend. @default 15 (ESP's default) */
  readonly deadline?: number;
  /** `http/1.1` or `h2`. @default inferred by ESP from the scheme */
  readonly protocol?: 'http/1.1' | 'h2';
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** One OpenAPI operation, with the Endpoints-relevant fields typed. */
export interface EndpointsOperation {
  /** Unique operation ID (Endpoints requires one). */
  readonly operationId: string;
  readonly summary?: string;
  readonly description?: string;
  /**
   * Issuer names accepted here (any one of them). `[]` makes the operation public.
   * @default the API-level `security`
   */
  readonly security?: string[];
  /** Backend for this operation only. @default the API-level `backend` */
  readonly backend?: EndpointsBackend;
  /** OpenAPI parameters; path template parameters not listed here are added as required strings. */
  readonly parameters?: Record<string, unknown>[];
  /** OpenAPI responses. @default `{ '200': { description: 'OK' } }` */
  readonly responses?: Record<string, unknown>;
}

export interface EndpointsApiProps {
  /** The service name and `host`, e.g. `NAME.endpoints.PROJECT_ID.cloud.goog`. */
  readonly serviceName: string;
  /** Project. @default the provider's project (`google_client_config`) */
  readonly project?: string;
  /** `info.title`. @default the base document's, else required */
  readonly title?: string;
  /** `info.version`. @default the base document's, else '1.0.0' */
  readonly version?: string;
  /** A Swagger 2.0 document to extend; this construct's paths, issuers and backend are merged in. @default an empty API */
  readonly openapi?: Record<string, unknown>;
  /** Operations by path and method. @default none */
  readonly paths?: Record<string, Partial<Record<HttpMethod, EndpointsOperation>>>;
  /** API-level backend. @default none (ESP's `--backend` flag decides) */
  readonly backend?: EndpointsBackend;
  /** Accepted JWT issuers. @default none */
  readonly issuers?: EndpointsIssuer[];
  /** Issuer names required on every operation that sets no `security` (any one of them). @default all issuers, or the base document's `security` when there are none */
  readonly security?: string[];
  /** Default `aud` for issuers that list no `audiences`. @default `https://SERVICE_NAME` */
  readonly audience?: string;
  /**
   * Enable the servicemanagement, servicecontrol and endpoints APIs (never disabled on destroy),
   * and this API's own service once deployed, which ESP needs to report to Service Control
   * (`gcloud endpoints services deploy` does that for you; Terraform does not).
   * @default false: enable them elsewhere, e.g. `gcloud services enable SERVICE_NAME`
   */
  readonly enableApis?: boolean;
}

const HTTPS_URL = /^https:\/\/[^\s/?#]+(?:[/?#]\S*)?$/;
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

function fail(prop: string, rule: string, got: unknown, path?: string): never {
  throw new ValidationError(prop, rule, got, path);
}

/**
 * The `securityDefinitions` entries for `issuers`, in the format of Google's Endpoints docs,
 * for users who maintain their own OpenAPI document. Throws {@link ValidationError} on
 * duplicate names, empty audiences, malformed emails or URLs and unknown location kinds.
 *
 * @param defaultAudience written as `x-google-audiences` for issuers without `audiences`
 * (`https://SERVICE_NAME` is what ESP assumes when the field is absent)
 */
export function endpointsSecurityDefinitions(issuers: readonly EndpointsIssuer[], defaultAudience?: string, path?: string): Record<string, Record<string, unknown>> {
  const definitions: Record<string, Record<string, unknown>> = {};
  issuers.forEach((issuer, i) => {
    const at = `issuers[${i}]`;
    if (typeof issuer?.name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(issuer.name)) fail(`${at}.name`, 'must be letters, digits, underscores, hyphens or dots', issuer?.name, path);
    if (issuer.name in definitions) fail(`${at}.name`, 'must be unique among issuers', issuer.name, path);

    let iss: string;
    let jwks: string;
    if (issuer.serviceAccount !== undefined) {
      if (issuer.issuer !== undefined || issuer.jwksUri !== undefined) fail(at, 'give serviceAccount, or issuer and jwksUri, not both', issuer.name, path);
      iss = typeof issuer.serviceAccount === 'string' ? issuer.serviceAccount : issuer.serviceAccount.email;
      if (!isUnresolved(iss) && !isEmail(iss)) fail(`${at}.serviceAccount`, 'must be a service account email', iss, path);
      jwks = `https://www.googleapis.com/robot/v1/metadata/x509/${iss}`;
    } else {
      if (issuer.issuer === undefined || issuer.jwksUri === undefined) fail(at, 'needs serviceAccount, or both issuer and jwksUri', issuer.name, path);
      iss = issuer.issuer;
      jwks = issuer.jwksUri;
      if (!isUnresolved(iss) && !HTTPS_URL.test(iss) && !isEmail(iss)) fail(`${at}.issuer`, 'must be an https URL or an email', iss, path);
      if (!isUnresolved(jwks) && !HTTPS_URL.test(jwks)) fail(`${at}.jwksUri`, 'must be an https URL', jwks, path);
    }

    const audiences = issuer.audiences ?? (defaultAudience !== undefined ? [defaultAudience] : undefined);
    if (audiences !== undefined) {
      if (!Array.isArray(audiences) || audiences.length === 0) fail(`${at}.audiences`, 'must list at least one audience, or be left unset', audiences, path);
      audiences.forEach((aud, j) => {
        if (typeof aud !== 'string' || aud.trim() === '' || (!isUnresolved(aud) && /[,\s]/.test(aud))) fail(`${at}.audiences[${j}]`, 'must be a non-empty string without commas or spaces (the list is written comma-separated)', aud, path);
      });
      if (new Set(audiences).size !== audiences.length) fail(`${at}.audiences`, 'must not repeat an audience', audiences, path);
    }

    let locations: Record<string, string>[] | undefined;
    if (issuer.jwtLocations !== undefined) {
      if (!Array.isArray(issuer.jwtLocations) || issuer.jwtLocations.length === 0) fail(`${at}.jwtLocations`, 'must list at least one location, or be left unset', issuer.jwtLocations, path);
      locations = issuer.jwtLocations.map((loc, j) => jwtLocation(loc, `${at}.jwtLocations[${j}]`, path));
    }

    definitions[issuer.name] = {
      authorizationUrl: '',
      flow: 'implicit',
      type: 'oauth2',
      'x-google-issuer': iss,
      'x-google-jwks_uri': jwks,
      ...(audiences ? { 'x-google-audiences': audiences.join(',') } : {}),
      ...(locations ? { 'x-google-jwt-locations': locations } : {}),
    };
  });
  return definitions;
}

function jwtLocation(loc: JwtLocation, prop: string, path?: string): Record<string, string> {
  const keys = loc && typeof loc === 'object' ? Object.keys(loc).sort().join(',') : '';
  const l = loc as { header?: unknown; query?: unknown; valuePrefix?: unknown };
  if (keys === 'header' || keys === 'header,valuePrefix') {
    if (typeof l.header !== 'string' || !HEADER_NAME.test(l.header)) fail(`${prop}.header`, 'must be an HTTP header name', l.header, path);
    if (l.valuePrefix === undefined) return { header: l.header };
    if (typeof l.valuePrefix !== 'string' || l.valuePrefix === '') fail(`${prop}.valuePrefix`, "must be a non-empty string such as 'Bearer ' (note the space)", l.valuePrefix, path);
    return { header: l.header, value_prefix: l.valuePrefix };
  }
  if (keys === 'query') {
    if (typeof l.query !== 'string' || !/^[A-Za-z0-9._~-]+$/.test(l.query)) fail(`${prop}.query`, 'must be a query parameter name', l.query, path);
    return { query: l.query };
  }
  return fail(prop, "must be { header, valuePrefix? } or { query }: ESP's x-google-jwt-locations supports no other kind", loc, path);
}

function backendExtension(backend: EndpointsBackend, prop: string, path?: string): Record<string, unknown> {
  if (!isUnresolved(backend.address) && !/^(?:https?|grpcs?):\/\/[^\s/?#]+\S*$/.test(backend.address)) fail(`${prop}.address`, 'must be an http(s):// or grpc(s):// URL', backend.address, path);
  if (backend.jwtAudience !== undefined && backend.disableAuth) fail(`${prop}.jwtAudience`, 'cannot be set with disableAuth: true (ESP then mints no token)', backend.jwtAudience, path);
  if (backend.pathTranslation !== undefined && !['APPEND_PATH_TO_ADDRESS', 'CONSTANT_ADDRESS'].includes(backend.pathTranslation)) fail(`${prop}.pathTranslation`, 'must be APPEND_PATH_TO_ADDRESS or CONSTANT_ADDRESS', backend.pathTranslation, path);
  if (backend.deadline !== undefined && !(typeof backend.deadline === 'number' && backend.deadline > 0 && Number.isFinite(backend.deadline))) fail(`${prop}.deadline`, 'must be a positive number of seconds', backend.deadline, path);
  if (backend.protocol !== undefined && !['http/1.1', 'h2'].includes(backend.protocol)) fail(`${prop}.protocol`, "must be 'http/1.1' or 'h2'", backend.protocol, path);
  return {
    address: backend.address,
    ...(backend.jwtAudience !== undefined ? { jwt_audience: backend.jwtAudience } : {}),
    ...(backend.disableAuth ? { disable_auth: true } : {}),
    ...(backend.pathTranslation !== undefined ? { path_translation: backend.pathTranslation } : {}),
    ...(backend.deadline !== undefined ? { deadline: backend.deadline } : {}),
    ...(backend.protocol !== undefined ? { protocol: backend.protocol } : {}),
  };
}

function requirement(names: readonly string[], defined: ReadonlySet<string>, prop: string, path?: string): Record<string, string[]>[] {
  names.forEach((name, i) => {
    if (!defined.has(name)) fail(`${prop}[${i}]`, `must name a defined issuer (${[...defined].join(', ') || 'none defined'}); ESP would not reject requests for an undefined one`, name, path);
  });
  // A list of single-entry requirements is a logical OR, which ESP supports for OAuth2 schemes.
  return names.map((name) => ({ [name]: [] }));
}

/**
 * A Cloud Endpoints service (google_endpoints_service) whose OpenAPI 2.0 document is built from
 * typed props: each issuer becomes a security definition that ESP enforces before a request
 * reaches the backend.
 */
export class EndpointsApi extends Construct {
  /** The google_endpoints_service resource. */
  readonly resource: EndpointsService;
  /** The generated OpenAPI document (tokens unresolved). */
  readonly document: Record<string, unknown>;
  readonly serviceName: string;
  /** The deployed configuration ID (ESP's `--version`). */
  readonly configId: string;
  /** The `aud` accepted from issuers that list no `audiences`. */
  readonly audience: string;

  constructor(scope: Construct, id: string, props: EndpointsApiProps) {
    super(scope, id);
    const at = this.node.path;
    if (!isUnresolved(props.serviceName) && !HOSTNAME.test(props.serviceName)) fail('serviceName', 'must be a lowercase DNS name such as my-api.endpoints.PROJECT_ID.cloud.goog', props.serviceName, at);
    this.serviceName = props.serviceName;
    this.audience = props.audience ?? `https://${props.serviceName}`;
    if (props.audience !== undefined && (props.audience.trim() === '' || (!isUnresolved(props.audience) && /[,\s]/.test(props.audience)))) fail('audience', 'must be a non-empty string without commas or spaces', props.audience, at);

    const base: Record<string, unknown> = props.openapi ? structuredClone(props.openapi) : {};
    if (props.openapi && base.swagger !== '2.0') fail('openapi', "must be an OpenAPI 2.0 document (swagger: '2.0'): Endpoints accepts no other version", base.swagger ?? base.openapi, at);
    const info = { ...(base.info as Record<string, unknown> | undefined) };
    if (props.title !== undefined) info.title = props.title;
    if (props.version !== undefined) info.version = props.version;
    info.version ??= '1.0.0';
    if (typeof info.title !== 'string' || info.title.trim() === '') fail('title', 'is required (or an info.title in openapi)', props.title, at);

    const issuers = props.issuers ?? [];
    const issuerDefinitions = endpointsSecurityDefinitions(issuers, this.audience, at);
    const securityDefinitions = { ...(base.securityDefinitions as Record<string, unknown> | undefined) };
    for (const [name, definition] of Object.entries(issuerDefinitions)) {
      if (name in securityDefinitions) fail('issuers', 'must not redefine a security definition of the base openapi document', name, at);
      securityDefinitions[name] = definition;
    }
    const defined = new Set(Object.keys(securityDefinitions));

    const paths = { ...(base.paths as Record<string, Record<string, unknown>> | undefined) };
    const operationIds = new Set<string>();
    for (const item of Object.values(paths)) for (const op of Object.values(item ?? {})) if (op && typeof op === 'object' && 'operationId' in op) operationIds.add(String((op as { operationId: unknown }).operationId));
    for (const [p, methods] of Object.entries(props.paths ?? {})) {
      if (!/^\/(?:[^/{}\s]+|\{[A-Za-z_][A-Za-z0-9_.]*\})?(?:\/(?:[^/{}\s]+|\{[A-Za-z_][A-Za-z0-9_.]*\}))*$/.test(p)) fail(`paths['${p}']`, 'must start with / and use templates only as whole segments, e.g. /users/{id} (Endpoints rejects /items/prefix_{id})', p, at);
      if (p === '/') fail("paths['/']", 'ESP rejects requests on the root path; use a named path', p, at);
      const item: Record<string, unknown> = { ...paths[p] };
      for (const [method, op] of Object.entries(methods ?? {}) as [HttpMethod, EndpointsOperation][]) {
        const prop = `paths['${p}'].${method}`;
        if (!HTTP_METHODS.includes(method)) fail(prop, `must be one of ${HTTP_METHODS.join(', ')}`, method, at);
        if (method in item) fail(prop, 'is already defined by the base openapi document', method, at);
        if (typeof op.operationId !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(op.operationId)) fail(`${prop}.operationId`, 'must start with a letter and hold letters, digits, _, - or .', op.operationId, at);
        if (operationIds.has(op.operationId)) fail(`${prop}.operationId`, 'must be unique in the API', op.operationId, at);
        operationIds.add(op.operationId);
        item[method] = this.operation(p, op, prop, defined);
      }
      paths[p] = item;
    }

    const security = props.security ?? (issuers.length ? issuers.map((i) => i.name) : undefined);
    this.document = {
      ...base,
      swagger: '2.0',
      info,
      host: props.serviceName,
      ...(base.schemes ? {} : { schemes: ['https'] }),
      ...(base.produces ? {} : { produces: ['application/json'] }),
      ...(props.backend ? { 'x-google-backend': backendExtension(props.backend, 'backend', at) } : {}),
      ...(Object.keys(securityDefinitions).length ? { securityDefinitions } : {}),
      ...(security ? { security: requirement(security, defined, 'security', at) } : {}),
      paths,
    };

    const project = resolveProject(this, props.project);
    const dependsOn = props.enableApis ? enableServices(this, project, ['servicemanagement.googleapis.com', 'servicecontrol.googleapis.com', 'endpoints.googleapis.com']) : undefined;
    this.resource = new EndpointsService(this, 'Resource', {
      project,
      serviceName: props.serviceName,
      // Tokens (e.g. a function URL) inside the JSON become Terraform interpolations.
      openapiConfig: JSON.stringify(this.document, null, 2),
      dependsOn,
    });
    this.configId = this.resource.configId;
    if (props.enableApis) {
      // Referencing the resource's service_name orders this after the configuration exists.
      new ProjectService(this, 'Service', { project, service: this.resource.serviceName, disableOnDestroy: false });
    }
  }

  private operation(p: string, op: EndpointsOperation, prop: string, defined: ReadonlySet<string>): Record<string, unknown> {
    const at = this.node.path;
    const declared = new Set((op.parameters ?? []).filter((x) => x.in === 'path').map((x) => x.name));
    const templated = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    const parameters = [
      ...(op.parameters ?? []),
      ...templated.filter((name) => !declared.has(name)).map((name) => ({ name, in: 'path', required: true, type: 'string' })),
    ];
    return {
      operationId: op.operationId,
      ...(op.summary !== undefined ? { summary: op.summary } : {}),
      ...(op.description !== undefined ? { description: op.description } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(op.security !== undefined ? { security: requirement(op.security, defined, `${prop}.security`, at) } : {}),
      ...(op.backend ? { 'x-google-backend': backendExtension(op.backend, `${prop}.backend`, at) } : {}),
      responses: op.responses ?? { '200': { description: 'OK' } },
    };
  }
}
