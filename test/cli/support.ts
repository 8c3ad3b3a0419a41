import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { closedPort } from '../client/util';

/**
 * Runs the BUILT command as a user would: `node dist/bin/s2s.js ARGS` in a child process, with
 * a clean environment (no AWS_* / GCE_* / S2S_* from the test process, HOME in an empty
 * directory so no ~/.aws config is read, no EC2 metadata lookups) plus what the test passes.
 * The child runs asynchronously, so loopback peers in this process keep answering it.
 */

const repoRoot = path.resolve(__dirname, '..', '..');
const entry = path.join(repoRoot, 'dist', 'bin', 's2s.js');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-cli-home-'));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  /** stdout as the bytes written, for binary output. */
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

export interface CliOptions {
  readonly env?: Readonly<Record<string, string>>;
  /** Written to the command's stdin, which is then closed. @default nothing (stdin closed) */
  readonly stdin?: string;
}

export function s2s(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  const env = { PATH: process.env.PATH, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...options.env };
  const child = spawn(process.execPath, [entry, ...args], { env, cwd: home, stdio: ['pipe', 'pipe', 'pipe'] });
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const stdoutBytes = Buffer.concat(stdout);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stdoutBytes, stderr });
    });
  });
}

/** `http://127.0.0.1:PORT` for a port nothing listens on (just released by the kernel). */
export async function closedUrl(): Promise<string> {
  return `http://127.0.0.1:${await closedPort()}`;
}

/** Writes `content` to a fresh file in a temporary directory and returns its path. */
export function tempFile(name: string, content: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-cli-'));
  const file = path.join(dir, name);
  fs.writeFileSync(file, content, { mode: 0o600 });
  return file;
}

/**
 * Fails with the command to run when dist/ is older than the sources the CLI is built from,
 * so a test never passes or fails on yesterday's build.
 */
export function assertBuilt(): void {
  for (const dir of ['bin', 'lib/client', 'lib/verify']) {
    for (const source of fs.readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' })) {
      if (!source.endsWith('.ts') || source.endsWith('.d.ts')) continue;
      const built = path.join(repoRoot, 'dist', dir, source.replace(/\.ts$/, '.js'));
      const sourcePath = path.join(repoRoot, dir, source);
      if (!fs.existsSync(built) || fs.statSync(built).mtimeMs < fs.statSync(sourcePath).mtimeMs) {
        throw new Error(`dist is older than ${path.join(dir, source)}; run 'npx tsc -p tsconfig.build.json' before the CLI tests`);
      }
    }
  }
}
