// `npm run bench`: compiles the TypeScript benchmarks with esbuild (every package stays
// external, so jose, aws-jwt-verify, google-auth-library and s2s-auth's own dependencies run
// exactly as installed) and runs them in one process with --expose-gc, for the heap figures.
// The output lives under node_modules/.cache so lib/bundling.ts still finds the package root.
//
//   npm run bench                      every section, default counts (about 5 minutes)
//   npm run bench -- --quick           small counts, for a smoke run
//   npm run bench -- --only=verify,keysets,client,handlers,synth
//   npm run bench -- --write           also replace the figures in docs/BENCHMARKS.md
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'node_modules', '.cache', 's2s-auth-bench');
await build({
  entryPoints: {
    main: join(root, 'bench', 'main.ts'),
    'synth-app': join(root, 'bench', 'synth-app.ts'),
    'aws-app': join(root, 'bin', 'aws-app.ts'),
    'gcp-app': join(root, 'bin', 'gcp-app.ts'),
  },
  outdir,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
const { status, signal } = spawnSync(process.execPath, ['--expose-gc', join(outdir, 'main.js'), ...process.argv.slice(2)], { stdio: 'inherit', cwd: root });
process.exitCode = status ?? (signal ? 1 : 0);
