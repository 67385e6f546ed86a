/**
 * Curve divergence: two runs' per-step JSON-lines logs (`{"step": 10, "loss": 0.53, ...}` per line),
 * compared series by series to find the first step where they part (report/curves.ts draws them).
 *
 * Lines: blank lines are skipped; nested objects flatten to dotted names (`{"train": {"loss": 1}}` →
 * `train.loss`); non-numeric values are ignored; Python's bare `NaN`/`Infinity` are accepted; a line
 * without the step key (e.g. a final summary) is skipped and counted; a step value that is not a
 * finite number, or a line that is not a JSON object, is an error naming the line. Several lines for
 * one step merge (the later value wins for a metric logged twice).
 */
import path from 'node:path';
import type { CurveDivergence, CurvePlot } from '../schema/diagnosis.js';
import { valueAt } from '../util/dotted.js';
import { downsample } from '../util/downsample.js';
import { GateError } from '../util/errors.js';
import { readConfinedFile } from '../util/files.js';
import { jsonErrorWhere } from '../util/json-position.js';
import { parseLenientJson } from '../util/lenient-json.js';
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
    } catch {
      // Never the parser's own message: it quotes the line.
      const at = jsonErrorWhere(line, { lenient: true });
      throw new GateError(
        `${where} is not valid JSON${at ? ` ${at}` : ''}.`,
        'Write one JSON object per line (JSON Lines), e.g. {"step": 10, "loss": 0.53}.',
      );
    }
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
      throw new GateError(
        `${where} is not a JSON object.`,
        'Write one JSON object per line, e.g. {"step": 10, "loss": 0.53}.',
      );
    }
    const values = new Map<string, number>();
    flattenNumbers(doc, '', values);
    const stepPresent = valueAt(doc, stepKey.split('.'));
    if (stepPresent === undefined) {
      skippedLines++;
      return;
    }
    const step = values.get(stepKey);
    if (step === undefined || !Number.isFinite(step)) {
      throw new GateError(
        `${where}: "${stepKey}" is ${JSON.stringify(stepPresent) ?? String(stepPresent)}, not a finite number.`,
        `Log the step as a number, or choose another step key.`,
      );
    }
    withStep++;
    values.delete(stepKey);
    for (const [name, v] of values) {
      let s = series.get(name);
      if (!s) {
        s = new Map();
        series.set(name, s);
      }
      s.set(step, v);
    }
  });
  if (withStep === 0 && lines.some((l) => l.trim() !== '')) {
    throw new GateError(
      `${source} has no line with a "${stepKey}" field.`,
      'Log the step on every line, or set the step key to the field your logger uses (e.g. "global_step" or "epoch").',
    );
  }
  return { stepKey, series, skippedLines };
}

/**
 * Reads a run's curve log. `root` is the run's output folder (default: the file's folder): the log
 * must stay inside it, also through symlinks, since the training wrote it.
 */
export async function readCurveLog(
  file: string,
  opts: Omit<ParseCurveOptions, 'source'> & { root?: string } = {},
): Promise<CurveLog> {
  const root = opts.root ?? path.dirname(file);
  const content = await readConfinedFile(root, path.relative(root, file), 'curves.file', {
    folder: "the run's output folder",
    hint: 'Have the training write its per-step log into {out}.',
  });
  if (content === null) {
    throw new GateError(
      `The curve log ${file} does not exist.`,
      'Have the training write its per-step log into {out}.',
    );
  }
  return parseCurveLog(content, { ...opts, source: file });
}

export interface CurveCompareOptions {
  /** Absolute tolerance; default 0. */
  atol?: number;
  /** Relative tolerance, against run B's value; default 1e-6. */
  rtol?: number;
}

/** Whether two logged values agree within atol + rtol·|b| (NaN agrees with NaN only). */
function sameValue(a: number, b: number, atol: number, rtol: number): boolean {
  if (a === b) return true;
  if (Number.isNaN(a) && Number.isNaN(b)) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= atol + rtol * Math.abs(b);
}

/** The steps both runs logged, ascending, each with run A's and run B's value. */
function commonSteps(a: Map<number, number>, b: Map<number, number>): [step: number, a: number, b: number][] {
  const common: [number, number, number][] = [];
  for (const [step, x] of a) {
    const y = b.get(step);
    if (y !== undefined) common.push([step, x, y]);
  }
  return common.sort((p, q) => p[0] - q[0]);
}

/** One entry per metric logged by either run, in A's order then B's. */
export function compareCurves(a: CurveLog, b: CurveLog, opts: CurveCompareOptions = {}): CurveDivergence[] {
  const atol = opts.atol ?? 0;
  const rtol = opts.rtol ?? 1e-6;
  if (!(atol >= 0) || !(rtol >= 0))
    throw new GateError(`Curve tolerances must be non-negative numbers (atol ${atol}, rtol ${rtol}).`);
  const names = [...a.series.keys(), ...[...b.series.keys()].filter((n) => !a.series.has(n))];
  return names.map((metric): CurveDivergence => {
    const sa = a.series.get(metric) ?? new Map<number, number>();
    const sb = b.series.get(metric) ?? new Map<number, number>();
    const steps = commonSteps(sa, sb);
    let first: number | null = null;
    let va: number | null = null;
    let vb: number | null = null;
    let maxAbs: number | null = null;
    for (const [s, x, y] of steps) {
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

/** The same curve log (`rel`) in two runs' output folders, compared. */
export async function diffCurveFiles(
  dirA: string,
  dirB: string,
  rel: string,
  opts: CurveCompareOptions & { stepKey?: string } = {},
): Promise<{ a: CurveLog; b: CurveLog; divergences: CurveDivergence[] }> {
  const [a, b] = await Promise.all([
    readCurveLog(path.join(dirA, rel), { ...opts, root: dirA }),
    readCurveLog(path.join(dirB, rel), { ...opts, root: dirB }),
  ]);
  return { a, b, divergences: compareCurves(a, b, opts) };
}

const PLOT_MAX_POINTS = 500;

/**
 * One metric of both runs as the report's chart data: common steps where both values are finite,
 * thinned evenly (always keeping the first divergent step), with where they first part.
 */
export function curvePlot(a: CurveLog, b: CurveLog, metric: string, opts: CurveCompareOptions = {}): CurvePlot {
  const atol = opts.atol ?? 0;
  const rtol = opts.rtol ?? 1e-6;
  const sa = a.series.get(metric) ?? new Map<number, number>();
  const sb = b.series.get(metric) ?? new Map<number, number>();
  const common = commonSteps(sa, sb);
  const finite = common.filter(([, x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const div = compareCurves(
    { stepKey: a.stepKey, series: new Map([[metric, sa]]), skippedLines: 0 },
    { stepKey: b.stepKey, series: new Map([[metric, sb]]), skippedLines: 0 },
    { atol, rtol },
  )[0];
  const step = div?.firstDivergentStep ?? null;
  const mustIndex = step === null ? -1 : finite.findIndex(([s]) => s === step);
  return {
    metric,
    stepKey: a.stepKey,
    points: downsample(finite, PLOT_MAX_POINTS, mustIndex === -1 ? undefined : mustIndex),
    atol,
    rtol,
    firstDivergence: step === null || !div ? null : { step, a: div.valueA ?? 'NaN', b: div.valueB ?? 'NaN' },
    finiteSteps: finite.length,
    nonFiniteSteps: common.length - finite.length,
  };
}
