/**
 * What to annotate on a pull request's diff: each config key and data file that drifted, on its
 * line, as an error when it is of the most likely cause's kind and the gate failed, else a warning.
 * Pure: file texts come from the caller, paths are made relative to the repository by `prefix`.
 */
import { posix } from 'node:path';
import { type Cause, FAILING_VERDICTS, type Report } from '../schema/report.js';
import { keyLine } from '../util/key-line.js';

export interface Annotation {
  level: 'error' | 'warning';
  /** Path from the repository root, as GitHub matches it against the diff. */
  file: string;
  /** 1-based. */
  line: number;
  title: string;
  message: string;
}

/** GitHub shows at most 10 annotations of each level per step; the first ones matter most. */
const MAX_ANNOTATIONS = 10;

function shown(v: unknown): string {
  return v === undefined ? '(none)' : JSON.stringify(v);
}

/** The first line a text-change detail names ("line 2 changed", "… (first at line 7)"). */
function detailLine(detail: string | undefined): number {
  const m = /first at line (\d+)/.exec(detail ?? '') ?? /\blines? (\d+)/.exec(detail ?? '');
  return m ? Number(m[1]) : 1;
}

/**
 * @param prefix  the config file's folder relative to the repository root ('' at the root): report
 *                paths are relative to that folder.
 * @param textOf  a drifted config file's text, or undefined when it cannot be read (a resolved
 *                removed file, one too big to search): it is then annotated on line 1.
 */
export function planAnnotations(
  report: Report,
  prefix: string,
  textOf: (file: string) => string | undefined,
): Annotation[] {
  if (report.command === 'record') return [];
  const failed = FAILING_VERDICTS.includes(report.verdict);
  const level = (kind: Cause): Annotation['level'] => (failed && report.cause === kind ? 'error' : 'warning');
  const repoPath = (p: string) => posix.normalize(posix.join(prefix, p));
  const out: Annotation[] = [];
  // The report's order: data, then config — the order to suspect them in.
  for (const d of report.drift.data) {
    out.push({
      level: level('data'),
      file: repoPath(d.path),
      line: detailLine(d.detail),
      title: `repro-gate: data ${d.change} since the baseline`,
      message: `${d.path} ${d.change}${d.detail ? `: ${d.detail}` : ''}.${level('data') === 'error' ? ` Most likely cause of the ${report.verdict}.` : ''}`,
    });
  }
  for (const c of report.drift.config) {
    // A resolved config lives in the training's output folder, not in the repository's diff.
    if (c.file.startsWith('{out}/')) continue;
    const text = textOf(c.file);
    const kind = c.group === 'gate settings' ? 'gate setting' : 'config';
    out.push({
      level: c.group === 'gate settings' ? 'warning' : level('config'),
      file: repoPath(c.file),
      line: (text === undefined ? undefined : keyLine(text, c.file, c.key)) ?? 1,
      title: `repro-gate: ${kind} ${c.change} since the baseline`,
      message: `${c.key}: ${shown(c.before)} → ${shown(c.after)}.${c.group !== 'gate settings' && level('config') === 'error' ? ` Most likely cause of the ${report.verdict}.` : ''}`,
    });
  }
  return out.slice(0, MAX_ANNOTATIONS);
}
