/**
 * Monte Carlo of whole gate runs (pure, seeded): what a sequential plan or a fixed number of
 * seeds does for a given true difference and noise. Used by the simulation tests and
 * scripts/bench-seeds.ts; normal seed-to-seed noise.
 */
import { createRng } from '../../src/stats/prng.js';
import { type SequentialPlan, sequentialDecision } from '../../src/stats/sequential.js';
import { tost } from '../../src/stats/tost.js';

export interface Scenario {
  /** Seed-to-seed sd of the baseline runs. */
  sd: number;
  /** Seed-to-seed sd of the candidate runs. Default: sd. */
  sdCandidate?: number;
  /** Paired plans: sd of candidate − baseline per shared seed. Default: √(sd² + sdCandidate²). */
  sdDiff?: number;
  /** True candidate − baseline difference. */
  trueDiff: number;
  lower: number;
  upper: number;
}

export interface SimulationSummary {
  reps: number;
  /** Mean candidate training runs per gate. */
  meanRuns: number;
  /** Fractions of gates ending equivalent / not-equivalent / inconclusive. */
  equivalent: number;
  notEquivalent: number;
  inconclusive: number;
  /** Fraction stopping at each look (sequential) or [1] (fixed). */
  stopAt: number[];
}

function draw(rng: ReturnType<typeof createRng>, n: number, mean: number, sd: number): number[] {
  return Array.from({ length: n }, () => mean + sd * rng.normal());
}

/** Runs the plan look by look until it stops, `reps` times. */
export function simulateSequential(plan: SequentialPlan, s: Scenario, reps: number, seed: number): SimulationSummary {
  const rng = createRng(seed);
  const K = plan.looks.length;
  const nMax = plan.looks[K - 1]!;
  const sdC = s.sdCandidate ?? s.sd;
  const sdD = s.sdDiff ?? Math.sqrt(s.sd * s.sd + sdC * sdC);
  const counts = { equivalent: 0, 'not-equivalent': 0, inconclusive: 0 };
  const stopAt = new Array<number>(K).fill(0);
  let runs = 0;
  for (let r = 0; r < reps; r++) {
    const baseline = draw(rng, plan.nBaseline, 0, s.sd);
    const candidate =
      plan.design === 'paired'
        ? baseline.slice(0, nMax).map((b) => b + s.trueDiff + sdD * rng.normal())
        : draw(rng, nMax, s.trueDiff, sdC);
    for (let k = 0; k < K; k++) {
      const n = plan.looks[k]!;
      const d = sequentialDecision(
        plan,
        k,
        candidate.slice(0, n),
        plan.design === 'paired' ? baseline.slice(0, n) : baseline,
        s,
      );
      if (d.decision !== 'continue') {
        counts[d.decision]++;
        stopAt[k]!++;
        runs += n;
        break;
      }
    }
  }
  return {
    reps,
    meanRuns: runs / reps,
    equivalent: counts.equivalent / reps,
    notEquivalent: counts['not-equivalent'] / reps,
    inconclusive: counts.inconclusive / reps,
    stopAt: stopAt.map((c) => c / reps),
  };
}

/** A fixed-n Welch (or paired) TOST at level alpha with n candidate and nBaseline baseline seeds. */
export function simulateFixed(
  n: number,
  nBaseline: number,
  alpha: number,
  s: Scenario,
  reps: number,
  seed: number,
  design: 'welch' | 'paired' = 'welch',
): SimulationSummary {
  const rng = createRng(seed);
  const sdC = s.sdCandidate ?? s.sd;
  const sdD = s.sdDiff ?? Math.sqrt(s.sd * s.sd + sdC * sdC);
  const counts = { equivalent: 0, 'not-equivalent': 0, inconclusive: 0 };
  for (let r = 0; r < reps; r++) {
    const baseline = draw(rng, nBaseline, 0, s.sd);
    const candidate =
      design === 'paired'
        ? baseline.slice(0, n).map((b) => b + s.trueDiff + sdD * rng.normal())
        : draw(rng, n, s.trueDiff, sdC);
    const res = tost({
      candidate,
      baseline: design === 'paired' ? baseline.slice(0, n) : baseline,
      lower: s.lower,
      upper: s.upper,
      alpha,
      design,
    });
    counts[res.verdict]++;
  }
  return {
    reps,
    meanRuns: n,
    equivalent: counts.equivalent / reps,
    notEquivalent: counts['not-equivalent'] / reps,
    inconclusive: counts.inconclusive / reps,
    stopAt: [1],
  };
}
