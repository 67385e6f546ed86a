/**
 * `diagnose` and the automatic diagnosis of a failing exact check, on real trainings whose
 * nondeterminism has a known cause (test/fixtures/nondeterministic/train.py).
 */
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { git, parseJson, REPO_ROOT, runCli } from './helpers/project.js';

let dir: string;

function config(mode: string, extra = ''): string {
  return `version: 1
train:
  command: [python3, train.py, --seed, "{seed}", --out, "{out}", --mode, ${mode}]
  timeout: 1m
seeds: 2
mode: exact
metrics:
  loss: {margin: 0.01}
  accuracy: {margin: 0.01}
artifacts: [weights.npy]
curves: {file: log.jsonl}
baseline: .repro-gate/${mode}.json
${extra}`;
}

async function diagnoseMode(mode: string) {
  await writeFile(path.join(dir, `${mode}.yml`), config(mode));
  const r = await runCli(['diagnose', '--json', '--seed', '3', '--config', `${mode}.yml`], dir);
  return { code: r.code, d: parseJson(r), stderr: r.stderr };
}

const AUTO = config('unseeded').replace('baseline: .repro-gate/unseeded.json', 'baseline: .repro-gate/auto.json');

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rg-diagnose-'));
  await cp(path.join(REPO_ROOT, 'test', 'fixtures', 'nondeterministic', 'train.py'), path.join(dir, 'train.py'));
  // Committed before the baseline is recorded, so no config file counts as a code change.
  await writeFile(path.join(dir, 'auto.yml'), AUTO);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'training');
});

describe('diagnose', () => {
  it('reports a seeded training as deterministic after two runs (exit 0)', async () => {
    const { code, d } = await diagnoseMode('seeded');
    expect(code).toBe(0);
    expect(d).toMatchObject({ seed: 3, deterministic: true, cause: 'none', runs: 2, differences: [], factors: [] });
  });

  it('blames randomness when no factor makes an unseeded training deterministic (exit 1)', async () => {
    const { code, d } = await diagnoseMode('unseeded');
    expect(code).toBe(1);
    expect(d.deterministic).toBe(false);
    expect(d.cause).toBe('randomness');
    expect(d.runs).toBe(10);
    expect(d.factors.map((f: { name: string; deterministic: boolean }) => [f.name, f.deterministic])).toEqual([
      ['single-threaded BLAS/OpenMP', false],
      ['PYTHONHASHSEED=0', false],
      ['CUBLAS_WORKSPACE_CONFIG=:4096:8', false],
      ['framework deterministic mode (REPRO_GATE_DETERMINISTIC=1)', false],
    ]);
    expect(d.evidence).toMatch(/no single setting made it deterministic: something is unseeded/);
    expect(d.differences.map((x: { kind: string; name: string }) => `${x.kind}:${x.name}`).sort()).toEqual([
      'artifact:weights.npy',
      'metric:accuracy',
      'metric:loss',
    ]);
    // The artifact diff speaks tensors, not just "hash differs".
    const [weights] = d.artifacts;
    expect(weights).toMatchObject({ name: 'weights.npy', format: 'npy', status: 'modified' });
    expect(weights.arrays[0]).toMatchObject({
      dtypeBefore: 'float32',
      shapeBefore: [8],
      elementsBefore: 8,
      differing: 8,
      bitIdentical: false,
    });
    expect(weights.arrays[0].maxAbsDiff).toBeGreaterThan(0);
    expect(weights.arrays[0].maxUlp).toBeGreaterThan(1);
    // And the curves show where the two runs part.
    expect(d.curves).toEqual([expect.objectContaining({ metric: 'loss', firstDivergentStep: 0, stepsCompared: 20 })]);
    expect(d.curvePlot.points).toHaveLength(20);
  });

  it('blames parallelism when single-threaded BLAS/OpenMP makes it deterministic, in a readable report', async () => {
    // The factor's variable really reaches the training (the fixture reads OMP_NUM_THREADS).
    await writeFile(path.join(dir, 'threads.yml'), config('threads'));
    const r = await runCli(['diagnose', '--config', 'threads.yml'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^Diagnosis: seed 0 rerun \(10 training runs\)/);
    expect(r.stdout).toMatch(/^Nondeterministic: parallelism — /m);
    expect(r.stdout).toMatch(/^single-threaded BLAS\/OpenMP +✅ yes$/m);
    expect(r.stdout).toMatch(
      /with single-threaded BLAS\/OpenMP it is deterministic: add OMP_NUM_THREADS: "1", .* to train\.env/,
    );
    expect(r.stdout).toContain('xychart-beta');
  });
});

describe('a failing exact check with nothing drifted', () => {
  it('runs the diagnosis itself and names randomness as the cause', async () => {
    expect((await runCli(['record', '--config', 'auto.yml'], dir)).code).toBe(0);
    git(dir, 'add', '.repro-gate/auto.json');
    git(dir, 'commit', '-qm', 'baseline');
    // --no-cache: the record's runs would be reused, and this check must retrain to differ.
    const r = await runCli(['check', '--json', '--no-cache', '--config', 'auto.yml'], dir);
    expect(r.code).toBe(1);
    const report = parseJson(r);
    expect(report.verdict).toBe('mismatch');
    expect(report.drift).toEqual({ data: [], config: [], environment: [] });
    expect(report.cause).toBe('randomness');
    expect(report.causeEvidence).toMatch(
      /^nothing drifted, but the training is nondeterministic on its own: seed 0 run twice differs/,
    );
    expect(report.diagnosis).toMatchObject({ seed: 0, deterministic: false, cause: 'randomness' });
  });
});
