import { AuthError } from './errors';
import { assertKeyUrl } from './key-set';
import {
  algCheck, audienceCheck, claimsCheck, critCheck, expCheck, iatCheck, issuerCheck, JwtVerifier, keyCheck, lifetimeCheck, nbfCheck,
  optionalString, signatureCheck, stringClaim,
  type Check, type JwtContext, type JwtVerifierOptions, type RequestHeaders,
} from './jwt';
import { isGoogleCloudRegion, isObject, show, stringList } from './util';

/** IAP's issuer, per "Securing your app with signed headers". */
export const IAP_ISSUER = 'https://cloud.google.com/iap';
/** IAP's public keys as a JWK set. */
export const IAP_JWKS_URL = 'https://www.gstatic.com/iap/verify/public_key-jwk';
/** The header IAP puts its signed assertion in (the only one trusted; `x-goog-authenticated-user-*` can be forged). */
export const IAP_HEADER = 'x-goog-iap-jwt-assertion';
/** IAP assertions live 10 minutes. */
const IAP_MAX_LIFETIME_SEC = 600;

export interface IapVerifierOptions extends JwtVerifierOptions {
  /**
   * The signed-header audience: `/projects/PROJECT_NUMBER/apps/PROJECT_ID` (App Engine),
   * `/projects/PROJECT_NUMBER/global/backendServices/SERVICE_ID` (load balancer) or
   * `/projects/PROJECT_NUMBER/locations/REGION/services/SERVICE_NAME` (IAP enabled on a Cloud
   * Run service); see {@link iapAudienceForAppEngine}, {@link iapAudienceForBackendService}
   * and {@link iapAudienceForCloudRun}.
   */
  readonly audience: string;
  /** Paths the `(req, res)` adapter answers 200 without a token (health checks carry none). @default none */
  readonly healthCheckPaths?: readonly string[];
  /** Where IAP publishes its keys. @default https://www.gstatic.com/iap/verify/public_key-jwk */
  readonly jwksUrl?: string;
}

/** An Identity Platform (external identities) user, from the `gcip` claim. */
export interface GcipClaims {
  /** The Identity Platform user id. */
  readonly sub?: string;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly name?: string;
  readonly picture?: string;
  /** Seconds since the epoch of the user's sign-in. */
  readonly authTime?: number;
  /** `firebase.sign_in_provider`, e.g. `password`, `google.com`, `saml.my-provider`. */
  readonly signInProvider?: string;
  /** `firebase.tenant`, the Identity Platform tenant id (multi-tenant projects). */
  readonly tenant?: string;
  /** `firebase.identities`: provider id → the user's identifiers there. */
  readonly identities?: Readonly<Record<string, readonly string[]>>;
  /** `firebase.sign_in_attributes`: attributes from the SAML/OIDC provider. */
  readonly signInAttributes?: Readonly<Record<string, unknown>>;
}

export interface IapClaims {
  /** `accounts.google.com:NUMERIC_ID`, or `securetoken.google.com/PROJECT/TENANT:UID` for external identities. */
  readonly sub: string;
  readonly email: string;
  /** Google Workspace / Cloud Identity domain, when the user has one. */
  readonly hd?: string;
  /** `google.access_levels`: the Access Context Manager levels the request satisfied. */
  readonly accessLevels: readonly string[];
  /** External identities only. */
  readonly gcip?: GcipClaims;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  /** The whole verified payload, for claims not modelled above. */
  readonly payload: Readonly<Record<string, unknown>>;
}

/**
 * Verifies IAP's signed header (`x-goog-iap-jwt-assertion`): ES256 only, a `kid` from IAP's
 * JWK set, `iss` https://cloud.google.com/iap, the configured `aud`, `exp`/`iat` within the
 * tolerance and a lifetime of at most 10 minutes plus twice the tolerance.
 */
export class IapVerifier extends JwtVerifier<IapClaims> {
  readonly audience: string;
  readonly jwksUrl: string;
  private readonly healthCheckPaths: ReadonlySet<string>;
  protected readonly checks: readonly Check[];

  constructor(options: IapVerifierOptions) {
    super('IapVerifier', options);
    try {
      this.audience = checkIapAudience(options?.audience);
    } catch (err) {
      throw new TypeError(`IapVerifier: audience ${(err as Error).message} (got ${show(options?.audience)})`);
    }
    this.jwksUrl = options.jwksUrl ?? IAP_JWKS_URL;
    assertKeyUrl(this.jwksUrl, 'IapVerifier: jwksUrl');
    const paths = options.healthCheckPaths === undefined ? [] : stringList(options.healthCheckPaths, 'IapVerifier: healthCheckPaths');
    for (const path of paths) {
      if (!path.startsWith('/')) throw new TypeError(`IapVerifier: healthCheckPaths entries must start with "/" (got ${show(path)})`);
    }
    this.healthCheckPaths = new Set(paths);
    const audiences = [this.audience];
    this.checks = [
      algCheck(['ES256']),
      critCheck,
      keyCheck(this.keySetCache, () => this.jwksUrl),
      signatureCheck,
      issuerCheck([IAP_ISSUER]),
      audienceCheck(() => audiences),
      expCheck(this.skew),
      iatCheck(this.skew),
      nbfCheck(this.skew),
      lifetimeCheck(IAP_MAX_LIFETIME_SEC, this.skew),
      claimsCheck(iapClaims, 'sub and email strings; optional hd, google.access_levels, gcip'),
    ];
  }

  tokenFrom(headers: RequestHeaders): string {
    const value = headers[IAP_HEADER];
    if (typeof value !== 'string' || value === '') {
      throw new AuthError('MISSING_TOKEN', `the request has no ${IAP_HEADER} header; it must come through Identity-Aware Proxy`);
    }
    return value;
  }

  isHealthCheck(path: string): boolean {
    return this.healthCheckPaths.has(path);
  }
}

function iapClaims(payload: Readonly<Record<string, unknown>>, ctx: JwtContext): IapClaims {
  const google = payload.google;
  if (google !== undefined && !isObject(google)) throw new AuthError('INVALID_CLAIM', `claim "google" must be an object (got ${show(google)})`);
  return Object.freeze({
    sub: stringClaim(payload, 'sub'),
    email: stringClaim(payload, 'email'),
    hd: optionalString(payload, 'hd'),
    accessLevels: Object.freeze(stringArray(google?.access_levels, 'google.access_levels') ?? []),
    gcip: payload.gcip === undefined ? undefined : gcipClaims(payload.gcip),
    aud: ctx.audience!,
    iat: payload.iat as number,
    exp: payload.exp as number,
    payload: Object.freeze(payload),
  });
}

function gcipClaims(gcip: unknown): GcipClaims {
  if (!isObject(gcip)) throw new AuthError('INVALID_CLAIM', `claim "gcip" must be an object (got ${show(gcip)})`);
  const firebase = gcip.firebase;
  if (firebase !== undefined && !isObject(firebase)) throw new AuthError('INVALID_CLAIM', `claim "gcip.firebase" must be an object (got ${show(firebase)})`);
  const identities = firebase?.identities;
  if (identities !== undefined && !(isObject(identities) && Object.entries(identities).every(([k, v]) => stringArray(v, `gcip.firebase.identities.${k}`)))) {
    throw new AuthError('INVALID_CLAIM', 'claim "gcip.firebase.identities" must map provider ids to lists of strings');
  }
  const attributes = firebase?.sign_in_attributes;
  if (attributes !== undefined && !isObject(attributes)) throw new AuthError('INVALID_CLAIM', 'claim "gcip.firebase.sign_in_attributes" must be an object');
  const emailVerified = gcip.email_verified;
  if (emailVerified !== undefined && typeof emailVerified !== 'boolean') throw new AuthError('INVALID_CLAIM', 'claim "gcip.email_verified" must be a boolean');
  const authTime = gcip.auth_time;
  if (authTime !== undefined && typeof authTime !== 'number') throw new AuthError('INVALID_CLAIM', 'claim "gcip.auth_time" must be a number');
  return Object.freeze({
    sub: optionalString(gcip, 'sub'),
    email: optionalString(gcip, 'email'),
    emailVerified,
    name: optionalString(gcip, 'name'),
    picture: optionalString(gcip, 'picture'),
    authTime,
    signInProvider: firebase && optionalString(firebase, 'sign_in_provider'),
    tenant: firebase && optionalString(firebase, 'tenant'),
    identities: identities as GcipClaims['identities'],
    signInAttributes: attributes,
  });
}

function stringArray(value: unknown, name: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new AuthError('INVALID_CLAIM', `claim "${name}" must be a list of strings (got ${show(value)})`);
  return value;
}

/** The audiences IAP signs, as {@link checkIapAudience}'s errors list them. */
export const IAP_AUDIENCE_FORMS = '/projects/PROJECT_NUMBER/apps/PROJECT_ID, /projects/PROJECT_NUMBER/global/backendServices/SERVICE_ID or /projects/PROJECT_NUMBER/locations/REGION/services/SERVICE_NAME';

/**
 * Returns `value` when it is an audience IAP signs (App Engine, a load-balancer backend
 * service, or a Cloud Run service with IAP enabled on it), each part checked by the builder of
 * its form; throws a TypeError with the rule, and the part at fault when the form matched,
 * otherwise. The `iap` handler checks its configuration with it at cold start and the GCP
 * constructs their `iap.audience` prop at synth, so a value one accepts the other accepts too.
 */
export function checkIapAudience(value: string): string {
  const match = typeof value === 'string' ? /^\/projects\/([^/]*)\/(?:apps\/([^/]*)|global\/backendServices\/([^/]*)|locations\/([^/]*)\/services\/([^/]*))$/.exec(value) : null;
  if (!match) throw new TypeError(`must be ${IAP_AUDIENCE_FORMS}`);
  const [, projectNumber, appId, backendServiceId, region, serviceName] = match;
  try {
    if (appId !== undefined) return iapAudienceForAppEngine(projectNumber, appId);
    if (backendServiceId !== undefined) return iapAudienceForBackendService(projectNumber, backendServiceId);
    return iapAudienceForCloudRun(projectNumber, region, serviceName);
  } catch (err) {
    throw new TypeError(`must be ${IAP_AUDIENCE_FORMS}; here ${(err as Error).message}`);
  }
}

/** `/projects/PROJECT_NUMBER/apps/PROJECT_ID`: the IAP audience of an App Engine app. */
export function iapAudienceForAppEngine(projectNumber: string | number, projectId: string): string {
  return `/projects/${checkProjectNumber(projectNumber)}/apps/${checkProjectId(projectId)}`;
}

/** `/projects/PROJECT_NUMBER/global/backendServices/SERVICE_ID`: the IAP audience of a load-balancer backend service (numeric id). */
export function iapAudienceForBackendService(projectNumber: string | number, backendServiceId: string | number): string {
  const id = String(backendServiceId);
  if (!/^\d{1,20}$/.test(id)) throw new TypeError(`backendServiceId must be the numeric id of the backend service, not its name (got ${show(backendServiceId)}); see 'gcloud compute backend-services describe NAME --global --format="value(id)"'`);
  return `/projects/${checkProjectNumber(projectNumber)}/global/backendServices/${id}`;
}

/**
 * `/projects/PROJECT_NUMBER/locations/REGION/services/SERVICE_NAME`: the IAP audience of a
 * Cloud Run service (a 2nd gen function included) with IAP enabled on the service itself.
 */
export function iapAudienceForCloudRun(projectNumber: string | number, region: string, serviceName: string): string {
  if (!isGoogleCloudRegion(region)) throw new TypeError(`region must be a Google Cloud region such as "europe-west1" (got ${show(region)})`);
  // Cloud Run's rule: at most 49 lower-case letters, digits and hyphens, from a letter, not ending in a hyphen.
  if (typeof serviceName !== 'string' || !/^[a-z](?:[-a-z0-9]{0,47}[a-z0-9])?$/.test(serviceName)) throw new TypeError(`serviceName must be a Cloud Run service name such as "orders" (got ${show(serviceName)})`);
  return `/projects/${checkProjectNumber(projectNumber)}/locations/${region}/services/${serviceName}`;
}

function checkProjectNumber(projectNumber: string | number): string {
  const value = String(projectNumber);
  if (!/^[1-9]\d{0,19}$/.test(value)) throw new TypeError(`projectNumber must be the numeric project number, not the project id (got ${show(projectNumber)})`);
  return value;
}

function checkProjectId(projectId: string): string {
  // 6-30 characters, lower-case letters, digits and hyphens, optionally domain-scoped (example.com:my-project).
  if (typeof projectId !== 'string' || !/^(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(projectId)) {
    throw new TypeError(`projectId must be a Google Cloud project id such as "my-project-123" (got ${show(projectId)})`);
  }
  return projectId;
}
