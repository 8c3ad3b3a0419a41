import { assertKeyUrl } from '../../verify/key-set';
import { ConfigError } from './config';

/**
 * An optional key-set or metadata URL override (tests and emulators point it at a local
 * server): https, or plain http on loopback only, as the verifiers require. Kept apart from
 * config.ts so handlers that fetch no keys do not bundle the key-set code.
 */
export function keyUrl(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = env[variable]?.trim();
  if (!value) return undefined;
  assertKeyUrl(value, variable, (rule) => new ConfigError(variable, `${rule} (got ${JSON.stringify(value)})`));
  return value;
}
