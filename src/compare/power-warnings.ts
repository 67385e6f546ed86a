/**
 * Pre-flight power warnings for the gate (pure): before any training, from the committed baseline's
 * spread, say when the configured seeds cannot (or only rarely can) show equivalence — the GPU
 * hours would be spent on a foregone "inconclusive".
 */
import type { RunRecord } from '../schema/baseline.js';
import type { MetricSpec } from '../schema/config.js';
import type { ReportWarning } from '../schema/report.js';
import { powerWarning } from '../stats/power.js';
import { summarize } from '../stats/summary.js';
import { boundsFor } from './statistical.js';

export interface SeedWarningOptions {
  /** Level of the test the verdict is read at: config.alpha, or a sequential plan's last α′. */
  alpha: number;
  /** Candidate seeds the check will run (sequential: the plan's maximum, its best case). */
  nCandidate: number;
  /**
   * true when the number of seeds is a config setting applying to both record and check (fixed-n
   * mode): the advice then includes re-recording the baseline. Default: nCandidate = baseline runs.
   */
  bothSides?: boolean;
  paired?: boolean;
}

/**
 * One warning per metric whose noise makes equivalence out of (or nearly out of) reach. Paired
 * comparisons are skipped: the noise of the paired differences is not known before training.
 */
export function seedWarnings(
  baseline: readonly RunRecord[],
  specs: readonly MetricSpec[],
  opts: SeedWarningOptions,
): ReportWarning[] {
  if (opts.paired || baseline.length < 2 || opts.nCandidate < 2) return [];
  const out: ReportWarning[] = [];
  for (const spec of specs) {
    const values = baseline.map((r) => r.metrics[spec.name]);
    if (values.some((v) => typeof v !== 'number' || !Number.isFinite(v))) continue;
    const s = summarize(values as number[]);
    if (s.constant) continue;
    let bounds: { lower: number; upper: number };
    try {
      bounds = boundsFor(spec, s.mean);
    } catch {
      continue; // a relative margin on a zero mean: the comparison itself reports it
    }
    const w = powerWarning({
      sd: s.sd,
      lower: bounds.lower,
      upper: bounds.upper,
      alpha: opts.alpha,
      nBaseline: s.n,
      nCandidate: opts.nCandidate,
      design: 'welch',
      ...(opts.bothSides !== undefined ? { bothSides: opts.bothSides } : {}),
    });
    if (w) out.push({ code: 'low-power', message: `${spec.name}: ${w}` });
  }
  return out;
}
