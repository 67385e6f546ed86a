/**
 * Multi-process trainings: `train.launcher` starts `train.command` once per rank, the way users run
 * DDP themselves (`torchrun --standalone --nproc_per_node N …`), with `train.distributed` as its
 * topology. Argv only: the launcher is a program, never a shell line.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Runtime } from '../runtime/types.js';
import type { DistributedConfig, GateConfig } from '../schema/config.js';
import { GateError } from '../util/errors.js';

type Train = GateConfig['train'];

/**
 * torchrun's flags, spelled with underscores: every release since 1.10 accepts them (2.x adds the
 * hyphenated aliases). `--no_python` runs train.command as it is in each rank, so the ranks use the
 * training's own interpreter rather than torchrun's. `--monitor_interval=1`: torchrun otherwise
 * notices finished ranks up to 5 s late, on every seed. One node is `--standalone` (a local
 * rendezvous); more nodes take their rendezvous from PET_* variables in train.env
 * (PET_RDZV_ENDPOINT, PET_RDZV_ID, PET_NODE_RANK), which torchrun reads for its flags.
 */
function torchrun(d: DistributedConfig): string[] {
  return [
    'torchrun',
    ...(d.nnodes === 1 ? ['--standalone'] : ['--rdzv_backend=c10d']),
    `--nnodes=${d.nnodes}`,
    `--nproc_per_node=${d['nproc-per-node']}`,
    '--max_restarts=0',
    '--monitor_interval=1',
    '--no_python',
  ];
}

/** The launcher's argv prefix with {nproc-per-node}, {nnodes} and {world-size} filled in. */
export function launcherArgv(train: Train): string[] {
  const d = train.distributed;
  if (!train.launcher || !d) return [];
  if (train.launcher === 'torchrun') return torchrun(d);
  const values: Record<string, string> = {
    '{nproc-per-node}': String(d['nproc-per-node']),
    '{nnodes}': String(d.nnodes),
    '{world-size}': String(d['nproc-per-node'] * d.nnodes),
  };
  return train.launcher.map((arg) => arg.replace(/\{(?:nproc-per-node|nnodes|world-size)\}/g, (m) => values[m] ?? m));
}

/** What the training reads to set itself up the same way (a training that spawns its own ranks too). */
export function distributedEnv(train: Train): Record<string, string> {
  const d = train.distributed;
  if (!d) return {};
  return {
    REPRO_GATE_NPROC_PER_NODE: String(d['nproc-per-node']),
    REPRO_GATE_NNODES: String(d.nnodes),
    REPRO_GATE_DIST_BACKEND: d.backend,
  };
}

/** The program a name runs: a path as given (relative to `cwd`), else the first match on PATH. */
async function resolveProgram(name: string, cwd: string, pathVar: string | undefined): Promise<string | null> {
  const executable = (p: string) =>
    access(p, constants.X_OK).then(
      () => true,
      () => false,
    );
  if (name.includes('/')) {
    const p = path.resolve(cwd, name);
    return (await executable(p)) ? p : null;
  }
  for (const dir of (pathVar ?? '').split(path.delimiter).filter(Boolean)) {
    const p = path.join(dir, name);
    if (await executable(p)) return p;
  }
  return null;
}

/**
 * Before anything trains: the launcher can be started, and every rank of this node gets a core.
 * `cores` is injectable for tests; by default the CPUs this process may use.
 */
export async function checkLaunch(
  config: GateConfig,
  runtime: Runtime,
  env: Record<string, string>,
  cores: number = os.availableParallelism(),
): Promise<void> {
  const { launcher, distributed } = config.train;
  if (distributed && distributed['nproc-per-node'] > cores) {
    throw new GateError(
      `train.distributed.nproc-per-node is ${distributed['nproc-per-node']}, but this machine has ${cores} CPU core${cores === 1 ? '' : 's'}: every rank is a process that needs a core of its own (with nccl, a GPU too), and more ranks than cores make the run slow and its timing-dependent results meaningless.`,
      `Lower nproc-per-node in ${path.basename(config.path)} to at most ${cores}, or run the gate on a larger runner.`,
    );
  }
  // In a container the launcher is looked up inside the image when the run starts (see run-seed.ts).
  if (!launcher || runtime.kind !== 'host') return;
  const program = launcherArgv(config.train)[0] ?? '';
  if (await resolveProgram(program, config.root, env.PATH)) return;
  throw new GateError(
    `train.launcher: "${program}" was not found ${program.includes('/') ? `at ${path.resolve(config.root, program)}` : "on the training's PATH"}, so the ranks cannot be started.`,
    launcher === 'torchrun'
      ? 'Install PyTorch where the training runs (Debian: apt-get install python3-torch; it brings torchrun), or give its path: launcher: [/path/to/torchrun, …].'
      : `Install ${program}, or give its full path as the first item of train.launcher in ${path.basename(config.path)}.`,
  );
}
