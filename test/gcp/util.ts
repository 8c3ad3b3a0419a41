import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { App, TerraformStack, Testing } from 'cdktf';
import { GoogleProvider } from '@cdktf/provider-google/lib/provider';

export const FIXTURE_HANDLER = path.join(__dirname, 'fixtures', 'handler.ts');

/** A stack with a Google provider, in a fresh testing app. */
export function newStack(id = 'test'): TerraformStack {
  const app: App = Testing.app();
  const stack = new TerraformStack(app, id);
  new GoogleProvider(stack, 'google', { project: 'test-project', region: 'europe-west1' });
  return stack;
}

export type Synthesized = { resource: Record<string, Record<string, Record<string, unknown>>>; output?: Record<string, Record<string, unknown>> };

export function synthJson(stack: TerraformStack): Synthesized {
  return JSON.parse(Testing.synth(stack)) as Synthesized;
}

/** All resources of one type, as a list. */
export function resources(stack: TerraformStack, type: string): Record<string, unknown>[] {
  return Object.values(synthJson(stack).resource[type] ?? {});
}

/** Writes the stack like `cdktf synth` does; returns the stack's directory and its manifest entry. */
export function fullSynth(stack: TerraformStack): { dir: string; annotations: { constructPath: string; level: string; message: string }[] } {
  const outdir = Testing.fullSynth(stack);
  const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
  const entry = manifest.stacks[stack.node.id];
  return { dir: path.join(outdir, path.dirname(entry.synthesizedStackPath)), annotations: entry.annotations };
}

/** File names in a zip and a reader for one of them (Info-ZIP's unzip). */
export function readZip(zip: string): { names: string[]; read(name: string): string } {
  const listing = execFileSync('unzip', ['-Z1', zip], { encoding: 'utf8' });
  return {
    names: listing.split('\n').filter(Boolean).sort(),
    read: (name) => execFileSync('unzip', ['-p', zip, name], { encoding: 'utf8' }),
  };
}
