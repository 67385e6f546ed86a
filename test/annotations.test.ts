import { describe, expect, it } from 'vitest';
import { planAnnotations } from '../src/action/annotations.js';
import { type Report, reportSchema } from '../src/schema/report.js';
import { keyLine, splitKey } from '../src/util/key-line.js';

describe('splitKey', () => {
  it('reads plain, indexed and bracketed segments', () => {
    expect(splitKey('optimizer.lr')).toEqual(['optimizer', 'lr']);
    expect(splitKey('layers.0.units')).toEqual(['layers', '0', 'units']);
    expect(splitKey('a["b.c"].d')).toEqual(['a', 'b.c', 'd']);
    expect(splitKey('["x\\"]y"]')).toEqual(['x"]y']);
  });
});

describe('keyLine', () => {
  it('finds a nested YAML key by its node, not by a same-named key elsewhere', () => {
    const yaml = [
      'model:',
      '  lr: 1',
      'optimizer:',
      '  # the rate',
      '  lr: 0.1',
      '  layers:',
      '    - units: 3',
      '    - units: 4',
    ].join('\n');
    expect(keyLine(yaml, 'params.yaml', 'optimizer.lr')).toBe(5);
    expect(keyLine(yaml, 'params.yml', 'optimizer.layers.1.units')).toBe(8);
    // A key that is gone: the deepest part that is still there.
    expect(keyLine(yaml, 'params.yaml', 'optimizer.momentum')).toBe(3);
    expect(keyLine(yaml, 'params.yaml', 'nothing')).toBeUndefined();
  });

  it('finds JSON keys, including one with a dot in its name', () => {
    const json = '{\n  "learning_rate": 0.05,\n  "sched": {\n    "warm.up": 10\n  }\n}\n';
    expect(keyLine(json, 'params.json', 'learning_rate')).toBe(2);
    expect(keyLine(json, 'params.json', 'sched["warm.up"]')).toBe(4);
  });

  it('searches other formats segment by segment (TOML/INI sections, Python, .env)', () => {
    const toml = '[model]\nlr = 1\n\n[optimizer]\nlr = 0.1\n';
    expect(keyLine(toml, 'c.toml', 'optimizer.lr')).toBe(5);
    expect(keyLine('batch_size = 12\nlearning_rate = 6e-4\n', 'train.py', 'learning_rate')).toBe(2);
    expect(keyLine('export SEED=1\nLR=2\n', '.env', 'LR')).toBe(2);
    expect(keyLine('a = 1\n', 'c.ini', 'b')).toBeUndefined();
  });
});

function report(over: Partial<Report>): Report {
  return reportSchema.parse({
    schemaVersion: 2,
    tool: { name: 'repro-gate', version: '1.0.0' },
    command: 'check',
    verdict: 'mismatch',
    summary: 's',
    mode: 'exact',
    alpha: 0.05,
    seeds: [0],
    metrics: [],
    mismatches: [],
    warnings: [],
    baseline: null,
    commit: null,
    drift: { data: [], config: [], environment: [] },
    ...over,
  });
}

const drift = {
  data: [
    {
      path: 'data/train.csv',
      change: 'modified' as const,
      before: 'a',
      after: 'b',
      detail: '5 lines changed (first at line 7) (of 90)',
    },
    { path: 'data/labels.bin', change: 'modified' as const, before: 'a', after: 'b' },
  ],
  config: [
    { file: 'params.json', key: 'learning_rate', change: 'modified' as const, before: 0.05, after: 0.005 },
    {
      group: 'gate settings' as const,
      file: 'repro-gate.yml',
      key: 'seeds',
      change: 'modified' as const,
      before: 2,
      after: 3,
    },
    { file: '{out}/.hydra/config.yaml', key: 'lr', change: 'modified' as const, before: 1, after: 2 },
  ],
  environment: [{ key: 'python', change: 'modified' as const, before: '3.11', after: '3.12' }],
};
const texts: Record<string, string> = {
  'params.json': '{\n  "epochs": 3,\n  "learning_rate": 0.005\n}\n',
  'repro-gate.yml': 'train:\n  command: [python, t.py]\nseeds: 3\n',
};

describe('planAnnotations', () => {
  it('puts each drifted key on its line and each data file on its first changed line, paths from the repository root, nothing for a resolved config in {out}', () => {
    const a = planAnnotations(report({ drift, cause: 'config' }), 'example', (f) => texts[f]);
    expect(a.map((x) => [x.level, x.file, x.line])).toEqual([
      ['warning', 'example/data/train.csv', 7],
      ['warning', 'example/data/labels.bin', 1],
      ['error', 'example/params.json', 3],
      ['warning', 'example/repro-gate.yml', 3],
    ]);
    expect(a[2]!.message).toBe('learning_rate: 0.05 → 0.005. Most likely cause of the mismatch.');
    expect(a[2]!.title).toBe('repro-gate: config modified since the baseline');
  });

  it('errors on data when data is the cause, and only warns when the gate passed', () => {
    const byData = planAnnotations(report({ drift, cause: 'data' }), '', (f) => texts[f]);
    expect(byData.filter((x) => x.level === 'error').map((x) => x.file)).toEqual(['data/train.csv', 'data/labels.bin']);
    const passed = planAnnotations(report({ drift, cause: 'data', verdict: 'reproducible' }), '', (f) => texts[f]);
    expect(passed.every((x) => x.level === 'warning')).toBe(true);
    expect(passed[0]!.message).not.toMatch(/cause/);
  });

  it('annotates nothing for a record, and at most 10 for a long list', () => {
    expect(planAnnotations(report({ drift, command: 'record', verdict: 'recorded' }), '', () => undefined)).toEqual([]);
    const many = Array.from({ length: 30 }, (_, i) => ({
      path: `d${i}`,
      change: 'added' as const,
      before: null,
      after: 'x',
    }));
    expect(planAnnotations(report({ drift: { ...drift, data: many } }), '', () => undefined)).toHaveLength(10);
  });
});
