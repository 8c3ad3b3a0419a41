/**
 * The benchmark run behind `npm run bench` (see bench/run.mjs for the flags). Sections print
 * markdown tables as they finish; `--write` puts the whole run into docs/BENCHMARKS.md between
 * its `bench:start` / `bench:end` markers, with the command and the machine.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KeySetServer } from '../test/peers/keyset-server';
import { clientSection } from './client';
import { handlerSection } from './handlers';
import { keySetSection } from './keysets';
import { synthSection } from './synth';
import type { Scale, Table } from './harness';
import { verificationSection } from './verify';

const SECTIONS = ['verify', 'keysets', 'client', 'handlers', 'synth'] as const;
type Section = (typeof SECTIONS)[number];

function parseArgs(argv: readonly string[]): { scale: Scale; only: ReadonlySet<Section>; write: boolean } {
  let only: Section[] = [...SECTIONS];
  let quick = false;
  let write = false;
  for (const arg of argv) {
    if (arg === '--quick') quick = true;
    else if (arg === '--write') write = true;
    else if (arg.startsWith('--only=')) {
      only = arg.slice('--only='.length).split(',') as Section[];
      const bad = only.find((s) => !SECTIONS.includes(s));
      if (bad !== undefined) throw new Error(`bench: unknown section ${JSON.stringify(bad)}; choose from ${SECTIONS.join(', ')}`);
    } else {
      throw new Error(`bench: unknown argument ${JSON.stringify(arg)}; use --quick, --only=${SECTIONS.join(',')} or --write`);
    }
  }
  return { scale: quick ? { quick, factor: 0.2, rounds: 6 } : { quick, factor: 1, rounds: 20 }, only: new Set(only), write };
}

function machine(load: readonly number[]): string {
  const cpus = os.cpus();
  return `Node ${process.version} (V8 ${process.versions.v8}, OpenSSL ${process.versions.openssl}), ${os.type()} ${os.release()} ${os.arch()}, `
    + `${cpus.length} × ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB; `
    + `load average ${load.map((l) => l.toFixed(1)).join(' / ')} at the start (the machine was shared)`;
}

async function main(): Promise<void> {
  const { scale, only, write } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const load = os.loadavg();
  const tables: Table[] = [];
  const show = (done: Table[]): void => {
    for (const table of done) console.log(table.render());
    tables.push(...done);
  };
  const server = await KeySetServer.start();
  try {
    if (only.has('verify')) show(await verificationSection(server, scale));
    if (only.has('keysets')) show(await keySetSection(server, scale));
    if (only.has('client')) show(await clientSection(scale));
    if (only.has('handlers')) show(handlerSection(scale));
    if (only.has('synth')) show(synthSection(scale));
  } finally {
    await server.close();
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  console.log(`bench: ${seconds} s`);
  if (write) {
    const argv = process.argv.slice(2).filter((a) => a !== '--write');
    const header = [
      `Command: \`npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}\` (${seconds} s), ${new Date(started).toISOString().slice(0, 10)}.`,
      '',
      `Machine: ${machine(load)}.`,
      '',
    ].join('\n');
    const doc = path.join(process.cwd(), 'docs', 'BENCHMARKS.md');
    const text = readFileSync(doc, 'utf8');
    const start = '<!-- bench:start -->';
    const end = '<!-- bench:end -->';
    if (!text.includes(start) || !text.includes(end)) throw new Error(`bench: ${doc} has no ${start} … ${end} markers to write between`);
    const body = [header, ...tables.map((t) => t.render())].join('\n');
    writeFileSync(doc, `${text.slice(0, text.indexOf(start) + start.length)}\n${body}${text.slice(text.indexOf(end))}`);
    console.log(`bench: wrote ${path.relative(process.cwd(), doc)}`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
