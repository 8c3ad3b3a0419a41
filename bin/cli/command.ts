import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CredentialError } from '../../lib/client/errors';

/**
 * What every `s2s` command shares: option specs that drive both `parseArgs` and `--help`,
 * usage errors, exit codes, reading files or stdin, and turning any failure into one line on
 * stderr (or a JSON object with `--json`) and an exit code. No stack trace ever reaches the user.
 */

/** Exit codes, the same for every command (listed in every `--help`). */
export const EXIT = {
  /** The request succeeded, the token was issued, or every check passed. */
  OK: 0,
  /** Authentication or HTTP failure: HTTP >= 400, a refused credential, a failed check, an unreachable endpoint. */
  FAILED: 1,
  /** The command line is wrong: unknown option, missing argument, unreadable file or key. */
  USAGE: 2,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** One option: what `parseArgs` needs plus what `--help` shows. */
export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** Placeholder in `--help`, e.g. `URL`. */
  readonly value?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  /** Full command, e.g. `s2s token id`. */
  readonly name: string;
  /** Positional arguments as shown after the name, e.g. `URL`. */
  readonly args: string;
  readonly summary: string;
  /** Paragraphs shown under the summary. */
  readonly description?: readonly string[];
  readonly options: O;
  /** Environment variables the command reads, with what they do. */
  readonly environment?: Readonly<Record<string, string>>;
  /** Copy-paste examples. */
  readonly examples: readonly string[];
  /** Options refused on purpose (e.g. a secret as an argument), with why and what to use instead. */
  readonly refused?: Readonly<Record<string, string>>;
}

/** Options every command takes. */
const COMMON = {
  json: { type: 'boolean', help: 'print a JSON object instead of text (errors too, on stderr)' },
  help: { type: 'boolean', short: 'h', help: 'show this help' },
} as const satisfies OptionSpecs;

/** The command line is wrong; the message says what and how to correct it. Exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A failure that is not an exception of the libraries (e.g. HTTP 403 from the function URL). Exit code 1. */
export class CommandFailure extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'CommandFailure';
  }
}

type Values<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['multiple'] extends true ? string[] : string;
} & { json?: boolean };

export interface Parsed<O extends OptionSpecs> {
  readonly values: Values<O>;
  readonly positionals: string[];
}

/** The arguments that may be options: everything before a `--`. */
function optionArgs(args: readonly string[]): readonly string[] {
  const end = args.indexOf('--');
  return end < 0 ? args : args.slice(0, end);
}

/** True when `args` ask for help. */
function wantsHelp(args: readonly string[]): boolean {
  return optionArgs(args).some((a) => a === '--help' || a === '-h');
}

/** True when `args` ask for JSON output, so even a usage error can be reported as JSON. */
function wantsJson(args: readonly string[]): boolean {
  return optionArgs(args).includes('--json');
}

/** Strict `parseArgs` over the command's options; bad input becomes a UsageError naming the option. */
function parse<O extends OptionSpecs>(spec: CommandSpec<O>, args: readonly string[]): Parsed<O> {
  for (const arg of optionArgs(args)) {
    const name = /^--([^=]+)/.exec(arg)?.[1];
    if (name !== undefined && spec.refused && Object.hasOwn(spec.refused, name)) throw new UsageError(`--${name} is not accepted: ${spec.refused[name]}`);
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, option] of Object.entries<OptionSpec>({ ...spec.options, ...COMMON })) {
    // parseArgs refuses keys that are present but undefined.
    options[name] = { type: option.type, ...(option.short ? { short: option.short } : {}), ...(option.multiple ? { multiple: true } : {}) };
  }
  try {
    const { values, positionals } = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
    return { values: values as Values<O>, positionals };
  } catch (err) {
    // Node's messages name the option and the problem ("Option '--audience <value>' argument missing").
    throw new UsageError((err as Error).message);
  }
}

/** A required single-valued option, or a UsageError saying which one is missing. */
export function required(value: string | undefined, flag: string, example: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${flag} is required, e.g. ${flag} ${example}`);
  return value;
}

/** A required repeatable option: at least one value. */
export function requiredList(values: string[] | undefined, flag: string, example: string): string[] {
  required(values?.[0], flag, example);
  return values!;
}

/** Splits "a b" and repeated flags into one list (scopes). */
export function words(values: readonly string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(' ')).filter(Boolean);
}

/** Exactly as many positional arguments as `names` lists; a missing one is named in the error. */
export function positionals(parsed: Parsed<OptionSpecs>, names: readonly string[]): string[] {
  const { positionals: got } = parsed;
  if (got.length < names.length) throw new UsageError(`missing ${names.slice(got.length).join(' and ')}`);
  if (got.length > names.length) throw new UsageError(`unexpected argument ${JSON.stringify(got[names.length])} (options start with -- ; quote values that contain spaces)`);
  return got;
}

/** Reads a file, or all of stdin for `-`. */
export function readInput(path: string, flag: string): Buffer {
  try {
    return readFileSync(path === '-' ? 0 : path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'it is a directory' : (code ?? String(err));
    throw new UsageError(`${flag}: cannot read ${path === '-' ? 'stdin' : JSON.stringify(path)} (${why})`);
  }
}

/** The help text of a command, generated from its spec. */
function helpText(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.name}${spec.args ? ` ${spec.args}` : ''} [options]`, '', wrap(spec.summary, WIDTH)];
  for (const paragraph of spec.description ?? []) lines.push('', wrap(paragraph, WIDTH));
  lines.push('', 'Options:');
  const entries = Object.entries<OptionSpec>({ ...spec.options, ...COMMON }).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.value ? ` ${o.value}` : ''}`;
    return [flag, `${o.help}${o.multiple ? ' (repeatable)' : ''}`] as const;
  });
  lines.push(...table(entries));
  if (spec.refused) {
    lines.push('', 'Not accepted:');
    lines.push(...table(Object.entries(spec.refused).map(([name, why]) => [`--${name}`, why] as const)));
  }
  if (spec.environment) {
    lines.push('', 'Environment:');
    lines.push(...table(Object.entries(spec.environment)));
  }
  lines.push('', 'Exit codes:', ...table([
    ['0', 'success'],
    ['1', 'authentication or HTTP failure (HTTP status >= 400, credential refused, check failed, endpoint unreachable)'],
    ['2', 'usage error (unknown or missing option, unreadable file or key)'],
  ]));
  lines.push('', spec.examples.length > 1 ? 'Examples:' : 'Example:', ...spec.examples.map((e) => `  ${e}`));
  return `${lines.join('\n')}\n`;
}

const WIDTH = 100;

/** Two columns; a left cell wider than 32 gets a line of its own, the right one wraps under itself. */
function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.min(32, Math.max(...rows.map(([left]) => left.length)));
  const pad = ' '.repeat(width + 4);
  return rows.map(([left, right]) => {
    const text = wrap(right, WIDTH - pad.length).replace(/\n/g, `\n${pad}`);
    return left.length > width ? `  ${left}\n${pad}${text}` : `  ${left.padEnd(width)}  ${text}`;
  });
}

/** Breaks `text` into lines of at most `width` characters at spaces (longer words stay whole). */
function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line].join('\n');
}

export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** How to name the library's options on the command line (`keyFile` → `--key-file`). */
export type FlagNames = Readonly<Record<string, string>>;

/**
 * Reports any error on stderr and returns the exit code: usage problems and unusable local
 * inputs (INVALID_OPTION, BAD_KEY) exit 2, everything else 1. Messages come from the
 * libraries, which never put secrets in them.
 */
function report(err: unknown, command: string, json: boolean, flags: FlagNames = {}): ExitCode {
  const { code, message, exit } = describe(err, flags);
  if (json) {
    process.stderr.write(`${JSON.stringify({ error: { code, message, exitCode: exit } })}\n`);
  } else {
    process.stderr.write(`${command}: ${message}\n`);
    if (exit === EXIT.USAGE) process.stderr.write(`Run '${command} --help' for usage.\n`);
  }
  return exit;
}

function describe(err: unknown, flags: FlagNames): { code: string; message: string; exit: ExitCode } {
  if (err instanceof UsageError) return { code: 'USAGE', message: err.message, exit: EXIT.USAGE };
  if (err instanceof CommandFailure) return { code: err.code, message: err.message, exit: EXIT.FAILED };
  if (err instanceof CredentialError) {
    const flag = err.option === undefined ? undefined : flags[err.option];
    const local = err.code === 'INVALID_OPTION' || err.code === 'BAD_KEY';
    return { code: err.code, message: flag ? `${flag}: ${err.message}` : err.message, exit: local ? EXIT.USAGE : EXIT.FAILED };
  }
  return { code: 'UNEXPECTED', message: `unexpected error: ${err instanceof Error ? err.message : String(err)}`, exit: EXIT.FAILED };
}

/** A runnable command: its spec, how to run it, and how its flags map to the library's option names. */
export interface Command {
  readonly spec: CommandSpec;
  /** Library option name → flag or environment variable, so errors name what the user typed. */
  readonly flags?: FlagNames | ((parsed: Parsed<OptionSpecs>) => FlagNames);
  run(parsed: Parsed<OptionSpecs>): Promise<ExitCode>;
}

/** Typed construction of a {@link Command}: `run` sees the values of exactly the spec's options. */
export function command<O extends OptionSpecs>(spec: CommandSpec<O>, run: (parsed: Parsed<O>) => Promise<ExitCode>, flags?: FlagNames | ((parsed: Parsed<O>) => FlagNames)): Command {
  return { spec, run: run as Command['run'], flags: flags as Command['flags'] };
}

/** A command with subcommands (`s2s token id`, `s2s verify iap`, ...). */
export interface Group {
  readonly name: string;
  readonly summary: string;
  /** By name: a one-line summary for `--help`, and the subcommand, loaded only when it runs. */
  readonly subcommands: Readonly<Record<string, { readonly summary: string; load(): Promise<Command | Group> }>>;
  readonly examples: readonly string[];
}

/** Runs a command or group with `args`; failures are reported on stderr and become the exit code. */
export async function run(target: Command | Group, args: readonly string[]): Promise<ExitCode> {
  return 'run' in target ? runCommand(target, args) : runGroup(target, args);
}

async function runCommand(target: Command, args: readonly string[]): Promise<ExitCode> {
  if (wantsHelp(args)) {
    print(helpText(target.spec));
    return EXIT.OK;
  }
  let parsed: Parsed<OptionSpecs> | undefined;
  try {
    parsed = parse(target.spec, args);
    return await target.run(parsed);
  } catch (err) {
    const flags = typeof target.flags === 'function' ? (parsed ? target.flags(parsed) : {}) : target.flags;
    return report(err, target.spec.name, wantsJson(args), flags);
  }
}

async function runGroup(group: Group, args: readonly string[]): Promise<ExitCode> {
  const [name, ...rest] = args;
  if (name === undefined) {
    process.stderr.write(groupHelp(group));
    return EXIT.USAGE;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    print(groupHelp(group));
    return EXIT.OK;
  }
  const subcommand = Object.hasOwn(group.subcommands, name) ? group.subcommands[name] : undefined;
  if (!subcommand) {
    const known = Object.keys(group.subcommands).join(', ');
    return report(new UsageError(`unknown command ${JSON.stringify(name)}; expected one of ${known}`), group.name, wantsJson(args));
  }
  return run(await subcommand.load(), rest);
}

function groupHelp(group: Group): string {
  return [
    `Usage: ${group.name} COMMAND [options]`,
    '',
    wrap(group.summary, WIDTH),
    '',
    'Commands:',
    ...table(Object.entries(group.subcommands).map(([name, { summary }]) => [name, summary] as const)),
    '',
    `Run '${group.name} COMMAND --help' for the options of a command.`,
    '',
    'Exit codes: 0 success, 1 authentication or HTTP failure, 2 usage error.',
    '',
    group.examples.length > 1 ? 'Examples:' : 'Example:',
    ...group.examples.map((e) => `  ${e}`),
    '',
  ].join('\n');
}
