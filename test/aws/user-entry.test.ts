import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync } from 'esbuild';
import { IamFunctionUrl } from '../../lib/aws';

// The real esbuild, wrapped so the test can count how often it bundles.
jest.mock('esbuild', () => {
  const actual = jest.requireActual<typeof import('esbuild')>('esbuild');
  return { ...actual, buildSync: jest.fn(actual.buildSync) };
});

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-entry-'));

function writeEntry(name: string, greeting: string): string {
  fs.writeFileSync(path.join(dir, 'greeting.ts'), `export const greeting = ${JSON.stringify(greeting)};\n`);
  const entry = path.join(dir, name);
  fs.writeFileSync(entry, [
    "import { STSClient } from '@aws-sdk/client-sts';",
    "import { greeting } from './greeting';",
    'export const whoami = async () => ({ statusCode: 200, body: `${greeting} ${typeof STSClient}` });',
    '',
  ].join('\n'));
  return entry;
}

function s3Keys(stack: Stack): string[] {
  return Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))
    .map((fn) => (fn as { Properties: { Code: { S3Key: string } } }).Properties.Code.S3Key);
}

beforeEach(() => jest.mocked(buildSync).mockClear());

test('a user entry is bundled for its runtime, with @aws-sdk left to the Lambda runtime', () => {
  const entry = writeEntry('bundled.ts', 'hello from the bundle');
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), 's2s-aws-')) });
  const stack = new Stack(app, 'S');
  new IamFunctionUrl(stack, 'Fn', { entry, handler: 'whoami', runtime: lambda.Runtime.NODEJS_24_X });
  Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.whoami', Runtime: 'nodejs24.x' });
  expect(jest.mocked(buildSync).mock.calls[0][0]).toEqual(expect.objectContaining({ target: 'node24', external: ['@aws-sdk/*'] }));

  const [key] = s3Keys(stack);
  const code = fs.readFileSync(path.join(app.synth().directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
  expect(code).toContain('hello from the bundle');
  expect(code).toContain('require("@aws-sdk/client-sts")');
  expect(code).not.toContain('import ');
});

test('two functions on one entry bundle once and share one asset', () => {
  const entry = writeEntry('shared.ts', 'shared');
  const stack = new Stack(new App(), 'S');
  new IamFunctionUrl(stack, 'A', { entry, handler: 'whoami' });
  new IamFunctionUrl(stack, 'B', { entry, handler: 'whoami' });
  expect(buildSync).toHaveBeenCalledTimes(1);
  const keys = s3Keys(stack);
  expect(keys).toHaveLength(2);
  expect(keys[0]).toBe(keys[1]);
});

test('changing the handler code changes the asset', () => {
  const entry = writeEntry('changing.ts', 'version one');
  const first = new Stack(new App(), 'S');
  new IamFunctionUrl(first, 'Fn', { entry, handler: 'whoami' });
  writeEntry('changing.ts', 'version two');
  // A new mtime, whatever the file system's timestamp resolution: the bundle cache keys on it.
  fs.utimesSync(entry, new Date(), new Date(Date.now() + 5000));
  const second = new Stack(new App(), 'S');
  new IamFunctionUrl(second, 'Fn', { entry, handler: 'whoami' });
  expect(s3Keys(second)[0]).not.toBe(s3Keys(first)[0]);
});

test('an entry that does not bundle fails synth naming the prop and the line', () => {
  const entry = path.join(dir, 'broken.ts');
  fs.writeFileSync(entry, 'export const handler = (;\n');
  expect(() => new IamFunctionUrl(new Stack(new App(), 'S'), 'Fn', { entry })).toThrow(/^S\/Fn: invalid prop 'entry': must bundle with esbuild: .*broken\.ts:1: /);
});
