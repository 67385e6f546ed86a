/**
 * Distributed trainings without a launch: train.launcher / train.distributed in repro-gate.yml and
 * their messages, the launcher's argv, the `distributed.*` environment facts and how their drift
 * ranks, and the pre-flight checks (a launcher that is missing, more ranks than cores).
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { rankCause } from '../src/drift/cause.js';
import { diffEnvironment, isStrong } from '../src/drift/environment.js';
import { topologyFacts, withDistributedFacts } from '../src/fingerprint/distributed.js';
import { HostRuntime } from '../src/runtime/host.js';
import { checkLaunch, distributedEnv, launcherArgv } from '../src/train/launch.js';
import { GateError } from '../src/util/errors.js';

const config = (train: string) =>
  parseConfig(
    `version: 1\ntrain:\n  command: [python3, train.py, --out, "{out}"]\n${train}seeds: 2\nmetrics:\n  loss: {margin: 1%}\n`,
    '/p/repro-gate.yml',
  );

function errorOf(train: string): string {
  try {
    config(train);
  } catch (err) {
    expect(err).toBeInstanceOf(GateError);
    return (err as GateError).message;
  }
  throw new Error('expected a GateError');
}

describe('train.launcher and train.distributed', () => {
  it('torchrun starts the command as it is, once per rank, on one node or several', () => {
    const one = config('  launcher: torchrun\n  distributed: {nproc-per-node: 2, backend: gloo}\n');
    expect(one.train.distributed).toEqual({ 'nproc-per-node': 2, nnodes: 1, backend: 'gloo' });
    expect(launcherArgv(one.train)).toEqual([
      'torchrun',
      '--standalone',
      '--nnodes=1',
      '--nproc_per_node=2',
      '--max_restarts=0',
      '--monitor_interval=1',
      '--no_python',
    ]);
    expect(distributedEnv(one.train)).toEqual({
      REPRO_GATE_NPROC_PER_NODE: '2',
      REPRO_GATE_NNODES: '1',
      REPRO_GATE_DIST_BACKEND: 'gloo',
    });
    const two = config('  launcher: torchrun\n  distributed: {nproc-per-node: 8, nnodes: 2, backend: nccl}\n');
    // Several nodes meet through a rendezvous whose endpoint comes from PET_RDZV_ENDPOINT in train.env.
    expect(launcherArgv(two.train).slice(0, 4)).toEqual([
      'torchrun',
      '--rdzv_backend=c10d',
      '--nnodes=2',
      '--nproc_per_node=8',
    ]);
  });

  it('an argv prefix gets the topology filled in, and is never a shell line', () => {
    const c = config(
      '  launcher: [mpirun, -np, "{world-size}", --npernode, "{nproc-per-node}", "--nodes={nnodes}"]\n  distributed: {nproc-per-node: 4, nnodes: 2, backend: mpi}\n',
    );
    expect(launcherArgv(c.train)).toEqual(['mpirun', '-np', '8', '--npernode', '4', '--nodes=2']);
    expect(launcherArgv(config('').train)).toEqual([]);
  });

  it('one clear message for each mistake', () => {
    expect(errorOf('  launcher: torchrun\n')).toContain(
      'train.launcher needs train.distributed, so the gate can start and record the topology: add distributed: {nproc-per-node: 2, backend: gloo}',
    );
    expect(errorOf('  launcher: deepspeed\n  distributed: {nproc-per-node: 2, backend: gloo}\n')).toContain(
      'expected torchrun or an argv prefix such as [mpirun, -np, "{nproc-per-node}"], got "deepspeed"',
    );
    expect(errorOf('  distributed: {nproc-per-node: 2, backend: hccl}\n')).toContain(
      'repro-gate.yml:4:45: train.distributed.backend: expected one of "gloo", "nccl", "mpi"',
    );
    expect(errorOf('  distributed: {nproc-per-node: 0, backend: gloo}\n')).toMatch(/nproc-per-node/);
    expect(errorOf('  distributed: {nproc_per_node: 2, backend: gloo}\n')).toMatch(
      /unknown key "train\.distributed\.nproc_per_node" — did you mean "nproc-per-node"\?/,
    );
  });
});

describe('the distributed environment facts', () => {
  const train = {
    launcher: 'torchrun' as const,
    distributed: { 'nproc-per-node': 2, nnodes: 1, backend: 'gloo' as const },
  };

  it('record the topology, and each rank’s threads in place of the single-process variable', () => {
    expect(topologyFacts(train)).toEqual({
      'distributed.world-size': 2,
      'distributed.nproc-per-node': 2,
      'distributed.nnodes': 1,
      'distributed.backend': 'gloo',
      'distributed.launcher': '"torchrun"',
    });
    // torchrun gives every rank OMP_NUM_THREADS=1 when it is not set.
    const probed = { 'env.OMP_NUM_THREADS': '4', 'distributed.env.NCCL_ALGO': 'Tree', os: 'Debian' };
    expect(withDistributedFacts({ os: 'Debian' }, train)).toMatchObject({ 'distributed.env.OMP_NUM_THREADS': '1' });
    const facts = withDistributedFacts({ ...probed, 'distributed.env.OMP_NUM_THREADS': '4' }, train);
    expect(facts).not.toHaveProperty('env.OMP_NUM_THREADS');
    expect(facts).toMatchObject({ 'distributed.env.OMP_NUM_THREADS': '4', 'distributed.env.NCCL_ALGO': 'Tree' });
    // Not distributed: nothing added.
    expect(withDistributedFacts(probed, {})).toEqual(probed);
  });

  it('a changed world size or NCCL setting is result-relevant environment drift, ranked first, with the metric', () => {
    const before = { ...withDistributedFacts({ 'python.version': '3.11.2', kernel: '6.1' }, train) };
    const after = {
      ...withDistributedFacts(
        { 'python.version': '3.11.2', kernel: '6.2', 'distributed.env.NCCL_ALGO': 'Ring' },
        { ...train, distributed: { ...train.distributed, 'nproc-per-node': 1 } },
      ),
    };
    const drift = diffEnvironment(before, after);
    expect(drift.map((d) => d.key)).toEqual([
      'distributed.world-size',
      'distributed.env.NCCL_ALGO',
      'distributed.env.OMP_NUM_THREADS',
      'distributed.nproc-per-node',
      'kernel',
    ]);
    expect(drift.filter(isStrong).map((d) => d.key)).not.toContain('kernel');
    expect(drift.filter(isStrong)).toHaveLength(4);
    const finding = rankCause({
      drift: { data: [], config: [], environment: drift },
      codeChanges: ['train.py'],
      metrics: [],
      mismatches: [{ seed: 0, kind: 'metric', name: 'loss', before: 0.04, after: 0.041 } as never],
    });
    expect(finding.cause).toBe('environment');
    expect(finding.evidence).toMatch(/^distributed\.world-size 2 → 1, /);
  });
});

describe('pre-flight', () => {
  it('a launcher that is missing: one message naming it, before anything runs', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'rg-launch-'));
    const c = {
      ...config(
        '  launcher: [no-such-launcher, -n, "{nproc-per-node}"]\n  distributed: {nproc-per-node: 1, backend: gloo}\n',
      ),
      root,
      path: path.join(root, 'repro-gate.yml'),
    };
    const err = await checkLaunch(c, new HostRuntime(), { PATH: '/usr/bin:/bin' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).message).toBe(
      `train.launcher: "no-such-launcher" was not found on the training's PATH, so the ranks cannot be started.`,
    );
    expect((err as GateError).hint).toMatch(/^Install no-such-launcher, or give its full path/);
    // torchrun, when this PATH has none: how to get it.
    const t = { ...c, train: { ...c.train, launcher: 'torchrun' as const } };
    const err2 = await checkLaunch(t, new HostRuntime(), { PATH: root }).catch((e: unknown) => e);
    expect((err2 as GateError).hint).toMatch(/apt-get install python3-torch/);
    // A program that is there passes.
    await expect(
      checkLaunch({ ...c, train: { ...c.train, launcher: ['sh'] } }, new HostRuntime(), { PATH: '/usr/bin:/bin' }),
    ).resolves.toBeUndefined();
  });

  it('more ranks than cores: one message with the numbers and the fix', async () => {
    const c = {
      ...config('  distributed: {nproc-per-node: 4, backend: gloo}\n'),
      root: '/p',
      path: '/p/repro-gate.yml',
    };
    const err = await checkLaunch(c, new HostRuntime(), {}, 2).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).message).toMatch(
      /^train\.distributed\.nproc-per-node is 4, but this machine has 2 CPU cores: every rank is a process/,
    );
    expect((err as GateError).hint).toBe(
      'Lower nproc-per-node in repro-gate.yml to at most 2, or run the gate on a larger runner.',
    );
    await expect(checkLaunch(c, new HostRuntime(), {}, 4)).resolves.toBeUndefined();
  });
});
