import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Bundle } from '../bundling';

/** A Cloud Functions source directory: the bundle's `index.js` plus a `package.json`. */
export interface FunctionSource {
  /** Directory to archive. */
  readonly dir: string;
  /** sha256 over everything in `dir`, hex: names the uploaded object, so a change redeploys. */
  readonly hash: string;
}

// Zip entries carry mtimes; pinning them makes the archive bytes a function of the content, so
// an unchanged function never shows a diff on the uploaded object.
const FIXED_MTIME = new Date('1980-01-01T00:00:00Z');

/**
 * Stages a bundle for Cloud Functions' Node.js buildpack: `main` points at the bundled file
 * and `engines` pins the runtime's major version. There are no dependencies: esbuild inlined
 * them, and the buildpack adds @google-cloud/functions-framework itself.
 */
export function stageFunctionSource(bundle: Bundle, nodeMajor: number): FunctionSource {
  const manifest = `${JSON.stringify({ name: 's2s-auth-function', private: true, main: 'index.js', engines: { node: `${nodeMajor}.x` } }, null, 2)}\n`;
  const hash = createHash('sha256').update(bundle.hash).update('\0').update(manifest).digest('hex');
  const dir = path.join(os.tmpdir(), 's2s-auth-gcp-sources', hash);
  if (!fs.existsSync(path.join(dir, 'package.json'))) {
    // Build aside, then rename: a concurrent synth sees either nothing or the whole directory.
    const tmp = `${dir}.${process.pid}.tmp`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    fs.copyFileSync(path.join(bundle.dir, 'index.js'), path.join(tmp, 'index.js'));
    fs.writeFileSync(path.join(tmp, 'package.json'), manifest);
    for (const file of ['index.js', 'package.json']) fs.utimesSync(path.join(tmp, file), FIXED_MTIME, FIXED_MTIME);
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(path.join(dir, 'package.json'))) throw err; // lost a race to an identical copy otherwise
    }
  }
  return { dir, hash };
}
