import * as fs from 'node:fs';
import { builtinModules } from 'node:module';
import * as path from 'node:path';
import { referenceHandler, type ReferenceHandler } from '../../lib/bundling';

// Cloud Functions cold starts parse the whole bundle: keep each one small and self-contained.
const MAX_BYTES = 30 * 1024;
const GCP_HANDLERS: readonly ReferenceHandler[] = ['google-id-token', 'iap', 'endpoints', 'oauth'];

describe.each(GCP_HANDLERS)('dist/handlers/%s/index.js', (name) => {
  const code = fs.readFileSync(path.join(referenceHandler(name).dir, 'index.js'), 'utf8');

  test(`is under ${MAX_BYTES / 1024} KB minified`, () => {
    expect(Buffer.byteLength(code)).toBeLessThan(MAX_BYTES);
  });

  test('requires nothing but Node built-ins (it is deployed alone, without node_modules)', () => {
    const required = [...code.matchAll(/\brequire\(\s*["'`]([^"'`]+)["'`]\s*\)/g)].map((m) => m[1]);
    expect(required.filter((id) => !builtinModules.includes(id.replace(/^node:/, '')))).toEqual([]);
  });
});
