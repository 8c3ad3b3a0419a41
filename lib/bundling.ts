import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync, type BuildFailure } from 'esbuild';
import { ValidationError } from './validation';

/**
 * Construct-time bundling shared by the AWS and GCP halves: a user's `entry` is
 * bundled with esbuild in-process (no Docker), and reference handlers are located
 * in the package's pre-built `dist/handlers/`. Nothing here runs at request time.
 */

/** One bundled handler: a directory holding exactly `index.js`. */
export interface Bundle {
  /** Directory to deploy (holds `index.js`). */
  readonly dir: string;
  /** sha256 of the bundled code, hex. */
  readonly hash: string;
}

export interface BundleOptions {
  /** Path of the user's handler file. */
  readonly entry: string;
  /** esbuild target, e.g. `node22`. */
  readonly target: string;
  /** Modules the runtime provides (e.g. `@aws-sdk/*` on Lambda). */
  readonly externals?: readonly string[];
  /** Prop name to blame in validation errors. @default 'entry' */
  readonly prop?: string;
  /** Construct path for validation errors. */
  readonly path?: string;
}

// Explicit per-process cache: 50 functions on one entry bundle once. An entry is reused only
// while every file esbuild read for it is unchanged, so a long-running process (tests, watch)
// never deploys a stale bundle after an imported file changes.
const bundleCache = new Map<string, { bundle: Bundle; inputs: ReadonlyArray<readonly [string, number]> }>();

/** Bundles `entry` into a content-addressed directory, once per distinct entry and options. */
export function bundleEntry(options: BundleOptions): Bundle {
  const prop = options.prop ?? 'entry';
  const entry = path.resolve(options.entry);
  if (!fs.existsSync(entry) || !fs.statSync(entry).isFile()) {
    throw new ValidationError(prop, 'must be the path of an existing handler file (.ts or .js), resolved from the current directory', options.entry, options.path);
  }
  const externals = [...(options.externals ?? [])].sort();
  const key = JSON.stringify([entry, options.target, externals]);
  const cached = bundleCache.get(key);
  if (cached && cached.inputs.every(([file, mtime]) => mtimeOf(file) === mtime)) return cached.bundle;

  let code: Uint8Array;
  let inputs: Array<readonly [string, number]>;
  try {
    const result = buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: options.target,
      minify: true,
      legalComments: 'none',
      external: externals,
      write: false,
      logLevel: 'silent',
      absWorkingDir: path.dirname(entry),
      metafile: true,
    });
    code = result.outputFiles[0].contents;
    inputs = Object.keys(result.metafile.inputs).map((file) => {
      const absolute = path.resolve(path.dirname(entry), file);
      return [absolute, mtimeOf(absolute)] as const;
    });
  } catch (err) {
    const failure = err as BuildFailure;
    const first = failure.errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}: ` : '';
    throw new ValidationError(prop, `must bundle with esbuild: ${where}${first?.text ?? String(err)}`, options.entry, options.path);
  }

  const hash = createHash('sha256').update(code).digest('hex');
  const dir = path.join(privateCacheDir('s2s-auth-bundles'), hash);
  writeOnce(dir, 'index.js', code);
  const bundle = { dir, hash };
  bundleCache.set(key, { bundle, inputs });
  return bundle;
}

function mtimeOf(file: string): number {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return Number.NaN; // gone: never equal, so the entry is rebuilt (and fails clearly if needed)
  }
}

/** Names of the reference handlers built into `dist/handlers/<name>/index.js` by `npm run build`. */
export type ReferenceHandler = 'lambda-url' | 'google-id-token' | 'iap' | 'endpoints' | 'oauth';

/** Locates a pre-built reference handler, from the sources (tests) or from the installed package. */
export function referenceHandler(name: ReferenceHandler): Bundle {
  const dir = path.join(packageRoot(), 'dist', 'handlers', name);
  const file = path.join(dir, 'index.js');
  if (!fs.existsSync(file)) {
    throw new Error(`s2s-auth: reference handler '${name}' is not built (${file} is missing); run 'npm run build' in the s2s-auth package`);
  }
  return { dir, hash: createHash('sha256').update(fs.readFileSync(file)).digest('hex') };
}

let root: string | undefined;
function packageRoot(): string {
  if (root) return root;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 's2s-auth') return (root = dir);
    if (path.dirname(dir) === dir) throw new Error(`s2s-auth: cannot find the package root above ${__dirname}`);
  }
}

const cacheDirs = new Map<string, string>();

/**
 * A per-user directory under the system temp directory for content-addressed build outputs.
 * What is found there gets deployed, so it must be writable by this user alone: on a shared
 * /tmp another user could otherwise plant a file under a predictable hash (the reference
 * handlers' hashes are public).
 */
export function privateCacheDir(name: string): string {
  const known = cacheDirs.get(name);
  if (known) return known;
  const uid = process.getuid?.();
  // Windows has no getuid, and its temp directory is already per user.
  const dir = path.join(os.tmpdir(), uid === undefined ? name : `${name}-${uid}`);
  mkdirIfMissing(dir, 0o700);
  if (uid !== undefined) {
    const stat = fs.lstatSync(dir);
    if (!stat.isDirectory() || stat.uid !== uid || (stat.mode & 0o077) !== 0) {
      throw new Error(`s2s-auth: ${dir} must be a directory owned by uid ${uid} and closed to other users (mode 700); it is not, so what it holds cannot be trusted. Remove it and synthesize again.`);
    }
  }
  cacheDirs.set(name, dir);
  return dir;
}

/**
 * Writes `data` to `dir/name` unless that file already holds exactly these bytes.
 * Write-then-rename: a concurrent synth sees no file or the whole one, never half of it.
 */
export function writeOnce(dir: string, name: string, data: Uint8Array): string {
  const file = path.join(dir, name);
  if (fs.existsSync(file) && Buffer.from(data).equals(fs.readFileSync(file))) return file;
  // Not recursive: a cache root removed since it was checked must not come back open to others.
  mkdirIfMissing(dir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
  return file;
}

function mkdirIfMissing(dir: string, mode?: number): void {
  try {
    fs.mkdirSync(dir, { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
