/**
 * Names from the outside world — metric names, file names, config keys — that happen to be
 * JavaScript's `__proto__`, `constructor` or `prototype` are ordinary names end to end (record →
 * baseline file → check), or refused with a message; never silently dropped.
 */
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { readBaseline, writeBaseline } from '../src/baseline/io.js';
import { parseConfig } from '../src/config/load.js';
import { check, drift, type GateRequest, record } from '../src/gate/index.js';
import { type Baseline, metricValues } from '../src/schema/baseline.js';
import { ownRecord } from '../src/schema/own-record.js';
import { extractMetrics } from '../src/train/metrics.js';
import { configErrorOf } from './helpers/config-error.js';
import { captureLogger } from './helpers/logger.js';
import { ScriptedRuntime, type Training } from './helpers/scripted-runtime.js';

const PROTO_JSON = '{"__proto__": 1, "constructor": 2, "prototype": 3}';

describe('ownRecord', () => {
  it('keeps __proto__, constructor and prototype as own keys where z.record drops __proto__', () => {
    const raw = JSON.parse(PROTO_JSON);
    expect(Object.keys(z.record(z.string(), z.number()).parse(raw))).toEqual(['constructor', 'prototype']);
    const own = ownRecord(z.number()).parse(raw);
    expect(Object.keys(own)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(Object.hasOwn(own, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(own)).toBe(Object.prototype);
    expect(JSON.stringify(own)).toBe(PROTO_JSON.replaceAll(' ', ''));
  });

  it('validates every value, naming its key, and refuses what is not an object', () => {
    const r = ownRecord(z.number()).safeParse(JSON.parse('{"ok": 1, "__proto__": "x"}'));
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => [i.path, i.message])).toEqual([
      [['__proto__'], 'Invalid input: expected number, received string'],
    ]);
    expect(ownRecord(z.number()).safeParse([1]).error?.issues[0]?.message).toBe('expected an object');
    expect(ownRecord(z.number()).safeParse(null).success).toBe(false);
  });
});

describe('the baseline file', () => {
  it('round-trips __proto__ and constructor keys in every record', async () => {
    const entry = { sha256: 'a'.repeat(64), size: 1 };
    const records = (value: unknown) =>
      JSON.parse(`{"__proto__": ${JSON.stringify(value)}, "constructor": ${JSON.stringify(value)}}`);
    const baseline = {
      schemaVersion: 1,
      tool: { name: 'repro-gate', version: '0.1.0' },
      recordedAt: '2026-01-01T00:00:00.000Z',
      commit: null,
      settings: {
        mode: 'exact',
        command: ['train'],
        image: null,
        seeds: [0],
        metricsFile: 'metrics.json',
        metrics: ['__proto__', 'constructor'],
        artifacts: ['__proto__', 'constructor'],
      },
      runs: [{ seed: 0, metrics: records(0.5), artifacts: records(entry), durationMs: 1 }],
      fingerprints: {
        data: { files: records(entry) },
        config: records(records('x')),
        environment: records('v'),
      },
    } as unknown as Baseline;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-names-'));
    const file = path.join(dir, 'baseline.json');
    await writeBaseline(file, baseline);
    const text = await readFile(file, 'utf8');
    const read = await readBaseline(file);
    expect(JSON.stringify(read, null, 2)).toBe(text.trimEnd());
    const configs = new Map(Object.entries(read.fingerprints.config));
    expect(Object.hasOwn(configs.get('__proto__') ?? {}, '__proto__')).toBe(true);
    expect(metricValues(read.runs, '__proto__')).toEqual([0.5]);
    expect(metricValues(read.runs, 'constructor')).toEqual([0.5]);
  });

  it('never takes an inherited property for a metric value', () => {
    const runs = [{ seed: 0, metrics: { accuracy: 1 }, artifacts: {}, durationMs: 1 }];
    expect(() => metricValues(runs, 'constructor')).toThrow(/no value for metric "constructor"/);
    expect(() => metricValues(runs, 'toString')).toThrow(/no value for metric "toString"/);
  });
});

describe('metrics files', () => {
  it('extract metrics named __proto__ and constructor as own keys, and no inherited ones', () => {
    const doc = JSON.parse('{"__proto__": 0.25, "constructor": 0.5, "a": {"constructor": 0.75}}');
    const values = extractMetrics(doc, ['__proto__', 'constructor', 'a.constructor'], 'm.json');
    expect(Object.keys(values)).toEqual(['__proto__', 'constructor', 'a.constructor']);
    expect(Object.hasOwn(values, '__proto__')).toBe(true);
    expect(values.constructor).toBe(0.5);
    expect(() => extractMetrics({ a: 1 }, ['constructor'], 'm.json')).toThrow(/Metric "constructor" is missing/);
    expect(() => extractMetrics({ a: 1 }, ['a.toString'], 'm.json')).toThrow(/Metric "a\.toString" is missing/);
  });
});

describe('repro-gate.yml', () => {
  const CONFIG = 'version: 1\ntrain:\n  command: [train]\nseeds: 3\nmetrics:\n  accuracy: {margin: 0.01}\n';

  it('refuses a key named __proto__ anywhere, with its place and how to fix it', () => {
    const metric = configErrorOf(CONFIG.replace('  accuracy:', '  __proto__: {margin: 0.1}\n  accuracy:'));
    expect(metric.message).toBe(
      'repro-gate.yml:6:3: the key "metrics.__proto__" cannot be used: "__proto__" is not allowed as a name.',
    );
    expect(metric.hint).toMatch(/^Rename the key "__proto__" in repro-gate\.yml/);
    expect(configErrorOf(`${CONFIG}__proto__: {}\n`).message).toMatch(/^repro-gate\.yml:7:1: the key "__proto__"/);
    expect(configErrorOf(CONFIG.replace('[train]', '[train]\n  env: {"__proto__": "1"}')).message).toMatch(
      /^repro-gate\.yml:4:9: the key "train\.env\.__proto__"/,
    );
    expect(configErrorOf(`${CONFIG}data: [{__proto__: x}]\n`).message).toMatch(/the key "data\.0\.__proto__"/);
  });

  it('keeps a metric or variable named constructor or prototype as an ordinary name', () => {
    const c = parseConfig(
      CONFIG.replace('[train]', '[train]\n  env: {constructor: "1"}').replace(
        '  accuracy:',
        '  constructor: {margin: 0.1}\n  prototype: {margin: 0.1}\n  accuracy:',
      ),
      '/p/repro-gate.yml',
    );
    expect(c.metrics.map((m) => m.name)).toEqual(['constructor', 'prototype', 'accuracy']);
    expect(Object.hasOwn(c.train.env, 'constructor')).toBe(true);
  });
});

describe('the gate, with such names end to end', () => {
  const CONFIG = `version: 1
train:
  command: [train, "{seed}", "{out}"]
seeds: 3
metrics:
  constructor: {margin: 0.01}
  accuracy: {margin: 0.01}
data: [data/, __proto__, constructor]
config: [params.json, params.yaml]
`;
  const training: Training = ({ seed }) => ({
    files: { 'metrics.json': `{"constructor": ${0.5 + seed / 1000}, "accuracy": 0.9, "__proto__": 1}` },
  });

  async function project(mode: 'exact' | 'statistical'): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-names-'));
    await writeFile(path.join(dir, 'repro-gate.yml'), `${CONFIG}mode: ${mode}\n`);
    await writeFile(path.join(dir, 'params.json'), '{"__proto__": 0.1, "constructor": {"lr": 1}, "prototype": [1]}');
    await writeFile(path.join(dir, 'params.yaml'), '__proto__: 0.1\nconstructor: 1\n');
    await writeFile(path.join(dir, '__proto__'), 'a data file');
    await writeFile(path.join(dir, 'constructor'), 'another');
    await mkdir(path.join(dir, 'data'));
    for (const name of ['__proto__', 'constructor', 'prototype']) await writeFile(path.join(dir, 'data', name), name);
    return dir;
  }

  function request(dir: string, t: Training = training): GateRequest {
    return {
      configPath: 'repro-gate.yml',
      cwd: dir,
      log: captureLogger(),
      runnerEnv: { PATH: '/usr/bin' },
      createRuntime: () => new ScriptedRuntime(t),
    };
  }

  for (const mode of ['exact', 'statistical'] as const) {
    it(`a metric named constructor, and config keys and data files named __proto__, pass a ${mode} check with no drift`, async () => {
      const dir = await project(mode);
      expect((await record(request(dir))).verdict).toBe('recorded');
      const baseline = JSON.parse(await readFile(path.join(dir, '.repro-gate', 'baseline.json'), 'utf8'));
      expect(Object.keys(baseline.fingerprints.data.files)).toEqual([
        '__proto__',
        'constructor',
        'data/__proto__',
        'data/constructor',
        'data/prototype',
      ]);
      expect(baseline.fingerprints.config['params.json']).toEqual(
        JSON.parse('{"__proto__": 0.1, "constructor.lr": 1, "prototype.0": 1}'),
      );
      expect(Object.keys(baseline.runs[0].metrics)).toEqual(['constructor', 'accuracy']);

      const out = await check(request(dir));
      expect(out.report.drift).toEqual({ data: [], config: [], environment: [] });
      expect(out.verdict).toBe(mode === 'exact' ? 'reproducible' : 'equivalent');
      expect(out.report.metrics.map((m) => [m.name, m.verdict])).toEqual([
        ['constructor', mode === 'exact' ? 'reproducible' : 'equivalent'],
        ['accuracy', mode === 'exact' ? 'reproducible' : 'equivalent'],
      ]);
      expect((await drift(request(dir))).verdict).toBe('no-drift');
    });
  }

  it('a moved metric named constructor fails the check like any other', async () => {
    const dir = await project('exact');
    await record(request(dir));
    const moved: Training = ({ seed }) => ({
      files: { 'metrics.json': `{"constructor": ${0.6 + seed / 1000}, "accuracy": 0.9}` },
    });
    const out = await check(request(dir, moved));
    expect(out.verdict).toBe('mismatch');
    expect(out.report.mismatches.map((m) => m.name)).toContain('constructor');
  });
});
