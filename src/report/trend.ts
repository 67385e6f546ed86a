/**
 * Mermaid `xychart-beta` charts of each metric's mean over the last runs of the history, with the
 * margin's edges as two more lines where every run knows them (GitHub renders Mermaid in comments
 * and job summaries). Chart text is built from numbers, dates and sanitised metric names only.
 */
import type { HistoryLine } from '../schema/history.js';

/** Inside a quoted Mermaid string: no quotes, backticks, brackets or line breaks. */
function label(s: string): string {
  return s.replace(/[^\w .:+-]/g, '_').slice(0, 60);
}

function value(x: number): string {
  return String(Number(x.toPrecision(6)));
}

/** "12-02", with "(2)", "(3)" for later runs of the same day: categories must differ. */
function xLabels(lines: readonly HistoryLine[]): string[] {
  const seen = new Map<string, number>();
  return lines.map((l) => {
    const day = /^\d{4}-(\d{2}-\d{2})/.exec(l.time)?.[1] ?? '?';
    const n = (seen.get(day) ?? 0) + 1;
    seen.set(day, n);
    return `"${n === 1 ? day : `${day} (${n})`}"`;
  });
}

export function trendCharts(history: readonly HistoryLine[]): string[] {
  const names = [...new Set(history.flatMap((l) => Object.keys(l.metrics)))];
  const charts: string[] = [];
  for (const name of names) {
    const lines = history.filter((l) => Object.hasOwn(l.metrics, name));
    const points = lines.flatMap((l) => {
      const p = l.metrics[name];
      return p ? [p] : [];
    });
    if (points.length < 2) continue;
    const means = points.map((p) => p.mean);
    const edges = (side: 'lower' | 'upper') => {
      const xs = points.map((p) => p[side]);
      return xs.every((x): x is number => typeof x === 'number') ? xs : undefined;
    };
    const lower = edges('lower');
    const upper = edges('upper');
    const all = [...means, ...(lower ?? []), ...(upper ?? [])].filter(Number.isFinite);
    let lo = Math.min(...all);
    let hi = Math.max(...all);
    const pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.01 || 1;
    lo -= pad;
    hi += pad;
    const band = lower || upper ? ' (lines: mean, then the margin edges)' : '';
    charts.push(
      [
        '```mermaid',
        'xychart-beta',
        `  title "${label(name)}: mean per run${band}"`,
        `  x-axis [${xLabels(lines).join(', ')}]`,
        `  y-axis "${label(name)}" ${value(lo)} --> ${value(hi)}`,
        `  line [${means.map(value).join(', ')}]`,
        ...(lower ? [`  line [${lower.map(value).join(', ')}]`] : []),
        ...(upper ? [`  line [${upper.map(value).join(', ')}]`] : []),
        '```',
      ].join('\n'),
    );
  }
  return charts;
}
