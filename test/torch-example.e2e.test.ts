/**
 * examples/torch-mlp end to end: the PyTorch example reproduces bit for bit with its deterministic
 * settings, and without them `diagnose` finds the real cause (parallel atomic adds in the backward
 * of an embedding lookup, fixed by one thread or by torch.use_deterministic_algorithms).
 *
 * Needs torch for /usr/bin/python3 (`apt-get install python3-torch`; .ci/run installs it) and two
 * CPUs (on one, the training is single-threaded and so deterministic); it fails clearly without.
 */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyProject, git, parseJson, REPO_ROOT, runCli, withEdit } from './helpers/project.js';

const TORCH_EXAMPLE = path.join(REPO_ROOT, 'examples', 'torch-mlp');
/** Each training run is 2–8 s, mostly `import torch`; generous for a busy 2-core CI machine. */
const SLOW = 180_000;

describe('examples/torch-mlp (PyTorch on CPU)', () => {
  let dir: string;

  beforeAll(async () => {
    // A requirement, not an option: a machine without it should fail here, not skip quietly.
    if (spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
      throw new Error(
        "Debian's python3-torch is not installed for /usr/bin/python3: run `sudo bash .ci/run` (or apt-get install python3-torch).",
      );
    }
    // Parallel nondeterminism needs two threads on two cores; every machine of this project has two.
    if (os.availableParallelism() < 2)
      throw new Error('This test needs at least 2 CPUs to show parallel nondeterminism.');
    dir = await copyProject(TORCH_EXAMPLE);
    const r = await runCli(['record', '--config', 'repro-gate.yml'], dir);
    if (r.code !== 0) throw new Error(`record exited ${r.code}:\n${r.stderr.slice(-3000)}`);
    git(dir, 'add', '.repro-gate/baseline.json');
    git(dir, 'commit', '-qm', 'baseline');
  }, SLOW);

  it(
    'reproduces its baseline bit for bit (check exits 0)',
    async () => {
      const r = await runCli(['check', '--json', '--config', 'repro-gate.yml'], dir);
      const report = parseJson(r);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(report.verdict).toBe('reproducible');
      expect(report.mismatches).toEqual([]);
      expect(report.drift).toEqual({ data: [], config: [], environment: [] });
      expect(report.metrics.map((m: { name: string }) => m.name).sort()).toEqual([
        'accuracy',
        'loss',
        'macro_f1',
        'train.loss',
      ]);
    },
    SLOW,
  );

  it(
    'is deterministic on its own (diagnose exits 0 after two runs)',
    async () => {
      const r = await runCli(['diagnose', '--json', '--config', 'repro-gate.yml'], dir);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(parseJson(r)).toMatchObject({
        seed: 0,
        deterministic: true,
        cause: 'none',
        runs: 2,
        differences: [],
        factors: [],
      });
    },
    SLOW,
  );

  it(
    'without its deterministic settings, diagnose blames parallelism, tensor by tensor and step by step',
    async () => {
      await withEdit(
        path.join(dir, 'params.json'),
        (t) => t.replace('"deterministic": true', '"deterministic": false'),
        async () => {
          const r = await runCli(['diagnose', '--json', '--config', 'repro-gate.yml'], dir);
          const d = parseJson(r);
          expect(r.code, r.stderr.slice(-3000)).toBe(1);
          expect(d).toMatchObject({ seed: 0, deterministic: false, cause: 'parallelism', runs: 6 });
          // PYTHONHASHSEED and CUBLAS_WORKSPACE_CONFIG are set in train.env, so they are not retried.
          expect(
            d.factors.map((f: { name: string; deterministic: boolean | null }) => [f.name, f.deterministic]),
          ).toEqual([
            ['single-threaded BLAS/OpenMP', true],
            ['PYTHONHASHSEED=0', null],
            ['CUBLAS_WORKSPACE_CONFIG=:4096:8', null],
            ['framework deterministic mode (REPRO_GATE_DETERMINISTIC=1)', true],
          ]);
          expect(d.evidence).toMatch(/with single-threaded BLAS\/OpenMP it is deterministic: add OMP_NUM_THREADS: "1"/);
          expect(d.differences.map((x: { kind: string; name: string }) => `${x.kind}:${x.name}`)).toContain(
            'artifact:model.safetensors',
          );

          // The weights differ in their last bits; the preprocessing (numpy, float64) does not.
          const [model] = d.artifacts;
          expect(model).toMatchObject({ name: 'model.safetensors', format: 'safetensors', status: 'modified' });
          const arrays = new Map<string, Record<string, any>>(model.arrays.map((a: { name: string }) => [a.name, a]));
          const table = arrays.get('table')!;
          expect(table).toMatchObject({
            status: 'modified',
            dtypeBefore: 'float32',
            shapeBefore: [240, 16],
            bitIdentical: false,
            nonFiniteDiffering: 0,
          });
          expect(table.differing).toBeGreaterThan(0);
          expect(table.maxAbsDiff).toBeGreaterThan(0);
          expect(table.maxAbsDiff).toBeLessThan(1e-3);
          expect(table.maxUlp).toBeGreaterThanOrEqual(1);
          for (const name of ['preprocess.mean', 'preprocess.std', 'preprocess.bin_edges']) {
            // Identical arrays are listed too (the file has far fewer than the 10,000 that would be left out).
            expect(arrays.get(name), name).toMatchObject({ status: 'identical', bitIdentical: true });
          }

          // The per-step loss curves part at some step, and the chart shows the loss.
          const loss = d.curves.find((c: { metric: string }) => c.metric === 'loss');
          expect(loss).toMatchObject({ stepsCompared: 80, stepsOnlyInA: 0, stepsOnlyInB: 0 });
          expect(loss.firstDivergentStep).toEqual(expect.any(Number));
          expect(loss.maxAbsDiff).toBeGreaterThan(0);
          expect(d.curvePlot.metric).toBe('loss');
        },
      );
    },
    SLOW,
  );
});
