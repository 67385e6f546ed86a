/**
 * The metrics history as text (pure): one JSON line per run. Reading skips what cannot be trusted
 * (a line cut short by a killed job, a line another schema version wrote) and says which; a new
 * line is built from the run's report.
 */
import { HISTORY_LINE_VERSION, type HistoryLine, historyLineSchema } from '../schema/history.js';
import type { Report } from '../schema/report.js';

export interface ParsedHistory {
  lines: HistoryLine[];
  /** One sentence per skipped line: where and why. */
  skipped: string[];
}

export function parseHistory(text: string, file: string): ParsedHistory {
  const out: ParsedHistory = { lines: [], skipped: [] };
  for (const [i, raw] of text.split('\n').entries()) {
    if (!raw.trim()) continue;
    const where = `${file} line ${i + 1}`;
    let doc: unknown;
    try {
      doc = JSON.parse(raw);
    } catch {
      out.skipped.push(`${where} skipped: not valid JSON (cut short?)`);
      continue;
    }
    const v = (doc as { v?: unknown } | null)?.v;
    if (v !== HISTORY_LINE_VERSION) {
      out.skipped.push(
        `${where} skipped: history line version ${JSON.stringify(v)}, this repro-gate reads ${HISTORY_LINE_VERSION}`,
      );
      continue;
    }
    const parsed = historyLineSchema.safeParse(doc);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      out.skipped.push(`${where} skipped: ${issue?.path.join('.') || 'line'}: ${issue?.message ?? 'invalid'}`);
      continue;
    }
    out.lines.push(parsed.data);
  }
  return out;
}

/** The history line of a check or record, from its report (null for other verbs or no metrics). */
export function lineFromReport(report: Report, environment: string, time: Date): HistoryLine | null {
  if (report.command === 'drift') return null;
  const metrics: HistoryLine['metrics'] = {};
  const entries: Array<[string, HistoryLine['metrics'][string]]> =
    report.command === 'record'
      ? (report.recorded ?? []).map((m) => [m.name, { mean: m.mean, sd: m.sd, n: m.n }])
      : report.metrics.map((m) => {
          const edge = (bound: number | null) => (bound === null ? null : m.baseline.mean + bound);
          const edges = m.margin === null ? {} : { lower: edge(m.lower), upper: edge(m.upper) };
          return [m.name, { ...m.candidate, ...edges }];
        });
  if (!entries.length) return null;
  Object.assign(metrics, Object.fromEntries(entries));
  return {
    v: HISTORY_LINE_VERSION,
    time: time.toISOString(),
    commit: report.commit,
    command: report.command,
    verdict: report.verdict,
    metrics,
    environment,
  };
}
