import { readFileSync } from 'node:fs';
import { print, run, type ExitCode, type Group } from './command';

// Commands load on demand: `s2s token` and `s2s verify` never pay for the AWS SDK.
const s2s: Group = {
  name: 's2s',
  summary: 'Debug service-to-service auth on AWS and Google Cloud: call IAM-protected function URLs, mint the tokens callers send, and explain why a token is accepted or refused.',
  subcommands: {
    curl: { summary: 'call a Lambda function URL with SigV4 (AWS_IAM auth), like awscurl', load: async () => (await import('./curl.js')).curl },
    token: { summary: 'print an ID token, a service-account JWT or an OAuth access token', load: async () => (await import('./token.js')).token },
    verify: { summary: 'verify a token and explain every check, passed or failed', load: async () => (await import('./verify.js')).verify },
  },
  examples: [
    's2s curl https://abcdefghij0123456789abcdef012345.lambda-url.eu-west-1.on.aws/ --role-arn arn:aws:iam::123456789012:role/caller',
    's2s token id --audience https://orders-abc123-ew.a.run.app | s2s verify id-token - --audience https://orders-abc123-ew.a.run.app',
  ],
};

/** Runs `s2s` with `argv` (without the node and script paths) and resolves to the exit code. */
export function main(argv: readonly string[]): Promise<ExitCode> {
  if (argv[0] === '--version') {
    print(version());
    return Promise.resolve(0);
  }
  return run(s2s, argv);
}

function version(): string {
  // Resolved through the package's own exports, so it works from the source tree and from dist.
  const { version: v } = JSON.parse(readFileSync(require.resolve('s2s-auth/package.json'), 'utf8')) as { version: string };
  return `s2s ${v}`;
}
