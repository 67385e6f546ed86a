import { describe, expect, it } from 'vitest';
import { type CauseInput, rankCause } from '../src/drift/cause.js';
import { diffEnvironment } from '../src/drift/environment.js';
import { changesTraining, diffSettings } from '../src/drift/settings.js';
import type { BaselineSettings } from '../src/schema/baseline.js';
import type { MetricResult } from '../src/schema/report.js';

const metric = (name: string, verdict: MetricResult['verdict'], diff: number): MetricResult => ({
  name,
  verdict,
  diff,
  baseline: { n: 5, mean: 0.9, sd: 0.01 },
  candidate: { n: 5, mean: 0.9 + diff, sd: 0.01 },
  ci: [diff - 0.01, diff + 0.01],
  p: 0.5,
  lower: -0.01,
  upper: 0.01,
  margin: '0.01',
  direction: 'both',
  design: 'welch',
  df: 8,
  se: 0.006,
  degenerate: false,
});

const none = { data: [], config: [], environment: [] };
const failing = [metric('accuracy', 'not-equivalent', -0.008), metric('loss', 'equivalent', 0.001)];

function cause(partial: Partial<CauseInput>) {
  return rankCause({ drift: none, codeChanges: [], metrics: failing, mismatches: [], ...partial });
}

describe('environment diff', () => {
  it('lists changed, added and removed keys, the strongest suspects first', () => {
    const d = diffEnvironment(
      { kernel: '6.1', 'package.numpy': '1.24.2', 'python.version': '3.11.2', 'env.OMP_NUM_THREADS': '4', same: 1 },
      { kernel: '6.5', 'package.numpy': '1.26.4', 'python.version': '3.11.2', 'package.torch': '2.1.0', same: 1 },
    );
    expect(d).toEqual([
      { key: 'package.numpy', change: 'modified', before: '1.24.2', after: '1.26.4' },
      { key: 'package.torch', change: 'added', after: '2.1.0' },
      { key: 'env.OMP_NUM_THREADS', change: 'removed', before: '4' },
      { key: 'kernel', change: 'modified', before: '6.1', after: '6.5' },
    ]);
  });
});

describe('most likely cause', () => {
  it('suspects data first, naming the file and how the metric moved', () => {
    const c = cause({
      drift: {
        ...none,
        data: [{ path: 'data/train.csv', change: 'modified', before: 'a', after: 'b' }],
        config: [{ file: 'p.yaml', key: 'lr', change: 'modified', before: 1, after: 2 }],
      },
    });
    expect(c).toEqual({ cause: 'data', evidence: 'data/train.csv changed, and accuracy moved by −0.008.' });
  });

  it('then config, with key and values', () => {
    const c = cause({
      drift: {
        ...none,
        config: [{ file: 'params.yaml', key: 'optimizer.lr', change: 'modified', before: 0.1, after: 0.01 }],
      },
    });
    expect(c).toEqual({
      cause: 'config',
      evidence: 'params.yaml: optimizer.lr 0.1 → 0.01, and accuracy moved by −0.008.',
    });
  });

  it('then environment changes that change numbers (packages), before code', () => {
    const c = cause({
      drift: { ...none, environment: [{ key: 'package.torch', change: 'modified', before: '2.0.1', after: '2.1.0' }] },
      codeChanges: ['model.py'],
    });
    expect(c.cause).toBe('environment');
    expect(c.evidence).toMatch(/^package\.torch 2\.0\.1 → 2\.1\.0/);
  });

  it('blames code over an unrelated package appearing or a non-numerical package upgrade', () => {
    const environment = [
      { key: 'package.trialfake-unused', change: 'added' as const, after: '1.0' },
      { key: 'package.awscli', change: 'modified' as const, before: '1.29', after: '1.30' },
    ];
    expect(cause({ drift: { ...none, environment }, codeChanges: ['micrograd.py'] }).cause).toBe('code');
    // A numerical package's version change still comes first.
    const numpy = { key: 'package.numpy', change: 'modified' as const, before: '1.24.2', after: '1.26.4' };
    expect(
      cause({ drift: { ...none, environment: [...environment, numpy] }, codeChanges: ['micrograd.py'] }).cause,
    ).toBe('environment');
  });

  it('blames code over a kernel update alone', () => {
    const c = cause({
      drift: { ...none, environment: [{ key: 'kernel', change: 'modified', before: '6.1', after: '6.5' }] },
      codeChanges: ['model.py', 'train.py'],
    });
    expect(c).toEqual({
      cause: 'code',
      evidence: 'the training code changed since the baseline (model.py, train.py), and accuracy moved by −0.008.',
    });
  });

  it('falls back to a kernel/CPU change, then to unknown', () => {
    expect(
      cause({ drift: { ...none, environment: [{ key: 'cpu.model', change: 'modified', before: 'A', after: 'B' }] } })
        .cause,
    ).toBe('environment');
    const u = cause({});
    expect(u.cause).toBe('unknown');
    expect(u.evidence).toMatch(
      /nothing drifted, yet accuracy moved by −0\.008: suspect unseeded randomness or parallel nondeterminism/,
    );
    expect(cause({ codeChanges: null }).evidence).toMatch(/code changes unknown/);
  });

  it('describes exact-mode mismatches when no metric moved on average', () => {
    const c = cause({
      metrics: [metric('accuracy', 'reproducible', 0)],
      mismatches: [{ seed: 2, kind: 'artifact', name: 'model.bin', baseline: 'aa', candidate: 'bb' }],
      codeChanges: ['train.py'],
    });
    expect(c.evidence).toBe(
      "the training code changed since the baseline (train.py), and seed 2's artifact model.bin differs.",
    );
  });

  it('abbreviates long lists', () => {
    const data = ['a', 'b', 'c', 'd', 'e'].map((p) => ({
      path: `${p}.csv`,
      change: 'added' as const,
      before: null,
      after: 'x',
    }));
    expect(cause({ drift: { ...none, data } }).evidence).toMatch(
      /^a\.csv was added, b\.csv was added, c\.csv was added and 2 more, and/,
    );
  });
});

describe('gate settings drift', () => {
  const settings = (over: Partial<BaselineSettings> = {}): BaselineSettings => ({
    mode: 'statistical',
    command: ['python3', 'a.py'],
    image: null,
    seeds: [0, 1, 2],
    metricsFile: 'metrics.json',
    metrics: ['accuracy', 'loss'],
    artifacts: [],
    alpha: 0.05,
    paired: false,
    robust: false,
    margins: { accuracy: { margin: '0.01', direction: 'both' }, loss: { margin: '2%', direction: 'lower' } },
    ...over,
  });

  it('lists a changed command as gate-settings drift of the gate file, arrays as JSON', () => {
    expect(diffSettings(settings(), settings({ command: ['python3', 'b.py'] }), 'repro-gate.yml')).toEqual([
      {
        group: 'gate settings',
        file: 'repro-gate.yml',
        key: 'command',
        change: 'modified',
        before: '["python3","a.py"]',
        after: '["python3","b.py"]',
      },
    ]);
  });

  it('shows every way a change can weaken the gate: a dropped metric, a looser margin or direction, alpha, mode', () => {
    const weaker = settings({
      metrics: ['accuracy'],
      margins: { accuracy: { margin: '0.5', direction: 'higher' } },
      alpha: 0.2,
      mode: 'statistical',
      seeds: [0, 1],
    });
    expect(diffSettings(settings(), weaker, 'g.yml').map((d) => [d.key, d.change, d.before, d.after])).toEqual([
      ['alpha', 'modified', 0.05, 0.2],
      ['metrics.accuracy', 'modified', '±0.01', '≥ −0.5'],
      ['metrics.loss', 'removed', '≤ +2%', undefined],
      ['seeds', 'modified', '[0,1,2]', '[0,1]'],
    ]);
    expect(diffSettings(settings(), settings({ metrics: ['accuracy', 'loss', 'f1'] }), 'g.yml')).toEqual([
      { group: 'gate settings', file: 'g.yml', key: 'metrics.f1', change: 'added', after: null },
    ]);
    expect(diffSettings(settings(), settings({ mode: 'exact' }), 'g.yml').map((d) => d.key)).toEqual(['mode']);
  });

  it('shows train.parallel when it changes, and a baseline without it as one seed at a time', () => {
    const d = diffSettings(settings(), settings({ parallel: 2 }), 'g.yml');
    expect(d).toEqual([{ group: 'gate settings', file: 'g.yml', key: 'train.parallel', change: 'added', after: 2 }]);
    expect(d.every(changesTraining)).toBe(true);
    expect(diffSettings(settings({ parallel: 4 }), settings({ parallel: 2 }), 'g.yml').map((x) => x.change)).toEqual([
      'modified',
    ]);
    expect(diffSettings(settings(), settings({ parallel: 1 }), 'g.yml')).toEqual([]);
  });

  it('does not invent changes against a baseline recorded before margins and alpha were kept', () => {
    const old = settings({ alpha: undefined, paired: undefined, robust: undefined, margins: undefined });
    expect(diffSettings(old, settings(), 'g.yml')).toEqual([]);
  });

  it('quotes a metric name that holds dots', () => {
    const dotted = settings({
      metrics: ['train.loss'],
      margins: { 'train.loss': { margin: '0.1', direction: 'both' } },
    });
    expect(diffSettings(settings({ metrics: [], margins: {} }), dotted, 'g.yml')[0]?.key).toBe('metrics["train.loss"]');
  });

  it('never names a margin as the cause of a changed result', () => {
    const drift = { data: [], environment: [], config: diffSettings(settings(), settings({ alpha: 0.2 }), 'g.yml') };
    expect(cause({ drift }).cause).toBe('unknown');
  });
});
