import { Construct } from 'constructs';
import { TerraformOutput } from 'cdktf';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { ServiceAccountKey } from '@cdktf/provider-google/lib/service-account-key';
import { check, enableServices, forEachUniqueMember, isUnresolved, resolveProject, shortHash } from './internal';

export interface CallerServiceAccountProps {
  /** The account ID, the part of the email before `@`: 6-30 characters, `^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$`. */
  readonly accountId: string;
  /** Project to create the account in. @default the provider's project (`google_client_config`) */
  readonly project?: string;
  /** Display name. @default `accountId` */
  readonly displayName?: string;
  /** Description. @default none */
  readonly description?: string;
  /**
   * Create a service account key. Its private key (base64 of the JSON key file) is only
   * exported as a `sensitive` Terraform output, {@link CallerServiceAccount.privateKeyOutput};
   * like every resource attribute it is also written to the Terraform state, so the state
   * backend must be as protected as the key.
   *
   * Keys are long-lived secrets that leak; prefer keyless callers: run the caller as this
   * account (attach it to the Cloud Run service / VM / function), let workload identity
   * federation map an external identity to it, or grant `tokenCreators` so a principal can
   * impersonate it (`generateIdToken`, `signJwt`). Enable this only for a caller outside
   * Google Cloud that cannot federate.
   * @default false
   */
  readonly createKey?: boolean;
  /**
   * Members granted `roles/iam.serviceAccountTokenCreator` on this account, i.e. allowed to
   * mint its ID tokens and sign JWTs as it (keyless impersonation).
   * @default none
   */
  readonly tokenCreators?: string[];
  /** Enable iam.googleapis.com and iamcredentials.googleapis.com (never disabled on destroy). @default false */
  readonly enableApis?: boolean;
}

/**
 * A service account that identifies a calling service: grant its {@link member} the invoker
 * role on a function, or list it as an Endpoints issuer (ESP checks self-signed JWTs against
 * its public keys at {@link jwksUri}).
 */
export class CallerServiceAccount extends Construct {
  /** The google_service_account resource. */
  readonly resource: ServiceAccount;
  /** `serviceAccount:EMAIL`, for IAM bindings. */
  readonly member: string;
  /** The account's email; the `iss` and `sub` of JWTs it signs. */
  readonly email: string;
  /** Its public keys as X.509 certificates: the `x-google-jwks_uri` the Endpoints docs give for service accounts. */
  readonly jwksUri: string;
  /** Its public keys as a JWK set. */
  readonly jwkUri: string;
  /** The key, when `createKey` is true. */
  readonly key?: ServiceAccountKey;
  /** The sensitive output holding the key, when `createKey` is true. */
  readonly privateKeyOutput?: TerraformOutput;

  constructor(scope: Construct, id: string, props: CallerServiceAccountProps) {
    super(scope, id);
    if (!isUnresolved(props.accountId)) {
      check(/^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$/.test(props.accountId), 'accountId', 'must be 6-30 characters: lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen', props.accountId, this);
    }
    if (props.displayName !== undefined) check(props.displayName.length <= 100, 'displayName', 'must be at most 100 characters', props.displayName, this);
    if (props.description !== undefined) check(props.description.length <= 256, 'description', 'must be at most 256 characters', props.description, this);
    const project = resolveProject(this, props.project);
    const dependsOn = props.enableApis ? enableServices(this, project, ['iam.googleapis.com', 'iamcredentials.googleapis.com']) : undefined;

    this.resource = new ServiceAccount(this, 'Resource', {
      project,
      accountId: props.accountId,
      displayName: props.displayName ?? props.accountId,
      description: props.description,
      dependsOn,
    });
    this.email = this.resource.email;
    this.member = this.resource.member;
    this.jwksUri = `https://www.googleapis.com/robot/v1/metadata/x509/${this.email}`;
    this.jwkUri = `https://www.googleapis.com/robot/v1/metadata/jwk/${this.email}`;

    // Never public: anyone could then mint this account's tokens.
    forEachUniqueMember(props.tokenCreators, 'tokenCreators', this, { allowPublic: false, publicHint: 'token creators can act as this account' }, (member, text) => {
      new ServiceAccountIamMember(this, `TokenCreator-${shortHash(text)}`, {
        serviceAccountId: this.resource.name,
        role: 'roles/iam.serviceAccountTokenCreator',
        member,
      });
    });

    if (props.createKey) {
      this.key = new ServiceAccountKey(this, 'Key', { serviceAccountId: this.resource.name });
      this.privateKeyOutput = new TerraformOutput(this, 'PrivateKey', {
        value: this.key.privateKey,
        sensitive: true,
        description: `Base64 JSON key file of ${props.accountId}; read with: terraform output -raw`,
      });
    }
  }
}
