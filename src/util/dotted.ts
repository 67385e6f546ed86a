/**
 * Dotted key paths, one syntax for config drift, JSON artifacts and metric names:
 * nested objects join with dots (`optimizer.lr`), array items by index (`layers.0.units`), and a key
 * that contains `.`, `[`, `]` or `"` (or is empty) is a JSON string in brackets (`a["b.c"].d`), so
 * every flat key maps back to exactly one path.
 */
const PLAIN_KEY = /^[^.[\]"]+$/;

export function childKey(prefix: string, key: string, index: boolean): string {
  if (index || PLAIN_KEY.test(key)) return prefix === '' ? key : `${prefix}.${key}`;
  return `${prefix}[${JSON.stringify(key)}]`;
}

/** The value at a path of keys (own properties only, so `__proto__` is an ordinary name). */
export function valueAt(doc: unknown, keyPath: readonly PropertyKey[]): unknown {
  let v = doc;
  for (const k of keyPath) {
    if (v === null || typeof v !== 'object' || !Object.hasOwn(v, k)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}
