/** Where metrics come from: files by extension, and the training's printed output (metrics.pattern). */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { MetricPatterns, readMetrics } from '../src/train/metrics.js';
import { commandLineOptions, commandShape } from '../src/util/command-line.js';
import { GateError } from '../src/util/errors.js';

async function file(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-metrics-'));
  await writeFile(path.join(dir, name), text);
  return path.join(dir, name);
}

async function error(p: Promise<unknown>): Promise<GateError> {
  const err = await p.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GateError);
  return err as GateError;
}

describe('metrics files by extension', () => {
  it('.yaml and .yml', async () => {
    const f = await file('metrics.yaml', 'val:\n  loss: 0.25\naccuracy: .9\n');
    expect(await readMetrics(f, ['val.loss', 'accuracy'], 'm')).toEqual({ 'val.loss': 0.25, accuracy: 0.9 });
  });

  it('.jsonl: per metric, the record with the largest step that holds it', async () => {
    const f = await file(
      'log.jsonl',
      [
        '{"step": 10, "loss": 0.5}',
        '{"step": 30, "loss": 0.3, "acc": 0.8}',
        '{"step": 20, "loss": 0.4}',
        '{"epoch": 1, "acc": 0.85}',
        '',
      ].join('\n'),
    );
    // loss: step 30 wins over the later step 20; acc: the record with a step (30) wins over one without.
    expect(await readMetrics(f, ['loss', 'acc'], 'm')).toEqual({ loss: 0.3, acc: 0.8 });
    const noSteps = await file('m.jsonl', '{"loss": 1}\n{"loss": 2}\n{"other": 3}\n');
    expect(await readMetrics(noSteps, ['loss'], 'm')).toEqual({ loss: 2 });
    const bad = await file('bad.jsonl', '{"loss": 1}\n{"loss": SECRET}\n');
    const err = await error(readMetrics(bad, ['loss'], "seed 0's bad.jsonl"));
    expect(err.message).toMatch(/^seed 0's bad\.jsonl line 2 is not valid JSON at line 1, column \d+/);
    expect(err.message).not.toContain('SECRET');
  });

  it('.csv: per metric, the last row with a value in its column (CSV-logger style)', async () => {
    const f = await file('metrics.csv', 'epoch,train_loss,val_loss\n0,1.0,\n0,,1.1\n1,0.5,\n1,,0.7\n');
    expect(await readMetrics(f, ['train_loss', 'val_loss'], 'm')).toEqual({ train_loss: 0.5, val_loss: 0.7 });
    const err = await error(readMetrics(f, ['accuracy'], "seed 1's metrics.csv"));
    expect(err.message).toBe(
      'Metric "accuracy" is not a column of seed 1\'s metrics.csv (columns: epoch, train_loss, val_loss).',
    );
    const nan = await file('nan.csv', 'loss\nnan\n');
    expect((await error(readMetrics(nan, ['loss'], 'm'))).message).toMatch(/is NaN, not a finite number/);
  });
});

describe('metrics.pattern', () => {
  const line = 'step 20: train loss 3.1000, val loss 3.1484';

  it('takes the last match of each named group from the output', () => {
    const p = new MetricPatterns(['train loss (?<train_loss>[0-9.]+), val loss (?<val_loss>[0-9.]+)']);
    p.feed('step 0: train loss 4.2000, val loss 4.3000');
    p.feed('iter 10: loss 3.5');
    p.feed(line);
    expect(p.values(['train_loss', 'val_loss'], 'o')).toEqual({ train_loss: 3.1, val_loss: 3.1484 });
  });

  it('names the metric and quotes the pattern when a group never matched', () => {
    const p = new MetricPatterns(['val loss (?<val_loss>[0-9.]+)']);
    p.feed('nothing here');
    expect(() => p.values(['val_loss'], "seed 0's output")).toThrow(
      'Metric "val_loss" never matched metrics.pattern "val loss (?<val_loss>[0-9.]+)" in seed 0\'s output.',
    );
  });

  it('is validated at config load: a regex, with a named group, for every metric without a file', () => {
    const cfg = (metrics: string) =>
      `version: 1\ntrain:\n  command: [python3, t.py]\nmode: exact\nmetrics:\n${metrics}`;
    const ok = parseConfig(cfg("  pattern: 'val loss (?P<val_loss>[0-9.]+)'\n  val_loss: {}\n"), '/p/repro-gate.yml');
    expect(ok.metricPatterns).toEqual(['val loss (?<val_loss>[0-9.]+)']); // Python's (?P<…>) accepted
    expect(ok.metricsFile).toBe('');
    const messages = (yaml: string) => {
      try {
        parseConfig(cfg(yaml), '/p/repro-gate.yml');
      } catch (e) {
        return (e as GateError).message;
      }
      return 'no error';
    };
    expect(messages("  pattern: 'loss ([0-9.]+'\n  loss: {}\n")).toMatch(
      /metrics\.pattern: "loss \(\[0-9\.\]\+" is not a valid regular expression/,
    );
    expect(messages("  pattern: 'loss ([0-9.]+)'\n  loss: {}\n")).toMatch(
      /has no named group: name what each number is/,
    );
    expect(messages("  pattern: 'loss (?<loss>[0-9.]+)'\n  loss: {}\n  acc: {}\n")).toMatch(
      /metrics\.acc: is neither a named group of metrics\.pattern \(loss\) nor read from a file/,
    );
    const both = parseConfig(
      cfg("  file: eval.json\n  pattern: 'loss (?<loss>[0-9.]+)'\n  loss: {}\n  acc: {}\n"),
      '/p/repro-gate.yml',
    );
    expect([both.metricsFile, both.metricPatterns.length]).toEqual(['eval.json', 1]);
  });
});

describe('command-line options as config', () => {
  const argv = [
    'python3',
    'train.py',
    'config/small.py',
    '--learning_rate=1e-3',
    '--batch_size',
    '32',
    '--compile',
    '--out_dir={out}',
    '--seed',
    '{seed}',
    '--eval_only',
  ];

  it('reads --key=value and --key value, flags as true, leaving {seed}/{out} out', () => {
    expect(Object.fromEntries(commandLineOptions(argv))).toEqual({
      learning_rate: '1e-3',
      batch_size: '32',
      compile: true,
      eval_only: true,
    });
  });

  it("keeps the command's shape without the values, so a changed value is config drift, not a new command", () => {
    expect(commandShape(argv)).toEqual([
      'python3',
      'train.py',
      'config/small.py',
      '--learning_rate=…',
      '--batch_size',
      '…',
      '--compile',
      '--out_dir={out}',
      '--seed',
      '{seed}',
      '--eval_only',
    ]);
    expect(commandShape(argv.map((a) => a.replace('1e-3', '2e-3')))).toEqual(commandShape(argv));
  });
});
