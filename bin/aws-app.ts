#!/usr/bin/env node
// Example CDK app (cdk.json): a function URL with AWS_IAM auth and the role a service in a
// second account assumes, with an external ID, to call it. Environment-agnostic; override the
// defaults with `cdk synth -c s2s-auth:callerAccountId=123456789012 -c s2s-auth:externalId=...`.
import { App } from 'aws-cdk-lib';
import { LambdaUrlWithStsStack } from '../lib/aws/examples/lambda-url-with-sts';

const app = new App();
new LambdaUrlWithStsStack(app, 'S2sAuthLambdaUrl', {
  callerAccountId: app.node.tryGetContext('s2s-auth:callerAccountId') ?? '210987654321',
  externalId: app.node.tryGetContext('s2s-auth:externalId') ?? 'example-external-id-replace-me',
  description: 's2s-auth example: Lambda function URL (AWS_IAM) called through STS AssumeRole from a second account',
});
app.synth();
