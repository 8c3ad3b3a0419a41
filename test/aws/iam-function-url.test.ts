import { App, CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { IamFunctionUrl } from '../../lib/aws';
import { wildcardFindings } from './template-checks';

const URL_STATEMENT = {
  Action: 'lambda:InvokeFunctionUrl',
  Effect: 'Allow',
  Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } },
  Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnFunction'), 'Arn'] },
};
const INVOKE_STATEMENT = {
  Action: 'lambda:InvokeFunction',
  Effect: 'Allow',
  Condition: { Bool: { 'lambda:InvokedViaFunctionUrl': true } },
  Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnFunction'), 'Arn'] },
};

function setup(props: ConstructorParameters<typeof IamFunctionUrl>[2] = {}) {
  const stack = new Stack(new App(), 'S');
  const fn = new IamFunctionUrl(stack, 'Fn', props);
  return { stack, fn };
}

test('defaults: reference handler on Node.js 22 / arm64 behind an AWS_IAM function URL', () => {
  const { stack, fn } = setup();
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM', InvokeMode: 'BUFFERED', Cors: Match.absent() });
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'nodejs22.x',
    Handler: 'index.handler',
    Architectures: ['arm64'],
    MemorySize: 256,
    Timeout: 10,
    Environment: Match.absent(),
    LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^FnLogs') } },
  });
  template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
  template.hasOutput('*', { Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnFunctionFunctionUrl'), 'FunctionUrl'] } });
  expect(stack.resolve(fn.url)).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^FnFunctionFunctionUrl/), 'FunctionUrl'] });
  expect(fn.functionUrl.authType).toBe(lambda.FunctionUrlAuthType.AWS_IAM);
});

test('the execution role may only write to the function\'s own log group (no managed policy)', () => {
  const { stack } = setup();
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::IAM::Role', {
    AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }] },
    ManagedPolicyArns: Match.absent(),
  });
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: [{ Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnLogs'), 'Arn'] } }] },
  });
  expect(wildcardFindings(template.toJSON())).toEqual([]);
});

test('optional props reach the function and its URL', () => {
  const logGroup = (s: Stack) => new logs.LogGroup(s, 'Mine');
  const stack = new Stack(new App(), 'S');
  new IamFunctionUrl(stack, 'Fn', {
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.X86_64,
    environment: { STAGE: 'prod' },
    memorySize: 512,
    timeout: Duration.seconds(30),
    cors: { allowedOrigins: ['https://app.example.com'], allowedMethods: [lambda.HttpMethod.GET] },
    invokeMode: lambda.InvokeMode.RESPONSE_STREAM,
    functionName: 'whoami',
    description: 'who am I',
    logGroup: logGroup(stack),
    reservedConcurrentExecutions: 5,
    allowedCallers: ['111122223333', 'arn:aws:iam::111122223333:role/orders-service'],
  });
  const template = Template.fromStack(stack);
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'nodejs24.x',
    Architectures: ['x86_64'],
    Environment: { Variables: { STAGE: 'prod', S2S_ALLOWED_CALLERS: '111122223333,arn:aws:iam::111122223333:role/orders-service' } },
    MemorySize: 512,
    Timeout: 30,
    FunctionName: 'whoami',
    Description: 'who am I',
    ReservedConcurrentExecutions: 5,
    LoggingConfig: { LogGroup: { Ref: Match.stringLikeRegexp('^Mine') } },
  });
  template.resourceCountIs('AWS::Logs::LogGroup', 1);
  template.hasResourceProperties('AWS::Lambda::Url', {
    InvokeMode: 'RESPONSE_STREAM',
    Cors: { AllowOrigins: ['https://app.example.com'], AllowMethods: ['GET'] },
  });
});

test('addAllowedCaller extends the list, tokens included, and restricts an open function', () => {
  const { stack, fn } = setup();
  const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
  fn.addAllowedCaller(role.roleArn);
  fn.addAllowedCaller('999988887777');
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
    Environment: { Variables: { S2S_ALLOWED_CALLERS: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^Caller'), 'Arn'] }, ',999988887777']] } } },
  });
});

describe('grantInvoke', () => {
  test('a same-account role gets exactly the two invoke statements, on this function only', () => {
    const { stack, fn } = setup();
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    fn.grantInvoke(role);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('^Caller') }],
      PolicyDocument: { Statement: [URL_STATEMENT, INVOKE_STATEMENT] },
    });
    // Same account: the identity policy suffices, no resource-based permission.
    template.resourceCountIs('AWS::Lambda::Permission', 0);
    expect(wildcardFindings(template.toJSON())).toEqual([]);
  });

  test.each([
    ['a role in another account', new iam.ArnPrincipal('arn:aws:iam::999988887777:role/caller'), 'arn:aws:iam::999988887777:role/caller'],
    ['another account', new iam.AccountPrincipal('999988887777'), '999988887777'],
  ])('%s also gets both resource-based permissions', (_name, grantee, principal) => {
    const { stack, fn } = setup();
    fn.grantInvoke(grantee);
    const template = Template.fromStack(stack);
    const functionArn = { 'Fn::GetAtt': [Match.stringLikeRegexp('^FnFunction'), 'Arn'] };
    template.resourceCountIs('AWS::Lambda::Permission', 2);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl', FunctionUrlAuthType: 'AWS_IAM', InvokedViaFunctionUrl: Match.absent(), Principal: principal, FunctionName: functionArn,
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction', InvokedViaFunctionUrl: true, FunctionUrlAuthType: Match.absent(), Principal: principal, FunctionName: functionArn,
    });
    expect(wildcardFindings(template.toJSON())).toEqual([]);
  });

  test('granting twice returns the same grant and adds nothing', () => {
    const { stack, fn } = setup();
    const grantee = new iam.ArnPrincipal('arn:aws:iam::999988887777:role/caller');
    expect(fn.grantInvoke(grantee)).toBe(fn.grantInvoke(grantee));
    Template.fromStack(stack).resourceCountIs('AWS::Lambda::Permission', 2);
  });

  // A resource created after the grant, to see what the grant makes it wait for.
  function dependsOn(stack: Stack, grant: iam.Grant): string[] {
    const after = new CfnResource(stack, 'After', { type: 'AWS::SQS::Queue' });
    grant.applyBefore(after);
    return Template.fromStack(stack).toJSON().Resources.After.DependsOn;
  }

  test('the grant covers both statements: a dependant waits for the identity policy holding them', () => {
    const { stack, fn } = setup();
    const role = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = fn.grantInvoke(role);
    expect(grant.success).toBe(true);
    expect(grant.principalStatements.map((s) => s.actions)).toEqual([['lambda:InvokeFunctionUrl'], ['lambda:InvokeFunction']]);
    expect(dependsOn(stack, grant)).toEqual([expect.stringMatching(/^CallerDefaultPolicy/)]);
  });

  test('the grant covers both permissions of a cross-account grantee', () => {
    const { stack, fn } = setup();
    const grant = fn.grantInvoke(new iam.AccountPrincipal('999988887777'));
    expect(() => grant.assertSuccess()).not.toThrow();
    const waitsFor = dependsOn(stack, grant);
    const permissions = Object.keys(Template.fromStack(stack).findResources('AWS::Lambda::Permission'));
    expect(permissions).toHaveLength(2);
    expect(waitsFor.sort()).toEqual(permissions.sort());
  });

  test.each([
    ['AnyPrincipal', new iam.AnyPrincipal()],
    ['StarPrincipal', new iam.StarPrincipal()],
    ['ArnPrincipal(*)', new iam.ArnPrincipal('*')],
  ])('refuses to open the URL to every AWS principal (%s)', (_name, grantee) => {
    const { fn } = setup();
    expect(() => fn.grantInvoke(grantee)).toThrow(/^S\/Fn: invalid prop 'grantee': must not be every principal \('\*'\); grant an account, a role or an organization/);
  });

  test('an organization is a bounded grantee: both permissions carry its PrincipalOrgID', () => {
    const { stack, fn } = setup();
    fn.grantInvoke(new iam.OrganizationPrincipal('o-a1b2c3d4e5'));
    const template = Template.fromStack(stack);
    template.resourcePropertiesCountIs('AWS::Lambda::Permission', { Principal: '*', PrincipalOrgID: 'o-a1b2c3d4e5' }, 2);
  });
});

test('the wildcard check catches a wildcard (so its silence above means something)', () => {
  const stack = new Stack(new App(), 'S');
  const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:Invoke*'], resources: ['arn:aws:lambda:eu-west-1:111122223333:function:f'] }));
  role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: ['*'] }));
  const findings = wildcardFindings(Template.fromStack(stack).toJSON());
  expect(findings).toEqual(expect.arrayContaining([expect.stringMatching(/\.Action$/), expect.stringMatching(/\.Resource$/)]));
});
