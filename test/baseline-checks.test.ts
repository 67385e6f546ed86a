/** A baseline file that parses but could not have been recorded, and runs that cannot become one. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { baselineInconsistency, readBaseline } from '../src/baseline/io.js';
import { checkRecordable } from '../src/baseline/recordable.js';
import type { Baseline, RunRecord } from '../src/schema/baseline.js';
import { GateError } from '../src/util/errors.js';

function run(seed: number, metrics: Record<string, number>): RunRecord {
  return { seed, metrics, artifacts: {}, durationMs: 1 };
}

function baseline(over: { mode?: 'exact' | 'statistical'; runs?: RunRecord[] } = {}): Baseline {
  const runs = over.runs ?? [run(0, { accuracy: 0.9, loss: 0.3 }), run(1, { accuracy: 0.91, loss: 0.29 })];
  return {
    schemaVersion: 1,
    tool: { name: 'repro-gate', version: '0.1.0' },
    recordedAt: '2026-01-01T00:00:00.000Z',
    commit: 'a'.repeat(40),
    settings: {
      mode: over.mode ?? 'statistical',
      command: ['train'],
      image: null,
      seeds: runs.map((r) => r.seed),
      metricsFile: 'metrics.json',
      metrics: ['accuracy', 'loss'],
      artifacts: [],
    },
    runs,
    fingerprints: { data: { files: {} }, config: {}, environment: {} },
  };
}

async function readError(b: Baseline): Promise<GateError> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-baseline-'));
  const file = path.join(dir, 'baseline.json');
  await writeFile(file, JSON.stringify(b));
  const err = await readBaseline(file).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(GateError);
  expect((err as GateError).message.startsWith(`The baseline ${file} is corrupt: `)).toBe(true);
  expect((err as GateError).hint).toMatch(/repro-gate record/);
  return err as GateError;
}

describe('readBaseline pre-flight', () => {
  it('accepts a consistent baseline', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-baseline-'));
    await writeFile(path.join(dir, 'b.json'), JSON.stringify(baseline()));
    expect((await readBaseline(path.join(dir, 'b.json'))).runs).toHaveLength(2);
    expect(
      baselineInconsistency(baseline({ mode: 'exact', runs: [run(3, { accuracy: 1, loss: 0 })] })),
    ).toBeUndefined();
  });

  it('refuses a run without one of the recorded metrics', async () => {
    const err = await readError(baseline({ runs: [run(0, { accuracy: 0.9, loss: 0.3 }), run(1, { accuracy: 0.9 })] }));
    expect(err.message).toMatch(
      /corrupt: runs: the run for seed 1 has no value for metric "loss" \(listed in settings\.metrics\)\.$/,
    );
  });

  it('refuses a seed recorded twice', async () => {
    const twice = run(0, { accuracy: 0.9, loss: 0.3 });
    expect((await readError(baseline({ runs: [twice, { ...twice }] }))).message).toMatch(
      /corrupt: runs: seed 0 is recorded twice\.$/,
    );
  });

  it('refuses a statistical baseline with fewer than 2 runs', async () => {
    expect((await readError(baseline({ runs: [run(0, { accuracy: 0.9, loss: 0.3 })] }))).message).toMatch(
      /corrupt: runs: a statistical baseline needs at least 2 runs to measure seed-to-seed spread, this one has 1\.$/,
    );
  });

  it('refuses a commit that is not a full SHA', async () => {
    const b = { ...baseline(), commit: 'HEAD~1' };
    expect((await readError(b)).message).toMatch(/corrupt: commit: expected a full commit SHA/);
  });
});

describe('checkRecordable', () => {
  it('accepts ordinary and large-but-safe values', () => {
    expect(() =>
      checkRecordable([run(0, { a: 0.9, b: 1e150 }), run(1, { a: 0.91, b: 1.1e150 })], ['a', 'b']),
    ).not.toThrow();
    expect(() => checkRecordable([run(0, { a: 1.7e308 })], ['a'])).not.toThrow(); // one value: no variance
    expect(() => checkRecordable([run(0, { a: 1e308 }), run(1, { a: 1e308 })], ['a'])).not.toThrow(); // constant
  });

  it('refuses a metric whose mean overflows, naming the metric and seeds', () => {
    const runs = [run(0, { ok: 1, huge: 1.5e308 }), run(4, { ok: 1, huge: -1.7e308 })];
    const err = (() => {
      try {
        checkRecordable(runs, ['ok', 'huge']);
      } catch (e) {
        return e as GateError;
      }
      throw new Error('expected a GateError');
    })();
    expect(err).toBeInstanceOf(GateError);
    expect(err.message).toBe(
      'Metric "huge" cannot be recorded: over seeds 0, 4 its mean or variance overflows to infinity (values up to 1.70e+308), so no later run could be compared with it.',
    );
    expect(err.hint).toMatch(/smaller scale/);
  });

  it('refuses a metric whose variance overflows although its mean does not', () => {
    expect(() => checkRecordable([run(0, { v: 1e200 }), run(1, { v: 3e200 }), run(2, { v: 2e200 })], ['v'])).toThrow(
      /Metric "v" cannot be recorded: over seeds 0, 1, 2/,
    );
  });
});

describe('readBaseline never hangs', () => {
  it('on a baseline that is a symlink to /dev/zero or a FIFO', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-baseline-'));
    await symlink('/dev/zero', path.join(dir, 'zero.json'));
    await expect(readBaseline(path.join(dir, 'zero.json'))).rejects.toThrow(
      /^The baseline .*zero\.json is not a regular file \(a FIFO, socket or device\); it is not read\.$/,
    );
    execFileSync('sh', ['-c', 'mkfifo "$0"', path.join(dir, 'fifo.json')]);
    await expect(readBaseline(path.join(dir, 'fifo.json'))).rejects.toThrow(/fifo\.json is not a regular file/);
    await symlink('/proc/self/environ', path.join(dir, 'env.json'));
    await expect(readBaseline(path.join(dir, 'env.json'))).rejects.toThrow(
      /a kernel pseudo-file under \/proc; it is not read/,
    );
  });
});
