/**
 * Group-sequential TOST (pure, no I/O): the baseline's n_b seeds are fixed, the candidate's grow
 * in stages (looks) from `min` to `max` seeds, and the gate may stop at any look:
 *
 *   - for equivalence, when the look's (1 − 2α′ₖ) CI lies inside (lower, upper);
 *   - for non-equivalence (futility), when that CI lies wholly outside the bounds, or, if the plan
 *     pre-declares it, when equivalence is out of reach (conditional power below a threshold);
 *   - otherwise it trains the next batch of seeds. At the last look the verdict is the usual
 *     three-way one (equivalent / not-equivalent / inconclusive) at α′_K.
 *
 * Error control. A false pass (declaring equivalence while the true difference sits exactly on a
 * margin) can only happen through the equivalence stops, so futility stops are NON-binding: they
 * never raise the false-pass rate, and the gate may stop or continue as it likes on them. The
 * per-look levels α′ₖ are chosen so that
 *
 *     P(∃k: CI at look k inside the bounds | true diff = a margin) ≤ α.
 *
 * Two ways to choose them (`calibration`):
 *
 *   - 'bonferroni': Σ α′ₖ = α (α/K each for the Pocock-type constant, the spending increments
 *     for a spending function). Valid for any correlation between looks, as long as each look's
 *     TOST holds its nominal level. That holds for the paired t (exact under normal noise) and for
 *     Welch with equal or large samples, but NOT for Welch on tiny unbalanced samples: with 3
 *     candidate vs 10 baseline seeds the Welch–Satterthwaite df is too optimistic, and a nominal
 *     one-sided 0.0125 test rejects ~0.019–0.023 of the time (0.05 → ~0.055–0.06; 2 vs 10 seeds:
 *     0.0125 → ~0.045). Early looks of a sequential plan are exactly that shape, so for Welch
 *     plans Bonferroni is only as safe as Welch itself; 'simulated' measures and absorbs it.
 *   - 'simulated' (default): the looks are positively correlated (they share the baseline and the
 *     first seeds), so Bonferroni wastes α. We simulate the plan under the null (normal seeds,
 *     true diff on the upper margin, the other margin infinitely far away — the worst case) for a
 *     grid of variance ratios σc/σb including the one-sample limit σb → 0 (the least correlated
 *     looks), and take per look the smallest α′ₖ over the grid that keeps the simulated false-pass
 *     rate ≤ α − 2·SE_MC. The simulation runs the real Welch statistic with its estimated df, so
 *     Welch's small-sample liberality is calibrated away too (the worst ratio is usually σc ≈ 2–3σb,
 *     not the one-sample limit). Seeded, hence deterministic; cached per plan shape. The guarantee is
 *     "≤ α up to simulation error (~97.7% confidence per ratio), for normal seed noise and the
 *     variance ratios on the grid" — an estimate, not a proof. Ratios between grid points are not
 *     covered exactly; the grid is densest around the worst ratios (σc ≈ 1.5–4σb), where the rate
 *     varies slowly (independent re-simulation of the default plan, 20 000 gates each: 0.037 at
 *     σc/σb = 1, 0.045–0.046 at 2 and 3; see test/stats-simulation.test.ts).
 *
 * Multiple metrics (combineSequential): the gate stops for equivalence only when ALL metrics are
 * equivalent at the same look, and fails as soon as ANY metric is clearly not equivalent. This is
 * an intersection–union test: a false pass needs every metric to pass, in particular the one whose
 * true difference is on its margin, and that metric alone passes at some look with probability
 * ≤ α. So the family's false-pass rate is ≤ α per metric bound, without multiplicity correction.
 * Early failures on another metric only stop the gate sooner (non-binding), never raising it.
 */
import { significant } from '../util/format.js';
import { createRng } from './prng.js';
import { summarize } from './summary.js';
import { tCdf, tQuantile } from './tdist.js';
import { type TostResult, tost } from './tost.js';

export type SequentialDesign = 'welch' | 'paired';
/** pocock: one constant α′ for every look; obrien-fleming / pocock-spending: Lan–DeMets spending. */
export type SequentialBoundary = 'pocock' | 'obrien-fleming' | 'pocock-spending';
type SequentialCalibration = 'simulated' | 'bonferroni';
export type SequentialDecisionKind = 'equivalent' | 'not-equivalent' | 'continue' | 'inconclusive';

export interface SequentialOptions {
  /** Candidate seeds at the first look (≥ 2). Required unless `looks` is given. */
  min?: number;
  /** Candidate seeds at the last look (≥ min). Required unless `looks` is given. */
  max?: number;
  /** Look every `step` seeds (min, min+step, …, and always max). Default: about 4 looks evenly spread. */
  step?: number;
  /** Explicit looks (strictly increasing, from ≥ 2), overriding min/max/step. */
  looks?: readonly number[];
  /** Overall false-pass rate (each one-sided test's level in the fixed-n gate), in (0, ½). */
  alpha: number;
  /** Baseline seeds (fixed). For paired plans it must be ≥ max (look k pairs the first n_k seeds). */
  nBaseline: number;
  design?: SequentialDesign;
  boundary?: SequentialBoundary;
  calibration?: SequentialCalibration;
  /**
   * Pre-declared, non-binding futility on conditional power: at a look before the last, stop with
   * 'inconclusive' when the chance of passing at the last look, if the current estimates were the
   * truth, is below this (e.g. 0.1). Off by default: only a CI wholly outside the bounds stops.
   */
  futilityConditionalPower?: number;
  /** Simulation repetitions per variance ratio (calibration: 'simulated'). Default 20 000. */
  reps?: number;
  /** PRNG seed of the calibration. Default 20240611. */
  seed?: number;
}

export interface SequentialPlan {
  /** Candidate seeds at each look, increasing; the last is the maximum. */
  looks: number[];
  /** α′ₖ: each one-sided test's level at look k; the CI there has level 1 − 2α′ₖ. */
  alphaPerLook: number[];
  /** e.g. "pocock/simulated", "obrien-fleming/bonferroni", "fixed" (a single look). */
  method: string;
  alpha: number;
  nBaseline: number;
  design: SequentialDesign;
  boundary: SequentialBoundary;
  calibration: SequentialCalibration | 'fixed';
  futilityConditionalPower?: number;
  /** What the α′ guarantee is, in words (for the report). */
  guarantee: string;
  /** Diagnostics of the simulation ('simulated' only). */
  simulation?: {
    reps: number;
    seed: number;
    /** σc/σb values simulated; Infinity is the one-sample limit (σb → 0, or paired). */
    varianceRatios: number[];
    /** Target each ratio's simulated false-pass rate is held to: α − 2·√(α(1−α)/reps). */
    target: number;
    /** Simulated false-pass rate of the final α′ at each ratio (same samples as the calibration). */
    falsePass: number[];
  };
}

export interface SequentialDecision {
  decision: SequentialDecisionKind;
  /** The Welch (or paired) TOST at this look, at level α′ₖ. */
  result: TostResult;
  /** Why it stopped or continues, one sentence. */
  reason: string;
  /** 0-based look index and the number of looks. */
  look: number;
  looks: number;
  /** Candidate runs used so far (= plan.looks[look]). */
  runsUsed: number;
  /** α′ at this look. */
  alphaLook: number;
  /** True at the last look or when the decision is not 'continue'. */
  final: boolean;
  /** Conditional power of passing at the last look (only when the plan declares that futility rule). */
  conditionalPower?: number;
}

const DEFAULT_REPS = 20_000;
const DEFAULT_SEED = 20240611;
const MC_Z = 2;
/** σc/σb grid for Welch plans; Infinity = one-sample limit. */
const WELCH_RATIOS = [0.25, 0.5, 1, 1.5, 2, 3, 4, 8, Infinity];

const cache = new Map<string, SequentialPlan>();

/** The candidate-seed counts at which the plan looks. */
export function sequentialLooks(opts: Pick<SequentialOptions, 'min' | 'max' | 'step' | 'looks'>): number[] {
  if (opts.looks !== undefined) {
    const l = [...opts.looks];
    if (l.length === 0) throw new RangeError('planSequential: looks must not be empty');
    l.forEach((n, i) => {
      if (!Number.isInteger(n) || n < 2)
        throw new RangeError(`planSequential: looks[${i}] = ${n}; every look needs an integer ≥ 2 seeds`);
      if (i > 0 && !(n > l[i - 1]!))
        throw new RangeError(`planSequential: looks must increase strictly, got ${l.join(', ')}`);
    });
    return l;
  }
  const { min, max } = opts;
  if (min === undefined || max === undefined)
    throw new RangeError('planSequential: give min and max (or explicit looks)');
  if (!Number.isInteger(min) || min < 2)
    throw new RangeError(`planSequential: min must be an integer ≥ 2 (a t test needs 2 seeds), got ${min}`);
  if (!Number.isInteger(max) || max < min)
    throw new RangeError(`planSequential: max must be an integer ≥ min (${min}), got ${max}`);
  if (max > 1000) throw new RangeError(`planSequential: max must be ≤ 1000, got ${max}`);
  const looks: number[] = [];
  if (opts.step !== undefined) {
    if (!Number.isInteger(opts.step) || opts.step < 1)
      throw new RangeError(`planSequential: step must be a positive integer, got ${opts.step}`);
    for (let n = min; n < max; n += opts.step) looks.push(n);
    looks.push(max);
    return looks;
  }
  const k = Math.min(4, max - min + 1);
  for (let i = 0; i < k; i++) {
    const n = k === 1 ? max : min + Math.floor(((max - min) * i) / (k - 1));
    if (looks[looks.length - 1] !== n) looks.push(n);
  }
  return looks;
}

/** Pre-declares the looks and per-look levels α′ₖ. Deterministic and cached per plan shape. */
export function planSequential(opts: SequentialOptions): SequentialPlan {
  const looks = sequentialLooks(opts);
  const { alpha, nBaseline } = opts;
  const design = opts.design ?? 'welch';
  const boundary = opts.boundary ?? 'pocock';
  const calibration = opts.calibration ?? 'simulated';
  const reps = opts.reps ?? DEFAULT_REPS;
  const seed = opts.seed ?? DEFAULT_SEED;
  if (!(alpha > 0 && alpha < 0.5)) throw new RangeError(`planSequential: alpha must be in (0, 0.5), got ${alpha}`);
  if (design !== 'welch' && design !== 'paired')
    throw new RangeError(`planSequential: design must be welch or paired, got ${JSON.stringify(design)}`);
  if (!['pocock', 'obrien-fleming', 'pocock-spending'].includes(boundary))
    throw new RangeError(`planSequential: unknown boundary ${JSON.stringify(boundary)}`);
  if (calibration !== 'simulated' && calibration !== 'bonferroni')
    throw new RangeError(`planSequential: unknown calibration ${JSON.stringify(calibration)}`);
  if (!Number.isInteger(nBaseline) || nBaseline < 2)
    throw new RangeError(`planSequential: nBaseline must be an integer ≥ 2, got ${nBaseline}`);
  const last = looks[looks.length - 1]!;
  if (design === 'paired' && nBaseline < last) {
    throw new RangeError(
      `planSequential: a paired plan pairs candidate seed i with baseline seed i, so the baseline needs ≥ ${last} seeds (has ${nBaseline})`,
    );
  }
  if (!Number.isInteger(reps) || reps < 1000)
    throw new RangeError(`planSequential: reps must be an integer ≥ 1000, got ${reps}`);
  const fcp = opts.futilityConditionalPower;
  if (fcp !== undefined && !(fcp > 0 && fcp < 1))
    throw new RangeError(`planSequential: futilityConditionalPower must be in (0, 1), got ${fcp}`);

  const base = {
    looks,
    alpha,
    nBaseline,
    design,
    boundary,
    ...(fcp !== undefined ? { futilityConditionalPower: fcp } : {}),
  };
  if (looks.length === 1) {
    return {
      ...base,
      alphaPerLook: [alpha],
      method: 'fixed',
      calibration: 'fixed',
      guarantee: `A single look at ${last} seeds: the usual fixed-n TOST at level ${alpha}.`,
    };
  }
  const key = JSON.stringify({ ...base, calibration, reps, seed });
  const hit = cache.get(key);
  if (hit) return clonePlan(hit);

  const fractions = informationFractions(looks, nBaseline, design);
  const cumulative = fractions.map((t) => spend(boundary, alpha, t));
  let plan: SequentialPlan;
  if (calibration === 'bonferroni') {
    const alphaPerLook =
      boundary === 'pocock'
        ? looks.map(() => alpha / looks.length)
        : cumulative.map((c, i) => c - (i === 0 ? 0 : cumulative[i - 1]!));
    plan = {
      ...base,
      alphaPerLook,
      method: `${boundary}/bonferroni`,
      calibration,
      guarantee:
        `Bonferroni: the ${looks.length} looks' levels sum to α = ${alpha}, so the chance of a false pass (true difference on a margin) ` +
        `is ≤ ${alpha} whatever the correlation between looks, as long as each look's ${design === 'paired' ? 'paired t' : 'Welch'} TOST holds its level` +
        (design === 'paired'
          ? ' (exact for normal seed noise).'
          : '; Welch does not quite hold it for tiny unbalanced samples (e.g. 3 candidate vs 10 baseline seeds), so prefer calibration: simulated.'),
    };
  } else {
    const ratios = design === 'paired' ? [Infinity] : WELCH_RATIOS;
    const target = alpha - MC_Z * Math.sqrt((alpha * (1 - alpha)) / reps);
    // One stream per ratio (seed + index), so a ratio's sample does not depend on the grid's order.
    const pValues = ratios.map((rho, i) => simulateNullPValues(looks, nBaseline, rho, reps, createRng(seed + i)));
    const perRatio = pValues.map((p) =>
      calibrateOne(
        p,
        looks.length,
        reps,
        target,
        boundary === 'pocock' ? undefined : cumulative.map((c) => (c * target) / alpha),
      ),
    );
    const alphaPerLook = looks.map((_, k) => Math.min(...perRatio.map((a) => a[k]!)));
    const falsePass = pValues.map((p) => crossingRate(p, looks.length, reps, alphaPerLook));
    plan = {
      ...base,
      alphaPerLook,
      method: `${boundary}/simulated`,
      calibration,
      guarantee:
        `Calibrated by seeded simulation (${reps} plans per variance ratio, σc/σb ∈ {${ratios.map((r) => (r === Infinity ? '∞' : String(r))).join(', ')}}, normal seed noise): ` +
        `the simulated chance of a false pass (true difference on a margin) is ≤ ${round(target, 4)} at every ratio, i.e. ≤ α = ${alpha} up to simulation error (≈97.7% confidence). ` +
        `An estimate, not a proof; the Bonferroni plan (calibration: bonferroni) is the provable fallback.`,
      simulation: { reps, seed, varianceRatios: ratios, target, falsePass },
    };
  }
  cache.set(key, plan);
  return clonePlan(plan);
}

function clonePlan(p: SequentialPlan): SequentialPlan {
  return {
    ...p,
    looks: [...p.looks],
    alphaPerLook: [...p.alphaPerLook],
    ...(p.simulation
      ? {
          simulation: {
            ...p.simulation,
            varianceRatios: [...p.simulation.varianceRatios],
            falsePass: [...p.simulation.falsePass],
          },
        }
      : {}),
  };
}

function round(x: number, digits: number): number {
  return Number(x.toPrecision(digits));
}

/**
 * Statistical information at each look relative to the last, for σc = σb: Var(diff) ∝ 1/n_c + 1/n_b
 * (Welch, baseline fixed) or 1/n (paired).
 */
export function informationFractions(looks: readonly number[], nBaseline: number, design: SequentialDesign): number[] {
  const last = looks[looks.length - 1]!;
  return looks.map((n) => (design === 'paired' ? n / last : (1 / last + 1 / nBaseline) / (1 / n + 1 / nBaseline)));
}

/** Lan–DeMets cumulative one-sided spending α(t), α(1) = α. 'pocock' (constant α′) uses the Pocock-like one for Bonferroni shapes only. */
export function spend(boundary: SequentialBoundary, alpha: number, t: number): number {
  if (t >= 1) return alpha;
  if (boundary === 'obrien-fleming') {
    // α(t) = 2 − 2Φ(z_{1−α/2}/√t)
    const z = tQuantile(1 - alpha / 2, Infinity);
    return 2 * tCdf(-z / Math.sqrt(t), Infinity);
  }
  return alpha * Math.log(1 + (Math.E - 1) * t);
}

/**
 * One-sided p-values P(T ≤ t) of the upper test at every look, with the true difference on the
 * upper margin, for reps simulated plans. rho = σc/σb; Infinity: the one-sample limit (paired).
 * Layout: p[rep * K + k].
 */
function simulateNullPValues(
  looks: readonly number[],
  nBaseline: number,
  rho: number,
  reps: number,
  rng: ReturnType<typeof createRng>,
): Float64Array {
  const K = looks.length;
  const last = looks[K - 1]!;
  const out = new Float64Array(reps * K);
  const oneSample = rho === Infinity;
  for (let r = 0; r < reps; r++) {
    let mb = 0;
    let vb = 0;
    if (!oneSample) {
      // Welford over the baseline (σb = 1).
      for (let i = 1; i <= nBaseline; i++) {
        const x = rng.normal();
        const d = x - mb;
        mb += d / i;
        vb += d * (x - mb);
      }
      vb /= nBaseline - 1;
    }
    let mc = 0;
    let m2 = 0;
    let k = 0;
    for (let i = 1; i <= last; i++) {
      const x = oneSample ? rng.normal() : rho * rng.normal();
      const d = x - mc;
      mc += d / i;
      m2 += d * (x - mc);
      if (i === looks[k]) {
        const vc = m2 / (i - 1);
        let t: number;
        let df: number;
        if (oneSample) {
          t = mc / Math.sqrt(vc / i);
          df = i - 1;
        } else {
          const a1 = vc / i;
          const a2 = vb / nBaseline;
          t = (mc - mb) / Math.sqrt(a1 + a2);
          df = ((a1 + a2) * (a1 + a2)) / ((a1 * a1) / (i - 1) + (a2 * a2) / (nBaseline - 1));
        }
        out[r * K + k] = tCdf(t, df);
        k++;
      }
    }
  }
  return out;
}

/**
 * α′ per look so that the fraction of simulated plans crossing (p < α′ at some look) is ≤ target.
 * cumulative undefined: one constant α′ (Pocock). Otherwise cumulative[k] is the crossing budget
 * spent by look k (Lan–DeMets), met look by look among the plans not yet crossed.
 */
function calibrateOne(
  p: Float64Array,
  K: number,
  reps: number,
  target: number,
  cumulative: number[] | undefined,
): number[] {
  if (cumulative === undefined) {
    const mins = new Float64Array(reps);
    for (let r = 0; r < reps; r++) {
      let m = 1;
      for (let k = 0; k < K; k++) m = Math.min(m, p[r * K + k]!);
      mins[r] = m;
    }
    mins.sort();
    const a = mins[Math.floor(target * reps)]!;
    return Array.from({ length: K }, () => a);
  }
  const alive = new Uint8Array(reps).fill(1);
  let crossed = 0;
  const levels: number[] = [];
  for (let k = 0; k < K; k++) {
    const ps = new Float64Array(reps - crossed);
    let j = 0;
    for (let r = 0; r < reps; r++) if (alive[r]) ps[j++] = p[r * K + k]!;
    ps.sort();
    const need = Math.max(0, Math.floor(cumulative[k]! * reps) - crossed);
    const level = ps[Math.min(need, ps.length - 1)]!;
    levels.push(level);
    for (let r = 0; r < reps; r++) {
      if (alive[r] && p[r * K + k]! < level) {
        alive[r] = 0;
        crossed++;
      }
    }
  }
  return levels;
}

function crossingRate(p: Float64Array, K: number, reps: number, levels: readonly number[]): number {
  let n = 0;
  for (let r = 0; r < reps; r++) {
    for (let k = 0; k < K; k++) {
      if (p[r * K + k]! < levels[k]!) {
        n++;
        break;
      }
    }
  }
  return n / reps;
}

/**
 * The decision at look `lookIndex` for one metric. `candidate` must hold exactly plan.looks[lookIndex]
 * values; `baseline` the plan's nBaseline values (Welch) or, paired, the baseline values of the same
 * seeds as the candidate, in the same order.
 */
export function sequentialDecision(
  plan: SequentialPlan,
  lookIndex: number,
  candidate: readonly number[],
  baseline: readonly number[],
  bounds: { lower: number; upper: number },
  design: SequentialDesign = plan.design,
): SequentialDecision {
  const K = plan.looks.length;
  if (!Number.isInteger(lookIndex) || lookIndex < 0 || lookIndex >= K)
    throw new RangeError(`sequentialDecision: look ${lookIndex} is not in the plan (0..${K - 1})`);
  if (design !== plan.design)
    throw new RangeError(`sequentialDecision: the plan was calibrated for ${plan.design}, not ${design}`);
  const n = plan.looks[lookIndex]!;
  if (candidate.length !== n) {
    throw new RangeError(
      `sequentialDecision: look ${lookIndex + 1} of the plan is at ${n} candidate seeds, got ${candidate.length} (a look off the plan breaks its error control)`,
    );
  }
  if (design === 'welch' && baseline.length !== plan.nBaseline) {
    throw new RangeError(
      `sequentialDecision: the plan was calibrated for ${plan.nBaseline} baseline seeds, got ${baseline.length}`,
    );
  }
  if (design === 'paired' && baseline.length !== n) {
    throw new RangeError(
      `sequentialDecision: paired looks need the baseline values of the same ${n} seeds, got ${baseline.length}`,
    );
  }
  const alphaLook = plan.alphaPerLook[lookIndex]!;
  const result = tost({ candidate, baseline, lower: bounds.lower, upper: bounds.upper, alpha: alphaLook, design });
  const isLast = lookIndex === K - 1;
  const common = { result, look: lookIndex, looks: K, runsUsed: n, alphaLook };
  const ci = `${pct(result.ciLevel)} CI [${significant(result.ci[0], 4)}, ${significant(result.ci[1], 4)}]`;
  const where = `at look ${lookIndex + 1} of ${K} (${n} seeds)`;
  if (result.verdict === 'equivalent') {
    return {
      ...common,
      decision: 'equivalent',
      final: true,
      reason: `${ci} lies inside (${significant(bounds.lower, 4)}, ${significant(bounds.upper, 4)}) ${where}: stopped for equivalence.`,
    };
  }
  if (result.verdict === 'not-equivalent') {
    return {
      ...common,
      decision: 'not-equivalent',
      final: true,
      reason: `${ci} lies wholly outside (${significant(bounds.lower, 4)}, ${significant(bounds.upper, 4)}) ${where}: stopped, not equivalent.`,
    };
  }
  if (isLast) {
    return {
      ...common,
      decision: 'inconclusive',
      final: true,
      reason: `${ci} overlaps a bound at the last look (${n} seeds): inconclusive.`,
    };
  }
  if (plan.futilityConditionalPower !== undefined) {
    const cp = conditionalPower(plan, candidate, baseline, bounds);
    if (cp < plan.futilityConditionalPower) {
      return {
        ...common,
        decision: 'inconclusive',
        final: true,
        conditionalPower: cp,
        reason: `${ci} ${where}; even at ${plan.looks[K - 1]} seeds equivalence would be shown with only ~${pct(cp)} chance if the current estimates held: stopped early (futility).`,
      };
    }
    return {
      ...common,
      decision: 'continue',
      final: false,
      conditionalPower: cp,
      reason: `${ci} overlaps a bound ${where}: continue to ${plan.looks[lookIndex + 1]} seeds.`,
    };
  }
  return {
    ...common,
    decision: 'continue',
    final: false,
    reason: `${ci} overlaps a bound ${where}: continue to ${plan.looks[lookIndex + 1]} seeds.`,
  };
}

/**
 * Chance that the last look's CI lies inside the bounds, if the current difference and spreads were
 * the truth (the remaining seeds drawn around the current candidate mean).
 */
export function conditionalPower(
  plan: SequentialPlan,
  candidate: readonly number[],
  baseline: readonly number[],
  bounds: { lower: number; upper: number },
): number {
  const K = plan.looks.length;
  const nK = plan.looks[K - 1]!;
  const nk = candidate.length;
  const alphaK = plan.alphaPerLook[K - 1]!;
  let diff: number;
  let sdC: number;
  let seK: number;
  let dfK: number;
  if (plan.design === 'paired') {
    const d = summarize(candidate.map((v, i) => v - baseline[i]!));
    diff = d.mean;
    sdC = d.sd;
    seK = d.sd / Math.sqrt(nK);
    dfK = nK - 1;
  } else {
    const c = summarize(candidate);
    const b = summarize(baseline);
    diff = c.mean - b.mean;
    sdC = c.sd;
    const a1 = c.variance / nK;
    const a2 = b.variance / b.n;
    seK = Math.sqrt(a1 + a2);
    const m = Math.max(a1, a2);
    dfK = m > 0 ? (a1 / m + a2 / m) ** 2 / ((a1 / m) ** 2 / (nK - 1) + (a2 / m) ** 2 / (b.n - 1)) : Infinity;
  }
  const hw = seK > 0 ? tQuantile(1 - alphaK, dfK) * seK : 0;
  const lo = bounds.lower + hw;
  const hi = bounds.upper - hw;
  if (!(lo < hi)) return 0;
  const tau = (sdC * Math.sqrt(nK - nk)) / nK;
  if (!(tau > 0)) return diff > lo && diff < hi ? 1 : 0;
  const phi = (z: number): number => (z === Infinity ? 1 : z === -Infinity ? 0 : tCdf(z, Infinity));
  return Math.max(0, phi((hi - diff) / tau) - phi((lo - diff) / tau));
}

export interface SequentialGateDecision {
  decision: SequentialDecisionKind;
  /** Names (indices) of the metrics that decided it, e.g. the one that failed. */
  reason: string;
  final: boolean;
}

/**
 * Combine the metrics' decisions at one look (intersection–union): stop for equivalence only if all
 * are equivalent at this look; stop as not-equivalent if any is; stop as inconclusive if any stopped
 * for futility or the look is the last; otherwise continue.
 */
export function combineSequential(
  decisions: readonly SequentialDecision[],
  names?: readonly string[],
): SequentialGateDecision {
  if (decisions.length === 0) throw new RangeError('combineSequential: needs at least 1 decision');
  const look = decisions[0]!.look;
  if (decisions.some((d) => d.look !== look))
    throw new RangeError('combineSequential: every metric must be decided at the same look');
  const label = (i: number): string => names?.[i] ?? `metric ${i + 1}`;
  const which = (kind: SequentialDecisionKind): string[] =>
    decisions.flatMap((d, i) => (d.decision === kind ? [label(i)] : []));
  const where = `at look ${look + 1} of ${decisions[0]!.looks} (${decisions[0]!.runsUsed} seeds)`;
  const bad = which('not-equivalent');
  if (bad.length)
    return { decision: 'not-equivalent', final: true, reason: `${bad.join(', ')} clearly not equivalent ${where}.` };
  const stuck = which('inconclusive');
  if (stuck.length)
    return {
      decision: 'inconclusive',
      final: true,
      reason: `${stuck.join(', ')} inconclusive ${where}${decisions[0]!.look === decisions[0]!.looks - 1 ? ' (the last look)' : ' (stopped for futility)'}.`,
    };
  if (decisions.every((d) => d.decision === 'equivalent'))
    return { decision: 'equivalent', final: true, reason: `every metric equivalent ${where}.` };
  return { decision: 'continue', final: false, reason: `${which('continue').join(', ')} not yet decided ${where}.` };
}

function pct(x: number): string {
  return `${Number((x * 100).toPrecision(3))}%`;
}
