/** The report's row for one metric: the one place a comparison's numbers become a MetricResult. */
import type { MetricSpec } from '../schema/config.js';
import type { MetricResult } from '../schema/report.js';

type Sample = MetricResult['baseline'];

export interface RowInput {
  verdict: MetricResult['verdict'];
  design: MetricResult['design'];
  baseline: Sample;
  candidate: Sample;
  /** Candidate − baseline (for the rank test, the Hodges–Lehmann shift). */
  diff: number;
  ci?: [number, number];
  p?: number;
  /** Equivalence bounds on the difference; ±Infinity for the open side of a non-inferiority test. */
  bounds?: { lower: number; upper: number };
  df?: number;
  se?: number;
  degenerate?: boolean;
}

const finite = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/** `spec` is absent in exact mode, which compares bits and has no margin. */
export function metricRow(
  name: string,
  spec: Pick<MetricSpec, 'margin' | 'direction'> | undefined,
  r: RowInput,
): MetricResult {
  return {
    name,
    verdict: r.verdict,
    baseline: r.baseline,
    candidate: r.candidate,
    diff: r.diff,
    ci: r.ci ?? null,
    p: r.p ?? null,
    lower: finite(r.bounds?.lower),
    upper: finite(r.bounds?.upper),
    margin: spec?.margin?.text ?? null,
    direction: spec?.direction ?? 'both',
    design: r.design,
    df: finite(r.df),
    se: r.se ?? null,
    degenerate: r.degenerate ?? false,
  };
}
