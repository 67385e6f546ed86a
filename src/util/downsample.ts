/** Up to `max` indices of 0..n-1, evenly spread, first and last included, `must` included. */
export function downsampleIndices(n: number, max: number, must?: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max < 2) return [must ?? 0];
  const idx = Array.from({ length: max }, (_, k) => Math.round((k * (n - 1)) / (max - 1)));
  if (must !== undefined && !idx.includes(must)) {
    let best = 1;
    for (let k = 1; k < idx.length - 1; k++) if (Math.abs(idx[k]! - must) < Math.abs(idx[best]! - must)) best = k;
    idx[best] = must;
    idx.sort((x, y) => x - y);
  }
  return [...new Set(idx)];
}
