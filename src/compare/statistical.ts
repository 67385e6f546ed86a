/** Statistical mode: a TOST per metric over the seeds, all of which must pass (intersection–union). */
import { metricValues, type RunRecord } from '../schema/baseline.js';
import type { MetricSpec } from '../schema/config.js';
import type { MetricResult, ReportWarning } from '../schema/report.js';
import { robustTost } from '../stats/robust.js';
import { describeSample } from '../stats/summary.js';
import { combineVerdicts, type TostResult, tost } from '../stats/tost.js';
import { GateError } from '../util/errors.js';
import { metricRow } from './metric-row.js';

export interface StatisticalComparison {
  verdict: 'equivalent' | 'not-equivalent' | 'inconclusive';
  metrics: MetricResult[];
  warnings: ReportWarning[];
}

/** Equivalence bounds on candidate − baseline; relative margins are fixed from the baseline mean. */
export function boundsFor(spec: MetricSpec, baselineMean: number): { lower: number; upper: number } {
  const margin = spec.margin;
  // Config validation requires a margin for every metric in statistical mode.
  if (!margin) throw new Error(`metric ${spec.name} has no margin`);
  let m: number;
  if (margin.kind === 'absolute') m = margin.value;
  else {
    if (baselineMean === 0) {
      throw new GateError(
        `Metric "${spec.name}" has a relative margin (${margin.text}) but its baseline mean is 0, so the margin would be 0.`,
        `Give ${spec.name} an absolute margin in repro-gate.yml, e.g. margin: 0.01.`,
      );
    }
    m = (Math.abs(baselineMean) * margin.percent) / 100;
  }
  return {
    lower: spec.direction === 'lower' ? -Infinity : -m,
    upper: spec.direction === 'higher' ? Infinity : m,
  };
}

export function compareStatistical(
  baseline: RunRecord[],
  candidate: RunRecord[],
  specs: MetricSpec[],
  opts: { alpha: number; paired: boolean; robust?: boolean },
): StatisticalComparison {
  if (baseline.length < 2 || candidate.length < 2) {
    throw new GateError(
      `Statistical mode needs at least 2 seeds on each side (baseline has ${baseline.length}, this run ${candidate.length}).`,
      'Set seeds: 5 (or more) in repro-gate.yml and re-record, or use mode: exact.',
    );
  }
  // Paired: seed i of the candidate against seed i of the baseline (the gate checks the seeds match).
  const base = [...baseline].sort((a, b) => a.seed - b.seed);
  const cand = [...candidate].sort((a, b) => a.seed - b.seed);
  const warnings: ReportWarning[] = [];
  const metrics = specs.map((spec): MetricResult => {
    const b = metricValues(base, spec.name);
    const c = metricValues(cand, spec.name);
    const baselineMean = b.reduce((s, x) => s + x, 0) / b.length;
    const bounds = boundsFor(spec, baselineMean);
    if (opts.robust) return robustRow(spec, c, b, bounds, opts.alpha);
    const r = tost({
      candidate: c,
      baseline: b,
      ...bounds,
      alpha: opts.alpha,
      design: opts.paired ? 'paired' : 'welch',
    });
    if (r.degenerate) warnings.push(zeroSpreadWarning(spec.name, opts.paired));
    return tostRow(spec, r, r.verdict, bounds);
  });
  return {
    verdict: combineVerdicts(metrics.map((m) => m.verdict as 'equivalent' | 'not-equivalent' | 'inconclusive')),
    metrics,
    warnings,
  };
}

export function zeroSpreadWarning(name: string, paired: boolean): ReportWarning {
  const message = `${name}: every seed gave the same value${paired ? ' difference' : ''} on both sides (zero spread), so its verdict compares two fixed values (the CI is the single difference) rather than testing noise.`;
  return { code: 'zero-spread', message };
}

/** A TOST result as the report's metric row (shared by fixed-n and sequential comparisons). */
export function tostRow(
  spec: MetricSpec,
  r: TostResult,
  verdict: MetricResult['verdict'],
  bounds: { lower: number; upper: number },
): MetricResult {
  return metricRow(spec.name, spec, {
    verdict,
    design: r.design === 'paired' ? 'paired' : 'welch',
    baseline: { n: r.n2, mean: r.mean2, sd: r.sd2 },
    candidate: { n: r.n1, mean: r.mean1, sd: r.sd1 },
    diff: r.diff,
    ci: r.ci,
    p: r.p,
    bounds,
    df: r.df,
    se: r.se,
    degenerate: r.degenerate,
  });
}

/** Rank-based equivalence: the Hodges–Lehmann shift and its Mann–Whitney (1−2α) CI. */
function robustRow(
  spec: MetricSpec,
  c: number[],
  b: number[],
  bounds: { lower: number; upper: number },
  alpha: number,
): MetricResult {
  const r = robustTost({ candidate: c, baseline: b, ...bounds, alpha });
  return metricRow(spec.name, spec, {
    verdict: r.verdict,
    design: 'rank',
    baseline: describeSample(b),
    candidate: describeSample(c),
    diff: r.estimate,
    ci: r.ci,
    p: r.p,
    bounds,
    degenerate: r.degenerate,
  });
}
