import { jsonAnswer, type HttpAnswer } from '../../verify/http';

/** Thrown by a handler's config reader for a missing or invalid environment variable. */
export class ConfigError extends Error {
  constructor(variable: string, rule: string) {
    super(`${variable} ${rule}`);
    this.name = 'ConfigError';
  }
}

/** A handler's configuration, or the answer every request gets because it is misconfigured. */
export type Setup<T> = { readonly config: T } | { readonly answer: HttpAnswer };

/**
 * Reads a handler's configuration once, at cold start. A bad configuration is logged once
 * with the variable to fix, and every request then gets a 500 MISCONFIGURED answer: a
 * misdeployed verifier must fail closed, never allow.
 */
export function loadConfig<T>(name: string, read: (env: NodeJS.ProcessEnv) => T, env: NodeJS.ProcessEnv = process.env): Setup<T> {
  try {
    return { config: read(env) };
  } catch (err) {
    const reason = err instanceof ConfigError ? err.message : String(err);
    console.error(`s2s-auth ${name} handler is misconfigured and refuses every request: ${reason}`);
    return { answer: jsonAnswer(500, { error: 'MISCONFIGURED', message: 'the function is misconfigured; see its logs' }) };
  }
}

export function required(env: NodeJS.ProcessEnv, variable: string): string {
  const value = env[variable]?.trim();
  if (!value) throw new ConfigError(variable, 'is required and not set');
  return value;
}

/** Splits a list variable on `separator`, dropping empty items; undefined when unset or empty. */
export function list(env: NodeJS.ProcessEnv, variable: string, separator: string | RegExp = ','): string[] | undefined {
  const items = env[variable]?.split(separator).map((s) => s.trim()).filter(Boolean);
  return items && items.length > 0 ? items : undefined;
}

/** A required list of absolute `https:` URLs, such as a function's own URLs used as token audiences. */
export function httpsUrls(env: NodeJS.ProcessEnv, variable: string): string[] {
  const values = list(env, variable);
  if (!values) throw new ConfigError(variable, 'is required and not set');
  const bad = values.find((value) => !URL.canParse(value) || new URL(value).protocol !== 'https:');
  if (bad !== undefined) throw new ConfigError(variable, `must be absolute https:// URLs, comma-separated (got ${JSON.stringify(bad)})`);
  return values;
}

/** An optional boolean: unset or empty is false, otherwise exactly `true` or `false`, so a typo never turns a safety switch on. */
export function flag(env: NodeJS.ProcessEnv, variable: string): boolean {
  const value = env[variable]?.trim() ?? '';
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw new ConfigError(variable, `must be "true" or "false" (got ${JSON.stringify(value)})`);
}
