/**
 * Power and sample size of the TOST (pure, no I/O): how likely the gate is to show equivalence
 * for a given noise, margin and number of seeds, and how many seeds it takes.
 *
 * tostPower is "exact" for normal seed noise: the CI's centre (the observed difference) is normal
 * and independent of the sample variances, so, given the variances,
 *
 *     P(pass | s1², s2²) = max(0, Φ((upper − h − δ)/τ) − Φ((lower + h − δ)/τ)),
 *     h = t_{1−α, df(s1², s2²)} · se(s1², s2²),   τ = √(σc²/n_c + σb²/n_b),
 *
 * and the power is its expectation over the scaled χ² laws of the variances. We integrate over
 * u = log(s²/σ²) with the trapezoid rule (the log-χ² density is smooth and decays fast; a fixed
 * step h on both axes puts u₁ − u₂, hence the Welch df, on a lattice, so only ~2N quantiles are
 * needed). Accuracy: within simulation error of 40k–200k-rep simulations of the real tost() and
 * within ~1e-4 of a 4× finer grid (test/stats-power.test.ts). The shortcut tostPowerApprox (σ in
 * place of s, the expected df) is NOT a substitute at small n: when the expected CI is wider than
 * the margin it says 0 while the true power is 0.05–0.35 (samples with s < σ still pass), and it
 * can be off by 0.05–0.3 either way below ~10 seeds. It is kept for the "can never pass" check,
 * which is defined on the expected se.
 */
import { significant } from '../util/format.js';
import { tCdf, tQuantile } from './tdist.js';

type PowerDesign = 'welch' | 'paired';

export interface PowerInput {
  /**
   * Seed-to-seed standard deviation of the metric: per run on each side (welch), or of
   * the paired differences (paired; √2 × the per-run sd if seeds are not correlated).
   */
  sd: number;
  /** Candidate's sd if it differs from the baseline's (welch). Default: sd. */
  sdCandidate?: number;
  /** Equivalence bounds on candidate − baseline (±Infinity for one-sided). */
  lower: number;
  upper: number;
  /** Each one-sided test's level. */
  alpha: number;
  nBaseline: number;
  nCandidate: number;
  /** The true candidate − baseline difference assumed. Default 0. */
  trueDiff?: number;
  design?: PowerDesign;
}

interface Checked {
  sdB: number;
  sdC: number;
  lower: number;
  upper: number;
  alpha: number;
  nB: number;
  nC: number;
  delta: number;
  design: PowerDesign;
}

function check(input: PowerInput, fn: string): Checked {
  const design = input.design ?? 'welch';
  const sdB = input.sd;
  const sdC = input.sdCandidate ?? input.sd;
  const delta = input.trueDiff ?? 0;
  const { lower, upper, alpha, nBaseline: nB, nCandidate: nC } = input;
  if (design !== 'welch' && design !== 'paired')
    throw new RangeError(`${fn}: unknown design ${JSON.stringify(design)}`);
  for (const [name, v] of [
    ['sd', sdB],
    ['sdCandidate', sdC],
  ] as const) {
    if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${fn}: ${name} must be a finite number ≥ 0, got ${v}`);
  }
  if (Number.isNaN(lower) || Number.isNaN(upper) || !(lower < upper) || lower === Infinity || upper === -Infinity) {
    throw new RangeError(`${fn}: bounds must satisfy lower < upper, got lower=${lower}, upper=${upper}`);
  }
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`${fn}: alpha must be in (0, 0.5), got ${alpha}`);
  for (const [name, n] of [
    ['nBaseline', nB],
    ['nCandidate', nC],
  ] as const) {
    if (!Number.isInteger(n) || n < 2)
      throw new RangeError(`${fn}: ${name} must be an integer ≥ 2 (a t test needs 2 seeds per side), got ${n}`);
  }
  if (design === 'paired' && nB !== nC)
    throw new RangeError(`${fn}: a paired design needs nBaseline = nCandidate, got ${nB} and ${nC}`);
  if (!Number.isFinite(delta)) throw new RangeError(`${fn}: trueDiff must be finite, got ${delta}`);
  return { sdB, sdC, lower, upper, alpha, nB, nC, delta, design };
}

function phi(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  return tCdf(z, Infinity);
}

/** P(lower + h < D < upper − h) for D ~ N(δ, τ²), 0 when the interval is empty. */
function passProb(lower: number, upper: number, h: number, delta: number, tau: number): number {
  const lo = lower + h;
  const hi = upper - h;
  if (!(lo < hi)) return 0;
  return Math.max(0, phi((hi - delta) / tau) - phi((lo - delta) / tau));
}

function welchDf(a1: number, a2: number, n1: number, n2: number): number {
  const m = Math.max(a1, a2);
  const r1 = a1 / m;
  const r2 = a2 / m;
  return ((r1 + r2) * (r1 + r2)) / ((r1 * r1) / (n1 - 1) + (r2 * r2) / (n2 - 1));
}

/** ln(1e-9): integrand mass beyond the range is below ~1e-9 relative to the mode. */
const TAIL_LOG = 20.7;

/** [lo, hi] with (ν/2)(e^u − u − 1) = TAIL_LOG at both ends: where the log-χ²_ν/ν density falls to e^-TAIL_LOG of its mode. */
function logChiRange(nu: number): [number, number] {
  const c = (2 * TAIL_LOG) / nu;
  const g = (u: number): number => Math.expm1(u) - u - c;
  let a = -(c + 2);
  let b = 0;
  for (let i = 0; i < 100; i++) {
    const m = (a + b) / 2;
    if (g(m) > 0) a = m;
    else b = m;
  }
  const lo = a;
  a = 0;
  b = 1;
  while (g(b) < 0) b *= 2;
  for (let i = 0; i < 100; i++) {
    const m = (a + b) / 2;
    if (g(m) > 0) b = m;
    else a = m;
  }
  return [lo, b];
}

/** Trapezoid nodes with step h covering [lo, hi], weights ∝ the log-χ²_ν/ν density, normalised. */
function nodes(nu: number, lo: number, hi: number, h: number): { u: number[]; w: number[] } {
  const n = Math.ceil((hi - lo) / h);
  const u: number[] = [];
  const w: number[] = [];
  let sum = 0;
  for (let i = 0; i <= n; i++) {
    const x = lo + i * h;
    const d = Math.exp((nu / 2) * (x - Math.expm1(x))); // density / its value at the mode u = 0
    u.push(x);
    w.push(d);
    sum += d;
  }
  return { u, w: w.map((d) => d / sum) };
}

/** Trapezoid nodes per standard deviation of log(s²/σ²) (of the narrower side, in 2-D). */
const DEFAULT_NODES = 8;

/** ψ′(x), x > 0: recurrence up to x ≥ 8, then the asymptotic series. */
function trigamma(x: number): number {
  let acc = 0;
  while (x < 8) {
    acc += 1 / (x * x);
    x += 1;
  }
  const i = 1 / x;
  const i2 = i * i;
  return acc + i + i2 / 2 + i * i2 * (1 / 6 - i2 * (1 / 30 - i2 * (1 / 42 - i2 / 30)));
}

/** Standard deviation of log(χ²_ν/ν): √ψ′(ν/2). */
function logChiSd(nu: number): number {
  return Math.sqrt(trigamma(nu / 2));
}

/**
 * TOST power (probability that the (1−2α) CI lies inside the bounds) for normal seed noise,
 * integrating over the sample variances. Deterministic, ~5–40 ms.
 */
export function tostPower(input: PowerInput, opts: { nodes?: number } = {}): number {
  const c = check(input, 'tostPower');
  const nNodes = opts.nodes ?? DEFAULT_NODES;
  if (!(nNodes >= 2 && nNodes <= 256)) throw new RangeError(`tostPower: nodes must be in [2, 256], got ${nNodes}`);
  const { sdB, sdC, lower, upper, alpha, nB, nC, delta, design } = c;
  if (design === 'paired') {
    const sd = sdB;
    if (sd === 0) return lower < delta && delta < upper ? 1 : 0;
    const nu = nC - 1;
    const tc = tQuantile(1 - alpha, nu);
    const tau = sd / Math.sqrt(nC);
    const [lo, hi] = logChiRange(nu);
    const { u, w } = nodes(nu, lo, hi, logChiSd(nu) / (4 * nNodes));
    let p = 0;
    for (let i = 0; i < u.length; i++) p += w[i]! * passProb(lower, upper, tc * tau * Math.exp(u[i]! / 2), delta, tau);
    return clamp01(p);
  }
  if (sdB === 0 && sdC === 0) return lower < delta && delta < upper ? 1 : 0;
  const tau = Math.sqrt((sdC * sdC) / nC + (sdB * sdB) / nB);
  if (sdC === 0 || sdB === 0) {
    // One side noiseless: se and df come from the other side alone (Welch df → n − 1).
    const noisyN = sdC === 0 ? nB : nC;
    const tcFixed = tQuantile(1 - alpha, noisyN - 1);
    const [lo, hi] = logChiRange(noisyN - 1);
    const { u, w } = nodes(noisyN - 1, lo, hi, logChiSd(noisyN - 1) / (4 * nNodes));
    let p = 0;
    for (let i = 0; i < u.length; i++)
      p += w[i]! * passProb(lower, upper, tcFixed * tau * Math.exp(u[i]! / 2), delta, tau);
    return clamp01(p);
  }
  const nu1 = nC - 1;
  const nu2 = nB - 1;
  const [lo1, hi1] = logChiRange(nu1);
  const [lo2, hi2] = logChiRange(nu2);
  const h = Math.min(logChiSd(nu1), logChiSd(nu2)) / nNodes;
  const n1 = nodes(nu1, lo1, hi1, h);
  const n2 = nodes(nu2, lo2, hi2, h);
  const v1 = (sdC * sdC) / nC;
  const v2 = (sdB * sdB) / nB;
  // Welch df depends on u1 − u2 = (lo1 − lo2) + (i − j)·h only: cache t quantiles by i − j.
  const tcByOffset = new Map<number, number>();
  let p = 0;
  for (let i = 0; i < n1.u.length; i++) {
    const wi = n1.w[i]!;
    if (wi < 1e-15) continue;
    const a1 = v1 * Math.exp(n1.u[i]!);
    for (let j = 0; j < n2.u.length; j++) {
      const wij = wi * n2.w[j]!;
      if (wij < 1e-17) continue;
      const a2 = v2 * Math.exp(n2.u[j]!);
      const se = Math.sqrt(a1 + a2);
      let tc = tcByOffset.get(i - j);
      if (tc === undefined) {
        tc = tQuantile(1 - alpha, welchDf(a1, a2, nC, nB));
        tcByOffset.set(i - j, tc);
      }
      p += wij * passProb(lower, upper, tc * se, delta, tau);
    }
  }
  return clamp01(p);
}

function clamp01(p: number): number {
  return Math.min(1, Math.max(0, p));
}

export interface ExpectedInterval {
  /** √(σc²/n_c + σb²/n_b) (paired: σ_d/√n). */
  se: number;
  /** Welch df at the true variances (paired: n − 1). */
  df: number;
  tCrit: number;
  /** t_{1−α,df}·se: the CI's half-width at the expected se. */
  halfWidth: number;
}

/** The CI half-width the gate should expect (variances at their true values). */
export function expectedInterval(input: PowerInput): ExpectedInterval {
  const { sdB, sdC, alpha, nB, nC, design } = check(input, 'expectedInterval');
  let se: number;
  let df: number;
  if (design === 'paired') {
    se = sdB / Math.sqrt(nC);
    df = nC - 1;
  } else {
    const a1 = (sdC * sdC) / nC;
    const a2 = (sdB * sdB) / nB;
    se = Math.sqrt(a1 + a2);
    df = a1 + a2 > 0 ? welchDf(a1, a2, nC, nB) : nB + nC - 2;
  }
  const tCrit = tQuantile(1 - alpha, df);
  return { se, df, tCrit, halfWidth: tCrit * se };
}

/** Quick approximation: the power with s = σ (expected se and df). Optimistic at small n. */
export function tostPowerApprox(input: PowerInput): number {
  const { lower, upper, delta } = check(input, 'tostPowerApprox');
  const { se, halfWidth } = expectedInterval(input);
  if (se === 0) return lower < delta && delta < upper ? 1 : 0;
  return passProb(lower, upper, halfWidth, delta, se);
}

export interface SeedsNeededInput extends Omit<PowerInput, 'nCandidate'> {
  /** Power to reach. Default 0.8. */
  target?: number;
  /** Largest n considered. Default 100. */
  cap?: number;
  /**
   * The baseline grows with the candidate (n_b = n_c = n: fixed-n mode, where re-recording with
   * the new seeds count is part of the fix). Default false: nBaseline stays fixed. Always true for paired.
   */
  bothSides?: boolean;
}

/**
 * Smallest number of candidate seeds (and baseline seeds, with bothSides) whose exact TOST power
 * reaches `target`, or undefined when even `cap` does not (e.g. a fixed baseline too small to ever
 * show equivalence within the margin).
 */
export function seedsNeeded(input: SeedsNeededInput): number | undefined {
  const target = input.target ?? 0.8;
  const cap = input.cap ?? 100;
  if (!(target > 0 && target < 1)) throw new RangeError(`seedsNeeded: target must be in (0, 1), got ${target}`);
  if (!Number.isInteger(cap) || cap < 2) throw new RangeError(`seedsNeeded: cap must be an integer ≥ 2, got ${cap}`);
  const both = input.bothSides === true || input.design === 'paired';
  const at = (n: number): number => tostPower({ ...input, nCandidate: n, nBaseline: both ? n : input.nBaseline });
  if (at(cap) < target) return undefined;
  // Power grows with n: bisection on [lo fails, hi passes].
  if (at(2) >= target) return 2;
  let lo = 2;
  let hi = cap;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (at(mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

export interface PowerWarningInput extends PowerInput {
  /** Power the recommendation aims at. Default 0.8. */
  target?: number;
  /** Largest seeds count recommended. Default 100. */
  cap?: number;
  /** Also warn when the power is below this (but passing is possible). Default 0.5; 0 turns it off. */
  lowPower?: number;
  /** See SeedsNeededInput.bothSides. Default: paired, or nBaseline = nCandidate (fixed-n mode). */
  bothSides?: boolean;
}

/**
 * A warning before any training when the gate cannot (or can rarely) show equivalence with this
 * many seeds, at this noise and margin — or undefined when the plan is fine. "Cannot" uses the
 * expected se: even an observed difference equal to the assumed true one (default 0) would give a
 * (1−2α) CI reaching past a bound, i.e. t_{1−α,df}·se ≥ the distance to the nearer bound.
 */
export function powerWarning(input: PowerWarningInput): string | undefined {
  const c = check(input, 'powerWarning');
  if (c.sdB === 0 && c.sdC === 0) return undefined; // deterministic training: nothing to power
  const lowPower = input.lowPower ?? 0.5;
  const both = input.bothSides ?? (c.design === 'paired' || c.nB === c.nC);
  const { halfWidth } = expectedInterval(input);
  const room = Math.min(c.upper - c.delta, c.delta - c.lower);
  const noise = `with this noise (sd ${significant(c.design === 'welch' ? Math.max(c.sdB, c.sdC) : c.sdB, 2)})`;
  const seeds = `${c.nC} seed${c.nC === 1 ? '' : 's'}`;
  const within = boundsText(c.lower, c.upper);
  const advice = (): string => {
    const cap = input.cap ?? 100;
    const nBoth = seedsNeeded({ ...input, bothSides: true });
    if (both)
      return nBoth === undefined
        ? `even ${cap} seeds per side would not be enough: widen the margin`
        : `use ≥ ${nBoth} seeds (and re-record the baseline with them) or widen the margin`;
    // The baseline is fixed: more candidate seeds help only down to the baseline's own noise.
    const nFixed = seedsNeeded({ ...input, bothSides: false });
    if (nFixed !== undefined && (nBoth === undefined || nFixed <= 2 * nBoth))
      return `use ≥ ${nFixed} seeds or widen the margin`;
    if (nBoth === undefined) return `even ${cap} seeds per side would not be enough: widen the margin`;
    const against =
      nFixed === undefined
        ? `no number of seeds is enough against the baseline's ${c.nB}`
        : `against the baseline's ${c.nB} seeds it takes ${nFixed}`;
    return `${against}; re-record the baseline and run ≥ ${nBoth} seeds on each side, or widen the margin`;
  };
  if (halfWidth >= room) return `${noise}, ${seeds} cannot show equivalence ${within}: ${advice()}`;
  if (lowPower > 0) {
    const p = tostPower(input);
    if (p < lowPower) {
      const when =
        c.delta === 0 ? 'even when nothing changed' : `when the true difference is ${significant(c.delta, 2)}`;
      return `${noise}, ${seeds} show equivalence ${within} only ~${Math.round(p * 100)}% of the time ${when}: ${advice()}`;
    }
  }
  return undefined;
}

function boundsText(lower: number, upper: number): string {
  if (lower === -Infinity) return `(a rise of at most ${significant(upper, 4)})`;
  if (upper === Infinity) return `(a drop of at most ${significant(-lower, 4)})`;
  if (lower === -upper) return `within ±${significant(upper, 4)}`;
  return `within (${significant(lower, 4)}, ${significant(upper, 4)})`;
}
