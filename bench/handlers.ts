/**
 * Target 3: what gets deployed. The reference handlers are rebuilt (scripts/build-handlers.mjs,
 * as `npm test` does) and weighed; the same minimal IAP handler is written against each peer
 * and bundled with the same esbuild settings in a temporary directory, so the comparison is
 * live. Cold start: each bundle is required by a fresh `node`, interleaved with bare `node -e 0`
 * runs, and the median extra wall-clock time is the module's load cost.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { median, scaled, spawnMedians, Table, verdict, type Scale } from './harness';

const SIZE_LIMIT_KB = 30;
const LOAD_LIMIT_MS = 15;

/** The same IAP handler (verify the signed header, answer with the user) written for each peer. */
const PEER_HANDLERS: Record<string, string> = {
  'jose only': `
import { createRemoteJWKSet, jwtVerify } from 'jose';
const jwks = createRemoteJWKSet(new URL('https://www.gstatic.com/iap/verify/public_key-jwk'));
export async function handler(req, res) {
  try {
    const { payload } = await jwtVerify(req.headers['x-goog-iap-jwt-assertion'], jwks, { issuer: 'https://cloud.google.com/iap', audience: process.env.S2S_IAP_AUDIENCE, algorithms: ['ES256'] });
    res.status(200).json({ sub: payload.sub, email: payload.email });
  } catch {
    res.status(401).json({ error: 'unauthorized' });
  }
}`,
  'aws-jwt-verify': `
import { JwtVerifier } from 'aws-jwt-verify';
const verifier = JwtVerifier.create({ issuer: 'https://cloud.google.com/iap', audience: process.env.S2S_IAP_AUDIENCE, jwksUri: 'https://www.gstatic.com/iap/verify/public_key-jwk' });
export async function handler(req, res) {
  try {
    const payload = await verifier.verify(req.headers['x-goog-iap-jwt-assertion']);
    res.status(200).json({ sub: payload.sub, email: payload.email });
  } catch {
    res.status(401).json({ error: 'unauthorized' });
  }
}`,
  'google-auth-library': `
import { OAuth2Client } from 'google-auth-library';
const client = new OAuth2Client();
export async function handler(req, res) {
  try {
    const { pubkeys } = await client.getIapPublicKeys();
    const ticket = await client.verifySignedJwtWithCertsAsync(req.headers['x-goog-iap-jwt-assertion'], pubkeys, process.env.S2S_IAP_AUDIENCE, ['https://cloud.google.com/iap']);
    const payload = ticket.getPayload();
    res.status(200).json({ sub: payload.sub, email: payload.email });
  } catch {
    res.status(401).json({ error: 'unauthorized' });
  }
}`,
};

/**
 * What every handler needs to configure itself at cold start without complaint (a
 * misconfigured handler skips building its verifier, so it would load faster than a real one).
 */
const HANDLER_ENV = {
  S2S_IAP_AUDIENCE: '/projects/123456789012/global/backendServices/4567890123456789',
  S2S_AUDIENCE: 'https://europe-west1-s2s-bench.cloudfunctions.net/orders',
  S2S_ALLOWED_CALLERS: 'arn:aws:iam::111122223333:role/billing',
  S2S_ENDPOINTS_ISSUERS: 'billing-caller@s2s-bench.iam.gserviceaccount.com',
  S2S_OAUTH_ISSUER: 'https://auth.example.com/oidc',
  S2S_OAUTH_JWKS_URI: 'https://auth.example.com/oidc/jwks',
  S2S_OAUTH_AUDIENCE: 'https://api.example.com',
};

/**
 * What any handler pays before its own code runs, measured the same way: Node's loader
 * reading its first module file, and loading node:crypto, which every verifier needs.
 */
const CONTROLS: Record<string, string> = {
  'control: an empty module': '',
  'control: a module that only loads `node:crypto`': 'require("node:crypto");',
};

interface Bundle {
  readonly name: string;
  readonly file: string;
  readonly s2s: boolean;
}

function peerBundles(root: string, dir: string): Bundle[] {
  return Object.entries(PEER_HANDLERS).map(([name, source]) => {
    const slug = name.replace(/\W+/g, '-');
    const entry = path.join(dir, `${slug}.mjs`);
    fs.writeFileSync(entry, source);
    const file = path.join(dir, slug, 'index.js');
    // The settings of scripts/build-handlers.mjs; node_modules of this package resolve the peers.
    buildSync({ entryPoints: [entry], outfile: file, bundle: true, platform: 'node', format: 'cjs', target: 'node20', minify: true, legalComments: 'none', nodePaths: [path.join(root, 'node_modules')], logLevel: 'error' });
    return { name: `${name} (IAP)`, file, s2s: false };
  });
}

export function handlerSection(scale: Scale): Table[] {
  const root = process.cwd();
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-handlers.mjs')], { stdio: 'ignore' });
  const handlersDir = path.join(root, 'dist', 'handlers');
  const ours: Bundle[] = fs.readdirSync(handlersDir)
    .filter((name) => fs.existsSync(path.join(handlersDir, name, 'index.js')))
    .map((name) => ({ name: `s2s-auth \`${name}\``, file: path.join(handlersDir, name, 'index.js'), s2s: true }));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 's2s-bench-handlers-'));
  try {
    const controls: Bundle[] = Object.entries(CONTROLS).map(([name, source], i) => {
      const file = path.join(tmp, `control-${i}.js`);
      fs.writeFileSync(file, source);
      return { name, file, s2s: false };
    });
    const bundles = [...ours, ...peerBundles(root, tmp), ...controls];
    // Wall times of single spawns swing by ±10 ms here: enough runs for a steady median.
    const runs = scaled(scale, 31, 3);
    // In-process load time, printed by the child, is steadier than wall time; both are reported.
    const load = 'const t=process.hrtime.bigint();require(process.argv[1]);process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
    const env = { ...process.env, ...HANDLER_ENV };
    const timed = spawnMedians([{ args: ['-e', '0'], env }, ...bundles.map((b) => ({ args: ['-e', load, b.file], env }))], runs);
    const complaint = timed.findIndex((t) => t.stderr.some((e) => e !== ''));
    if (complaint >= 0) throw new Error(`bench: loading ${complaint === 0 ? 'node -e 0' : bundles[complaint - 1].file} wrote to stderr: ${timed[complaint].stderr.find((e) => e !== '')}`);
    const bare = timed[0].ms;
    const table = new Table('Deployed handler bundles: size and cold start', ['bundle', 'minified size', `target ≤ ${SIZE_LIMIT_KB} KB`, 'load: extra wall time over bare `node -e 0`', 'load: `require` time in process, above the empty module', `target ≤ ${LOAD_LIMIT_MS} ms`]);
    // The in-process figure of the empty-module control: the loader's own first-file cost.
    const emptyRequire = median(timed[bundles.indexOf(controls[0]) + 1].stdout.map(Number));
    bundles.forEach((b, i) => {
      const kb = fs.statSync(b.file).size / 1024;
      const extra = timed[i + 1].ms - bare;
      const inProcess = median(timed[i + 1].stdout.map(Number)) - emptyRequire;
      const size = controls.includes(b) ? '' : `${kb.toFixed(1)} KB`;
      table.row(b.s2s ? `**${b.name}**` : b.name, size, b.s2s ? verdict(kb <= SIZE_LIMIT_KB) : '', `${extra.toFixed(1)} ms`, `${inProcess.toFixed(1)} ms`, b.s2s ? verdict(extra <= LOAD_LIMIT_MS) : '');
    });
    table.note(`Bare \`node -e 0\`: ${bare.toFixed(0)} ms median wall time. Medians of ${runs} spawns per bundle, interleaved. Sizes are bytes on disk / 1024 of esbuild's minified CommonJS output (settings of scripts/build-handlers.mjs).`);
    table.note('Every handler is configured as deployed (no misconfiguration shortcut); the control rows show what the loader and `node:crypto` cost on this machine before any handler code runs.');
    return [table];
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}
