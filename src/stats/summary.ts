/** Descriptive statistics of one sample (pure, no I/O). */

export interface Summary {
  n: number;
  mean: number;
  /** Sample variance, ddof = 1 (NaN when n = 1). */
  variance: number;
  /** √variance (NaN when n = 1). */
  sd: number;
  min: number;
  max: number;
  /** Every value identical (max === min). Decided on the data, not on variance === 0. */
  constant: boolean;
}

/**
 * Mean and variance by a shifted, corrected two-pass algorithm: values are taken relative to
 * the first one (so a large common offset such as 1e9 cancels exactly before any squaring),
 * then Σ(dev²) − (Σdev)²/n removes the residual error of the mean (Chan, Golub & LeVeque).
 */
export function summarize(xs: readonly number[]): Summary {
  const n = xs.length;
  if (n < 1) throw new RangeError('summarize: needs at least 1 value, got none');
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(xs[i]))
      throw new RangeError(`summarize: value [${i}] is ${String(xs[i])}, not a finite number`);
  }
  const shift = xs[0]!;
  let min = shift;
  let max = shift;
  let sum = 0;
  for (const x of xs) {
    sum += x - shift;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const meanShifted = sum / n;
  const mean = shift + meanShifted; // exactly the value for a constant sample, so CI = [d, d]
  let ss = 0;
  let s = 0;
  for (const x of xs) {
    const dev = x - shift - meanShifted;
    ss += dev * dev;
    s += dev;
  }
  const variance = n < 2 ? NaN : Math.max(0, (ss - (s * s) / n) / (n - 1));
  return { n, mean, variance, sd: Math.sqrt(variance), min, max, constant: max === min };
}

/** {n, mean, sd} as reports show it; one value has no spread to speak of, so sd is 0. */
export function describeSample(xs: readonly number[]): { n: number; mean: number; sd: number } {
  const s = summarize(xs);
  return { n: s.n, mean: s.mean, sd: s.n > 1 ? s.sd : 0 };
}
