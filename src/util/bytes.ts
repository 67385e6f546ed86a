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
 * otherwise each key is encoded once.
 */
export function sortBytesBy<T>(xs: Iterable<T>, key: (x: T) => string): T[] {
  const keyed = Array.from(xs, (x) => [key(x), x] as const);
  if (!keyed.some(([k]) => BEYOND_BMP_ORDER.test(k))) {
    return keyed.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)).map((x) => x[1]);
  }
  return keyed
    .map(([k, x]) => [Buffer.from(k), x] as const)
    .sort((x, y) => Buffer.compare(x[0], y[0]))
    .map((x) => x[1]);
}
