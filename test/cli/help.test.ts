import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { assertBuilt, s2s } from './support';

beforeAll(assertBuilt);

const COMMANDS = [
  ['curl'],
  ['token', 'id'],
  ['token', 'sa-jwt'],
  ['token', 'client-credentials'],
  ['verify', 'iap'],
  ['verify', 'id-token'],
  ['verify', 'sa-jwt'],
  ['verify', 'access-token'],
];

describe('--help', () => {
  test.each(COMMANDS)('s2s %s %s --help: usage, options, exit codes and a copy-paste example of the same command, exit 0', async (...command) => {
    const res = await s2s([...command.filter(Boolean), '--help']);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const name = `s2s ${command.filter(Boolean).join(' ')}`;
    expect(res.stdout.startsWith(`Usage: ${name} `)).toBe(true);
    expect(res.stdout).toContain('\nOptions:\n');
    expect(res.stdout).toContain('      --json ');
    expect(res.stdout).toContain('\nExit codes:\n  0  success\n  1  authentication or HTTP failure');
    expect(res.stdout).toContain('\n  2  usage error');
    const examples = res.stdout.split(/\nExamples?:\n/)[1];
    expect(examples).toContain(`${name} `);
  });

  test('-h works too, and wins over otherwise invalid arguments', async () => {
    const res = await s2s(['verify', 'iap', '--bogus', '-h']);
    expect(res.code).toBe(0);
    expect(res.stdout.startsWith('Usage: s2s verify iap TOKEN|- [options]')).toBe(true);
  });

  test.each([[['--help']], [['token', '--help']], [['verify', 'help']]])('%j lists the commands, exit 0', async (args) => {
    const res = await s2s(args);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^Usage: s2s( \w+)? COMMAND \[options\]\n/);
    expect(res.stdout).toContain('\nCommands:\n');
    expect(res.stdout).toContain('Exit codes: 0 success, 1 authentication or HTTP failure, 2 usage error.');
  });

  test('the documented environment variables are listed where they apply', async () => {
    expect((await s2s(['curl', '--help'])).stdout).toContain('AWS_ENDPOINT_URL_STS');
    const id = (await s2s(['token', 'id', '--help'])).stdout;
    expect(id).toContain('GCE_METADATA_HOST');
    expect(id).toContain('S2S_GOOGLE_TOKEN_ENDPOINT');
    const cc = (await s2s(['token', 'client-credentials', '--help'])).stdout;
    expect(cc).toContain('S2S_CLIENT_SECRET');
    expect(cc).toContain('Not accepted:\n  --client-secret');
  });
});

describe('s2s', () => {
  test('without a command: the command list on stderr, exit 2', async () => {
    const res = await s2s([]);
    expect(res.code).toBe(2);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain('Usage: s2s COMMAND [options]');
  });

  test('an unknown command exits 2 naming the known ones; --json makes it JSON', async () => {
    const res = await s2s(['login']);
    expect(res).toMatchObject({ code: 2, stderr: "s2s: unknown command \"login\"; expected one of curl, token, verify\nRun 's2s --help' for usage.\n" });
    const json = await s2s(['token', 'refresh', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stderr)).toEqual({ error: { code: 'USAGE', message: 'unknown command "refresh"; expected one of id, sa-jwt, client-credentials', exitCode: 2 } });
  });

  test('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(await s2s(['--version'])).toMatchObject({ code: 0, stdout: `s2s ${version}\n` });
  });

  test('the built entry point is a node script', () => {
    expect(readFileSync(path.join(__dirname, '..', '..', 'dist', 'bin', 's2s.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
