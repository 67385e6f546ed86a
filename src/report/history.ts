/** `repro-gate history` in the terminal: per metric, one row per run, oldest first. */
import type { HistoryLine } from '../schema/history.js';
import { num, shortHash } from '../util/format.js';
import { TERMINAL } from './escape.js';

export function renderHistory(view: {
  file: string;
  runs: readonly HistoryLine[];
  skipped: readonly string[];
  warnings: readonly string[];
}): string {
  const f = TERMINAL;
  const out = [`## Metrics history: ${f.text(view.file)} (${view.runs.length} runs)`];
  const names = [...new Set(view.runs.flatMap((l) => Object.keys(l.metrics)))];
  for (const name of names) {
    out.push(
      '',
      `### ${f.text(name)}`,
      '| Time | Commit | Command | Verdict | Mean ± sd (n) | Margin edges |',
      '|---|---|---|---|---|---|',
    );
    for (const l of view.runs) {
      const p = Object.hasOwn(l.metrics, name) ? l.metrics[name] : undefined;
      if (!p) continue;
      const edges =
        p.lower === undefined && p.upper === undefined
          ? '—'
          : `[${num(p.lower ?? -Infinity)}, ${num(p.upper ?? Infinity)}]`;
      out.push(
        `| ${f.text(l.time)} | ${shortHash(l.commit)} | ${l.command} | ${f.text(l.verdict)} | ${num(p.mean)} ± ${num(p.sd, 2)} (${p.n}) | ${edges} |`,
      );
    }
  }
  for (const w of view.warnings) out.push('', `Warning: ${f.text(w, 1000)}`);
  for (const s of view.skipped) out.push('', `Skipped: ${f.text(s, 1000)}`);
  return `${out.join('\n')}\n`;
}
