import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareCurves, curvePlot, diffCurveFiles, parseCurveLog, readCurveLog } from '../src/diagnose/curves.js';
import { mermaidNumber, mermaidSafe, renderCurveChart, renderCurveDivergences } from '../src/report/curves.js';
import { downsampleIndices } from '../src/util/downsample.js';
import { GateError } from '../src/util/errors.js';

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rg-curves-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('parseCurveLog', () => {
  it('reads JSON lines, tolerating blank lines, CRLF, nested objects and a summary line', () => {
    const log = parseCurveLog(
      '{"step": 0, "loss": 1.5, "train": {"acc": 0.1}, "phase": "warmup"}\r\n\n  \n{"step": 10, "loss": 0.9}\n{"final_acc": 0.93}\n',
    );
    expect([...log.series.keys()]).toEqual(['loss', 'train.acc']);
    expect([...log.series.get('loss')!]).toEqual([
      [0, 1.5],
      [10, 0.9],
    ]);
    expect(log.skippedLines).toBe(1);
  });

  it('accepts Python NaN / Infinity tokens', () => {
    const log = parseCurveLog(
      '{"step": 1, "loss": NaN, "grad": Infinity, "note": "NaN stays a string"}\n{"step": 2, "loss": -Infinity}',
    );
    expect(log.series.get('loss')!.get(1)).toBeNaN();
    expect(log.series.get('grad')!.get(1)).toBe(Infinity);
    expect(log.series.get('loss')!.get(2)).toBe(-Infinity);
  });

  it('names the line of bad JSON', () => {
    const bad = () => parseCurveLog('{"step": 1, "loss": 1}\n\n{"step": 2, "loss": }', { source: 'runs/a/log.jsonl' });
    expect(bad).toThrow(GateError);
    expect(bad).toThrow(/runs\/a\/log\.jsonl line 3 is not valid JSON/);
    expect(() => parseCurveLog('[1, 2]')).toThrow(/line 1 is not a JSON object/);
  });

  it('rejects a non-numeric step and a log with no step at all', () => {
    expect(() => parseCurveLog('{"step": "ten", "loss": 1}')).toThrow(/line 1: "step" is "ten", not a finite number/);
    expect(() => parseCurveLog('{"epoch": 1, "loss": 1}')).toThrow(/no line with a "step" field/);
  });

  it('takes a custom (dotted) step key', () => {
    const log = parseCurveLog(
      jsonl([
        { it: { n: 5 }, loss: 2 },
        { it: { n: 6 }, loss: 1 },
      ]),
      { stepKey: 'it.n' },
    );
    expect([...log.series.get('loss')!.keys()]).toEqual([5, 6]);
    expect(log.series.has('it.n')).toBe(false);
  });
});

describe('compareCurves', () => {
  const a = parseCurveLog(
    jsonl([
      { step: 0, loss: 1.0, acc: 0.1 },
      { step: 10, loss: 0.8, acc: 0.5 },
      { step: 20, loss: 0.6, acc: 0.7 },
      { step: 30, loss: 0.5, acc: 0.8 },
    ]),
  );
  const b = parseCurveLog(
    jsonl([
      { step: 0, loss: 1.0, acc: 0.1 },
      { step: 10, loss: 0.8, acc: 0.5 },
      { step: 20, loss: 0.600001, acc: 0.7 },
      { step: 30, loss: 0.52, acc: 0.8 },
      { step: 40, loss: 0.4, lr: 0.01 },
    ]),
  );

  it('finds the first divergent step per series with the default rtol 1e-6', () => {
    const [loss, acc, lr] = compareCurves(a, b);
    expect(loss).toEqual({
      metric: 'loss',
      firstDivergentStep: 20,
      valueA: 0.6,
      valueB: 0.600001,
      maxAbsDiff: expect.closeTo(0.02, 10),
      stepsCompared: 4,
      stepsOnlyInA: 0,
      stepsOnlyInB: 1,
    });
    expect(acc).toMatchObject({
      metric: 'acc',
      firstDivergentStep: null,
      valueA: null,
      valueB: null,
      maxAbsDiff: 0,
      stepsCompared: 4,
    });
    expect(lr).toMatchObject({
      metric: 'lr',
      firstDivergentStep: null,
      stepsCompared: 0,
      maxAbsDiff: null,
      stepsOnlyInB: 1,
    });
  });

  it('honours atol and rtol', () => {
    expect(compareCurves(a, b, { rtol: 1e-3 })[0]!.firstDivergentStep).toBe(30);
    expect(compareCurves(a, b, { atol: 0.05, rtol: 0 })[0]!.firstDivergentStep).toBeNull();
    expect(() => compareCurves(a, b, { rtol: -1 })).toThrow(/non-negative/);
  });

  it('treats NaN vs a number as divergent and NaN vs NaN as equal, JSON-safely', () => {
    const x = parseCurveLog('{"step": 1, "loss": NaN, "g": NaN}\n{"step": 2, "loss": 1, "g": 2}');
    const y = parseCurveLog('{"step": 1, "loss": 0.5, "g": NaN}\n{"step": 2, "loss": 1, "g": 2}');
    const [loss, g] = compareCurves(x, y);
    expect(loss).toMatchObject({ firstDivergentStep: 1, valueA: 'NaN', valueB: 0.5, maxAbsDiff: 0 });
    expect(g!.firstDivergentStep).toBeNull();
    expect(JSON.parse(JSON.stringify(loss))).toEqual(loss);
  });

  it('compares the steps numerically even when logged out of order', () => {
    const x = parseCurveLog(
      jsonl([
        { step: 100, v: 1 },
        { step: 20, v: 5 },
        { step: 3, v: 1 },
      ]),
    );
    const y = parseCurveLog(
      jsonl([
        { step: 3, v: 1 },
        { step: 20, v: 6 },
        { step: 100, v: 2 },
      ]),
    );
    expect(compareCurves(x, y)[0]!.firstDivergentStep).toBe(20);
  });

  it('reads two files', async () => {
    await writeFile(
      path.join(dir, 'a.jsonl'),
      jsonl([
        { step: 1, loss: 1 },
        { step: 2, loss: 0.5 },
      ]),
    );
    await mkdir(path.join(dir, 'b'), { recursive: true });
    await writeFile(
      path.join(dir, 'b', 'a.jsonl'),
      `${jsonl([
        { step: 1, loss: 1 },
        { step: 2, loss: 0.25 },
      ])}\n`,
    );
    const { divergences } = await diffCurveFiles(dir, path.join(dir, 'b'), 'a.jsonl');
    expect(divergences).toEqual([
      expect.objectContaining({ metric: 'loss', firstDivergentStep: 2, valueA: 0.5, valueB: 0.25 }),
    ]);
    await expect(readCurveLog(path.join(dir, 'missing.jsonl'))).rejects.toThrow(/does not exist/);
  });

  it('reads a curve log only inside its run folder, and never quotes it', async () => {
    const outside = path.join(dir, 'secret.txt');
    await writeFile(outside, 'SECRET-CONTENT');
    await mkdir(path.join(dir, 'run'), { recursive: true });
    await symlink(outside, path.join(dir, 'run', 'log.jsonl'));
    const err = await readCurveLog(path.join(dir, 'run', 'log.jsonl')).catch((e: unknown) => e);
    expect(String(err)).toMatch(
      /curves\.file entry "log\.jsonl" resolves through a symlink .* outside the run's output folder/,
    );
    expect(String(err)).not.toContain('SECRET');
    await writeFile(path.join(dir, 'run', 'bad.jsonl'), '{"step": 1, "loss": SECRET-CONTENT}\n');
    const bad = await readCurveLog(path.join(dir, 'run', 'bad.jsonl')).catch((e: unknown) => e);
    expect(String(bad)).toMatch(/bad\.jsonl line 1 is not valid JSON at line 1, column \d+/);
    expect(String(bad)).not.toContain('SECRET');
  });
});

describe('Mermaid chart', () => {
  it('renders an xychart-beta block with two lines and step labels', () => {
    const a = parseCurveLog(
      jsonl([
        { step: 0, loss: 1 },
        { step: 10, loss: 0.5 },
        { step: 20, loss: 0.25 },
      ]),
    );
    const b = parseCurveLog(
      jsonl([
        { step: 0, loss: 1 },
        { step: 10, loss: 0.5 },
        { step: 20, loss: 0.3 },
      ]),
    );
    const md = renderCurveChart(curvePlot(a, b, 'loss'), { labels: ['run 1', 'run 2'] });
    expect(md).toBe(
      [
        '```mermaid',
        'xychart-beta',
        '    title "loss"',
        '    x-axis "step" ["0", "10", "20"]',
        '    y-axis "loss"',
        '    line [1, 0.5, 0.25]',
        '    line [1, 0.5, 0.3]',
        '```',
        '<sub>First line: run 1; second line: run 2. They first differ at step 20 (0.25 vs 0.3).</sub>',
        '',
      ].join('\n'),
    );
  });

  it('downsamples to 50 points, keeping the ends and the first divergent step', () => {
    const rows = (shift: number) =>
      Array.from({ length: 1000 }, (_, i) => ({ step: i * 10, loss: 1 / (i + 1) + (i >= 333 ? shift : 0) }));
    const md = renderCurveChart(curvePlot(parseCurveLog(jsonl(rows(0))), parseCurveLog(jsonl(rows(0.01))), 'loss'));
    const labels = /x-axis "step" \[(.*)\]/.exec(md)![1]!.split(', ');
    expect(labels).toHaveLength(50);
    expect(labels[0]).toBe('"0"');
    expect(labels.at(-1)).toBe('"9990"');
    expect(labels).toContain('"3330"');
    for (const line of md.split('\n').filter((l) => l.trimStart().startsWith('line [')))
      expect(line.split(',')).toHaveLength(50);
    expect(md).toContain('50 of 1000 steps shown.');
  });

  it("keeps user strings out of the Mermaid text and numbers in the lexer's syntax", () => {
    const evil = 'loss"]\n```\n<img src=x onerror=alert(1)>';
    const a = parseCurveLog(
      jsonl([
        { step: 1, [evil]: 1e-9 },
        { step: 2, [evil]: 2.5e21 },
      ]),
    );
    const b = parseCurveLog(
      jsonl([
        { step: 1, [evil]: -3e-12 },
        { step: 2, [evil]: 1 },
      ]),
    );
    const md = renderCurveChart(curvePlot(a, b, evil), { labels: ['<b>x</b>', 'y|z'] });
    const block = md.slice(0, md.indexOf('```', 5));
    expect(block).not.toMatch(/[<>\n]img|onerror=alert\(1\)"|e[+-]\d/);
    expect(block).toContain('title "loss________img_src_x_onerror_alert_1__"');
    expect(block).toContain('line [0.000000001, 2500000000000000000000]');
    expect(block).toContain('line [-0.000000000003, 1]');
    expect(md.match(/```/g)).toHaveLength(2);
    expect(md).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(md).toContain('y&#124;z');
  });

  it('leaves out non-finite points and says so', () => {
    const a = parseCurveLog('{"step": 1, "loss": 1}\n{"step": 2, "loss": NaN}\n{"step": 3, "loss": 0.5}');
    const b = parseCurveLog('{"step": 1, "loss": 1}\n{"step": 2, "loss": 0.7}\n{"step": 3, "loss": 0.5}');
    const md = renderCurveChart(curvePlot(a, b, 'loss'));
    expect(md).toContain('x-axis "step" ["1", "3"]');
    expect(md).toContain('They first differ at step 2 (NaN vs 0.7).');
    expect(md).toContain('1 steps with NaN or ±Infinity left out of the chart.');
    expect(renderCurveChart(curvePlot(a, b, 'nope'))).toMatch(/No steps where both runs logged a finite/);
  });

  it('helpers: sanitising, number syntax, downsampling', () => {
    expect(mermaidSafe('val/acc top-1 (%)')).toBe('val_acc_top-1____');
    expect(mermaidSafe('')).toBe('_');
    expect(['0', '-2', '0.1', '1.5e-7', '-1e25'].map((s) => mermaidNumber(Number(s)))).toEqual([
      '0',
      '-2',
      '0.1',
      '0.00000015',
      '-10000000000000000905969664',
    ]);
    expect(downsampleIndices(5, 50)).toEqual([0, 1, 2, 3, 4]);
    const idx = downsampleIndices(101, 11, 37);
    expect(idx).toHaveLength(11);
    expect(idx).toContain(37);
    expect(idx[0]).toBe(0);
    expect(idx.at(-1)).toBe(100);
  });

  it('renders a divergence table', () => {
    const a = parseCurveLog(
      jsonl([
        { step: 1, loss: 1, acc: 0.5 },
        { step: 2, loss: 0.5, acc: 0.6 },
      ]),
    );
    const b = parseCurveLog(
      jsonl([
        { step: 1, loss: 1, acc: 0.5 },
        { step: 2, loss: 0.4, acc: 0.6 },
      ]),
    );
    const md = renderCurveDivergences(compareCurves(a, b));
    expect(md).toContain('| <code>loss</code> | 2 | 0.5 | 0.4 | 0.1 | 2 |');
    expect(md).toContain('1 other series agree at every common step.');
  });
});
