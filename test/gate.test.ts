/**
 * The gate's verbs with an in-memory runtime (test/helpers/scripted-runtime.ts): real configs,
 * files, baselines and reports, scripted trainings. Fast cover for every branch of record, check,
 * drift and diagnose; the end-to-end tests keep the real Python and Docker paths.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, diagnose, drift, type GateRequest, record } from '../src/gate/index.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { GateError } from '../src/util/errors.js';
import { captureLogger } from './helpers/logger.js';
import { git } from './helpers/project.js';
import { HOST_FACTS, metrics, ScriptedRuntime, type Training } from './helpers/scripted-runtime.js';

/** Deterministic noise in [-1, 1) from a seed (and an optional stream), so samples are reproducible. */
function noise(seed: number, stream = 0): number {
  let x = (seed + 1) * 2654435761 + stream * 40503;
  x = ((x >>> 16) ^ x) * 0x45d9f3b;
  x = ((x >>> 16) ^ x) * 0x45d9f3b;
  return (((x >>> 16) ^ x) >>> 0) / 2 ** 31 - 1;
}

const accuracy =
  (shift = 0): Training =>
  ({ seed }) => ({
    files: metrics({ accuracy: 0.9 + shift + 0.002 * noise(seed), loss: 0.3 + 0.01 * noise(seed, 1) }),
  });

const STATISTICAL = `version: 1
train:
  command: [train, --seed, "{seed}", --out, "{out}"]
seeds: 5
metrics:
  accuracy: {margin: 0.01}
  loss: {margin: 5%}
config: [params.json]
data: [data.csv]
`;

async function project(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-gate-'));
  const all = { 'repro-gate.yml': STATISTICAL, 'params.json': '{"lr": 0.1}', 'data.csv': 'x,y\n1,2\n', ...files };
  for (const [name, text] of Object.entries(all)) await writeFile(path.join(dir, name), text);
  return dir;
}

function request(
  dir: string,
  runtime: ScriptedRuntime,
  config = 'repro-gate.yml',
): GateRequest & { log: ReturnType<typeof captureLogger> } {
  return {
    configPath: config,
    cwd: dir,
    log: captureLogger(),
    runnerEnv: { PATH: '/usr/bin' },
    createRuntime: () => runtime,
  };
}

async function recorded(training: Training, files?: Record<string, string>): Promise<string> {
  const dir = await project(files);
  const out = await record(request(dir, new ScriptedRuntime(training)));
  expect(out.verdict).toBe('recorded');
  return dir;
}

describe('record', () => {
  it('trains every seed and writes a baseline with runs, settings and fingerprints', async () => {
    const dir = await project();
    const runtime = new ScriptedRuntime(accuracy());
    const out = await record(request(dir, runtime));
    expect(out.exitCode).toBe(0);
    expect(runtime.runs.map((r) => r.env.REPRO_GATE_SEED)).toEqual(['0', '1', '2', '3', '4']);
    const baseline = JSON.parse(await readFile(path.join(dir, '.repro-gate', 'baseline.json'), 'utf8'));
    expect(baseline.runs).toHaveLength(5);
    expect(baseline.settings.metrics).toEqual(['accuracy', 'loss']);
    expect(baseline.fingerprints.config).toEqual({ 'params.json': { lr: 0.1 } });
    expect(Object.keys(baseline.fingerprints.data.files)).toEqual(['data.csv']);
    expect(baseline.fingerprints.environment).toMatchObject({ 'python.version': '3.11.2', runtime: 'host' });
    expect(out.report.recorded?.map((m) => m.name)).toEqual(['accuracy', 'loss']);
    expect(out.report.summary).toBe('Recorded a new baseline from 5 seeds in statistical mode.');
  });

  it('gives training only allowlisted runner variables plus its own', async () => {
    const dir = await project();
    const runtime = new ScriptedRuntime(accuracy());
    await record({
      ...request(dir, runtime),
      runnerEnv: { PATH: '/bin', GITHUB_TOKEN: 'secret', ACTIONS_RUNTIME_TOKEN: 'x' },
    });
    const env = runtime.runs[0]!.env;
    expect(env).toMatchObject({ PATH: '/bin', PYTHONUNBUFFERED: '1', REPRO_GATE_SEED: '0' });
    expect(Object.keys(env).filter((k) => k.includes('TOKEN'))).toEqual([]);
  });

  it('stops at a training that writes no metrics, and leaves no baseline', async () => {
    const dir = await project();
    const failing = new ScriptedRuntime(({ seed }) => (seed === 2 ? {} : accuracy()({ seed, env: {}, call: 0 })));
    await expect(record(request(dir, failing))).rejects.toThrow(/The training did not write seed 2's metrics\.json/);
    await expect(readFile(path.join(dir, '.repro-gate', 'baseline.json'))).rejects.toThrow(/ENOENT/);
  });
});

describe('check (statistical)', () => {
  it('is equivalent when nothing changed', async () => {
    const dir = await recorded(accuracy());
    const out = await check(request(dir, new ScriptedRuntime(accuracy())));
    expect(out).toMatchObject({ verdict: 'equivalent', exitCode: 0 });
    expect(out.report.metrics.map((m) => [m.name, m.verdict, m.design])).toEqual([
      ['accuracy', 'equivalent', 'welch'],
      ['loss', 'equivalent', 'welch'],
    ]);
    expect(out.report.cause).toBeUndefined();
  });

  it('is not equivalent when the metric moved beyond its margin, and blames the config key that changed', async () => {
    const dir = await recorded(accuracy());
    await writeFile(path.join(dir, 'params.json'), '{"lr": 0.2}');
    const out = await check(request(dir, new ScriptedRuntime(accuracy(-0.05))));
    expect(out).toMatchObject({ verdict: 'not-equivalent', exitCode: 1 });
    expect(out.report.cause).toBe('config');
    expect(out.report.drift.config).toEqual([
      { file: 'params.json', key: 'lr', change: 'modified', before: 0.1, after: 0.2 },
    ]);
    expect(out.report.causeEvidence).toMatch(/^params\.json: lr 0\.1 → 0\.2, and accuracy moved by −0\.05/);
  });

  it('blames data before config when both changed', async () => {
    const dir = await recorded(accuracy());
    await writeFile(path.join(dir, 'params.json'), '{"lr": 0.2}');
    await writeFile(path.join(dir, 'data.csv'), 'x,y\n1,3\n');
    const out = await check(request(dir, new ScriptedRuntime(accuracy(-0.05))));
    expect(out.report.cause).toBe('data');
    expect(out.report.drift.data).toMatchObject([{ path: 'data.csv', change: 'modified' }]);
  });

  it('blames the environment when only a numerical package changed', async () => {
    const dir = await recorded(accuracy());
    const runtime = new ScriptedRuntime(accuracy(-0.05), { ...HOST_FACTS, 'package.numpy': '2.0.0' });
    const out = await check(request(dir, runtime));
    expect(out.report.cause).toBe('environment');
    expect(out.report.drift.environment).toEqual([
      { key: 'package.numpy', change: 'modified', before: '1.24.2', after: '2.0.0' },
    ]);
  });

  it('is inconclusive when the noise is too large for the margin, and warns before training', async () => {
    const noisy: Training = ({ seed }) => ({ files: metrics({ accuracy: 0.9 + 0.05 * noise(seed), loss: 0.3 }) });
    const dir = await recorded(noisy);
    const out = await check(request(dir, new ScriptedRuntime(noisy)));
    expect(out.verdict).toBe('inconclusive');
    expect(out.report.warnings.map((w) => w.code)).toEqual(['low-power', 'zero-spread']);
    const text = out.report.warnings.map((w) => w.message).join('\n');
    expect(text).toMatch(/^accuracy: with this noise/m);
    expect(text).toMatch(/loss: every seed gave the same value on both sides \(zero spread\)/);
  });

  it('stops a sequential plan early when the candidate is clearly equivalent', async () => {
    const dir = await recorded(accuracy(), {
      'repro-gate.yml': STATISTICAL.replace('seeds: 5', 'seeds: {min: 3, max: 10}'),
    });
    const runtime = new ScriptedRuntime(accuracy());
    const out = await check(request(dir, runtime));
    expect(out.verdict).toBe('equivalent');
    expect(out.report.sequential?.stoppedAtLook).toBeLessThan(4);
    expect(runtime.runs).toHaveLength(out.report.sequential!.runsUsed);
    expect(runtime.runs.length).toBeLessThan(10);
  });

  it('refuses a relative margin on a metric whose baseline mean is 0', async () => {
    const zero: Training = ({ seed }) => ({
      files: metrics({ accuracy: 0.9 + 0.002 * noise(seed), loss: 0.01 * noise(seed, 1) - 0.01 * noise(seed, 1) }),
    });
    const dir = await recorded(zero);
    const err = await check(request(dir, new ScriptedRuntime(zero))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).message).toBe(
      'Metric "loss" has a relative margin (5%) but its baseline mean is 0, so the margin would be 0.',
    );
    expect((err as GateError).hint).toMatch(/absolute margin/);
  });
});

describe('a training that writes to what the gate read before it', () => {
  it('is reported: its data, and the baseline file', async () => {
    const dir = await recorded(accuracy());
    const vandal: Training = (run) => {
      if (run.call === 1) {
        appendFileSync(path.join(dir, 'data.csv'), '9,9\n');
        appendFileSync(path.join(dir, '.repro-gate', 'baseline.json'), ' ');
      }
      return accuracy()(run);
    };
    const out = await check(request(dir, new ScriptedRuntime(vandal)));
    expect(out.verdict).toBe('equivalent'); // judged by what was read before training
    const modified = out.report.warnings.filter((w) => w.code === 'inputs-modified').map((w) => w.message);
    expect(modified).toEqual([
      expect.stringMatching(/^The training modified its data while it ran: data\.csv \(modified\)\./),
      expect.stringMatching(/^The training modified the baseline file \.repro-gate\/baseline\.json while it ran/),
    ]);
  });
});

describe('config: {resolved: PATH} — what the training really used', () => {
  const resolved =
    (lr: number): Training =>
    (run) => ({
      files: {
        ...accuracy(lr === 0.1 ? 0 : -0.05)(run).files,
        '.hydra/config.yaml': `seed: ${run.seed}\noptim:\n  lr: ${lr}\n`,
      },
    });
  const config = STATISTICAL.replace('config: [params.json]', 'config: [params.json, {resolved: .hydra/config.yaml}]');

  it('is recorded per run and diffed like any config, seed against seed', async () => {
    const dir = await recorded(resolved(0.1), { 'repro-gate.yml': config });
    const baseline = JSON.parse(await readFile(path.join(dir, '.repro-gate', 'baseline.json'), 'utf8'));
    expect(baseline.runs[2].config).toEqual({ '.hydra/config.yaml': { 'optim.lr': 0.1, seed: 2 } });
    const out = await check(request(dir, new ScriptedRuntime(resolved(0.2))));
    expect(out.verdict).toBe('not-equivalent');
    expect(out.report.drift.config).toEqual([
      { file: '{out}/.hydra/config.yaml', key: 'optim.lr', change: 'modified', before: 0.1, after: 0.2 },
    ]);
    expect(out.report.cause).toBe('config');
  });

  it('says so when the training did not write it', async () => {
    const dir = await project({ 'repro-gate.yml': config });
    await expect(record(request(dir, new ScriptedRuntime(accuracy())))).rejects.toThrow(
      /Seed 0: the training did not write the resolved config "\.hydra\/config\.yaml" into its output folder/,
    );
  });
});

describe('check: refused before any training', () => {
  async function refusal(dir: string, config = 'repro-gate.yml'): Promise<{ message: string; trained: number }> {
    const runtime = new ScriptedRuntime(accuracy());
    const err = await check(request(dir, runtime, config)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateError);
    return { message: (err as GateError).message, trained: runtime.runs.length };
  }

  it('a metric the baseline does not have', async () => {
    const dir = await recorded(accuracy());
    await writeFile(
      path.join(dir, 'repro-gate.yml'),
      STATISTICAL.replace('  loss: {margin: 5%}', '  loss: {margin: 5%}\n  f1: {margin: 0.01}'),
    );
    expect(await refusal(dir)).toEqual({
      message: expect.stringMatching(/has no values for metric\(s\) f1\.$/),
      trained: 0,
    });
  });

  it('exact mode with a seed the baseline lacks', async () => {
    const dir = await recorded(accuracy());
    await writeFile(path.join(dir, 'repro-gate.yml'), STATISTICAL.replace('seeds: 5', 'seeds: [0, 7]\nmode: exact'));
    expect(await refusal(dir)).toEqual({
      message: expect.stringMatching(
        /Exact mode needs the baseline to hold every seed, but it has no run for seed\(s\) 7\./,
      ),
      trained: 0,
    });
  });

  it('paired comparisons with different seed counts', async () => {
    const dir = await recorded(accuracy());
    await writeFile(path.join(dir, 'repro-gate.yml'), STATISTICAL.replace('seeds: 5', 'seeds: 3\npaired: true'));
    expect(await refusal(dir)).toEqual({
      message: expect.stringMatching(/the config lists 3, the baseline holds 5/),
      trained: 0,
    });
  });

  it('robust comparisons below 10 seeds per side', async () => {
    const dir = await recorded(accuracy());
    await writeFile(path.join(dir, 'repro-gate.yml'), STATISTICAL.replace('seeds: 5', 'seeds: 5\nrobust: true'));
    expect(await refusal(dir)).toEqual({
      message: expect.stringMatching(/robust equivalence needs ≥ 10 seeds per side/),
      trained: 0,
    });
  });

  it('a baseline written by a newer repro-gate', async () => {
    const dir = await recorded(accuracy());
    const file = path.join(dir, '.repro-gate', 'baseline.json');
    const baseline = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...baseline, schemaVersion: 99 }));
    expect(await refusal(dir)).toEqual({
      message: expect.stringMatching(/has schemaVersion 99, newer than this repro-gate understands \(1\)\.$/),
      trained: 0,
    });
  });

  it('a baseline that links out of the project', async () => {
    const dir = await recorded(accuracy());
    const outside = path.join(await mkdtemp(path.join(os.tmpdir(), 'rg-outside-')), 'secret.json');
    await writeFile(outside, '{"SECRET": true}');
    const file = path.join(dir, '.repro-gate', 'baseline.json');
    await rm(file);
    await symlink(outside, file);
    const r = await refusal(dir);
    expect(r).toEqual({
      message: expect.stringMatching(
        /resolves through a symlink to .*secret\.json, outside the project .*; it is not read\.$/,
      ),
      trained: 0,
    });
    expect(r.message).not.toContain('SECRET');
  });

  it('a missing baseline', async () => {
    const dir = await project();
    expect(await refusal(dir)).toEqual({
      message: expect.stringMatching(/^No baseline at .*baseline\.json\.$/),
      trained: 0,
    });
  });
});

const EXACT = STATISTICAL.replace('seeds: 5', 'seeds: 2\nmode: exact')
  .replace('accuracy: {margin: 0.01}', 'accuracy: {}')
  .replace('loss: {margin: 5%}', 'loss: {}');

describe('check (exact) and diagnose', () => {
  const exact = ({ seed }: { seed: number }) => ({ files: metrics({ accuracy: 0.9 + seed / 100, loss: 0.3 }) });

  it('is reproducible when every value is bit-identical', async () => {
    const dir = await recorded(exact, { 'repro-gate.yml': EXACT });
    const out = await check(request(dir, new ScriptedRuntime(exact)));
    expect(out).toMatchObject({ verdict: 'reproducible', exitCode: 0 });
    expect(out.report.summary).toBe('Training reproduces exactly: every metric is bit-identical over 2 seeds.');
  });

  it('diagnoses a mismatch with nothing drifted, and names the factor that makes it deterministic', async () => {
    const dir = await recorded(exact, { 'repro-gate.yml': EXACT });
    // Differs run to run unless single-threaded, like a parallel reduction.
    const threaded: Training = ({ seed, env, call }) => ({
      files: metrics({ accuracy: 0.9 + seed / 100 + (env.OMP_NUM_THREADS === '1' ? 0 : call * 1e-9), loss: 0.3 }),
    });
    const runtime = new ScriptedRuntime(threaded);
    const out = await check(request(dir, runtime));
    expect(out.verdict).toBe('mismatch');
    expect(out.report.cause).toBe('parallelism');
    // Every factor is tried (twice each), so the table shows which settings matter and which do not.
    expect(out.report.diagnosis).toMatchObject({ deterministic: false, cause: 'parallelism', runs: 10 });
    expect(out.report.diagnosis?.factors[0]).toMatchObject({
      name: 'single-threaded BLAS/OpenMP',
      deterministic: true,
    });
    expect(runtime.runs).toHaveLength(2 + 10);
  });

  it('diagnose: deterministic after two runs', async () => {
    const dir = await project({ 'repro-gate.yml': EXACT });
    const runtime = new ScriptedRuntime(exact);
    const out = await diagnose({ ...request(dir, runtime), seed: 3 });
    expect(out.exitCode).toBe(0);
    expect(out.diagnosis).toMatchObject({ seed: 3, deterministic: true, cause: 'none', runs: 2, factors: [] });
  });

  it('diagnose: hash randomisation is found through PYTHONHASHSEED=0', async () => {
    const dir = await project({ 'repro-gate.yml': EXACT });
    const hashed: Training = ({ env, call }) => ({
      files: metrics({ accuracy: env.PYTHONHASHSEED === '0' ? 0.9 : 0.9 + call * 1e-9, loss: 0.3 }),
    });
    const out = await diagnose({ ...request(dir, new ScriptedRuntime(hashed)), seed: 0 });
    expect(out.exitCode).toBe(1);
    expect(out.diagnosis.cause).toBe('randomness');
    expect(out.diagnosis.factors.map((f) => [f.name, f.deterministic])).toEqual([
      ['single-threaded BLAS/OpenMP', false],
      ['PYTHONHASHSEED=0', true],
      ['CUBLAS_WORKSPACE_CONFIG=:4096:8', false],
      ['framework deterministic mode (REPRO_GATE_DETERMINISTIC=1)', false],
    ]);
    expect(out.diagnosis.evidence).toMatch(/add PYTHONHASHSEED: "0" to train\.env/);
  });

  // Two nodes of one rank each: world size 2 on any machine (the core check counts one node's ranks).
  const DISTRIBUTED = EXACT.replace(
    'train:\n',
    'train:\n  distributed: {nproc-per-node: 1, nnodes: 2, backend: nccl}\n',
  );

  it('diagnose: a reduction whose order NCCL picks is `distributed`, after randomness, with both distributed factors', async () => {
    const dir = await project({ 'repro-gate.yml': DISTRIBUTED });
    // Differs run to run with more than one rank, unless NCCL's algorithm and protocol are pinned.
    const collective: Training = ({ env, call }) => {
      const fixed = env.REPRO_GATE_NPROC_PER_NODE === '1' && env.REPRO_GATE_NNODES === '1';
      const pinned = env.NCCL_ALGO === 'Ring' && env.NCCL_PROTO === 'Simple';
      return { files: metrics({ accuracy: fixed || pinned ? 0.9 : 0.9 + call * 1e-9, loss: 0.3 }) };
    };
    const runtime = new ScriptedRuntime(collective);
    const out = await diagnose({ ...request(dir, runtime), seed: 0 });
    expect(out.exitCode).toBe(1);
    expect(out.diagnosis.cause).toBe('distributed');
    expect(out.diagnosis.factors.map((f) => [f.name, f.deterministic])).toEqual([
      ['single-threaded BLAS/OpenMP', false],
      ['PYTHONHASHSEED=0', false],
      ['world size 1 (one process)', true],
      ['NCCL_ALGO=Ring, NCCL_PROTO=Simple', true],
      ['CUBLAS_WORKSPACE_CONFIG=:4096:8', false],
      ['framework deterministic mode (REPRO_GATE_DETERMINISTIC=1)', false],
    ]);
    expect(out.diagnosis.evidence).toMatch(
      /as one process \(world size 1 instead of 2\) it is deterministic: .* and pin NCCL_ALGO and NCCL_PROTO in train\.env\.$/,
    );
    // The world-size-1 reruns ran as one process on one node, the NCCL reruns at world size 2 with NCCL pinned.
    const envs = runtime.runs.map((r) => r.env);
    expect(envs[6]).toMatchObject({
      REPRO_GATE_NPROC_PER_NODE: '1',
      REPRO_GATE_NNODES: '1',
      REPRO_GATE_DIST_BACKEND: 'nccl',
    });
    expect(envs[8]).toMatchObject({ REPRO_GATE_NNODES: '2', NCCL_ALGO: 'Ring', NCCL_PROTO: 'Simple' });
  });

  it('diagnose: randomness is named before distributed when both would fix it', async () => {
    const dir = await project({ 'repro-gate.yml': DISTRIBUTED });
    const hashed: Training = ({ env, call }) => {
      const fixed = env.PYTHONHASHSEED === '0' || env.REPRO_GATE_NNODES === '1';
      return { files: metrics({ accuracy: fixed ? 0.9 : 0.9 + call * 1e-9, loss: 0.3 }) };
    };
    const out = await diagnose({ ...request(dir, new ScriptedRuntime(hashed)), seed: 0 });
    expect(out.diagnosis.cause).toBe('randomness');
    expect(out.diagnosis.factors.slice(1, 3).map((f) => [f.name, f.deterministic])).toEqual([
      ['PYTHONHASHSEED=0', true],
      ['world size 1 (one process)', true],
    ]);
  });

  it('diagnose: a factor already set in train.env is not tried again', async () => {
    const dir = await project({
      'repro-gate.yml': EXACT.replace('  command:', '  env: {PYTHONHASHSEED: "0"}\n  command:'),
    });
    const unseeded: Training = ({ call }) => ({ files: metrics({ accuracy: 0.9 + call * 1e-9, loss: 0.3 }) });
    const runtime = new ScriptedRuntime(unseeded);
    const out = await diagnose({ ...request(dir, runtime), seed: 0 });
    expect(out.diagnosis).toMatchObject({ deterministic: false, cause: 'randomness', runs: 8 });
    expect(out.diagnosis.factors[1]).toMatchObject({
      name: 'PYTHONHASHSEED=0',
      deterministic: null,
      note: 'already set in train.env',
    });
    expect(runtime.runs).toHaveLength(8);
  });

  it('a failing exact check does not rerun anything when diagnose.auto is off', async () => {
    const dir = await recorded(exact, { 'repro-gate.yml': `${EXACT}diagnose: {auto: false}\n` });
    const runtime = new ScriptedRuntime(({ seed, call }) => ({
      files: metrics({ accuracy: 0.9 + seed / 100 + call * 1e-9, loss: 0.3 }),
    }));
    const out = await check(request(dir, runtime));
    expect(out.report).toMatchObject({ verdict: 'mismatch', cause: 'unknown' });
    expect(out.report.diagnosis).toBeUndefined();
    expect(runtime.runs).toHaveLength(2);
  });
});

describe('drift', () => {
  it('trains nothing and finds no drift on an unchanged project', async () => {
    const dir = await recorded(accuracy());
    const runtime = new ScriptedRuntime(accuracy());
    const out = await drift(request(dir, runtime));
    expect(out).toMatchObject({ verdict: 'no-drift', exitCode: 0 });
    expect(runtime.runs).toEqual([]);
  });

  it('lists environment changes and changed gate settings', async () => {
    const dir = await recorded(accuracy());
    await writeFile(path.join(dir, 'repro-gate.yml'), STATISTICAL.replace('seeds: 5', 'seeds: 6'));
    const out = await drift(
      request(dir, new ScriptedRuntime(accuracy(), { ...HOST_FACTS, 'python.version': '3.12.1' })),
    );
    expect(out).toMatchObject({ verdict: 'drift', exitCode: 1 });
    expect(out.report.drift.environment).toEqual([
      { key: 'python.version', change: 'modified', before: '3.11.2', after: '3.12.1' },
    ]);
    expect(out.report.drift.config).toEqual([
      {
        group: 'gate settings',
        file: 'repro-gate.yml',
        key: 'seeds',
        change: 'modified',
        before: '[0,1,2,3,4]',
        after: '[0,1,2,3,4,5]',
      },
    ]);
  });

  it('folds host noise: a new kernel and CPU model with the same instruction set are no drift', async () => {
    const facts = { ...HOST_FACTS, 'cpu.isa': 'avx2 fma' };
    const dir = await project();
    expect((await record(request(dir, new ScriptedRuntime(accuracy(), facts)))).verdict).toBe('recorded');
    const moved = { ...facts, kernel: '6.8.0-1021-azure', 'cpu.model': 'AMD EPYC 9V74' };
    const out = await drift(request(dir, new ScriptedRuntime(accuracy(), moved)));
    expect(out).toMatchObject({ verdict: 'no-drift', exitCode: 0 });
    expect(out.report.drift.environment).toEqual([]);
    expect(out.report.drift.noise?.map((n) => [n.key, n.reason])).toEqual([
      ['cpu.model', 'host'],
      ['kernel', 'host'],
    ]);
    const terminal = renderMarkdown(out.report, { format: 'terminal' });
    expect(terminal).toContain('\n2 host facts changed, not counted: cpu.model, kernel\n');
    const github = renderMarkdown(out.report);
    expect(github).toMatch(
      /<details><summary>2 host facts changed, not counted<\/summary>\n\n\| Key \| Before \| After \| Why not counted \|/,
    );
    expect(github).toContain(
      '| <code>kernel</code> | <code>6.1.0-test</code> | <code>6.8.0-1021-azure</code> | host noise |',
    );
  });

  it('counts host noise with drift: {fail-on: any}, and never what drift.ignore names', async () => {
    const yml = `${STATISTICAL}drift: {fail-on: any, ignore: [package.numpy]}\n`;
    const dir = await project({ 'repro-gate.yml': yml });
    expect((await record(request(dir, new ScriptedRuntime(accuracy())))).verdict).toBe('recorded');
    const moved = { ...HOST_FACTS, kernel: '6.8.0', 'package.numpy': '2.0.0' };
    const out = await drift(request(dir, new ScriptedRuntime(accuracy(), moved)));
    expect(out).toMatchObject({ verdict: 'drift', exitCode: 1 });
    expect(out.report.drift.environment.map((e) => e.key)).toEqual(['kernel']);
    expect(out.report.drift.noise).toEqual([
      { key: 'package.numpy', change: 'modified', before: '1.24.2', after: '2.0.0', reason: 'ignored' },
    ]);
  });

  it('refuses an unknown key in drift.ignore before running anything', async () => {
    const dir = await project({ 'repro-gate.yml': `${STATISTICAL}drift: {ignore: [kernal]}\n` });
    const runtime = new ScriptedRuntime(accuracy());
    await expect(record(request(dir, runtime))).rejects.toThrow(
      'repro-gate.yml: drift.ignore[0]: "kernal" is not an environment fingerprint key.',
    );
    expect(runtime.runs).toEqual([]);
  });
});

describe('record from an uncommitted tree', () => {
  it('warns naming the modified and untracked files, and not when the tree is clean', async () => {
    const dir = await project();
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'project');
    const clean = await record(request(dir, new ScriptedRuntime(accuracy())));
    expect(clean.report.warnings.map((w) => w.code)).toEqual([]);
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'baseline');

    await writeFile(path.join(dir, 'params.json'), '{"lr": 0.2}');
    await writeFile(path.join(dir, 'extra.csv'), 'x\n');
    const req = request(dir, new ScriptedRuntime(accuracy()));
    const dirty = await record(req);
    const head = git(dir, 'rev-parse', 'HEAD').trim();
    const message = `The baseline will name commit ${head.slice(0, 12)}, but 2 files of the project differ from it: params.json (modified), extra.csv (untracked). Commit them, then record again, so the baseline's commit holds what it was recorded from.`;
    expect(dirty.report.warnings).toEqual([{ code: 'uncommitted-inputs', message }]);
    expect(req.log.warnings).toContainEqual(expect.stringContaining('params.json (modified), extra.csv (untracked)'));
  });
});

describe('check --base: a change cannot rewrite what it is judged against', () => {
  /** A git project whose base commit holds a baseline recorded from `accuracy()`. */
  async function based(): Promise<{ dir: string; baseSha: string }> {
    const dir = await recorded(accuracy());
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'base');
    return { dir, baseSha: git(dir, 'rev-parse', 'HEAD').trim() };
  }
  const regressed = accuracy(-0.05);

  it('follows the base commit when the change re-records the baseline to hide a regression', async () => {
    const { dir, baseSha } = await based();
    expect((await record(request(dir, new ScriptedRuntime(regressed)))).verdict).toBe('recorded');
    git(dir, 'commit', '-qam', 'regress and re-record');
    const out = await check({ ...request(dir, new ScriptedRuntime(regressed)), base: baseSha });
    expect(out).toMatchObject({ verdict: 'not-equivalent', exitCode: 1 });
    expect(out.report.baselineChange).toMatchObject({
      base: baseSha,
      changed: ['baseline'],
      verdictAgainstBase: 'not-equivalent',
      verdictAgainstChange: 'equivalent',
      follows: 'base',
    });
    expect(out.report.warnings[0]).toMatchObject({
      code: 'baseline-changed',
      message: expect.stringMatching(/^This change updates the baseline\./),
    });
    expect(out.report.metrics[0]).toMatchObject({ name: 'accuracy', verdict: 'not-equivalent' });
  });

  it('follows the change when it is accepted (the action: a label on the pull request)', async () => {
    const { dir, baseSha } = await based();
    await record(request(dir, new ScriptedRuntime(regressed)));
    git(dir, 'commit', '-qam', 'intended change, re-recorded');
    const out = await check({
      ...request(dir, new ScriptedRuntime(regressed)),
      base: baseSha,
      acceptBaselineChange: true,
      acceptedBy: 'the label',
    });
    expect(out).toMatchObject({ verdict: 'equivalent', exitCode: 0 });
    expect(out.report.baselineChange).toMatchObject({ follows: 'change', verdictAgainstBase: 'not-equivalent' });
    expect(out.report.baselineChange?.why).toMatch(/The change is accepted by the label, so the result follows it\./);
  });

  it("judges by the base commit's margins when the change loosens one", async () => {
    const { dir, baseSha } = await based();
    await writeFile(
      path.join(dir, 'repro-gate.yml'),
      STATISTICAL.replace('accuracy: {margin: 0.01}', 'accuracy: {margin: 0.5}'),
    );
    git(dir, 'commit', '-qam', 'loosen the margin');
    const out = await check({ ...request(dir, new ScriptedRuntime(regressed)), base: baseSha });
    expect(out.verdict).toBe('not-equivalent');
    expect(out.report.baselineChange).toMatchObject({
      changed: ['gate settings'],
      verdictAgainstChange: 'equivalent',
      follows: 'base',
    });
    expect(out.report.baselineChange?.settings).toEqual([
      {
        group: 'gate settings',
        file: 'repro-gate.yml',
        key: 'metrics.accuracy',
        change: 'modified',
        before: '±0.01',
        after: '±0.5',
      },
    ]);
    // The same change also shows as gate-settings drift against the baseline.
    expect(out.report.drift.config).toContainEqual(
      expect.objectContaining({ group: 'gate settings', key: 'metrics.accuracy' }),
    );
  });

  it('cannot pass by no longer measuring a metric the base commit checks', async () => {
    const { dir, baseSha } = await based();
    await writeFile(path.join(dir, 'repro-gate.yml'), STATISTICAL.replace('  accuracy: {margin: 0.01}\n', ''));
    git(dir, 'commit', '-qam', 'drop accuracy');
    const lossOnly: Training = ({ seed }) => ({ files: metrics({ loss: 0.3 + 0.01 * noise(seed, 1) }) });
    const out = await check({ ...request(dir, new ScriptedRuntime(lossOnly)), base: baseSha });
    expect(out).toMatchObject({ verdict: 'inconclusive', exitCode: 1 });
    expect(out.report.baselineChange?.why).toMatch(
      /this change no longer measures accuracy, which the base commit's gate checks/,
    );
  });

  it('adds nothing when the change leaves baseline and settings alone', async () => {
    const { dir, baseSha } = await based();
    const out = await check({ ...request(dir, new ScriptedRuntime(accuracy())), base: baseSha });
    expect(out.verdict).toBe('equivalent');
    expect(out.report.baselineChange).toBeUndefined();
    expect(out.report.warnings).toEqual([]);
  });

  it('follows the change that adds the first baseline', async () => {
    const dir = await project();
    git(dir, 'init', '-q', '-b', 'main');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'no gate yet');
    const baseSha = git(dir, 'rev-parse', 'HEAD').trim();
    await record(request(dir, new ScriptedRuntime(accuracy())));
    const out = await check({ ...request(dir, new ScriptedRuntime(accuracy())), base: baseSha });
    expect(out.verdict).toBe('equivalent');
    expect(out.report.baselineChange).toBeUndefined();
  });

  it('says when the base commit is not in the clone: an error for --base, a warning for the action', async () => {
    const { dir } = await based();
    const missing = 'f'.repeat(40);
    await expect(check({ ...request(dir, new ScriptedRuntime(accuracy())), base: missing })).rejects.toThrow(
      /is not in this clone/,
    );
    const out = await check({ ...request(dir, new ScriptedRuntime(accuracy())), base: missing, baseRequired: false });
    expect(out.verdict).toBe('equivalent');
    expect(out.report.warnings[0]).toMatchObject({
      code: 'base-unavailable',
      message: expect.stringMatching(/fetch-depth: 0/),
    });
  });

  it('never lets a ref act as a git option', async () => {
    const { dir } = await based();
    const out = path.join(dir, 'pwned.txt');
    await expect(check({ ...request(dir, new ScriptedRuntime(accuracy())), base: `--output=${out}` })).rejects.toThrow(
      /is not in this clone/,
    );
    await expect(readFile(out)).rejects.toThrow(/ENOENT/);
  });
});
