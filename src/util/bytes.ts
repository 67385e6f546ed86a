/** Byte-order (UTF-8) comparison, so sort order matches `sort` in the C locale on every platform. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Sorts by UTF-8 bytes, encoding each string once. */
export function sortBytes(xs: Iterable<string>): string[] {
  return sortBytesBy(xs, (s) => s);
}

/** Sorts by the UTF-8 bytes of each item's key, encoding each key once. */
export function sortBytesBy<T>(xs: Iterable<T>, key: (x: T) => string): T[] {
  return [...xs]
    .map((x) => [Buffer.from(key(x)), x] as const)
    .sort((x, y) => Buffer.compare(x[0], y[0]))
    .map((x) => x[1]);
}
