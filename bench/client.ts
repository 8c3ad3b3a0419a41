/**
 * Target 5: the caller side. `LambdaUrlClient` against the loopback STS (which checks the
 * client's own SigV4 signature as AWS does): one AssumeRole per credential lifetime however many
 * requests, and a per-request signing cost close to bare `@smithy/signature-v4` signing the same
 * request with the same credentials. The token sources must share one token request between
 * 1,000 concurrent callers.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { ClientCredentialsTokenSource, GoogleIdTokenSource, LambdaUrlClient } from '../lib/client';
import { startGoogleTokenServer, testServiceAccount } from '../test/peers/google-token';
import { verifySigV4 } from '../test/peers/sigv4-server';
import { startSts } from '../test/peers/sts';
import { interleaved, opsCell, ratioCell, scaled, Table, verdict, type Scale } from './harness';

const REGION = 'eu-west-1';
const ROLE_ARN = 'arn:aws:iam::123456789012:role/s2s-bench-caller';
const SOURCE = { accessKeyId: 'AKIAS2SBENCHSOURCE01', secretAccessKey: 'bench/source/secret/key/0000000000000000' };
const FUNCTION_URL = 'https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/orders?limit=10';
const BODY = JSON.stringify({ orderId: 'o-123', items: [{ sku: 'sku-1', quantity: 2 }], note: 'x'.repeat(200) });
const SIGN_COST_LIMIT = 1.2;

export async function clientSection(scale: Scale): Promise<Table[]> {
  const concurrent = scale.quick ? 200 : 1000;
  const table = new Table(`Caller side: ${concurrent} concurrent requests`, ['client', 'upstream requests', 'target', 'result']);
  const signing = await lambdaUrl(table, concurrent, scale);
  await tokenSources(table, concurrent);
  return [table, signing];
}

async function lambdaUrl(table: Table, concurrent: number, scale: Scale): Promise<Table> {
  const sts = await startSts({ region: REGION, sourceCredentials: [SOURCE], roles: [{ roleArn: ROLE_ARN }] });
  try {
    const client = new LambdaUrlClient({ region: REGION, roleArn: ROLE_ARN, credentials: SOURCE, stsEndpoint: sts.url });
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: BODY };
    const signed = await Promise.all(Array.from({ length: concurrent }, () => client.sign(FUNCTION_URL, init)));
    table.row('**s2s-auth `LambdaUrlClient.sign`** (STS AssumeRole)', sts.issued(), '1 AssumeRole per credential lifetime', verdict(sts.issued() === 1));

    // The credentials the client received, read back from its signature, sign for the bare signer.
    const first = signed[0];
    const accessKeyId = /Credential=([^/]+)\//.exec(first.headers.authorization)![1];
    const url = new URL(FUNCTION_URL);
    const caller = await verifySigV4({ method: first.method, url: `${url.pathname}${url.search}`, headers: first.headers }, Buffer.from(BODY), { service: 'lambda', region: REGION, lookup: sts.lookup });
    if (caller.accessKeyId !== accessKeyId) throw new Error('bench: the client signed with credentials STS did not issue');
    const bare = new SignatureV4({ service: 'lambda', region: REGION, sha256: Hash.bind(null, 'sha256'), credentials: caller });
    const query = Object.fromEntries(url.searchParams);
    const ops = scaled(scale, 2000, 50);
    const [smithy, s2s] = await interleaved([
      {
        name: 'bare @smithy/signature-v4',
        ops,
        run: () => bare.sign({ method: 'POST', protocol: url.protocol, hostname: url.hostname, path: url.pathname, query, headers: { host: url.host, 'content-type': 'application/json' }, body: BODY }),
      },
      { name: 's2s-auth LambdaUrlClient.sign', ops, run: () => client.sign(FUNCTION_URL, init) },
    ], scale.rounds);
    const cost = 1 / s2s.ratio;
    const signing = new Table('Caller side: SigV4 signing cost per request (sign only, no network)', ['signer', 'ops/s', 'cost relative to bare signer', `target ≤ ${SIGN_COST_LIMIT}×`]);
    signing.row('bare `@smithy/signature-v4` `sign` (request object built per call)', `${opsCell(smithy.opsPerSec)}/s`, '1.00', '');
    signing.row('**s2s-auth `LambdaUrlClient.sign`** (URL parsing, header copy, body typing included)', `${opsCell(s2s.opsPerSec)}/s`, `${cost.toFixed(2)}× (${(1 / s2s.high).toFixed(2)}–${(1 / s2s.low).toFixed(2)})`, verdict(cost <= SIGN_COST_LIMIT));
    signing.note(`Same credentials, method, URL, headers and ${BODY.length}-byte body; median of ${scale.rounds} interleaved rounds of ${ops} signatures. Ratio of speeds: ${ratioCell(s2s)}.`);
    return signing;
  } finally {
    await sts.close();
  }
}

async function tokenSources(table: Table, concurrent: number): Promise<void> {
  const account = await testServiceAccount();
  const google = await startGoogleTokenServer({ serviceAccounts: [account] });
  try {
    const audience = 'https://europe-west1-s2s-bench.cloudfunctions.net/orders';
    const withKey = new GoogleIdTokenSource({ audience, key: account.key, tokenEndpoint: google.tokenEndpoint });
    await Promise.all(Array.from({ length: concurrent }, () => withKey.getToken()));
    table.row('**s2s-auth `GoogleIdTokenSource`** (service-account key, JWT-bearer grant)', google.requests.token, '1 token request', verdict(google.requests.token === 1));
    const metadata = new GoogleIdTokenSource({ audience, metadataHost: google.metadataHost });
    await Promise.all(Array.from({ length: concurrent }, () => metadata.getToken()));
    table.row('**s2s-auth `GoogleIdTokenSource`** (metadata server)', google.requests.metadata, '1 token request', verdict(google.requests.metadata === 1));
  } finally {
    await google.close();
  }

  const oauth = await countingTokenEndpoint();
  try {
    const source = new ClientCredentialsTokenSource({ tokenEndpoint: oauth.url, clientId: 'bench-client', clientSecret: 'bench-secret', scope: 'orders.read' });
    await Promise.all(Array.from({ length: concurrent }, () => source.getToken()));
    table.row('**s2s-auth `ClientCredentialsTokenSource`**', oauth.requests(), '1 token request', verdict(oauth.requests() === 1));
  } finally {
    await oauth.close();
  }
}

/**
 * A minimal OAuth 2.0 token endpoint on 127.0.0.1 that only counts: it answers a correctly
 * authenticated client-credentials request with a one-hour bearer token, and 401 otherwise.
 */
async function countingTokenEndpoint(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const expected = `Basic ${Buffer.from('bench-client:bench-secret').toString('base64')}`;
  const server = createServer((req, res) => {
    requests += 1;
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const ok = req.method === 'POST' && req.headers.authorization === expected && new URLSearchParams(body).get('grant_type') === 'client_credentials';
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(ok ? { access_token: `at-${requests}`, token_type: 'Bearer', expires_in: 3600, scope: 'orders.read' } : { error: 'invalid_client' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/oauth/token`,
    requests: () => requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
