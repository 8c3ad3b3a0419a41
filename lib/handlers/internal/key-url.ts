import { assertKeyUrl } from '../../verify/key-set';
import { ConfigError } from './config';

// Kept apart from config.ts so handlers that fetch no keys do not bundle the key-set code.

/**
 * An optional key-set URL override (tests and emulators point it at a local server): https,
 * or plain http on loopback only, as the verifiers require.
 */
export function keyUrl(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value ? fetchableUrl(variable, value) : undefined;
}

/** `value` of `variable` if the verifiers may fetch from it; `why` prefixes the rule in the error. */
export function fetchableUrl(variable: string, value: string, why = ''): string {
  assertKeyUrl(value, variable, (rule) => new ConfigError(variable, `${why}${rule} (got ${JSON.stringify(value)})`));
  return value;
}
