/**
 * Generated apps for the synth benchmark, one process per cloud:
 *
 *   node synth-app.js <aws|gcp> <counts, e.g. 1,10,50> <repeats> <workdir>
 *
 * For each repeat and each count N it builds and synthesizes three apps with N functions in one
 * stack: `reference` (the pre-built reference handler, no bundling), `shared` (all N name one
 * `entry` file) and `distinct` (one entry file each). Every app gets entry files no other app
 * used, so lib/bundling.ts's per-process cache starts cold for each app, as in a fresh
 * `cdk synth`, while the construct libraries load once. A discarded warm-up app comes first.
 * Prints one JSON line per app: `{ mode, n, ms }`, wall time from construction to synthesized
 * (wall, not CPU: esbuild bundles in its own process).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { App as AwsApp, Stack } from 'aws-cdk-lib';
import { App as TfApp, TerraformStack } from 'cdktf';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';
import { IamFunctionUrl } from '../lib/aws';
import { PrivateCloudFunction } from '../lib/gcp';
import { ENTRY_MODES, type Cloud, type EntryMode, type SynthTiming } from './synth';

let files = 0;

function entries(mode: EntryMode, count: number, dir: string): (string | undefined)[] {
  if (mode === 'reference') return Array.from({ length: count }, () => undefined);
  const write = (): string => {
    const id = ++files;
    const file = path.join(dir, `entry-${id}.ts`);
    // Distinct content per file (and per run), so every file is a distinct bundle.
    fs.writeFileSync(file, `export const handler = async (): Promise<{ statusCode: number; body: string }> => ({ statusCode: 200, body: JSON.stringify({ fn: ${id}, run: '${process.pid}-${Date.now()}' }) });\n`);
    return file;
  };
  if (mode === 'shared') {
    const file = write();
    return Array.from({ length: count }, () => file);
  }
  return Array.from({ length: count }, write);
}

function synthesize(cloud: Cloud, mode: EntryMode, n: number, workdir: string): number {
  const dir = fs.mkdtempSync(path.join(workdir, `${mode}-${n}-`));
  const start = performance.now();
  const functionEntries = entries(mode, n, dir);
  if (cloud === 'aws') {
    const app = new AwsApp({ outdir: path.join(dir, 'out') });
    const stack = new Stack(app, 'Bench');
    functionEntries.forEach((entry, i) => new IamFunctionUrl(stack, `Fn${i}`, { entry }));
    app.synth();
  } else {
    const app = new TfApp({ outdir: path.join(dir, 'out') });
    const stack = new TerraformStack(app, 'bench');
    new GoogleProvider(stack, 'google', { project: 's2s-bench', region: 'europe-west1' });
    functionEntries.forEach((entry, i) => new PrivateCloudFunction(stack, `Fn${i}`, { name: `fn-${i}`, region: 'europe-west1', entry }));
    app.synth();
  }
  const ms = performance.now() - start;
  fs.rmSync(dir, { recursive: true, force: true });
  return ms;
}

function main(): void {
  const [cloud, countList, repeatText, workdir] = process.argv.slice(2);
  const counts = (countList ?? '').split(',').map(Number);
  const repeats = Number(repeatText);
  if ((cloud !== 'aws' && cloud !== 'gcp') || !counts.every((n) => Number.isInteger(n) && n > 0) || !Number.isInteger(repeats) || !workdir) {
    throw new Error('usage: synth-app.js <aws|gcp> <counts, e.g. 1,10,50> <repeats> <workdir>');
  }
  synthesize(cloud, 'shared', 1, workdir);
  for (let r = 0; r < repeats; r++) {
    for (const n of counts) {
      // Rotate the mode order per repeat so that none always runs first.
      for (let k = 0; k < ENTRY_MODES.length; k++) {
        const mode = ENTRY_MODES[(k + r) % ENTRY_MODES.length];
        const timing: SynthTiming = { mode, n, ms: synthesize(cloud, mode, n, workdir) };
        console.log(JSON.stringify(timing));
      }
    }
  }
}

main();
