/** Up to `max` indices of 0..n-1, evenly spread, first and last included, `must` included. */
export function downsampleIndices(n: number, max: number, must?: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max < 2) return [must ?? 0];
  const idx = Array.from({ length: max }, (_, k) => Math.round((k * (n - 1)) / (max - 1)));
  if (must !== undefined && !idx.includes(must)) {
    // The inner index nearest `must` gives way to it (the first and last stay).
    let best = 1;
    let bestDistance = Infinity;
    for (const [k, i] of idx.entries()) {
      const distance = Math.abs(i - must);
      if (k > 0 && k < idx.length - 1 && distance < bestDistance) [best, bestDistance] = [k, distance];
    }
    idx[best] = must;
    idx.sort((x, y) => x - y);
  }
  return [...new Set(idx)];
}

/** Up to `max` of `items`, evenly spread, in order: those at downsampleIndices(items.length, max, must). */
export function downsample<T>(items: readonly T[], max: number, must?: number): T[] {
  const keep = new Set(downsampleIndices(items.length, max, must));
  return items.filter((_, i) => keep.has(i));
}
