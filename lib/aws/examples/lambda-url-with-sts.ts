import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { IamFunctionUrl } from '../iam-function-url';
import { InvokerRole } from '../invoker-role';

export interface LambdaUrlWithStsStackProps extends StackProps {
  /** The account the calling service runs in; its principals may assume the invoker role. */
  readonly callerAccountId: string;
  /** External ID the caller passes to AssumeRole (agreed out of band, at least 16 characters). */
  readonly externalId: string;
}

/**
 * The Lambda-URL-with-STS scenario: a function URL with AWS_IAM auth running the reference
 * handler, and the role a service in another account assumes (with an external ID) to call it.
 * The function itself also refuses any caller but that role, so a broader invoke grant added
 * later does not silently widen who gets an answer.
 */
export class LambdaUrlWithStsStack extends Stack {
  readonly service: IamFunctionUrl;
  readonly invoker: InvokerRole;

  constructor(scope: Construct, id: string, props: LambdaUrlWithStsStackProps) {
    super(scope, id, props);
    this.service = new IamFunctionUrl(this, 'Service');
    this.invoker = new InvokerRole(this, 'Invoker', {
      targets: [this.service],
      trustedAccounts: [props.callerAccountId],
      externalId: props.externalId,
    });
    this.service.addAllowedCaller(this.invoker.roleArn);
  }
}
