import { runProcess } from './process.js';
import type { RunResult, RunSpec, Runtime } from './types.js';

/** Runs training directly on the runner: the "host" runtime, used when the config pins no image. */
export class HostRuntime implements Runtime {
  readonly kind = 'host' as const;

  async prepare(): Promise<void> {}

  pathFor(hostPath: string): string {
    return hostPath;
  }

  run(spec: RunSpec): Promise<RunResult> {
    return runProcess(spec);
  }

  async dispose(): Promise<void> {}

  describe(): Record<string, string> {
    return { runtime: 'host' };
  }
}
