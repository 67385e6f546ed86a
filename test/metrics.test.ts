import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractMetrics, lookupDotted, readMetrics } from '../src/train/metrics.js';

describe('metrics file', () => {
  it('looks up nested keys by dotted path, and keys that contain dots', () => {
    const doc = { accuracy: 0.9, eval: { test: { f1: 0.8 } }, 'val.loss': 0.3, val: { acc: 0.7 } };
    expect(lookupDotted(doc, 'accuracy')).toBe(0.9);
    expect(lookupDotted(doc, 'eval.test.f1')).toBe(0.8);
    expect(lookupDotted(doc, 'val.loss')).toBe(0.3);
    expect(lookupDotted(doc, 'val.acc')).toBe(0.7);
    expect(lookupDotted(doc, 'eval.test.missing')).toBeUndefined();
  });

  it('names a missing metric and the keys that are there', () => {
    expect(() => extractMetrics({ acc: 1, loss: 2 }, ['accuracy'], "seed 0's metrics.json")).toThrow(
      /Metric "accuracy" is missing from seed 0's metrics\.json \(top-level keys: acc, loss\)/,
    );
  });

  it('refuses non-numbers and non-finite values', () => {
    expect(() => extractMetrics({ a: '0.9' }, ['a'], 'm.json')).toThrow(
      /Metric "a" in m\.json is "0\.9", not a finite number/,
    );
    expect(() => extractMetrics({ a: null }, ['a'], 'm.json')).toThrow(/is null, not a finite number/);
  });

  it("reads Python's NaN and Infinity and reports them as non-finite", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-metrics-'));
    const file = path.join(dir, 'metrics.json');
    await writeFile(file, '{"loss": NaN, "acc": 0.5, "x": -Infinity}');
    await expect(readMetrics(file, ['acc'], 'm.json')).resolves.toEqual({ acc: 0.5 });
    await expect(readMetrics(file, ['loss'], 'm.json')).rejects.toMatchObject({
      message: 'Metric "loss" in m.json is NaN, not a finite number.',
      hint: expect.stringMatching(/diverged/),
    });
    await expect(readMetrics(file, ['x'], 'm.json')).rejects.toThrow(/is -Infinity, not a finite number/);
  });

  it('says when the file is missing or not JSON', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-metrics-'));
    await expect(readMetrics(path.join(dir, 'none.json'), ['a'], "seed 2's none.json")).rejects.toThrow(
      /The training did not write seed 2's none\.json/,
    );
    await writeFile(path.join(dir, 'bad.json'), '{"a": 1,');
    await expect(readMetrics(path.join(dir, 'bad.json'), ['a'], 'bad.json')).rejects.toThrow(
      /bad\.json is not valid JSON/,
    );
  });
});
