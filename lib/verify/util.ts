/** A short JSON rendering of an attacker-supplied value, for safe error messages. */
export function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value.length > 64 ? `${value.slice(0, 61)}...` : value) : JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates a list-or-single option into a non-empty array of non-empty strings. */
export function stringList(value: string | readonly string[] | undefined, name: string): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string' && v.trim() !== '')) {
    throw new TypeError(`${name} must be a non-empty string or a non-empty list of non-empty strings (got ${show(value)})`);
  }
  return Object.freeze([...list]);
}

/** A Google Cloud region name such as `europe-west1`: the one rule the GCP constructs and the IAP audience check share. */
export function isGoogleCloudRegion(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z]+(?:-[a-z]+)+[0-9]+$/.test(value);
}
