/**
 * Thrown at synth time for a construct prop that cannot work. The message names the
 * prop, the rule it breaks and the value that was given, so the fix is obvious from
 * the error alone. Shared by the CDK (lib/aws) and CDKTF (lib/gcp) halves; it imports
 * neither, so either half can move without the other.
 */
export class ValidationError extends Error {
  /** Stable, machine-readable code. */
  readonly code = 'S2S_INVALID_PROP' as const;

  /**
   * @param prop the prop's name as the user wrote it, e.g. `maxSessionDuration`
   * @param rule what is allowed, e.g. `must be between 1 and 12 hours`
   * @param got the offending value (omit for secrets)
   * @param path the construct path, when known, so errors in large apps are locatable
   */
  constructor(
    readonly prop: string,
    readonly rule: string,
    got?: unknown,
    path?: string,
  ) {
    super(`${path ? `${path}: ` : ''}invalid prop '${prop}': ${rule}${got === undefined ? '' : ` (got ${describe(got)})`}`);
    this.name = 'ValidationError';
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 120 ? `${value.slice(0, 117)}...` : value);
  try {
    const text = JSON.stringify(value);
    return text === undefined ? String(value) : text.length > 120 ? `${text.slice(0, 117)}...` : text;
  } catch {
    return String(value);
  }
}
