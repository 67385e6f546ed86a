/**
 * Glue between the sequential TOST (sequential.ts) and the gate: the plan for a config, and the
 * per-look comparison of run records, in the shape of compareStatistical (statistical.ts). Pure.
 *
 * The gate trains the candidate in batches up to each look (plan.looks), calls
 * compareSequentialLook after each batch and stops as soon as the decision is not 'continue'.
 */
import { metricValues, type RunRecord } from '../schema/baseline.js';
import type { MetricSpec, SequentialSeedsConfig } from '../schema/config.js';
import type { MetricResult, ReportWarning, SequentialSummary } from '../schema/report.js';
import {
  combineSequential,
  planSequential,
  type SequentialDecisionKind,
  type SequentialPlan,
  sequentialDecision,
} from '../stats/sequential.js';
import { GateError } from '../util/errors.js';
import { plural } from '../util/format.js';
import { boundsFor, tostRow, zeroSpreadWarning } from './statistical.js';

/** The plan for this config and the committed baseline's number of runs. */
export function planForGate(
  seeds: Pick<SequentialSeedsConfig, 'min' | 'max'> & Partial<SequentialSeedsConfig>,
  opts: { alpha: number; paired: boolean; nBaseline: number },
): SequentialPlan {
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

export interface SequentialLookResult {
  /** 'continue': train up to the next look; otherwise the gate's verdict. */
  decision: SequentialDecisionKind;
  metrics: MetricResult[];
  warnings: ReportWarning[];
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
  const runsUsed = plan.looks[lookIndex];
  const alphaHere = plan.alphaPerLook[lookIndex];
  const maxRuns = plan.looks.at(-1);
  if (runsUsed === undefined || alphaHere === undefined || maxRuns === undefined)
    throw new Error(`internal error: look ${lookIndex} is not in the plan (${plan.looks.length} looks)`);
  const paired = plan.design === 'paired';
  const cand = [...candidate].sort((a, b) => a.seed - b.seed);
  const allBase = [...baseline].sort((a, b) => a.seed - b.seed);
  let base = allBase;
  if (paired) {
    const bySeed = new Map(allBase.map((r) => [r.seed, r]));
    const pairedBase: RunRecord[] = [];
    const missing: number[] = [];
    for (const r of cand) {
      const run = bySeed.get(r.seed);
      if (run) pairedBase.push(run);
      else missing.push(r.seed);
    }
    if (missing.length) {
      throw new GateError(
        `A paired comparison needs the baseline to hold every candidate seed, but it has no run for seed(s) ${missing.join(', ')}.`,
        'Re-record the baseline with `repro-gate record`.',
      );
    }
    base = pairedBase;
  }
  const warnings: ReportWarning[] = [];
  const decisions = specs.map((spec) => {
    const b = metricValues(base, spec.name);
    const c = metricValues(cand, spec.name);
    // Relative margins are fixed from the whole committed baseline (the same at every look).
    const baselineMean = metricValues(allBase, spec.name).reduce((s, x) => s + x, 0) / allBase.length;
    const bounds = boundsFor(spec, baselineMean);
    const d = sequentialDecision(plan, lookIndex, c, b, bounds);
    if (d.result.degenerate && d.decision !== 'continue') warnings.push(zeroSpreadWarning(spec.name, paired));
    return { spec, bounds, d };
  });
  const combined = combineSequential(decisions.map((x) => x.d));
  // Per metric at this look: 'continue' reads as inconclusive so far.
  const metrics = decisions.map(({ spec, bounds, d }) =>
    tostRow(spec, d.result, d.decision === 'continue' ? 'inconclusive' : d.decision, bounds),
  );
  const K = plan.looks.length;
  const level = `${Number(((1 - 2 * alphaHere) * 100).toPrecision(3))}% CIs (α′ = ${Number(alphaHere.toPrecision(3))})`;
  const saved = maxRuns - runsUsed;
  const names = (kind: SequentialDecisionKind): string =>
    decisions
      .filter((x) => x.d.decision === kind)
      .map((x) => x.spec.name)
      .join(', ');
  const isLast = lookIndex === K - 1;
  const only = specs.length === 1 ? specs[0] : undefined;
  let why: string;
  switch (combined.decision) {
    case 'equivalent':
      why = only ? `${only.name} is equivalent` : 'every metric is equivalent';
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
        (saved > 0 ? `; ${plural(saved, 'training run')} saved.` : '.');
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
