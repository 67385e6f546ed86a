/**
 * Glue between the sequential TOST (sequential.ts) and the gate: the plan for a config, and the
 * per-look comparison of run records, in the shape of compareStatistical (statistical.ts). Pure.
 *
 * The gate trains the candidate in batches up to each look (plan.looks), calls
 * compareSequentialLook after each batch and stops as soon as the decision is not 'continue'.
 */
import type { RunRecord } from '../baseline/schema.js';
import type { MetricSpec } from '../config/schema.js';
import { GateError } from '../errors.js';
import type { MetricResult } from '../report/schema.js';
import {
  combineSequential,
  planSequential,
  sequentialDecision,
  type SequentialBoundary,
  type SequentialCalibration,
  type SequentialDecisionKind,
  type SequentialPlan,
} from './sequential.js';
import { boundsFor, tostMetricResult, zeroSpreadWarning } from './statistical.js';

/** `seeds: {min, max, step}` in repro-gate.yml. */
export interface SequentialSeeds {
  min: number;
  max: number;
  step?: number;
  boundary?: SequentialBoundary;
  calibration?: SequentialCalibration;
  /** Conditional-power futility threshold (e.g. 0.1); off when absent. */
  futility?: number;
}

/** The plan for this config and the committed baseline's number of runs. */
export function planForGate(seeds: SequentialSeeds, opts: { alpha: number; paired: boolean; nBaseline: number }): SequentialPlan {
  if (opts.nBaseline < 2) {
    throw new GateError(
      `Sequential seeds need a baseline of at least 2 runs (it has ${opts.nBaseline}).`,
      `Re-record the baseline: \`repro-gate record\` trains ${seeds.max} seeds.`,
    );
  }
  if (opts.paired && opts.nBaseline < seeds.max) {
    throw new GateError(
      `A paired sequential comparison pairs candidate seed i with baseline seed i, so the baseline needs ${seeds.max} runs (it has ${opts.nBaseline}).`,
      `Re-record the baseline with \`repro-gate record\` (it trains seeds.max = ${seeds.max} seeds).`,
    );
  }
  return planSequential({
    min: seeds.min,
    max: seeds.max,
    ...(seeds.step !== undefined ? { step: seeds.step } : {}),
    alpha: opts.alpha,
    nBaseline: opts.nBaseline,
    design: opts.paired ? 'paired' : 'welch',
    ...(seeds.boundary ? { boundary: seeds.boundary } : {}),
    ...(seeds.calibration ? { calibration: seeds.calibration } : {}),
    ...(seeds.futility !== undefined ? { futilityConditionalPower: seeds.futility } : {}),
  });
}

/** What the report records about a sequential run (suggested report field `sequential`). */
export interface SequentialSummary {
  /** Candidate seeds at each look, the per-look levels α′ and how they were set. */
  looks: number[];
  alphaPerLook: number[];
  method: string;
  guarantee: string;
  /** 1-based look the gate stopped at, and the candidate training runs it used. */
  stoppedAtLook: number;
  runsUsed: number;
  maxRuns: number;
  /** Why it stopped (or that it is continuing), one sentence. */
  reason: string;
}

export interface SequentialLookResult {
  /** 'continue': train up to the next look; otherwise the gate's verdict. */
  decision: SequentialDecisionKind;
  metrics: MetricResult[];
  warnings: string[];
  summary: SequentialSummary;
}

/**
 * Compare at look `lookIndex` (0-based). `candidate` holds exactly plan.looks[lookIndex] runs; for a
 * paired plan, each candidate seed must be present in the baseline.
 */
export function compareSequentialLook(
  plan: SequentialPlan,
  lookIndex: number,
  baseline: readonly RunRecord[],
  candidate: readonly RunRecord[],
  specs: readonly MetricSpec[],
): SequentialLookResult {
  const paired = plan.design === 'paired';
  const cand = [...candidate].sort((a, b) => a.seed - b.seed);
  const allBase = [...baseline].sort((a, b) => a.seed - b.seed);
  let base = allBase;
  if (paired) {
    const bySeed = new Map(allBase.map((r) => [r.seed, r]));
    const missing = cand.filter((r) => !bySeed.has(r.seed)).map((r) => r.seed);
    if (missing.length) {
      throw new GateError(`A paired comparison needs the baseline to hold every candidate seed, but it has no run for seed(s) ${missing.join(', ')}.`, 'Re-record the baseline with `repro-gate record`.');
    }
    base = cand.map((r) => bySeed.get(r.seed)!);
  }
  const warnings: string[] = [];
  const decisions = specs.map((spec) => {
    const b = base.map((r) => r.metrics[spec.name]!);
    const c = cand.map((r) => r.metrics[spec.name]!);
    // Relative margins are fixed from the whole committed baseline (the same at every look).
    const baselineMean = allBase.reduce((s, r) => s + r.metrics[spec.name]!, 0) / allBase.length;
    const bounds = boundsFor(spec, baselineMean);
    const d = sequentialDecision(plan, lookIndex, c, b, bounds);
    if (d.result.degenerate && d.decision !== 'continue') warnings.push(zeroSpreadWarning(spec.name, paired));
    return { spec, bounds, d };
  });
  const combined = combineSequential(decisions.map((x) => x.d));
  // Per metric at this look: 'continue' reads as inconclusive so far.
  const metrics = decisions.map(({ spec, bounds, d }) => tostMetricResult(spec, d.result, d.decision === 'continue' ? 'inconclusive' : d.decision, bounds));
  const K = plan.looks.length;
  const runsUsed = plan.looks[lookIndex]!;
  const maxRuns = plan.looks[K - 1]!;
  const level = `${Number(((1 - 2 * plan.alphaPerLook[lookIndex]!) * 100).toPrecision(3))}% CIs (α′ = ${Number(plan.alphaPerLook[lookIndex]!.toPrecision(3))})`;
  const saved = maxRuns - runsUsed;
  const names = (kind: SequentialDecisionKind): string => decisions.filter((x) => x.d.decision === kind).map((x) => x.spec.name).join(', ');
  const isLast = lookIndex === K - 1;
  let why: string;
  switch (combined.decision) {
    case 'equivalent':
      why = specs.length === 1 ? `${specs[0]!.name} is equivalent` : 'every metric is equivalent';
      break;
    case 'not-equivalent':
      why = `${names('not-equivalent')} clearly not equivalent (CI wholly outside the margin)`;
      break;
    case 'inconclusive':
      why = isLast
        ? `${names('inconclusive')} still inconclusive at the last look`
        : `${names('inconclusive')} cannot reach equivalence by ${maxRuns} seeds (conditional power below ${Math.round((plan.futilityConditionalPower ?? 0) * 100)}%)`;
      break;
    default:
      why = `${names('continue')} not decided yet`;
  }
  const reason =
    combined.decision === 'continue'
      ? `Look ${lookIndex + 1} of ${K} (${runsUsed} seeds, ${level}): ${why}; continuing to ${plan.looks[lookIndex + 1]} seeds.`
      : `Stopped at look ${lookIndex + 1} of ${K} after ${runsUsed} of up to ${maxRuns} seeds (${level}): ${why}` +
        (saved > 0 ? `; ${saved} training run${saved === 1 ? '' : 's'} saved.` : '.');
  return {
    decision: combined.decision,
    metrics,
    warnings,
    summary: {
      looks: [...plan.looks],
      alphaPerLook: [...plan.alphaPerLook],
      method: plan.method,
      guarantee: plan.guarantee,
      stoppedAtLook: lookIndex + 1,
      runsUsed,
      maxRuns,
      reason,
    },
  };
}
