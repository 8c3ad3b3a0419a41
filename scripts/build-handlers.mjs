// Pre-bundles every lib/handlers/<name>.ts into dist/handlers/<name>/index.js (minified,
// one file each), as aws-cdk-lib ships its custom-resource handlers. Shared handler code
// lives in lib/handlers/internal/ and is not an entry point.
import { build } from 'esbuild';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'lib', 'handlers');
const entries = readdirSync(src).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && statSync(join(src, f)).isFile());

const results = await Promise.all(entries.map(async (file) => {
  const name = file.replace(/\.ts$/, '');
  const outfile = join(root, 'dist', 'handlers', name, 'index.js');
  const result = await build({
    entryPoints: [join(src, file)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'warning',
  });
  return [name, result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].bytes];
}));
for (const [name, bytes] of results) console.log(`dist/handlers/${name}/index.js  ${(bytes / 1024).toFixed(1)} KB`);
