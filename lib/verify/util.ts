/** A short JSON rendering of an attacker-supplied value, for safe error messages. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
