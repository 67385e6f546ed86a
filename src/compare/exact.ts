/** Exact mode: every metric value and artifact hash must be bit-identical, seed by seed. */
import type { RunRecord } from '../schema/baseline.js';
import type { MetricResult, Mismatch } from '../schema/report.js';
import { describeSample } from '../stats/summary.js';
import { metricRow } from './metric-row.js';

export interface ExactComparison {
  verdict: 'reproducible' | 'mismatch';
  metrics: MetricResult[];
  mismatches: Mismatch[];
}

/** `baseline` must hold a run for every candidate seed (the gate checks that before training). */
export function compareExact(
  baseline: RunRecord[],
  candidate: RunRecord[],
  metricNames: string[],
  artifactNames: string[],
): ExactComparison {
  const bySeed = new Map(baseline.map((r) => [r.seed, r]));
  const pairs = candidate.map((run) => {
    const base = bySeed.get(run.seed);
    if (!base) throw new Error(`internal error: the baseline has no run for candidate seed ${run.seed}`);
    return { run, base };
  });
  const mismatches: Mismatch[] = [];
  for (const { run, base } of pairs) {
    for (const name of metricNames) {
      // === rather than Object.is: JSON turns -0 into 0, which is not a real difference.
      if (base.metrics[name] !== run.metrics[name]) {
        mismatches.push({
          seed: run.seed,
          kind: 'metric',
          name,
          baseline: base.metrics[name] ?? null,
          candidate: run.metrics[name] ?? null,
        });
      }
    }
    for (const name of artifactNames) {
      const b = base.artifacts[name]?.sha256 ?? null;
      const c = run.artifacts[name]?.sha256 ?? null;
      if (b !== c) mismatches.push({ seed: run.seed, kind: 'artifact', name, baseline: b, candidate: c });
    }
  }
  const compared = pairs.map((p) => p.base);
  const metrics = metricNames.map((name) => {
    const baselineSample = describeSample(compared.map((r) => r.metrics[name] ?? Number.NaN));
    const candidateSample = describeSample(candidate.map((r) => r.metrics[name] ?? Number.NaN));
    return metricRow(name, undefined, {
      verdict: mismatches.some((m) => m.kind === 'metric' && m.name === name) ? 'mismatch' : 'reproducible',
      design: 'exact',
      baseline: baselineSample,
      candidate: candidateSample,
      diff: candidateSample.mean - baselineSample.mean,
    });
  });
  return { verdict: mismatches.length ? 'mismatch' : 'reproducible', metrics, mismatches };
}
