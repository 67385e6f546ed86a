/**
 * Training curves in Markdown: a Mermaid `xychart-beta` of one metric for both runs (GitHub renders
 * Mermaid blocks) and a table of where each series first diverged. Nothing from the log other
 * than numbers and sanitised metric/step names enters the Mermaid text.
 */
import type { CurveDivergence, CurvePlot, JsonNumber } from '../schema/diagnosis.js';
import { downsample } from '../util/downsample.js';
import { num } from '../util/format.js';
import { type Escaper, GITHUB } from './escape.js';

/** Only [A-Za-z0-9_.-], at most 60 characters: safe inside a Mermaid quoted string. */
export function mermaidSafe(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 60);
  return s === '' ? '_' : s;
}

/** A number as Mermaid's xychart lexer accepts it: [+-]digits[.digits], no exponent. */
export function mermaidNumber(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return '0';
  const s = String(Number(v.toPrecision(10)));
  if (!/e/i.test(s)) return s;
  const abs = Math.abs(v);
  if (abs >= 1) return BigInt(Math.round(v)).toString();
  const digits = Math.min(100, Math.ceil(-Math.log10(abs)) + 9);
  return v.toFixed(digits).replace(/\.?0+$/, '');
}

export interface CurveChartOptions {
  /** Most points per line; default 50. */
  maxPoints?: number;
  /** What the two lines are, for the caption under the chart; default ["run A", "run B"]. */
  labels?: [string, string];
  /** Escapes the caption's repository text; default GitHub Markdown. */
  escaper?: Escaper;
}

/** A fenced mermaid block (first line run A, second run B) and a one-line caption under it. */
export function renderCurveChart(plot: CurvePlot, opts: CurveChartOptions = {}): string {
  const [labelA, labelB] = opts.labels ?? ['run A', 'run B'];
  const f = opts.escaper ?? GITHUB;
  const { points } = plot;
  if (points.length === 0) return `_No steps where both runs logged a finite ${f.text(plot.metric)} to plot._\n`;
  const divergence = plot.firstDivergence ?? null;
  const mustIndex = divergence ? points.findIndex((p) => p[0] === divergence.step) : -1;
  const picked = downsample(points, opts.maxPoints ?? 50, mustIndex === -1 ? undefined : mustIndex);
  const name = mermaidSafe(plot.metric);
  const lines = [
    '```mermaid',
    'xychart-beta',
    `    title "${name}"`,
    `    x-axis "${mermaidSafe(plot.stepKey)}" [${picked.map((p) => `"${mermaidNumber(p[0])}"`).join(', ')}]`,
    `    y-axis "${name}"`,
    `    line [${picked.map((p) => mermaidNumber(p[1])).join(', ')}]`,
    `    line [${picked.map((p) => mermaidNumber(p[2])).join(', ')}]`,
    '```',
  ];
  const caption = [`First line: ${f.text(labelA, 80)}; second line: ${f.text(labelB, 80)}.`];
  if (divergence)
    caption.push(
      `They first differ at ${f.text(plot.stepKey, 60)} ${divergence.step} (${String(divergence.a)} vs ${String(divergence.b)}).`,
    );
  else caption.push('They agree at every common step.');
  const total = plot.finiteSteps ?? points.length;
  if (picked.length < total) caption.push(`${picked.length} of ${total} steps shown.`);
  if (plot.nonFiniteSteps) caption.push(`${plot.nonFiniteSteps} steps with NaN or ±Infinity left out of the chart.`);
  return `${lines.join('\n')}\n${f.small(caption.join(' '))}\n`;
}

function value(v: JsonNumber | null): string {
  return typeof v === 'number' ? String(v) : v === null ? '—' : v;
}

/** A Markdown table of the divergences (metrics that never diverge are counted, not listed). */
export function renderCurveDivergences(divs: CurveDivergence[], stepKey = 'step', f: Escaper = GITHUB): string {
  const diverged = divs.filter((d) => d.firstDivergentStep !== null);
  if (diverged.length === 0) return `All ${divs.length} logged series agree at every common ${f.text(stepKey, 60)}.\n`;
  const rows = diverged.map(
    (d) =>
      `| ${f.code(d.metric, 120)} | ${d.firstDivergentStep} | ${value(d.valueA)} | ${value(d.valueB)} | ${num(d.maxAbsDiff)} | ${d.stepsCompared} |`,
  );
  const same = divs.length - diverged.length;
  return `${[
    `| Series | First divergent ${f.text(stepKey, 60)} | Run A | Run B | Max abs diff | Steps compared |`,
    '|---|---|---|---|---|---|',
    ...rows,
    ...(same ? ['', `${same} other series agree at every common ${f.text(stepKey, 60)}.`] : []),
  ].join('\n')}\n`;
}
