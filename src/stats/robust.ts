/**
 * Robust (rank-based) equivalence test for n ≥ 10 seeds per side (pure, no I/O).
 *
 * Under a location-shift model (candidate runs = baseline runs shifted by θ, any continuous
 * distribution: heavy tails, skew, the odd diverged seed), the Hodges–Lehmann estimate of θ is the
 * median of the m·n pairwise differences Dᵢⱼ = xᵢ − yⱼ (candidate − baseline), and the
 * Mann–Whitney-based (1 − 2α) CI is [D₍ₖ₎, D₍ₘₙ₊₁₋ₖ₎] with k the largest integer such that
 * P(U ≤ k − 1) ≤ α (U the Mann–Whitney count under H0; exact distribution for m·n ≤ 2500, normal
 * with continuity correction beyond). Equivalence iff that CI lies inside (lower, upper): each end
 * is a one-sided Mann–Whitney test of the shift at a bound, at level ≤ α, so it is a TOST whose
 * error rate holds without normality. It estimates the shift (a median-type difference), not the
 * difference in means; the two agree under the shift model.
 *
 * Why n ≥ 10: the CI's coverage is discrete, 1 − 2·P(U ≤ k − 1). With few seeds the attainable
 * levels are coarse: at 2 vs 2 (P(U = 0) = 1/6) no (1 − 2α) CI exists for α < 1/6, at 3 vs 3 the
 * 90% CI is the full range of the differences, at 4 vs 4 it already overshoots to 94%. Such CIs are
 * wider than the Welch CI by a large factor, so the test would rarely show equivalence. From
 * about 10 per side the attainable coverage is within ~1% of nominal and the efficiency vs Welch
 * under normal noise is ≈ 95% (3/π asymptotically).
 *
 * Ties (metrics rounded to a few digits) make the exact distribution slightly conservative; the
 * CI is still computed from the order statistics of D, with no tie correction.
 */
import { GateError } from '../util/errors.js';
import { tCdf, tQuantile } from './tdist.js';
import { ciVerdict, type TostVerdict } from './tost.js';

export const ROBUST_MIN_SEEDS = 10;
/** Exact Mann–Whitney distribution up to this many pairs; normal approximation beyond. */
const EXACT_MAX_PAIRS = 2500;

export interface RobustTostInput {
  candidate: readonly number[];
  baseline: readonly number[];
  lower: number;
  upper: number;
  alpha: number;
}

export interface RobustTostResult {
  method: 'hodges-lehmann';
  n1: number;
  n2: number;
  /** Hodges–Lehmann shift estimate: median of the pairwise differences candidate − baseline. */
  estimate: number;
  /** Median(candidate) − median(baseline), for reference. */
  medianDiff: number;
  ci: [number, number];
  /** Nominal level 1 − 2α. */
  ciLevel: number;
  /** Attained coverage 1 − 2·P(U ≤ k − 1) ≥ ciLevel (exact) or ≈ ciLevel (normal approximation). */
  coverage: number;
  /** Order statistic used: the CI is [D₍ₖ₎, D₍ₘₙ₊₁₋ₖ₎] (1-based). */
  k: number;
  /** Exact Mann–Whitney distribution (true) or normal approximation (false). */
  exact: boolean;
  /** One-sided Mann–Whitney p-values of the shift against each bound (ties count ½), and their max. */
  pLower: number;
  pUpper: number;
  p: number;
  verdict: TostVerdict;
  /** Every value identical on both sides: the CI is [d, d]. */
  degenerate: boolean;
  /** Some pairwise differences tie (discrete metric values): the test is then slightly conservative. */
  ties: boolean;
  lower: number;
  upper: number;
  alpha: number;
}

/** The rank-based CI needs ≥ 10 seeds per side; refuse early (before any training) with why. */
export function checkRobustSeeds(m: number, n: number, alpha: number): void {
  if (m < ROBUST_MIN_SEEDS || n < ROBUST_MIN_SEEDS) {
    throw new GateError(
      `robust equivalence needs ≥ ${ROBUST_MIN_SEEDS} seeds per side (candidate has ${m}, baseline ${n}): with fewer, the rank-based CI ` +
        `cannot reach the (1−2α) coverage except by jumping to a much higher one — at 3 vs 3 seeds the ${Math.round((1 - 2 * alpha) * 100)}% CI is the whole range ` +
        `of the pairwise differences, and at 2 vs 2 none exists — so it would almost never show equivalence.`,
      `Run ≥ ${ROBUST_MIN_SEEDS} seeds on each side (re-record the baseline too), or use the default Welch TOST, which assumes roughly normal seed noise and works from 2 seeds per side.`,
    );
  }
}

export function robustTost(input: RobustTostInput): RobustTostResult {
  const { candidate, baseline, lower, upper, alpha } = input;
  checkSample('candidate', candidate);
  checkSample('baseline', baseline);
  if (Number.isNaN(lower) || Number.isNaN(upper) || !(lower < upper) || lower === Infinity || upper === -Infinity) {
    throw new RangeError(`robustTost: bounds must satisfy lower < upper, got lower=${lower}, upper=${upper}`);
  }
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`robustTost: alpha must be in (0, 0.5), got ${alpha}`);
  const m = candidate.length;
  const n = baseline.length;
  checkRobustSeeds(m, n, alpha);
  const mn = m * n;
  const d = new Float64Array(mn);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) d[i * n + j] = candidate[i]! - baseline[j]!;
  d.sort();
  const estimate = mn % 2 ? d[(mn - 1) / 2]! : (d[mn / 2 - 1]! + d[mn / 2]!) / 2;
  const exact = mn <= EXACT_MAX_PAIRS;
  const cdf = exact ? mannWhitneyCdf(m, n) : undefined;
  const sigma = Math.sqrt((mn * (m + n + 1)) / 12);
  /** P(U ≤ u) under H0. */
  const lowerTail = (u: number): number => {
    if (u < 0) return 0;
    if (u >= mn) return 1;
    if (cdf) return cdf[Math.floor(u)]!;
    return tCdf((Math.floor(u) + 0.5 - mn / 2) / sigma, Infinity);
  };
  let k: number;
  if (cdf) {
    k = 0;
    while (k < mn && cdf[k]! <= alpha) k++; // P(U ≤ k − 1) ≤ α for this k
  } else {
    k = Math.floor(mn / 2 + 0.5 + tQuantile(alpha, Infinity) * sigma);
  }
  if (k < 1) {
    throw new GateError(
      `robust equivalence: with ${m} and ${n} seeds no ${Math.round((1 - 2 * alpha) * 100)}% rank-based CI exists at α = ${alpha}.`,
      'Use more seeds or a larger alpha.',
    );
  }
  const ci: [number, number] = [d[k - 1]!, d[mn - k]!];
  const coverage = 1 - 2 * lowerTail(k - 1);
  // One-sided Mann–Whitney p at each bound: U_b = #{D > b} + ½#{D = b}; p = P(U ≥ U_b) = P(U ≤ mn − U_b).
  const countAbove = (b: number): number => {
    let above = 0;
    let equal = 0;
    for (const x of d) {
      if (x > b) above++;
      else if (x === b) equal++;
    }
    return above + equal / 2;
  };
  // P(U ≥ uStat); with ties uStat may be a half-integer: P(U ≥ ⌊uStat⌋), the conservative side (as scipy).
  const pAt = (uStat: number): number => lowerTail(mn - Math.floor(uStat));
  const pLower = lower === -Infinity ? 0 : pAt(countAbove(lower));
  const pUpper = upper === Infinity ? 0 : pAt(mn - countAbove(upper));
  let ties = false;
  for (let i = 1; i < mn; i++)
    if (d[i] === d[i - 1]) {
      ties = true;
      break;
    }
  return {
    method: 'hodges-lehmann',
    n1: m,
    n2: n,
    estimate,
    medianDiff: median(candidate) - median(baseline),
    ci,
    ciLevel: 1 - 2 * alpha,
    coverage,
    k,
    exact,
    pLower,
    pUpper,
    p: Math.max(pLower, pUpper),
    verdict: ciVerdict(ci, lower, upper),
    degenerate: d[0] === d[mn - 1],
    ties,
    lower,
    upper,
    alpha,
  };
}

/**
 * Exact null CDF of the Mann–Whitney U (pairs with candidate > baseline) for sizes m, n without
 * ties: cdf[u] = P(U ≤ u), u = 0..m·n. Recurrence on the largest observation:
 * p(u; m, n) = m/(m+n)·p(u − n; m − 1, n) + n/(m+n)·p(u; m, n − 1).
 */
export function mannWhitneyCdf(m: number, n: number): Float64Array {
  if (!Number.isInteger(m) || !Number.isInteger(n) || m < 1 || n < 1)
    throw new RangeError(`mannWhitneyCdf: sizes must be positive integers, got ${m}, ${n}`);
  // prev[i] = pmf for sizes (i, j − 1); cur[i] = pmf for sizes (i, j). Sizes (0, j) and (i, 0): U = 0.
  const point = (): Float64Array => Float64Array.of(1);
  let prev: Float64Array[] = Array.from({ length: m + 1 }, point); // j = 0
  for (let j = 1; j <= n; j++) {
    const cur: Float64Array[] = [point()];
    for (let i = 1; i <= m; i++) {
      const pmf = new Float64Array(i * j + 1);
      const a = i / (i + j);
      const b = j / (i + j);
      const fromX = cur[i - 1]!; // sizes (i − 1, j): shifted by j
      const fromY = prev[i]!; // sizes (i, j − 1)
      for (let u = 0; u < fromX.length; u++) pmf[u + j]! += a * fromX[u]!;
      for (let u = 0; u < fromY.length; u++) pmf[u]! += b * fromY[u]!;
      cur.push(pmf);
    }
    prev = cur;
  }
  const pmf = prev[m]!;
  const cdf = new Float64Array(pmf.length);
  let s = 0;
  for (let u = 0; u < pmf.length; u++) {
    s += pmf[u]!;
    cdf[u] = Math.min(1, s);
  }
  cdf[pmf.length - 1] = 1; // the total, without the summation's round-off
  return cdf;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

function checkSample(name: string, xs: readonly number[]): void {
  if (!Array.isArray(xs)) throw new RangeError(`robustTost: ${name} must be an array of numbers`);
  xs.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x))
      throw new RangeError(`robustTost: ${name}[${i}] is ${String(x)}; every value must be a finite number`);
  });
}
