/**
 * What a reader of a failing report does next: the one drift to look at first, and how to accept
 * the change if it was intended. Pure; the wording depends on where the reader is (a shell or a PR).
 */
import { FAILING_VERDICTS, type Report } from '../schema/report.js';
import type { Escaper } from './escape.js';

export interface AcceptVia {
  /** cli: re-record and commit. action: the same, or the baseline-update workflow, plus the PR label. */
  via: 'cli' | 'action';
  /** The pull-request label that accepts a changed baseline (action, on a pull request only). */
  label?: string;
}

/** The first drift of the most likely cause's kind, as the reader should go and look at it. */
function lookFirst(report: Report, f: Escaper): string {
  const { data, config, environment } = report.drift;
  const files = config.filter((c) => c.group !== 'gate settings');
  const settings = config.filter((c) => c.group === 'gate settings');
  const d = data[0];
  const c = files[0];
  const s = settings[0];
  const e = environment[0];
  const more = (n: number) => (n > 1 ? ` (and ${n - 1} more)` : '');
  const dataLine =
    d &&
    `Look first at the data file ${f.code(d.path)}: ${d.change}${d.detail ? `, ${f.text(d.detail)}` : ''}${more(data.length)}.`;
  const configLine =
    c &&
    `Look first at ${f.code(c.key)} in ${f.code(c.file)}: ${f.code(c.before)} → ${f.code(c.after)}${more(files.length)}.`;
  const settingLine = s && `Look first at the gate setting ${f.code(s.key)}: ${f.code(s.before)} → ${f.code(s.after)}.`;
  const envLine =
    e &&
    `Look first at the environment: ${f.code(e.key)} ${f.code(e.before)} → ${f.code(e.after)}${more(environment.length)}.`;
  // The cause decides where to look; without one, drift in the order the report lists it.
  const byCause =
    report.cause === 'data'
      ? dataLine
      : report.cause === 'config'
        ? (configLine ?? settingLine)
        : report.cause === 'environment'
          ? envLine
          : undefined;
  const first = byCause ?? dataLine ?? configLine ?? settingLine ?? envLine;
  if (first) return first;
  if (report.command === 'check' && report.mode === 'exact')
    return 'No data, config or environment drift: the code or its randomness changed. Run `repro-gate diagnose` to rerun one seed and find the first tensor that differs.';
  return 'No data, config or environment drift: look at the code this change touches.';
}

/** Lines for a failing check or drift report (what to look at, more seeds if inconclusive, how to accept); none otherwise. */
export function nextStepLines(report: Report, f: Escaper, accept: AcceptVia): string[] {
  if (report.command === 'record' || !FAILING_VERDICTS.includes(report.verdict)) return [];
  const baseline = f.code(report.baseline?.path ?? '.repro-gate/baseline.json');
  const how =
    accept.via === 'action'
      ? `If the change is intended, update the baseline: run the baseline-update workflow (it records and opens a pull request), or run \`repro-gate record\` and commit ${baseline}${accept.label ? ` in this pull request, then add the ${f.code(accept.label)} label` : ''}.`
      : `If the change is intended, accept it: run \`repro-gate record\` and commit ${baseline}.`;
  const lines = [`- ${lookFirst(report, f)}`];
  // Inconclusive is a question of evidence, not of a change: say how to get more of it.
  if (report.verdict === 'inconclusive')
    lines.push(
      '- Inconclusive means a CI straddles a margin edge: more seeds narrow it (`seeds:`, or `seeds: {min, max}` to add them only when needed).',
    );
  return [...lines, `- ${how}`];
}
