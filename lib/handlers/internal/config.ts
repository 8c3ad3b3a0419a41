import { jsonAnswer, type HttpAnswer } from '../../verify/http';

/** Thrown by a handler's config reader for a missing or invalid environment variable. */
export class ConfigError extends Error {
  constructor(variable: string, rule: string) {
    super(`${variable} ${rule}`);
    this.name = 'ConfigError';
  }
}

/**
 * Reads a handler's configuration once, at cold start. A bad configuration is logged once
 * with the variable to fix, and every request then gets a 500 MISCONFIGURED answer: a
 * misdeployed verifier must fail closed, never allow.
 */
export function loadConfig<T>(name: string, read: (env: NodeJS.ProcessEnv) => T, env: NodeJS.ProcessEnv = process.env): { config: T } | { answer: HttpAnswer } {
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

/** A required absolute `https:` URL, such as a function's own URL used as a token audience. */
export function httpsUrl(env: NodeJS.ProcessEnv, variable: string): string {
  const value = required(env, variable);
  if (!URL.canParse(value) || new URL(value).protocol !== 'https:') {
    throw new ConfigError(variable, `must be an absolute https:// URL (got ${JSON.stringify(value)})`);
  }
  return value;
}
