/**
 * Runs one argv (never through a shell) with an explicit environment, streams its output line by
 * line into a log file, and kills the whole process group on timeout or when the gate itself is
 * interrupted. child_process rather than @actions/exec: the latter exposes no handle to kill a
 * hung training or its children.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import type { RunResult } from './types.js';

const KILL_GRACE_MS = 5_000;
const TAIL_LINES = 20;

export interface ProcessSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  logFile?: string;
  onLine?: (line: string) => void;
  /** Called once when the run is stopped early (timeout or interrupt), e.g. to `docker rm -f`. */
  onStop?: () => Promise<void> | void;
}

const live = new Set<{ child: ChildProcess; stop: () => Promise<void> }>();
let handlersInstalled = false;

/** On SIGINT/SIGTERM from the runner, stop every live training (and its container) before exiting. */
function installSignalHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`repro-gate: ${sig} received; stopping the training\n`);
      const exit = () => process.exit(130);
      setTimeout(exit, 15_000).unref(); // never hang the runner's cancellation
      void Promise.allSettled([...live].map((entry) => entry.stop())).then(exit);
    });
  }
}

export function runProcess(spec: ProcessSpec): Promise<RunResult> {
  installSignalHandlers();
  const started = Date.now();
  const tail: string[] = [];
  const log = spec.logFile ? createWriteStream(spec.logFile) : undefined;
  const [program, ...args] = spec.argv;
  if (!program) throw new Error('empty argv');

  return new Promise<RunResult>((resolve) => {
    let timedOut = false;
    let spawnError: Error | undefined;
    const child = spawn(program, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so a timeout kills the training's children too.
      detached: true,
    });

    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        signalGroup(child, 'SIGTERM');
        setTimeout(() => signalGroup(child, 'SIGKILL'), KILL_GRACE_MS).unref();
        await spec.onStop?.();
      })();
      return stopped;
    };
    const entry = { child, stop };
    live.add(entry);
    const timer = setTimeout(() => {
      timedOut = true;
      void stop();
    }, spec.timeoutMs);

    // One line buffer per stream, so a partial stdout line never merges with stderr output.
    const lineSplitter = () => {
      let pending = '';
      return {
        push(chunk: Buffer): void {
          log?.write(chunk);
          pending += chunk.toString('utf8');
          const parts = pending.split(/\r?\n/);
          pending = parts.pop() ?? '';
          for (const line of parts) emit(line);
        },
        flush(): void {
          if (pending) emit(pending);
          pending = '';
        },
      };
    };
    const emit = (line: string): void => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      spec.onLine?.(line);
    };
    const stdoutLines = lineSplitter();
    const stderrLines = lineSplitter();
    child.stdout.on('data', (c: Buffer) => stdoutLines.push(c));
    child.stderr.on('data', (c: Buffer) => stderrLines.push(c));
    child.on('error', (e) => {
      spawnError = e;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      live.delete(entry);
      stdoutLines.flush();
      stderrLines.flush();
      if (spawnError) emit(`repro-gate: could not start ${program}: ${spawnError.message}`);
      const result: RunResult = {
        exitCode: spawnError ? null : code,
        signal,
        timedOut,
        durationMs: Date.now() - started,
        tail: [...tail],
      };
      // A stopped run is over only once its cleanup (e.g. removing the container) has finished.
      void Promise.resolve(stopped).then(() => (log ? log.end(() => resolve(result)) : resolve(result)));
    });
  });
}

function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    // Already gone.
  }
}
