/** What one audit row may hold: every field is the actor's or the client's text, so each is capped. */
export const AUDIT_LIMITS = {
  /** Longest string kept inside `details`; longer ones keep their start and say how much went. */
  detailString: 1024,
  /** Largest `details` as JSON, in UTF-8 bytes; past it only a preview is kept. */
  detailsBytes: 4096,
  /** Array items and object keys kept per level, and levels kept. */
  items: 50,
  depth: 5,
} as const;

export const TRUNCATED_KEY = '_truncated';

/** `value` cut to `max` characters, with the cut said at its end. */
export function capString(value: string, max: number): string {
  if (value.length <= max) return value;
  const note = `…[+${value.length - max} chars]`;
  return value.slice(0, Math.max(0, max - note.length)) + note;
}

function capValue(value: unknown, depth: number, state: { cut: boolean }): unknown {
  if (typeof value === 'string') {
    if (value.length > AUDIT_LIMITS.detailString) state.cut = true;
    return capString(value, AUDIT_LIMITS.detailString);
  }
  if (value === null || typeof value !== 'object') return value;
  if (depth >= AUDIT_LIMITS.depth) {
    state.cut = true;
    return '[…]';
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) {
    if (value.length > AUDIT_LIMITS.items) state.cut = true;
    return value.slice(0, AUDIT_LIMITS.items).map((v) => capValue(v, depth + 1, state));
  }
  const entries = Object.entries(value);
  if (entries.length > AUDIT_LIMITS.items) state.cut = true;
  return Object.fromEntries(entries.slice(0, AUDIT_LIMITS.items).map(([k, v]) => [capString(k, 100), capValue(v, depth + 1, state)]));
}

/**
 * An audit row's details within AUDIT_LIMITS: long strings, long lists and deep nesting are cut,
 * and a row that is still too large keeps only a preview of its JSON. Whatever was cut carries
 * `_truncated: true`, so a reader knows the row is not the whole story.
 */
export function capDetails(details: Record<string, unknown>): Record<string, unknown> {
  const state = { cut: false };
  const capped = capValue(details, 0, state) as Record<string, unknown>;
  if (state.cut) capped[TRUNCATED_KEY] = true;
  const json = JSON.stringify(capped);
  if (Buffer.byteLength(json, 'utf8') <= AUDIT_LIMITS.detailsBytes) return capped;
  // Characters, not bytes, are cut: a quarter of the byte cap leaves room for 4-byte UTF-8 and JSON escapes.
  return { [TRUNCATED_KEY]: true, preview: capString(json, AUDIT_LIMITS.detailsBytes / 4) };
}
