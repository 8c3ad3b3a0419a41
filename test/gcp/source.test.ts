import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Source from '../../lib/gcp/source';
import { readZip } from './util';

const uid = process.getuid!();
let tmp: string;

beforeEach(() => {
  // A temporary directory of the test's own, and a fresh module for each (the module resolves
  // its archive directory once per process).
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-gcp-source-'));
  // The module object itself: the namespace `import * as os` gives is read-only.
  jest.spyOn(require('node:os') as typeof os, 'tmpdir').mockReturnValue(tmp); // eslint-disable-line @typescript-eslint/no-require-imports
});
afterEach(() => {
  jest.restoreAllMocks();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function freshModule(): typeof Source {
  let mod: typeof Source | undefined;
  jest.isolateModules(() => {
    mod = require('../../lib/gcp/source'); // eslint-disable-line @typescript-eslint/no-require-imports
  });
  return mod!;
}

function bundleOf(code: string): { dir: string; hash: string } {
  const dir = fs.mkdtempSync(path.join(tmp, 'bundle-'));
  fs.writeFileSync(path.join(dir, 'index.js'), code);
  return { dir, hash: createHash('sha256').update(code).digest('hex') };
}

test('zips index.js and package.json into a directory closed to other users, once per content', () => {
  const { functionSourceArchive } = freshModule();
  const bundle = bundleOf('exports.handler = () => 1;\n');
  const source = functionSourceArchive(bundle, 22);
  const root = path.join(tmp, `s2s-auth-gcp-archives-${uid}`);
  expect(source.file).toBe(path.join(root, source.hash, 'archive.zip'));
  expect(fs.statSync(root).mode & 0o777).toBe(0o700);
  const zip = readZip(source.file);
  expect(zip.names).toEqual(['index.js', 'package.json']);
  expect(zip.read('index.js')).toBe('exports.handler = () => 1;\n');
  expect(JSON.parse(zip.read('package.json'))).toEqual({ name: 's2s-auth-function', private: true, main: 'index.js', engines: { node: '22.x' } });

  // Another runtime is another manifest, so another archive and object name.
  expect(functionSourceArchive(bundle, 20).hash).not.toBe(source.hash);
  // The same content is not zipped again, in this process or the next.
  const written = fs.statSync(source.file).mtimeMs;
  fs.utimesSync(source.file, 1, 1);
  expect(functionSourceArchive(bundle, 22)).toBe(source);
  expect(freshModule().functionSourceArchive(bundle, 22)).toEqual(source);
  expect(fs.statSync(source.file).mtimeMs).not.toBe(written);
});

test('refuses a bundle whose file no longer has the hash it was bundled with', () => {
  const bundle = bundleOf('exports.handler = () => 1;\n');
  fs.writeFileSync(path.join(bundle.dir, 'index.js'), 'exports.handler = () => 2;\n');
  expect(() => freshModule().functionSourceArchive(bundle, 22)).toThrow(/index\.js changed after it was bundled/);
});

test.each([
  ['open to other users', (dir: string) => {
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o777); // past the umask
  }],
  // To a private directory, so that only the link itself is wrong.
  ['a symlink', (dir: string) => fs.symlinkSync(fs.mkdtempSync(path.join(tmp, 'elsewhere-')), dir)],
])('refuses an archive directory that is %s: archives in it would be deployed', (_what, plant) => {
  plant(path.join(tmp, `s2s-auth-gcp-archives-${uid}`));
  expect(() => freshModule().functionSourceArchive(bundleOf('exports.handler = () => 1;\n'), 22)).toThrow(/must be a directory owned by uid \d+ and closed to other users \(mode 700\).*Remove it/);
});
