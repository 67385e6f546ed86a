/**
 * `command: comment` reads a report produced by a run we do not trust (a fork's PR). It is data
 * only: size-limited, parsed, validated by the strict zod schema (unknown keys rejected), and its
 * PR number must match one we learned from a trusted source. Nothing in it is executed, and the
 * Markdown is re-rendered from it (with escaping), never taken from the file.
 */
import type { Stats } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import { type Report, reportSchema } from '../schema/report.js';
import { GateError } from '../util/errors.js';

/** Real reports are a few KB; anything this large is not one. */
export const MAX_REPORT_BYTES = 5 * 1024 * 1024;

/** Attacker-chosen text (e.g. key names) in our error messages: quoted, one line, bounded. */
function clip(s: string, max = 120): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters from attacker text is the point
  const one = s.replace(/[\u0000-\u001f\u007f]/g, ' ');
  return one.length > max ? `${one.slice(0, max)}…` : one;
}

/** Pure: text of the file → a valid Report, or a GateError saying what is wrong with it. */
export function parseUntrustedReport(text: string): Report {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new GateError(
      'Input "report": the file is not valid JSON',
      'pass the repro-gate report JSON uploaded by the pull request run',
    );
  }
  const r = reportSchema.safeParse(json);
  if (!r.success) {
    const issues = r.error.issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
      .map((s) => clip(s))
      .join('; ');
    const more = r.error.issues.length > 5 ? ` (+${r.error.issues.length - 5} more)` : '';
    throw new GateError(`Input "report": not a valid repro-gate report: ${issues}${more}`);
  }
  return r.data;
}

export async function readUntrustedReport(file: string): Promise<Report> {
  let st: Stats;
  try {
    st = await lstat(file);
  } catch {
    throw new GateError(
      `Input "report": file not found: ${clip(file, 300)}`,
      'download the report artifact before this step',
    );
  }
  if (!st.isFile()) throw new GateError(`Input "report": not a regular file: ${clip(file, 300)}`);
  if (st.size > MAX_REPORT_BYTES) {
    throw new GateError(
      `Input "report": file is ${st.size} bytes, over the ${MAX_REPORT_BYTES}-byte limit for a report`,
    );
  }
  return parseUntrustedReport(await readFile(file, 'utf8'));
}

/**
 * Pure: the PR to comment on. The report's own `pullRequest` must be one of the numbers we got
 * from a trusted source (the `pr-number` input or the workflow_run event / API), so a fork cannot
 * aim a comment at someone else's PR by editing its report.
 */
export function checkPullRequest(report: Report, trusted: readonly number[]): number {
  const pr = report.pullRequest;
  if (pr === undefined) {
    throw new GateError(
      'Input "report": the report names no pull request',
      'it must come from a run of repro-gate on a pull_request event',
    );
  }
  if (!trusted.includes(pr)) {
    const expected = trusted.length ? trusted.map((n) => `#${n}`).join(', ') : 'no open pull request';
    throw new GateError(
      `Input "report": the report is for pull request #${pr}, but this run belongs to ${expected}; refusing to comment`,
    );
  }
  return pr;
}
