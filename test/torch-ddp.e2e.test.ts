/**
 * examples/torch-ddp end to end: PyTorch DistributedDataParallel, gloo on CPU, two ranks started by
 * torchrun. It reproduces bit for bit at world size 2; at world size 1 `check` reports environment
 * drift (distributed.world-size 2 → 1) with the metric that moved; combining gradients in arrival
 * order is diagnosed `distributed`; a hung rank (in a session of its own, ignoring SIGTERM, like
 * torchrun ≥ 2's ranks) is killed at the timeout, or when the gate is cancelled, with nothing
 * left; a missing launcher and more ranks than cores are one clear message each.
 *
 * Needs torch and torchrun for /usr/bin/python3 (`apt-get install python3-torch`; .ci/run installs
 * it) and two CPUs; it fails clearly without.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, copyProject, git, parseJson, REPO_ROOT, runCli, withEdit } from './helpers/project.js';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'torch-ddp');
/** A seed is torchrun plus two ranks importing torch: 4–9 s on a busy 2-core machine. */
const SLOW = 240_000;

/** Running (a zombie nobody reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('examples/torch-ddp (DDP, gloo, 2 ranks via torchrun)', () => {
  let dir: string;
  const config = () => path.join(dir, 'repro-gate.yml');

  beforeAll(async () => {
    // Requirements, not options: a machine without them should fail here, not skip quietly.
    if (spawnSync('/usr/bin/python3', ['-c', 'import torch.distributed.run'], { stdio: 'ignore' }).status !== 0) {
      throw new Error(
        "Debian's python3-torch is not installed for /usr/bin/python3: run `sudo bash .ci/run` (or apt-get install python3-torch).",
      );
    }
    if (os.availableParallelism() < 2) throw new Error('This test needs at least 2 CPUs: one per rank.');
    dir = await copyProject(EXAMPLE);
    const r = await runCli(['record', '--config', 'repro-gate.yml'], dir);
    if (r.code !== 0) throw new Error(`record exited ${r.code}:\n${r.stderr.slice(-3000)}`);
    git(dir, 'add', '.repro-gate/baseline.json');
    git(dir, 'commit', '-qm', 'baseline');
  }, SLOW);

  it(
    'reproduces its baseline bit for bit at world size 2, with the topology in the fingerprint',
    async () => {
      // --no-cache: record saved both seeds, and this check must retrain them to show they reproduce.
      const r = await runCli(['check', '--json', '--no-cache', '--config', 'repro-gate.yml'], dir);
      const report = parseJson(r);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      expect(report.verdict).toBe('reproducible');
      expect(report.drift).toEqual({ data: [], config: [], environment: [] });
      expect(r.stderr).toMatch(
        /torchrun --standalone --nnodes=1 --nproc_per_node=2 .*--no_python \/usr\/bin\/python3 train\.py/,
      );
      expect(r.stderr).toMatch(/world size 2, combine allreduce/);
      const baseline = JSON.parse(readFileSync(path.join(dir, '.repro-gate', 'baseline.json'), 'utf8'));
      expect(baseline.fingerprints.environment).toMatchObject({
        'distributed.world-size': 2,
        'distributed.nproc-per-node': 2,
        'distributed.nnodes': 1,
        'distributed.backend': 'gloo',
        'distributed.launcher': '"torchrun"',
        'distributed.env.OMP_NUM_THREADS': '1',
      });
      expect(baseline.fingerprints.environment).not.toHaveProperty('env.OMP_NUM_THREADS');
    },
    SLOW,
  );

  it(
    'world size 2 → 1 is environment drift, named with the metric that moved',
    async () => {
      await withEdit(
        config(),
        (t) => t.replace('nproc-per-node: 2', 'nproc-per-node: 1'),
        async () => {
          const r = await runCli(['check', '--json', '--config', 'repro-gate.yml'], dir);
          const report = parseJson(r);
          expect(r.code, r.stderr.slice(-3000)).toBe(1);
          expect(r.stderr).toMatch(/world size 1, combine allreduce/);
          expect(report.verdict).toBe('mismatch');
          expect(report.drift.data).toEqual([]);
          expect(report.drift.config).toEqual([]);
          expect(report.drift.environment).toEqual([
            { key: 'distributed.world-size', change: 'modified', before: 2, after: 1 },
            { key: 'distributed.nproc-per-node', change: 'modified', before: 2, after: 1 },
          ]);
          expect(report.mismatches.length).toBeGreaterThan(0);
          expect(report.cause).toBe('environment');
          // The same global batch, summed in another order: the last bits of the loss move.
          expect(report.causeEvidence).toMatch(
            /^distributed\.world-size 2 → 1, distributed\.nproc-per-node 2 → 1, and (\S+ moved by \S+|seed \d+'s \w+ \S+ differs)\.$/,
          );
        },
      );
    },
    SLOW,
  );

  it(
    'gradients combined in arrival order: diagnose names `distributed` (deterministic again at world size 1)',
    async () => {
      await withEdit(
        path.join(dir, 'params.json'),
        (t) => t.replace('"combine": "allreduce"', '"combine": "arrival"'),
        async () => {
          const r = await runCli(['diagnose', '--json', '--config', 'repro-gate.yml'], dir);
          const d = parseJson(r);
          expect(r.code, r.stderr.slice(-3000)).toBe(1);
          expect(d).toMatchObject({ seed: 0, deterministic: false, cause: 'distributed', runs: 6 });
          const factors = d.factors.map((f: { name: string; deterministic: boolean | null; note?: string }) => [
            f.name,
            f.deterministic,
            f.note ?? '',
          ]);
          // Randomness (the hash seed) before distributed; threads and cuBLAS are pinned in train.env.
          expect(factors.map((f: unknown[]) => f[0])).toEqual([
            'single-threaded BLAS/OpenMP',
            'PYTHONHASHSEED=0',
            'world size 1 (one process)',
            'NCCL_ALGO=Ring, NCCL_PROTO=Simple',
            'CUBLAS_WORKSPACE_CONFIG=:4096:8',
            'framework deterministic mode (REPRO_GATE_DETERMINISTIC=1)',
          ]);
          expect(factors[2]).toEqual(['world size 1 (one process)', true, '']);
          expect(factors[3]).toEqual([
            'NCCL_ALGO=Ring, NCCL_PROTO=Simple',
            null,
            'backend gloo: NCCL settings do not apply',
          ]);
          expect(d.evidence).toMatch(/as one process \(world size 1 instead of 2\) it is deterministic/);
          expect(d.differences.map((x: { name: string }) => x.name)).toContain('model.safetensors');
          // The reruns really ran as one process.
          const log = readFileSync(
            path.join(dir, '.repro-gate', 'runs', 'diagnose', 'world-size-1-one-process-1', 'seed-0.log'),
            'utf8',
          );
          expect(log).toMatch(/world size 1, combine arrival/);
          // The loss curves part at some step.
          const loss = d.curves.find((c: { metric: string }) => c.metric === 'loss');
          expect(loss.firstDivergentStep).toEqual(expect.any(Number));
        },
      );
    },
    SLOW,
  );

  it(
    'bad input: a launcher that is missing, and more ranks than cores — one clear message each, nothing run',
    async () => {
      await withEdit(
        config(),
        (t) => t.replace('launcher: torchrun', 'launcher: [no-such-torchrun, "--nproc={nproc-per-node}"]'),
        async () => {
          const r = await runCli(['check', '--config', 'repro-gate.yml'], dir);
          expect(r.code).toBe(2);
          expect(r.stderr).toContain(
            'train.launcher: "no-such-torchrun" was not found on the training\'s PATH, so the ranks cannot be started.',
          );
          expect(r.stderr).not.toMatch(/seed 0:/);
        },
      );
      const cores = os.availableParallelism();
      await withEdit(
        config(),
        (t) => t.replace('nproc-per-node: 2', `nproc-per-node: ${cores + 1}`),
        async () => {
          const r = await runCli(['record', '--config', 'repro-gate.yml'], dir);
          expect(r.code).toBe(2);
          expect(r.stderr).toContain(
            `train.distributed.nproc-per-node is ${cores + 1}, but this machine has ${cores} CPU cores`,
          );
          expect(r.stderr).not.toMatch(/seed 0:/);
          // The committed baseline is untouched.
          expect(git(dir, 'status', '--porcelain', '.repro-gate/baseline.json')).toBe('');
        },
      );
    },
    SLOW,
  );
});

/** Ranks that write their pid, torchrun's pid and their session, then hang; rank 1 as torchrun ≥ 2 starts it. */
const HANG_PY = `import os, signal, sys, time
rank = int(os.environ["RANK"])
if rank == 1:
    os.setsid()  # a session of its own: a signal to the launcher's group misses it
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # and it ignores the polite stop
with open(os.path.join(sys.argv[1], "rank-%d.pid" % rank), "w") as f:
    f.write("%d %d" % (os.getpid(), os.getppid()))
print("rank %d hangs" % rank, flush=True)
time.sleep(600)
`;

/** A project whose two ranks hang; `pids` is where they write their pids. */
async function hangingProject(timeout: string): Promise<{ dir: string; pids: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-hang-'));
  const pids = path.join(dir, 'pids');
  await mkdir(pids);
  await writeFile(path.join(dir, 'hang.py'), HANG_PY);
  await writeFile(
    path.join(dir, 'repro-gate.yml'),
    `version: 1
train:
  command: [/usr/bin/python3, hang.py, ${JSON.stringify(pids)}]
  launcher: torchrun
  distributed: {nproc-per-node: 2, backend: gloo}
  env: {PET_REDIRECTS: "9:0", PET_TEE: "9:0"}
  timeout: ${timeout}
seeds: [0]
mode: exact
metrics:
  loss: {margin: 0.1}
`,
  );
  git(dir, 'init', '-q', '-b', 'main');
  return { dir, pids };
}

/** Each rank's pid and its parent's (torchrun), once both ranks have written them. */
function rankPids(pids: string): number[] {
  const ranks = readdirSync(pids).sort();
  expect(ranks).toEqual(['rank-0.pid', 'rank-1.pid']);
  const procs = ranks.flatMap((f) => readFileSync(path.join(pids, f), 'utf8').split(' ').map(Number));
  // Both ranks' parent is the torchrun process the gate started.
  expect(procs[1]).toBe(procs[3]);
  return procs;
}

describe('a hung rank under torchrun', () => {
  it(
    'is killed at the timeout with the launcher and every other rank: no process is left',
    async () => {
      const { dir, pids } = await hangingProject('12s');
      const t0 = Date.now();
      const r = await runCli(['record', '--config', 'repro-gate.yml'], dir);
      expect(r.code, r.stderr.slice(-2000)).toBe(2);
      expect(r.stderr).toContain('Seed 0: training timed out after 12.0s and was stopped.');
      expect(Date.now() - t0).toBeLessThan(60_000);
      const procs = rankPids(pids);
      await new Promise((res) => setTimeout(res, 500));
      expect(procs.filter(alive)).toEqual([]);
      // Nothing is left for a later gate to reap, and no baseline was written.
      expect(await readdir(path.join(dir, '.repro-gate', 'groups'))).toEqual([]);
      expect(await readdir(path.join(dir, '.repro-gate'))).not.toContain('baseline.json');
    },
    SLOW,
  );

  it(
    'is killed with the gate when the gate is cancelled (SIGTERM), exit 143',
    async () => {
      const { dir, pids } = await hangingProject('10m');
      const child = spawn(process.execPath, [CLI, 'record', '--config', 'repro-gate.yml'], {
        cwd: dir,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exited = new Promise<number | null>((res) => child.on('close', res));
      // Wait until both ranks hang (torchrun and two pythons starting on a busy machine).
      const written = () =>
        readdirSync(pids).filter((f) => readFileSync(path.join(pids, f), 'utf8').includes(' ')).length === 2;
      for (let i = 0; i < 600 && !written(); i++) await new Promise((res) => setTimeout(res, 100));
      const procs = rankPids(pids);
      expect(procs.every(alive)).toBe(true);
      child.kill('SIGTERM');
      expect(await exited, stderr.slice(-2000)).toBe(143);
      expect(stderr).toContain('SIGTERM received; stopping the training');
      await new Promise((res) => setTimeout(res, 500));
      expect(procs.filter(alive)).toEqual([]);
      expect(await readdir(path.join(dir, '.repro-gate', 'groups'))).toEqual([]);
    },
    SLOW,
  );
});
