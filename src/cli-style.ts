/**
 * How the CLI shows a report in a terminal: verdicts in colour where colour is wanted, and the
 * one-line form for --quiet. The report's own rendering stays plain text (src/report/).
 */
import { escaperFor, renderMarkdown } from './report/markdown.js';
import { markdownToTerminal } from './report/terminal.js';
import { FAILING_VERDICTS, type Report, VERDICTS, type Verdict } from './schema/report.js';

/**
 * Colour or not, by the common conventions: FORCE_COLOR (anything but "0"/"false") turns it on,
 * even into a pipe; else NO_COLOR (any non-empty value) or TERM=dumb turns it off; else colour
 * only when stdout is a terminal.
 */
export function wantsColour(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.NO_COLOR) return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

const GREEN = 32;
const RED = 31;
const YELLOW = 33;
const CYAN = 36;

function colourOf(v: Verdict): number {
  if (v === 'recorded') return CYAN;
  if (!FAILING_VERDICTS.includes(v)) return GREEN;
  return v === 'inconclusive' || v === 'drift' ? YELLOW : RED;
}

const IS_VERDICT = new Set<string>(VERDICTS);

/** Colours each verdict shown with its icon ("✅ equivalent", "❌ repro-gate: mismatch"), nothing else. */
export function paintVerdicts(text: string): string {
  return text.replace(/(✅|❌|⚠️|📝) (repro-gate: )?([\w-]+)/gu, (match, icon: string, tool = '', word: string) => {
    if (!IS_VERDICT.has(word)) return match;
    return `${icon} ${tool}\x1b[1;${colourOf(word as Verdict)}m${word}\x1b[0m`;
  });
}

/** The report for a terminal: in full, or (quiet) its verdict line and summary only. */
export function terminalReport(report: Report, opts: { quiet: boolean; colour: boolean }): string {
  const full = markdownToTerminal(renderMarkdown(report, { format: 'terminal' }));
  const [headline = ''] = full.split('\n');
  const summary = escaperFor('terminal').text(report.summary, 1000);
  const text = opts.quiet ? `${headline} — ${summary}\n` : full;
  return opts.colour ? paintVerdicts(text) : text;
}
