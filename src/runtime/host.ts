import { execFileSync } from 'node:child_process';
import { runProcess } from './process.js';
import { prependPythonPath, type RunResult, type RunSpec, type Runtime } from './types.js';

/** Runs training directly on the runner: the "host" runtime, used when the config pins no image. */
export class HostRuntime implements Runtime {
  readonly kind = 'host' as const;

  /** `groupsDir`: where running process groups are recorded, so a later gate can reap them. */
  constructor(private readonly groupsDir?: string) {}

  async prepare(): Promise<void> {}

  pathFor(hostPath: string): string {
    return hostPath;
  }

  run(spec: RunSpec): Promise<RunResult> {
    const { slot, pythonPathFirst, ...rest } = spec;
    let env = pythonPathFirst
      ? { ...spec.env, PYTHONPATH: prependPythonPath(pythonPathFirst, spec.env.PYTHONPATH) }
      : spec.env;
    if (!slot) return runProcess({ ...rest, env, groupsDir: this.groupsDir });
    // taskset (util-linux) pins the process and its children to the slot's cores.
    const argv = hasTaskset() ? ['taskset', '--cpu-list', slot.cpus, ...spec.argv] : spec.argv;
    if (slot.gpus !== undefined) env = { ...env, CUDA_VISIBLE_DEVICES: slot.gpus };
    return runProcess({ ...rest, argv, env, groupsDir: this.groupsDir });
  }

  async dispose(): Promise<void> {}

  describe(): Record<string, string> {
    return { runtime: 'host' };
  }
}

let taskset: boolean | undefined;
function hasTaskset(): boolean {
  if (taskset === undefined) {
    try {
      execFileSync('taskset', ['--version'], { stdio: 'ignore' });
      taskset = true;
    } catch {
      taskset = false;
    }
  }
  return taskset;
}
