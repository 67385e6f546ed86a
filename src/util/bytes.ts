/** Byte-order (UTF-8) comparison, so sort order matches `sort` in the C locale on every platform. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Sorts by UTF-8 bytes, encoding each string once. */
export function sortBytes(xs: Iterable<string>): string[] {
  return sortBytesBy(xs, (s) => s);
}

/** Code units at or above U+D800 (surrogates, U+E000–U+FFFF) are where UTF-16 order and UTF-8 byte order part. */
const BEYOND_BMP_ORDER = /[\uD800-\uFFFF]/;

/**
 * Sorts by the UTF-8 bytes of each item's key. Keys below U+D800 sort the same by UTF-16 code units
 * as by UTF-8 bytes, so those (nearly every file name) are compared as strings, without encoding;
 * otherwise each key is encoded once. Items already in order (a walk that visits names in order
 * usually yields its paths in order) are only checked. Returns a new array.
 */
export function sortBytesBy<T>(xs: Iterable<T>, key: (x: T) => string): T[] {
  const items = Array.from(xs);
  let sorted = true;
  let prev = '';
  for (const [i, x] of items.entries()) {
    const k = key(x);
    if (BEYOND_BMP_ORDER.test(k)) {
      return items
        .map((y) => [Buffer.from(key(y)), y] as const)
        .sort((a, b) => Buffer.compare(a[0], b[0]))
        .map((y) => y[1]);
    }
    if (i > 0 && !(prev < k)) sorted = false;
    prev = k;
  }
  if (sorted) return items;
  return items.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}
