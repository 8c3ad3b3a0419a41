/**
 * Target 6: synth time and how it grows with the number of functions in one stack, with the
 * reference handler, one shared entry and one entry per function (see bench/synth-app.ts).
 * 50 functions on one shared entry should cost little more than 50 on the reference handler,
 * since lib/bundling.ts bundles each distinct entry once. The example apps of bin/ (the app
 * part of `npm run synth`) are timed as fresh processes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { median, Table, verdict, type Scale } from './harness';

export type Cloud = 'aws' | 'gcp';
export type EntryMode = 'reference' | 'shared' | 'distinct';
export const ENTRY_MODES: readonly EntryMode[] = ['reference', 'shared', 'distinct'];

/** One line of bench/synth-app.ts output. */
export interface SynthTiming {
  readonly mode: EntryMode;
  readonly n: number;
  readonly ms: number;
}

/** "Little more": N functions on a shared entry within this factor of N on the reference handler. */
const SHARED_LIMIT = 1.25;

function node(args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const result = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...env, CHECKPOINT_DISABLE: '1' }, maxBuffer: 64 << 20 });
  if (result.status !== 0) throw new Error(`bench: node ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return result.stdout;
}

function withTempDir<T>(prefix: string, use: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  try {
    return use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function synthSection(scale: Scale): Table[] {
  const counts = scale.quick ? [1, 10] : [1, 10, 50];
  // A single app per cell let one slow garbage collection flip the verdict: the median of 3.
  const repeats = scale.quick ? 1 : 3;
  const top = counts[counts.length - 1];
  const table = new Table(`Synth: one stack with N functions (construct + synthesize, ms; median of ${repeats} fresh app${repeats > 1 ? 's' : ''} each)`, ['app', 'entry', ...counts.map((n) => `${n} fn`), `${top} fn ÷ 1 fn`]);
  for (const cloud of ['aws', 'gcp'] as Cloud[]) {
    const out = withTempDir('s2s-bench-synth-', (dir) => node([path.join(__dirname, 'synth-app.js'), cloud, counts.join(','), String(repeats), dir]));
    const timings = out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as SynthTiming);
    const best = (mode: string, n: number): number => median(timings.filter((t) => t.mode === mode && t.n === n).map((t) => t.ms));
    for (const mode of ENTRY_MODES) {
      const cells = counts.map((n) => best(mode, n));
      table.row(cloud === 'aws' ? '`IamFunctionUrl` (CDK)' : '`PrivateCloudFunction` (CDKTF)', mode === 'reference' ? 'reference handler' : mode === 'shared' ? 'one shared entry' : 'one entry each', ...cells.map((ms) => `${Math.round(ms)} ms`), `${(cells[cells.length - 1] / cells[0]).toFixed(1)}×`);
    }
    const shared = best('shared', top);
    const reference = best('reference', top);
    const perEntry = (best('distinct', top) - shared) / (top - 1);
    table.note(`${cloud}: ${top} functions on one shared entry took ${(shared / reference).toFixed(2)}× the reference-handler time (target ≤ ${SHARED_LIMIT}×: ${verdict(shared <= reference * SHARED_LIMIT)}); each further distinct entry added ${Math.round(perEntry)} ms (one esbuild bundle each).`);
  }
  table.note(`One process per cloud, construct libraries loaded once; every app starts with a cold bundle cache (entry files no earlier app used). Wall time, since esbuild runs in its own process.`);

  const examples = new Table('Synth: the example apps of bin/ (the app part of `npm run synth`), fresh process', ['app', 'wall time, process start to exit']);
  for (const [name, file, outVar] of [['bin/aws-app.ts (`cdk synth`)', 'aws-app.js', 'CDK_OUTDIR'], ['bin/gcp-app.ts (`cdktf synth`)', 'gcp-app.js', 'CDKTF_OUTDIR']] as const) {
    const ms = withTempDir('s2s-bench-example-', (dir) => {
      const start = process.hrtime.bigint();
      node([path.join(__dirname, file)], { ...process.env, [outVar]: dir });
      return Number(process.hrtime.bigint() - start) / 1e6;
    });
    examples.row(name, `${Math.round(ms)} ms`);
  }
  examples.note('`npm run synth` also runs `tsc` (npm run build) and the cdk / cdktf CLIs around these apps; those costs do not depend on s2s-auth and are left out.');
  return [table, examples];
}
