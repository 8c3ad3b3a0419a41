import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { referenceHandler, type ReferenceHandler } from '../../lib/bundling';

/**
 * Runs a built handler bundle inside the real `@google-cloud/functions-framework`, started the
 * way Cloud Functions (gen 1 and gen 2) start it: the framework's own CLI in a child process,
 * configured only by environment variables (`PORT`, `FUNCTION_TARGET`, `FUNCTION_SOURCE`, ...).
 * A child process is what makes cold-start configuration honest: the handler reads
 * `process.env` once when the framework loads it, exactly as in production.
 */
export interface FunctionsFrameworkOptions {
  /** A reference handler: a copy of `dist/handlers/<name>/index.js` (build it with `node scripts/build-handlers.mjs`). */
  readonly handler?: ReferenceHandler;
  /** Or any directory holding a loadable module (`index.js` or a `package.json` `main`). */
  readonly source?: string;
  /** Exported function to serve. @default 'handler' */
  readonly target?: string;
  /** The function's environment variables, as the construct would set them. */
  readonly env?: Readonly<Record<string, string>>;
  /** Milliseconds to wait for the framework to listen. @default 15000 */
  readonly startTimeoutMs?: number;
}

export interface RunningFunction {
  /** Base URL on 127.0.0.1, without a trailing slash. */
  readonly url: string;
  /** Everything the function process wrote to stdout and stderr so far. */
  logs(): string;
  /** Stops the function process and waits for it to exit. */
  stop(): Promise<void>;
}

const frameworkMain = path.join(path.dirname(require.resolve('@google-cloud/functions-framework')), 'main.js');
const repoRoot = path.resolve(__dirname, '..', '..');

export async function startFunction(options: FunctionsFrameworkOptions): Promise<RunningFunction> {
  const source = options.source ?? deployedCopy(options.handler);
  const removeCopy = (): void => {
    if (source !== options.source) fs.rmSync(source, { recursive: true, force: true });
  };
  // The port is picked by the kernel, released, then handed to the framework (which only takes
  // PORT); if another process wins the race, the child fails to listen and we try again.
  for (let attempt = 1; ; attempt++) {
    try {
      const running = await launch(source, await freePort(), options);
      return { ...running, stop: () => running.stop().finally(removeCopy) };
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortTaken)) {
        removeCopy();
        throw err;
      }
    }
  }
}

function deployedCopy(name: ReferenceHandler | undefined): string {
  if (!name) throw new Error('startFunction: pass `handler` (a reference handler name) or `source` (a directory)');
  const { dir } = referenceHandler(name);
  // A bundle older than the code it is built from would test yesterday's handler.
  const built = fs.statSync(path.join(dir, 'index.js')).mtimeMs;
  const newer = ['lib/handlers', 'lib/verify'].flatMap((d) => sourcesUnder(path.join(repoRoot, d))).find((f) => fs.statSync(f).mtimeMs > built);
  if (newer) throw new Error(`dist/handlers/${name}/index.js is older than ${path.relative(repoRoot, newer)}; run 'node scripts/build-handlers.mjs'`);
  // Deployed, the bundle sits alone: run a copy outside the repo so a dependency the bundle
  // failed to inline cannot be found in our node_modules.
  const deployed = fs.mkdtempSync(path.join(os.tmpdir(), `s2s-ff-${name}-`));
  fs.copyFileSync(path.join(dir, 'index.js'), path.join(deployed, 'index.js'));
  return deployed;
}

function sourcesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

class PortTaken extends Error {}

function launch(source: string, port: number, options: FunctionsFrameworkOptions): Promise<RunningFunction> {
  const env: NodeJS.ProcessEnv = {
    // Nothing from the test process leaks in (no stray S2S_* variables): only what the platform sets.
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    PORT: String(port),
    FUNCTION_TARGET: options.target ?? 'handler',
    FUNCTION_SOURCE: source,
    FUNCTION_SIGNATURE_TYPE: 'http',
    K_SERVICE: 's2s-test',
    K_REVISION: 's2s-test-00001',
    ...options.env,
  };
  const child = spawn(process.execPath, [frameworkMain], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const running: RunningFunction = { url, logs: () => output, stop: () => stop(child, exited) };

  return new Promise<RunningFunction>((resolve, reject) => {
    const deadline = Date.now() + (options.startTimeoutMs ?? 15000);
    let done = false;
    child.once('exit', (code, signal) => {
      if (done) return;
      done = true;
      const why = `functions-framework exited before listening (code ${code}, signal ${signal})`;
      reject(/EADDRINUSE/.test(output) ? new PortTaken(why) : new Error(`${why}:\n${output}`));
    });
    const probe = (): void => {
      if (done) return;
      // The framework answers /robots.txt with 404 itself, without invoking the function.
      const req = http.get(`${url}/robots.txt`, (res) => {
        res.resume();
        if (done) return;
        done = true;
        resolve(running);
      });
      req.setTimeout(1000, () => req.destroy());
      req.once('error', () => {
        if (done) return;
        if (Date.now() > deadline) {
          done = true;
          void stop(child, exited).then(() => reject(new Error(`functions-framework did not listen on ${url} within the timeout:\n${output}`)));
        } else {
          setTimeout(probe, 25);
        }
      });
    };
    probe();
  });
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
