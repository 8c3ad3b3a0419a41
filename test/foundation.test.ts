import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleEntry, referenceHandler } from '../lib/bundling';
import { ValidationError } from '../lib/validation';
import { AuthError } from '../lib/verify/errors';
import { decodeProtectedHeader } from 'jose';

describe('bundleEntry', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-bundle-test-'));
  const entry = path.join(dir, 'h.ts');
  fs.writeFileSync(entry, 'export const handler = async (): Promise<number> => 42;\n');

  test('bundles once per distinct entry and is content-addressed', () => {
    const a = bundleEntry({ entry, target: 'node22' });
    const b = bundleEntry({ entry, target: 'node22' });
    expect(b).toBe(a);
    expect(fs.readdirSync(a.dir)).toEqual(['index.js']);
    const mod = { exports: {} as { handler?: () => Promise<number> } };
    new Function('module', 'exports', 'require', fs.readFileSync(path.join(a.dir, 'index.js'), 'utf8'))(mod, mod.exports, require);
    return expect(mod.exports.handler!()).resolves.toBe(42);
  });

  test('a missing entry is a ValidationError naming the prop', () => {
    expect(() => bundleEntry({ entry: path.join(dir, 'nope.ts'), target: 'node22' })).toThrow(ValidationError);
    expect(() => bundleEntry({ entry: path.join(dir, 'nope.ts'), target: 'node22' })).toThrow(/invalid prop 'entry': must be the path of an existing handler file/);
  });

  test('a syntax error is reported with its location', () => {
    const bad = path.join(dir, 'bad.ts');
    fs.writeFileSync(bad, 'export const handler = (;\n');
    expect(() => bundleEntry({ entry: bad, target: 'node22', prop: 'entry', path: 'Stack/Fn' })).toThrow(/^Stack\/Fn: invalid prop 'entry': must bundle with esbuild: .*bad\.ts:1: /);
  });
});

test('referenceHandler explains how to build a missing handler', () => {
  expect(() => referenceHandler('no-such' as never)).toThrow(/run 'npm run build'/);
});

test('AuthError maps codes to HTTP statuses', () => {
  expect(new AuthError('EXPIRED', 'exp is in the past').status).toBe(401);
  expect(new AuthError('CALLER_NOT_ALLOWED', 'x').status).toBe(403);
  expect(new AuthError('KEYS_UNAVAILABLE', 'x').status).toBe(503);
});

test('jose (ESM-only) loads under jest', () => {
  expect(decodeProtectedHeader('eyJhbGciOiJFUzI1NiJ9.e30.x')).toEqual({ alg: 'ES256' });
});

test('bundles live in a per-user directory closed to other users', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-bundle-perm-'));
  const entry = path.join(dir, 'h.js');
  fs.writeFileSync(entry, 'exports.handler = () => 1;\n');
  const bundle = bundleEntry({ entry, target: 'node22' });
  const root = path.dirname(bundle.dir);
  expect(path.basename(root)).toBe(`s2s-auth-bundles-${process.getuid!()}`);
  expect(fs.statSync(root).mode & 0o077).toBe(0);
});

test('a changed import rebuilds the bundle in the same process', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-bundle-import-'));
  const entry = path.join(dir, 'h.ts');
  const dep = path.join(dir, 'dep.ts');
  fs.writeFileSync(dep, 'export const answer = 1;\n');
  fs.writeFileSync(entry, "import { answer } from './dep';\nexport const handler = () => answer;\n");
  const first = bundleEntry({ entry, target: 'node22' });
  expect(bundleEntry({ entry, target: 'node22' })).toBe(first);
  fs.writeFileSync(dep, 'export const answer = 2;\n');
  fs.utimesSync(dep, new Date(), new Date(Date.now() + 5000)); // a coarse file system clock must not hide the change
  const second = bundleEntry({ entry, target: 'node22' });
  expect(second.hash).not.toBe(first.hash);
  expect(fs.readFileSync(path.join(second.dir, 'index.js'), 'utf8')).toContain('2');
});
