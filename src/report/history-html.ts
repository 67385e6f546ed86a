/**
 * history.html: a static page with one hand-drawn SVG chart per metric (mean per run, ±sd whiskers,
 * the margin's edges dashed), no script and no network, to upload beside the report. Every piece
 * of repository text goes through escapeHtml; numbers are numbers.
 */
import type { HistoryLine } from '../schema/history.js';
import { num } from '../util/format.js';

const W = 640;
const H = 220;
const PAD = { left: 64, right: 16, top: 16, bottom: 36 };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function chart(name: string, lines: readonly HistoryLine[]): string | undefined {
  const runs = lines.flatMap((l) => {
    const p = Object.hasOwn(l.metrics, name) ? l.metrics[name] : undefined;
    return p ? [{ line: l, p }] : [];
  });
  if (runs.length < 2) return undefined;
  const values = runs.flatMap(({ p }) => [
    p.mean - p.sd,
    p.mean + p.sd,
    ...(typeof p.lower === 'number' ? [p.lower] : []),
    ...(typeof p.upper === 'number' ? [p.upper] : []),
  ]);
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  const pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.01 || 1;
  lo -= pad;
  hi += pad;
  const x = (i: number) => PAD.left + (i * (W - PAD.left - PAD.right)) / (runs.length - 1);
  const y = (v: number) => PAD.top + ((hi - v) * (H - PAD.top - PAD.bottom)) / (hi - lo);
  const pt = (i: number, v: number) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`;
  const edge = (side: 'lower' | 'upper') => {
    const pts = runs.flatMap(({ p }, i) => (typeof p[side] === 'number' ? [pt(i, p[side])] : []));
    return pts.length > 1 ? `<polyline class="edge" points="${pts.join(' ')}"/>` : '';
  };
  const ticks = [lo + pad, (lo + hi) / 2, hi - pad].map(
    (v) => `<text x="${PAD.left - 6}" y="${y(v).toFixed(1)}" class="ytick">${escapeHtml(num(v))}</text>`,
  );
  const first = runs[0]?.line.time.slice(0, 10) ?? '';
  const last = runs[runs.length - 1]?.line.time.slice(0, 10) ?? '';
  const dots = runs.map(({ line, p }, i) => {
    const failing = !['equivalent', 'reproducible', 'recorded'].includes(line.verdict);
    const title = `${line.time} ${line.commit?.slice(0, 12) ?? ''} ${line.verdict}: ${num(p.mean)} ± ${num(p.sd, 2)} (n=${p.n})`;
    return `<line class="sd" x1="${x(i).toFixed(1)}" x2="${x(i).toFixed(1)}" y1="${y(p.mean - p.sd).toFixed(1)}" y2="${y(p.mean + p.sd).toFixed(1)}"/><circle class="${failing ? 'fail' : 'pass'}" cx="${x(i).toFixed(1)}" cy="${y(p.mean).toFixed(1)}" r="3.5"><title>${escapeHtml(title)}</title></circle>`;
  });
  return `<figure><figcaption>${escapeHtml(name)}</figcaption>
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(name)}: mean per run">
<rect x="${PAD.left}" y="${PAD.top}" width="${W - PAD.left - PAD.right}" height="${H - PAD.top - PAD.bottom}" class="frame"/>
${ticks.join('')}
<text x="${PAD.left}" y="${H - 12}" class="xtick">${escapeHtml(first)}</text><text x="${W - PAD.right}" y="${H - 12}" class="xtick end">${escapeHtml(last)}</text>
${edge('lower')}${edge('upper')}
<polyline class="mean" points="${runs.map(({ p }, i) => pt(i, p.mean)).join(' ')}"/>
${dots.join('\n')}
</svg></figure>`;
}

export function renderHistoryHtml(file: string, lines: readonly HistoryLine[]): string {
  const names = [...new Set(lines.flatMap((l) => Object.keys(l.metrics)))];
  const charts = names.flatMap((n) => chart(n, lines) ?? []);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>repro-gate metrics history</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body{font:14px system-ui,sans-serif;margin:24px;color:#1f2328}figure{margin:0 0 24px}figcaption{font-weight:600;margin-bottom:4px}
.frame{fill:#fff;stroke:#d0d7de}.mean{fill:none;stroke:#0969da;stroke-width:2}.edge{fill:none;stroke:#cf222e;stroke-dasharray:5 4}
.sd{stroke:#8c959f}.pass{fill:#1a7f37}.fail{fill:#cf222e}.ytick{font-size:11px;text-anchor:end;dominant-baseline:middle;fill:#57606a}
.xtick{font-size:11px;fill:#57606a}.end{text-anchor:end}
</style></head><body>
<h1>repro-gate metrics history</h1>
<p>${escapeHtml(file)}, ${lines.length} runs. Blue: mean per run (whiskers ±1 sd; red dots: failing runs). Dashed red: the margin's edges.</p>
${charts.join('\n') || '<p>Fewer than two runs: nothing to chart yet.</p>'}
</body></html>
`;
}
