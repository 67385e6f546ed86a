/** Assembles the JSON report (pure): the single source the Markdown and `--json` are rendered from. */
import type { CauseFinding } from '../drift/cause.js';
import { type Baseline, metricValues, type RunRecord } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import type { Diagnosis } from '../schema/diagnosis.js';
import {
  type BaselineChange,
  type CacheUse,
  type Drift,
  FAILING_VERDICTS,
  type MetricResult,
  type Mismatch,
  REPORT_SCHEMA_VERSION,
  type Report,
  type ReportWarning,
  type SequentialSummary,
  type Verdict,
} from '../schema/report.js';
import { describeSample } from '../stats/summary.js';
import { plural } from '../util/format.js';
import { TOOL_VERSION } from '../util/version.js';

export interface GateOutcome {
  report: Report;
  verdict: Verdict;
  /** 0 pass, 1 fail (errors throw GateError → exit 2). */
  exitCode: 0 | 1;
}

export function outcome(report: Report): GateOutcome {
  return { report, verdict: report.verdict, exitCode: FAILING_VERDICTS.includes(report.verdict) ? 1 : 0 };
}

/** What every report of a run states: which config and baseline, at which commit, with which lint. */
export interface ReportContext {
  config: GateConfig;
  baselineName: string;
  commit: string | null;
  lint?: string[];
}

export interface ReportInput {
  command: Report['command'];
  verdict: Verdict;
  baseline: Baseline | undefined;
  candidate?: RunRecord[];
  metrics?: MetricResult[];
  mismatches?: Mismatch[];
  drift?: Drift;
  cause?: CauseFinding;
  warnings?: ReportWarning[];
  diagnosis?: Diagnosis;
  sequential?: SequentialSummary;
  baselineChange?: BaselineChange;
  cache?: CacheUse;
}

const NO_DRIFT: Drift = { data: [], config: [], environment: [] };

export function buildReport(context: ReportContext, fields: ReportInput): Report {
  const input = { ...context, ...fields };
  const drift = input.drift ?? NO_DRIFT;
  const metrics = input.metrics ?? [];
  const report: Report = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'repro-gate', version: TOOL_VERSION },
    command: input.command,
    verdict: input.verdict,
    summary: summarySentence(input, metrics, drift) + cacheSentence(input.cache),
    mode: input.config.mode,
    alpha: input.config.alpha,
    seeds: input.candidate?.map((r) => r.seed) ?? [],
    metrics,
    mismatches: input.mismatches ?? [],
    drift,
    warnings: input.warnings ?? [],
    baseline: input.baseline
      ? { path: input.baselineName, recordedAt: input.baseline.recordedAt, commit: input.baseline.commit }
      : null,
    commit: input.commit,
  };
  // Informational items only matter when the gate failed; warnings always show.
  const lint = FAILING_VERDICTS.includes(input.verdict)
    ? input.lint
    : input.lint?.filter((l) => !l.startsWith('Info:'));
  if (lint?.length) report.lint = lint;
  if (input.diagnosis) report.diagnosis = input.diagnosis;
  if (input.command === 'record' && input.candidate?.length) {
    const runs = input.candidate;
    report.recorded = input.config.metrics.map((m) => ({
      name: m.name,
      ...describeSample(metricValues(runs, m.name)),
    }));
  }
  if (input.sequential) report.sequential = input.sequential;
  if (input.baselineChange) report.baselineChange = input.baselineChange;
  if (input.cache) report.cache = input.cache;
  if (input.cause) {
    report.cause = input.cause.cause;
    report.causeEvidence = input.cause.evidence;
  }
  return report;
}

/** "2 data files", and "1 data lineage part" for declared source/query/preprocess changes. */
function dataCounts(data: Drift['data']): Array<string | 0> {
  const lineage = data.filter((d) => d.lineage).length;
  const folders = data.filter((d) => d.folder).length;
  const files = data.length - lineage - folders;
  return [
    files && plural(files, 'data file'),
    folders && plural(folders, 'data folder'),
    lineage && plural(lineage, 'data lineage part'),
  ];
}

/** The one sentence a reader sees first. */
function summarySentence(input: ReportInput & ReportContext, metrics: MetricResult[], drift: Drift): string {
  const n = input.candidate?.length ?? 0;
  const driftCount = drift.data.length + drift.config.length + drift.environment.length;
  switch (input.verdict) {
    case 'recorded':
      return `Recorded a new baseline from ${plural(n, 'seed')} in ${input.config.mode} mode.`;
    case 'no-drift':
      return 'No data, config or environment drift since the baseline.';
    case 'drift':
      return `Drift since the baseline: ${[
        ...dataCounts(drift.data),
        drift.config.length && plural(drift.config.length, 'config key'),
        drift.environment.length && plural(drift.environment.length, 'environment fact'),
      ]
        .filter(Boolean)
        .join(', ')} changed.`;
    case 'reproducible':
      return `Training reproduces exactly: every metric${input.config.artifacts.length ? ' and artifact' : ''} is bit-identical over ${plural(n, 'seed')}.`;
    case 'mismatch': {
      const seeds = new Set(input.mismatches?.map((m) => m.seed));
      return `Training does not reproduce exactly: ${plural(input.mismatches?.length ?? 0, 'value')} differ across ${plural(seeds.size, 'seed')}.`;
    }
    default: {
      const counts = (v: string) => metrics.filter((m) => m.verdict === v).length;
      const design = input.config.robust ? 'rank-based' : input.config.paired ? 'paired' : 'Welch';
      const tail = `(${plural(n, 'seed')}, ${design} TOST, α = ${input.config.alpha})`;
      const extra = driftCount ? `; ${plural(driftCount, 'drift item')} listed below` : '';
      if (input.verdict === 'equivalent')
        return `Training reproduces: all ${plural(metrics.length, 'metric')} equivalent within their margins ${tail}${extra}.`;
      if (input.verdict === 'not-equivalent')
        return `Training does not reproduce: ${counts('not-equivalent')} of ${plural(metrics.length, 'metric')} outside the margin ${tail}.`;
      return `Inconclusive: ${counts('inconclusive')} of ${plural(metrics.length, 'metric')} could not be shown equivalent with this many seeds ${tail}.`;
    }
  }
}

/** Said in the summary so a cache hit is never mistaken for a fresh retraining. */
function cacheSentence(cache: CacheUse | undefined): string {
  if (!cache?.reused.length) return '';
  const n = cache.reused.length + cache.trained.length;
  const what =
    cache.reused.length === n
      ? `All ${plural(n, 'seed')} reused from the run cache`
      : `${cache.reused.length} of ${plural(n, 'seed')} reused from the run cache`;
  return ` ${what} (key ${cache.key}): nothing that affects training changed.`;
}
