/**
 * Two one-sided tests (TOST) for equivalence of candidate and baseline means (pure, no I/O).
 * Conventions follow test/fixtures/equivalence.json: x1 = candidate, x2 = baseline,
 * diff = mean(x1) - mean(x2), H1: lower < diff < upper, decided on the (1 - 2α) CI.
 */
import { type Summary, summarize } from './summary.js';
import { tCdf, tQuantile, tSf } from './tdist.js';

export type TostDesign = 'welch' | 'paired';
export type TostVerdict = 'equivalent' | 'not-equivalent' | 'inconclusive';

export interface TostInput {
  candidate: readonly number[];
  baseline: readonly number[];
  /** Lower equivalence bound on diff; -Infinity for a one-sided (non-inferiority) test. */
  lower: number;
  /** Upper equivalence bound on diff; +Infinity for a one-sided test. */
  upper: number;
  /** Level of each one-sided test, in (0, ½); the CI has level 1 - 2α. */
  alpha: number;
  design: TostDesign;
}

export interface TostResult {
  design: TostDesign;
  n1: number;
  n2: number;
  mean1: number;
  mean2: number;
  sd1: number;
  sd2: number;
  /** mean(x1) - mean(x2); for paired, mean(x1 - x2). */
  diff: number;
  se: number;
  /** NaN for a degenerate Welch test (0/0). */
  df: number;
  tLower: number;
  tUpper: number;
  /** P(T >= tLower): evidence that diff > lower. */
  pLower: number;
  /** P(T <= tUpper): evidence that diff < upper. */
  pUpper: number;
  /** max(pLower, pUpper). */
  p: number;
  ci: [number, number];
  ciLevel: number;
  /** t_{1-α, df}; NaN when degenerate (the CI is then [diff, diff]). */
  tCrit: number;
  verdict: TostVerdict;
  /** Zero spread (se = 0): values are the se → 0+ limit; the report should warn. */
  degenerate: boolean;
  lower: number;
  upper: number;
  alpha: number;
}

export function tost(input: TostInput): TostResult {
  const { candidate, baseline, lower, upper, alpha, design } = input;
  if (design !== 'welch' && design !== 'paired') {
    throw new RangeError(`tost: unknown design ${JSON.stringify(design)} (expected welch or paired)`);
  }
  checkSample('candidate', candidate);
  checkSample('baseline', baseline);
  if (Number.isNaN(lower) || Number.isNaN(upper) || !(lower < upper) || lower === Infinity || upper === -Infinity) {
    throw new RangeError(`tost: bounds must satisfy lower < upper, got lower=${lower}, upper=${upper}`);
  }
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`tost: alpha must be in (0, 0.5), got ${alpha}`);

  const s1 = summarize(candidate);
  const s2 = summarize(baseline);
  const { diff, se, df, constant } =
    design === 'paired' ? paired(candidate, baseline) : welch(candidate, baseline, s1, s2);
  // Degenerate on the data (max === min), or if se underflowed to 0 anyway.
  const degenerate = constant || !(se > 0);

  const tLower = (diff - lower) / se;
  const tUpper = (diff - upper) / se;
  let pLower: number;
  let pUpper: number;
  let tCrit: number;
  let ci: [number, number];
  if (degenerate) {
    // se → 0+ limit; on a bound (0/0) the one-sided null cannot be rejected.
    pLower = diff > lower ? 0 : 1;
    pUpper = diff < upper ? 0 : 1;
    tCrit = NaN;
    ci = [diff, diff];
  } else {
    pLower = tSf(tLower, df);
    pUpper = tCdf(tUpper, df);
    tCrit = tQuantile(1 - alpha, df);
    ci = [diff - tCrit * se, diff + tCrit * se];
  }
  return {
    design,
    n1: s1.n,
    n2: s2.n,
    mean1: s1.mean,
    mean2: s2.mean,
    sd1: s1.sd,
    sd2: s2.sd,
    diff,
    se,
    df,
    tLower,
    tUpper,
    pLower,
    pUpper,
    p: Math.max(pLower, pUpper),
    ci,
    ciLevel: 1 - 2 * alpha,
    tCrit,
    verdict: ciVerdict(ci, lower, upper),
    degenerate,
    lower,
    upper,
    alpha,
  };
}

/** Equivalent iff the CI lies inside (lower, upper); not-equivalent iff wholly outside. */
export function ciVerdict(ci: readonly [number, number], lower: number, upper: number): TostVerdict {
  const [lo, hi] = ci;
  if (lower < lo && hi < upper) return 'equivalent';
  if (hi <= lower || lo >= upper) return 'not-equivalent';
  return 'inconclusive';
}

/**
 * Intersection-union over metrics (no multiplicity correction): equivalent only if every metric
 * is; not-equivalent if any is; otherwise inconclusive.
 */
export function combineVerdicts(verdicts: readonly TostVerdict[]): TostVerdict {
  // An empty family must not pass a gate by vacuous truth.
  if (verdicts.length === 0) throw new RangeError('combineVerdicts: needs at least 1 verdict');
  if (verdicts.includes('not-equivalent')) return 'not-equivalent';
  return verdicts.every((v) => v === 'equivalent') ? 'equivalent' : 'inconclusive';
}

/** True iff every metric's TOST is equivalent (the intersection-union test). */
function checkSample(name: string, xs: readonly number[]): void {
  if (!Array.isArray(xs)) throw new RangeError(`tost: ${name} must be an array of numbers`);
  if (xs.length < 2) throw new RangeError(`tost: ${name} needs at least 2 values, got ${xs.length}`);
  xs.forEach((x, i) => {
    if (typeof x !== 'number' || !Number.isFinite(x)) {
      throw new RangeError(`tost: ${name}[${i}] is ${String(x)}; every value must be a finite number`);
    }
  });
}

interface Spread {
  diff: number;
  se: number;
  df: number;
  constant: boolean;
}

/** mean(x1) - mean(x2) around a common shift, so a large shared offset cancels before rounding. */
function meanDiff(x1: readonly number[], x2: readonly number[]): number {
  const c = x2[0]!;
  const mean = (xs: readonly number[]): number => xs.reduce((acc, x) => acc + (x - c), 0) / xs.length;
  return mean(x1) - mean(x2);
}

function welch(x1: readonly number[], x2: readonly number[], s1: Summary, s2: Summary): Spread {
  // Both constant: keep diff = value1 - value2 exactly, so CI = [d, d] with d exact.
  const diff = s1.constant && s2.constant ? s1.mean - s2.mean : meanDiff(x1, x2);
  const constant = s1.constant && s2.constant;
  const { n: n1, variance: v1 } = s1;
  const { n: n2, variance: v2 } = s2;
  const a1 = v1 / n1;
  const a2 = v2 / n2;
  // Welch–Satterthwaite df on a1, a2 scaled by their max, so tiny variances cannot underflow.
  const m = Math.max(a1, a2);
  const r1 = a1 / m;
  const r2 = a2 / m;
  const df = ((r1 + r2) * (r1 + r2)) / ((r1 * r1) / (n1 - 1) + (r2 * r2) / (n2 - 1));
  return { diff, se: Math.sqrt(a1 + a2), df, constant };
}

function paired(x1: readonly number[], x2: readonly number[]): Spread {
  if (x1.length !== x2.length) {
    throw new RangeError(
      `tost: paired design needs candidate and baseline of equal length (one value per shared seed), got ${x1.length} and ${x2.length}`,
    );
  }
  const d = summarize(x1.map((v, i) => v - x2[i]!));
  return { diff: d.mean, se: d.sd / Math.sqrt(d.n), df: d.n - 1, constant: d.constant };
}
