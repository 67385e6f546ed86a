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
    const { pythonPathFirst, ...rest } = spec;
    const env = pythonPathFirst
      ? { ...spec.env, PYTHONPATH: prependPythonPath(pythonPathFirst, spec.env.PYTHONPATH) }
      : spec.env;
    return runProcess({ ...rest, env, groupsDir: this.groupsDir });
  }

  async dispose(): Promise<void> {}

  describe(): Record<string, string> {
    return { runtime: 'host' };
  }
}
