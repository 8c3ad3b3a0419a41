/**
 * Measurement helpers shared by the benchmark sections. Absolute times on a shared machine
 * are noise, so every figure that matters is a ratio between contenders measured in the same
 * process, in interleaved rounds: each round runs every contender once, in a rotated order,
 * and the ratio is taken per round before the median is. Drift (other processes, CPU
 * frequency, GC pressure) then hits both sides of each ratio alike. Throughput is counted in
 * CPU time of this process (`process.cpuUsage`), not wall time, so that time spent descheduled
 * while other processes run is not charged to whichever contender happened to be running.
 */
import { spawnSync } from 'node:child_process';

/** One thing being timed. */
export interface Contender {
  readonly name: string;
  /** Operations per round. */
  readonly ops: number;
  /**
   * Performs operation `i`; `i` counts up from 0 across rounds and never repeats, so a
   * contender can index a pool of distinct inputs. A returned promise is awaited before the next.
   */
  readonly run: (i: number) => unknown;
}

export interface Measured {
  readonly name: string;
  /** Median operations per CPU second over the rounds. */
  readonly opsPerSec: number;
  /** Median over the rounds of (this contender's ops/s ÷ the baseline's ops/s in the same round). */
  readonly ratio: number;
  /** Lowest and highest per-round ratio: the spread the median was taken from. */
  readonly low: number;
  readonly high: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Times `contenders` in `rounds` interleaved rounds after `warmup` unrecorded ones (which
 * consume inputs too: a contender needs `(warmup + rounds) × ops` distinct inputs). Ratios
 * are against `contenders[0]`. A full GC starts each round; young-generation collections
 * during a batch are paid by the contender whose allocations caused them.
 */
export async function interleaved(contenders: readonly Contender[], rounds: number, warmup = 1): Promise<Measured[]> {
  const rates: number[][] = contenders.map(() => []);
  const next = contenders.map(() => 0);
  for (let round = -warmup; round < rounds; round++) {
    collectGarbage();
    // Rotate who goes first so that no contender always runs right after the GC or a cold cache.
    for (let k = 0; k < contenders.length; k++) {
      const c = (k + Math.max(round, 0)) % contenders.length;
      const { ops, run } = contenders[c];
      let i = next[c];
      const start = process.cpuUsage();
      for (const end = i + ops; i < end; i++) {
        const pending = run(i);
        if (pending instanceof Promise) await pending;
      }
      const used = process.cpuUsage(start);
      const seconds = Math.max(1, used.user + used.system) / 1e6;
      next[c] = i;
      if (round >= 0) rates[c].push(ops / seconds);
    }
  }
  return contenders.map((c, index) => {
    const ratios = rates[index].map((rate, round) => rate / rates[0][round]);
    return { name: c.name, opsPerSec: median(rates[index]), ratio: median(ratios), low: Math.min(...ratios), high: Math.max(...ratios) };
  });
}

/**
 * Runs each command `runs` times, interleaved (command 1, 2, …, then again), and returns the
 * median wall-clock milliseconds of each, with what every run printed on stdout and stderr.
 */
export function spawnMedians(commands: readonly { readonly args: readonly string[]; readonly env?: NodeJS.ProcessEnv }[], runs: number): { ms: number; stdout: string[]; stderr: string[] }[] {
  const times: number[][] = commands.map(() => []);
  const outputs: string[][] = commands.map(() => []);
  const errors: string[][] = commands.map(() => []);
  for (let run = 0; run < runs; run++) {
    for (let k = 0; k < commands.length; k++) {
      const c = (k + run) % commands.length;
      const start = process.hrtime.bigint();
      const result = spawnSync(process.execPath, commands[c].args, { env: commands[c].env ?? process.env, encoding: 'utf8' });
      times[c].push(Number(process.hrtime.bigint() - start) / 1e6);
      if (result.status !== 0) throw new Error(`node ${commands[c].args.join(' ')} failed (${result.status}): ${result.stderr}`);
      outputs[c].push(result.stdout);
      errors[c].push(result.stderr);
    }
  }
  return times.map((t, c) => ({ ms: median(t), stdout: outputs[c], stderr: errors[c] }));
}

/** A markdown table with a title and notes, printed to the console and written to the docs. */
export class Table {
  private readonly rows: string[][] = [];
  private readonly notes: string[] = [];

  constructor(readonly title: string, private readonly headers: readonly string[]) {}

  row(...cells: readonly (string | number)[]): this {
    this.rows.push(cells.map(String));
    return this;
  }

  note(text: string): this {
    this.notes.push(text);
    return this;
  }

  render(): string {
    const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
    return [
      `### ${this.title}`,
      '',
      line([...this.headers]),
      line(this.headers.map(() => '---')),
      ...this.rows.map(line),
      ...(this.notes.length > 0 ? ['', ...this.notes.map((n) => `- ${n}`)] : []),
      '',
    ].join('\n');
  }
}

/**
 * `0.87 (0.81–0.93)`: the median ratio and its spread over the rounds. Give the median more
 * `digits` where a verdict is drawn from it, so that 0.849 is not shown as a missed 0.85.
 */
export function ratioCell(m: Measured, digits = 2): string {
  return `${m.ratio.toFixed(digits)} (${m.low.toFixed(2)}–${m.high.toFixed(2)})`;
}

export function opsCell(opsPerSec: number): string {
  return opsPerSec >= 1e6 ? `${(opsPerSec / 1e6).toFixed(2)} M` : opsPerSec >= 1e4 ? `${Math.round(opsPerSec / 1e3)} k` : `${(opsPerSec / 1e3).toFixed(1)} k`;
}

/** `met` or `MISSED`, for the target column. */
export function verdict(ok: boolean): string {
  return ok ? 'met' : '**MISSED**';
}

/** Sizes of the run: `--quick` shrinks every count for a smoke run. */
export interface Scale {
  readonly quick: boolean;
  /** Multiplies operation counts: 1 normally, small with `--quick`. */
  readonly factor: number;
  readonly rounds: number;
}

export function scaled(scale: Scale, n: number, min = 1): number {
  return Math.max(min, Math.round(n * scale.factor));
}
