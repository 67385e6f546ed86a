/** What the gate needs from wherever training runs (the runner itself, or a pinned container). */
export interface RunSpec {
  /** Argv with {seed}/{out} already substituted, in the runtime's own paths (see `pathFor`). */
  argv: string[];
  /** Host folder the command runs in (the config's folder). */
  cwd: string;
  /** The complete environment of the process: nothing else is inherited. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Host folder the run may write; the only writable mount in a container. */
  outDir: string;
  /** Host file that receives the combined stdout/stderr. */
  logFile: string;
  /** Called with each output line as it arrives (for prefixed streaming). */
  onLine?: (line: string) => void;
  /** With train.parallel > 1: the cores and GPUs this run may use (see runtime/slots.ts). */
  slot?: Slot;
  /**
   * A host folder to put first on PYTHONPATH, before the PYTHONPATH the training would have had
   * (its env's, else, in a container, the image's): the gate's import hook.
   */
  pythonPathFirst?: string;
}

/** PYTHONPATH with `first` in front of what it would otherwise be. */
export function prependPythonPath(first: string, existing: string | undefined): string {
  return existing ? `${first}:${existing}` : first;
}

/** A share of the machine for one of several seeds trained at once. */
export interface Slot {
  /** CPU list as taskset and docker --cpuset-cpus write it, e.g. "0-3". */
  cpus: string;
  /** GPU indices, e.g. "0,1"; absent when the training uses no GPU. */
  gpus?: string;
}

export interface RunResult {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Set when the gate itself was cancelled (SIGINT/SIGTERM) while this ran. */
  cancelled?: NodeJS.Signals;
  /** Set when the program could not be started at all (e.g. not found). */
  startError?: string;
  durationMs: number;
  /** The last lines of output, for error messages. */
  tail: string[];
}

export interface Runtime {
  readonly kind: 'host' | 'container';
  /** Once per gate run, before any training (pull the image, check docker, …). */
  prepare(): Promise<void>;
  /** Path of a host path as the training process sees it. */
  pathFor(hostPath: string): string;
  run(spec: RunSpec): Promise<RunResult>;
  /** Removes anything the runtime started that is still alive. Safe to call twice. */
  dispose(): Promise<void>;
  /** Facts only the runtime knows (e.g. the image digest), merged into the environment fingerprint. */
  describe(): Record<string, string>;
}
