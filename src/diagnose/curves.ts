/**
 * Curve divergence: two runs' per-step JSON-lines logs (`{"step": 10, "loss": 0.53, ...}` per line),
 * compared series by series to find the first step where they part, plus a Mermaid `xychart-beta`
 * chart of one metric for the PR comment (GitHub renders Mermaid blocks).
 *
 * Lines: blank lines are skipped; nested objects flatten to dotted names (`{"train": {"loss": 1}}` →
 * `train.loss`); non-numeric values are ignored; Python's bare `NaN`/`Infinity` are accepted; a line
 * without the step key (e.g. a final summary) is skipped and counted; a step value that is not a
 * finite number, or a line that is not a JSON object, is an error naming the line. Several lines for
 * one step merge (the later value wins for a metric logged twice).
 */
import { readFile } from 'node:fs/promises';
import { GateError } from '../errors.js';
import { GITHUB, num, type Escaper } from '../report/format.js';
import { parseLenientJson } from '../lenient-json.js';
import type { JsonNumber } from './types.js';
import { jsonNumber } from './types.js';

export interface CurveLog {
  stepKey: string;
  /** Metric name → step → value, steps in the order first seen. */
  series: Map<string, Map<number, number>>;
  /** Non-blank lines without the step key. */
  skippedLines: number;
}

export interface ParseCurveOptions {
  /** Key holding the step; default "step". Dotted for nested (`progress.step`). */
  stepKey?: string;
  /** Named in error messages (a file path); default "curve log". */
  source?: string;
}

function flattenNumbers(v: unknown, prefix: string, out: Map<string, number>): void {
  if (typeof v === 'number') out.set(prefix, v);
  else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, item] of Object.entries(v)) flattenNumbers(item, prefix === '' ? k : `${prefix}.${k}`, out);
  }
}

export function parseCurveLog(content: string, opts: ParseCurveOptions = {}): CurveLog {
  const stepKey = opts.stepKey ?? 'step';
  const source = opts.source ?? 'curve log';
  const series = new Map<string, Map<number, number>>();
  let skippedLines = 0;
  let withStep = 0;
  const lines = content.split(/\r?\n/);
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `${source} line ${i + 1}`;
    let doc: unknown;
    try {
      doc = parseLenientJson(line);
    } catch (err) {
      throw new GateError(`${where} is not valid JSON: ${(err as Error).message}`, 'Write one JSON object per line (JSON Lines), e.g. {"step": 10, "loss": 0.53}.');
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new GateError(`${where} is not a JSON object.`, 'Write one JSON object per line, e.g. {"step": 10, "loss": 0.53}.');
    }
    const values = new Map<string, number>();
    flattenNumbers(doc, '', values);
    const stepPresent = stepKey.split('.').reduce<unknown>((o, k) => (o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), doc);
    if (stepPresent === undefined) {
      skippedLines++;
      return;
    }
    const step = values.get(stepKey);
    if (step === undefined || !Number.isFinite(step)) {
      throw new GateError(`${where}: "${stepKey}" is ${JSON.stringify(stepPresent) ?? String(stepPresent)}, not a finite number.`, `Log the step as a number, or choose another step key.`);
    }
    withStep++;
    values.delete(stepKey);
    for (const [name, v] of values) {
      let s = series.get(name);
      if (!s) series.set(name, (s = new Map()));
      s.set(step, v);
    }
  });
  if (withStep === 0 && lines.some((l) => l.trim() !== '')) {
    throw new GateError(`${source} has no line with a "${stepKey}" field.`, 'Log the step on every line, or set the step key to the field your logger uses (e.g. "global_step" or "epoch").');
  }
  return { stepKey, series, skippedLines };
}

export async function readCurveLog(file: string, opts: Omit<ParseCurveOptions, 'source'> = {}): Promise<CurveLog> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new GateError(`The curve log ${file} does not exist.`, 'Have the training write its per-step log into {out}.');
    throw err;
  }
  return parseCurveLog(content, { ...opts, source: file });
}

export interface CurveCompareOptions {
  /** Absolute tolerance; default 0. */
  atol?: number;
  /** Relative tolerance, against run B's value; default 1e-6. */
  rtol?: number;
}

export interface CurveDivergence {
  metric: string;
  /** First common step (ascending) where |a − b| > atol + rtol·|b| (NaN vs number diverges, NaN vs NaN does not); null if none. */
  firstDivergentStep: number | null;
  /** Values at the first divergent step; null when none diverged. */
  valueA: JsonNumber | null;
  valueB: JsonNumber | null;
  /** Largest |a − b| over common steps where both are finite; null when there are none. */
  maxAbsDiff: number | null;
  /** Steps logged for this metric in both runs. */
  stepsCompared: number;
  /** Steps logged in only one run. */
  stepsOnlyInA: number;
  stepsOnlyInB: number;
}

function sameValue(a: number, b: number, atol: number, rtol: number): boolean {
  if (a === b) return true;
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

function commonSteps(a: Map<number, number>, b: Map<number, number>): number[] {
  return [...a.keys()].filter((s) => b.has(s)).sort((x, y) => x - y);
}

/** One entry per metric logged by either run, in A's order then B's. */
export function compareCurves(a: CurveLog, b: CurveLog, opts: CurveCompareOptions = {}): CurveDivergence[] {
  const atol = opts.atol ?? 0;
  const rtol = opts.rtol ?? 1e-6;
  if (!(atol >= 0) || !(rtol >= 0)) throw new GateError(`Curve tolerances must be non-negative numbers (atol ${atol}, rtol ${rtol}).`);
  const names = [...a.series.keys(), ...[...b.series.keys()].filter((n) => !a.series.has(n))];
  return names.map((metric): CurveDivergence => {
    const sa = a.series.get(metric) ?? new Map<number, number>();
    const sb = b.series.get(metric) ?? new Map<number, number>();
    const steps = commonSteps(sa, sb);
    let first: number | null = null;
    let va: number | null = null;
    let vb: number | null = null;
    let maxAbs: number | null = null;
    for (const s of steps) {
      const x = sa.get(s)!;
      const y = sb.get(s)!;
      if (Number.isFinite(x) && Number.isFinite(y)) maxAbs = Math.max(maxAbs ?? 0, Math.abs(x - y));
      if (first === null && !sameValue(x, y, atol, rtol)) {
        first = s;
        va = x;
        vb = y;
      }
    }
    return {
      metric,
      firstDivergentStep: first,
      valueA: va === null ? null : jsonNumber(va),
      valueB: vb === null ? null : jsonNumber(vb),
      maxAbsDiff: maxAbs,
      stepsCompared: steps.length,
      stepsOnlyInA: [...sa.keys()].filter((s) => !sb.has(s)).length,
      stepsOnlyInB: [...sb.keys()].filter((s) => !sa.has(s)).length,
    };
  });
}

export async function diffCurveFiles(fileA: string, fileB: string, opts: CurveCompareOptions & { stepKey?: string } = {}): Promise<{ a: CurveLog; b: CurveLog; divergences: CurveDivergence[] }> {
  const [a, b] = await Promise.all([readCurveLog(fileA, opts), readCurveLog(fileB, opts)]);
  return { a, b, divergences: compareCurves(a, b, opts) };
}

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

/** Up to `max` indices of 0..n-1, evenly spread, first and last included, `must` included. */
export function downsampleIndices(n: number, max: number, must?: number): number[] {
  if (n <= max) return Array.from({ length: n }, (_, i) => i);
  if (max < 2) return [must ?? 0];
  const idx = Array.from({ length: max }, (_, k) => Math.round((k * (n - 1)) / (max - 1)));
  if (must !== undefined && !idx.includes(must)) {
    let best = 1;
    for (let k = 1; k < idx.length - 1; k++) if (Math.abs(idx[k]! - must) < Math.abs(idx[best]! - must)) best = k;
    idx[best] = must;
    idx.sort((x, y) => x - y);
  }
  return [...new Set(idx)];
}

export interface CurveChartOptions {
  /** Most points per line; default 50. */
  maxPoints?: number;
  /** What the two lines are, for the caption under the chart; default ["run A", "run B"]. */
  labels?: [string, string];
  atol?: number;
  rtol?: number;
  /** Escapes the caption's repository text; default GitHub Markdown. */
  escaper?: Escaper;
}

/**
 * A fenced ```mermaid xychart-beta block plotting one metric for both runs (first line A, second
 * line B) at common steps where both values are finite, downsampled to `maxPoints` (the first
 * divergent step is always kept), followed by a one-line Markdown caption. Nothing from the log
 * other than numbers and the sanitised metric/step names enters the Mermaid text.
 */
export function renderCurveChart(a: CurveLog, b: CurveLog, metric: string, opts: CurveChartOptions = {}): string {
  const [labelA, labelB] = opts.labels ?? ['run A', 'run B'];
  const f = opts.escaper ?? GITHUB;
  const mdText = f.text;
  const sa = a.series.get(metric) ?? new Map<number, number>();
  const sb = b.series.get(metric) ?? new Map<number, number>();
  const common = commonSteps(sa, sb);
  const steps = common.filter((s) => Number.isFinite(sa.get(s)!) && Number.isFinite(sb.get(s)!));
  const name = mermaidSafe(metric);
  if (steps.length === 0) return `_No steps where both runs logged a finite ${mdText(metric)} to plot._\n`;
  const div = compareCurves(
    { stepKey: a.stepKey, series: new Map([[metric, sa]]), skippedLines: 0 },
    { stepKey: b.stepKey, series: new Map([[metric, sb]]), skippedLines: 0 },
    { atol: opts.atol, rtol: opts.rtol },
  )[0]!;
  const mustIndex = div.firstDivergentStep === null ? undefined : steps.indexOf(div.firstDivergentStep);
  const picked = downsampleIndices(steps.length, opts.maxPoints ?? 50, mustIndex === -1 ? undefined : mustIndex).map((i) => steps[i]!);
  const lines = [
    '```mermaid',
    'xychart-beta',
    `    title "${name}"`,
    `    x-axis "${mermaidSafe(a.stepKey)}" [${picked.map((s) => `"${mermaidNumber(s)}"`).join(', ')}]`,
    `    y-axis "${name}"`,
    `    line [${picked.map((s) => mermaidNumber(sa.get(s)!)).join(', ')}]`,
    `    line [${picked.map((s) => mermaidNumber(sb.get(s)!)).join(', ')}]`,
    '```',
  ];
  const caption = [`First line: ${mdText(labelA, 80)}; second line: ${mdText(labelB, 80)}.`];
  if (div.firstDivergentStep !== null) caption.push(`They first differ at ${mdText(a.stepKey, 60)} ${div.firstDivergentStep} (${String(div.valueA)} vs ${String(div.valueB)}).`);
  else caption.push('They agree at every common step.');
  if (picked.length < steps.length) caption.push(`${picked.length} of ${steps.length} steps shown.`);
  if (steps.length < common.length) caption.push(`${common.length - steps.length} steps with NaN or ±Infinity left out of the chart.`);
  return `${lines.join('\n')}\n${f.small(caption.join(' '))}\n`;
}

function value(v: JsonNumber | null): string {
  return typeof v === 'number' ? String(v) : v === null ? '—' : v;
}

/** A Markdown table of the divergences (metrics that never diverge are counted, not listed). */
export function renderCurveDivergences(divs: CurveDivergence[], stepKey = 'step', f: Escaper = GITHUB): string {
  const { code, text: mdText } = f;
  const diverged = divs.filter((d) => d.firstDivergentStep !== null);
  if (diverged.length === 0) return `All ${divs.length} logged series agree at every common ${mdText(stepKey, 60)}.\n`;
  const rows = diverged.map((d) => `| ${code(d.metric, 120)} | ${d.firstDivergentStep} | ${value(d.valueA)} | ${value(d.valueB)} | ${num(d.maxAbsDiff)} | ${d.stepsCompared} |`);
  const same = divs.length - diverged.length;
  return [
    `| Series | First divergent ${mdText(stepKey, 60)} | Run A | Run B | Max abs diff | Steps compared |`,
    '|---|---|---|---|---|---|',
    ...rows,
    ...(same ? ['', `${same} other series agree at every common ${mdText(stepKey, 60)}.`] : []),
  ].join('\n') + '\n';
}
