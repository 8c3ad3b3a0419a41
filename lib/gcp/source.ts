import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { privateCacheDir, writeOnce, type Bundle } from '../bundling';
import { zipSync } from './zip';

/** A Cloud Functions source archive: the bundle's `index.js` plus a `package.json`, zipped. */
export interface FunctionSource {
  /** The zip file to upload, named `archive.zip` in a content-addressed directory. */
  readonly file: string;
  /**
   * sha256 of the archive's contents (the bundle's hash and the manifest), hex: names the
   * uploaded object, so a change redeploys. Independent of the zip encoding, so another zlib
   * never renames an unchanged function's object.
   */
  readonly hash: string;
}

// Explicit per-process cache: 50 functions on one bundle zip it once.
const archiveCache = new Map<string, FunctionSource>();

/**
 * Zips a bundle for Cloud Functions' Node.js buildpack: `main` points at the bundled file
 * and `engines` pins the runtime's major version. There are no dependencies: esbuild inlined
 * them, and the buildpack adds @google-cloud/functions-framework itself.
 *
 * The zip is built in-process (cdktf's `AssetType.ARCHIVE` spawns a node process per asset)
 * and written once per distinct content to a private directory, so the construct hands cdktf a
 * finished file to copy (`AssetType.FILE`).
 */
export function functionSourceArchive(bundle: Bundle, nodeMajor: number): FunctionSource {
  const manifest = `${JSON.stringify({ name: 's2s-auth-function', private: true, main: 'index.js', engines: { node: `${nodeMajor}.x` } }, null, 2)}\n`;
  const hash = createHash('sha256').update(bundle.hash).update('\0').update(manifest).digest('hex');
  const cached = archiveCache.get(hash);
  if (cached) return cached;

  const code = fs.readFileSync(path.join(bundle.dir, 'index.js'));
  // The object name promises this content: never zip a file that changed since it was hashed.
  if (createHash('sha256').update(code).digest('hex') !== bundle.hash) {
    throw new Error(`s2s-auth: ${path.join(bundle.dir, 'index.js')} changed after it was bundled (sha256 differs); synthesize again`);
  }
  const archive = zipSync([{ name: 'index.js', data: code }, { name: 'package.json', data: Buffer.from(manifest) }]);
  const file = writeOnce(path.join(privateCacheDir('s2s-auth-gcp-archives'), hash), 'archive.zip', archive);
  const source = { file, hash };
  archiveCache.set(hash, source);
  return source;
}
