import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { IamFunctionUrl, InvokerRole } from '../../lib/aws';
import { wildcardFindings } from './template-checks';

const EXTERNAL_ID = '2f1d0c3e-8a55-4c59-9d0e-6c8f0f6b7a11';
const rootOf = (account: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${account}:root`]] });
const functionArn = (prefix: string) => ({ 'Fn::GetAtt': [Match.stringLikeRegexp(`^${prefix}Function`), 'Arn'] });
const invokeStatements = (prefix: string) => [
  { Action: 'lambda:InvokeFunctionUrl', Effect: 'Allow', Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } }, Resource: functionArn(prefix) },
  { Action: 'lambda:InvokeFunction', Effect: 'Allow', Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } }, Resource: functionArn(prefix) },
];

function setup() {
  const stack = new Stack(new App(), 'S');
  const orders = new IamFunctionUrl(stack, 'Orders');
  return { stack, orders };
}

test('trust policy: accounts and roles in one statement with external ID and organization conditions', () => {
  const { stack, orders } = setup();
  new InvokerRole(stack, 'Invoker', {
    targets: [orders],
    trustedAccounts: ['210987654321'],
    trustedRoleArns: ['arn:aws:iam::444455556666:role/services/orders-client'],
    externalId: EXTERNAL_ID,
    organizationId: 'o-a1b2c3d4e5',
    maxSessionDuration: Duration.hours(4),
  });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: {
      Version: '2012-10-17',
      Statement: [{
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: [rootOf('210987654321'), 'arn:aws:iam::444455556666:role/services/orders-client'] },
        Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID, 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } },
      }],
    },
    MaxSessionDuration: 14400,
  });
});

test('no conditions unless asked for; the session lasts an hour by default; repeated principals appear once', () => {
  const { stack, orders } = setup();
  new InvokerRole(stack, 'Invoker', { targets: [orders], trustedAccounts: ['210987654321', '210987654321'] });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { AWS: rootOf('210987654321') }, Condition: Match.absent() }] },
    MaxSessionDuration: 3600,
  });
});

test.each([
  [{ allowSourceIdentity: true }, ['sts:AssumeRole', 'sts:SetSourceIdentity']],
  [{ allowTagSession: true }, ['sts:AssumeRole', 'sts:TagSession']],
  [{ allowSourceIdentity: true, allowTagSession: true }, ['sts:AssumeRole', 'sts:SetSourceIdentity', 'sts:TagSession']],
])('%j adds the STS actions to the same trust statement (conditions still apply)', (flags, actions) => {
  const { stack, orders } = setup();
  new InvokerRole(stack, 'Invoker', { targets: [orders], trustedRoleArns: ['arn:aws:iam::210987654321:role/caller'], externalId: EXTERNAL_ID, ...flags });
  Template.fromStack(stack).hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: { Statement: [{ Action: actions, Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::210987654321:role/caller' }, Condition: { StringEquals: { 'sts:ExternalId': EXTERNAL_ID } } }] },
  });
});

test('permissions: only the two invoke actions, on each target and nothing else', () => {
  const { stack, orders } = setup();
  const billing = new IamFunctionUrl(stack, 'Billing');
  const invoker = new InvokerRole(stack, 'Invoker', { targets: [orders], trustedAccounts: ['210987654321'] });
  invoker.addTarget(billing);
  invoker.addTarget(billing);
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::IAM::Policy', {
    Roles: [{ Ref: Match.stringLikeRegexp('^InvokerRole') }],
    PolicyDocument: { Statement: [...invokeStatements('Orders'), ...invokeStatements('Billing')] },
  });
  template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  // Same account as the functions: no resource-based permissions are needed or added.
  template.resourceCountIs('AWS::Lambda::Permission', 0);
  expect(wildcardFindings(template.toJSON())).toEqual([]);
});

test('outputs the role ARN and exposes it', () => {
  const { stack, orders } = setup();
  const invoker = new InvokerRole(stack, 'Invoker', { targets: [orders], trustedAccounts: ['210987654321'], roleName: 'orders-invoker' });
  const template = Template.fromStack(stack);
  template.hasOutput('*', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^InvokerRole'), 'Arn'] } });
  template.hasResourceProperties('AWS::IAM::Role', { RoleName: 'orders-invoker' });
  expect(stack.resolve(invoker.roleArn)).toEqual(stack.resolve(invoker.role.roleArn));
});
