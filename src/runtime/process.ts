/**
 * Runs one argv (never through a shell) with an explicit environment in its own process group,
 * streams its output line by line into a log file, and makes sure nothing it started outlives it:
 * - the run ends when the process exits; its output pipes get a short grace, then the whole group
 *   is killed (a background child holding stdout cannot hang the gate);
 * - a timeout or a cancel signals the group (SIGTERM, then SIGKILL after a grace), also after the
 *   leader has exited, and every descendant seen in another session (a launcher's ranks);
 * - each group is written down (process-table.ts) so a later gate can reap it if this one is killed.
 * child_process rather than @actions/exec: the latter exposes no handle to kill a hung training.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { cancelledBy, whileRunning } from './cancel.js';
import { LineSplitter } from './line-splitter.js';
import { recordGroup, recordMembers } from './process-table.js';
import { ProcessTree } from './process-tree.js';
import type { RunResult } from './types.js';

/** After SIGTERM, how long a process gets before SIGKILL. */
const KILL_GRACE_MS = 5_000;
/** After the process exits, how long its output pipes may stay open (held by a background child). */
const PIPE_GRACE_MS = 2_000;
const TAIL_LINES = 20;
/** How often the training's process tree is looked at (for descendants that leave its group). */
const TREE_POLL_MS = 1_000;

export interface ProcessSpec {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  logFile?: string;
  onLine?: (line: string) => void;
  /** Called once when the run is stopped early (timeout or cancel), e.g. to `docker rm -f`. */
  onStop?: () => Promise<void> | void;
  /** Folder where the process group is recorded while it runs (see process-table.ts). */
  groupsDir?: string;
}

function signalGroup(pgid: number | undefined, sig: NodeJS.Signals): void {
  if (pgid === undefined) return;
  try {
    process.kill(-pgid, sig);
  } catch {
    // The whole group is gone already.
  }
}

export function runProcess(spec: ProcessSpec): Promise<RunResult> {
  const started = Date.now();
  const tail: string[] = [];
  const log = spec.logFile ? createWriteStream(spec.logFile) : undefined;
  const [program, ...args] = spec.argv;
  if (!program) throw new Error('empty argv');

  return new Promise<RunResult>((resolve) => {
    let timedOut = false;
    let spawnError: Error | undefined;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let groupFile: Promise<string | undefined> = Promise.resolve(undefined);
    const child: ChildProcess = spawn(program, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group (pgid = pid), so every signal reaches the training's children too.
      detached: true,
    });
    const pgid = child.pid;
    let recorded: string | undefined;
    if (pgid !== undefined && spec.groupsDir) {
      try {
        recorded = recordGroup(spec.groupsDir, pgid, program);
        groupFile = Promise.resolve(recorded);
      } catch {
        // Not recording a group only costs the reaping after a SIGKILLed gate.
      }
    }
    // Descendants that start sessions of their own (torchrun's ranks) are signalled one by one.
    const tree = pgid === undefined ? undefined : new ProcessTree(pgid);
    const watch = () => {
      if (tree?.refresh() && recorded) recordMembers(recorded, tree.members());
    };
    const poll = setInterval(watch, TREE_POLL_MS);
    poll.unref();
    const signalAll = (sig: NodeJS.Signals) => {
      signalGroup(pgid, sig);
      tree?.signal(sig);
    };

    const emit = (line: string): void => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      spec.onLine?.(line);
    };
    // One splitter per stream, so a partial stdout line never merges with stderr output.
    const splitters = [new LineSplitter(emit), new LineSplitter(emit)] as const;
    let openStreams = 0;
    let pipesClosed: () => void = () => {};
    const allClosed = new Promise<void>((res) => {
      pipesClosed = res;
    });
    for (const [i, stream] of [child.stdout, child.stderr].entries()) {
      if (!stream) continue;
      openStreams++;
      stream.on('data', (chunk: Buffer) => {
        log?.write(chunk);
        splitters[i as 0 | 1].push(chunk);
      });
      stream.on('close', () => {
        if (--openStreams === 0) pipesClosed();
      });
    }
    if (openStreams === 0) pipesClosed();

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        signalAll('SIGTERM');
        setTimeout(() => signalAll('SIGKILL'), KILL_GRACE_MS).unref();
        await spec.onStop?.();
      })();
      return stopping;
    };
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((res) => {
      resolveDone = res;
    });
    // A cancel of the whole gate waits until this run is really over.
    const unregister = whileRunning(async () => {
      await stop();
      await done;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      void stop();
    }, spec.timeoutMs);
    if (cancelledBy()) void stop();

    const finish = async (): Promise<RunResult> => {
      // The leader is gone: give its pipes a moment, then nothing of the group may remain.
      await Promise.race([allClosed, new Promise((res) => setTimeout(res, PIPE_GRACE_MS).unref())]);
      clearInterval(poll);
      signalAll('SIGKILL');
      child.stdout?.destroy();
      child.stderr?.destroy();
      clearTimeout(timer);
      for (const s of splitters) s.end();
      if (spawnError) emit(`repro-gate: could not start ${program}: ${spawnError.message}`);
      const file = await groupFile;
      if (file) await rm(file, { force: true });
      // A stopped run is over only once its cleanup (e.g. removing the container) has finished.
      await stopping?.catch(() => undefined);
      await new Promise<void>((res) => (log ? log.end(res) : res()));
      const cancelled = cancelledBy();
      return {
        exitCode: spawnError ? null : (exit?.code ?? null),
        signal: exit?.signal ?? null,
        timedOut,
        ...(cancelled ? { cancelled } : {}),
        ...(spawnError ? { startError: spawnError.message } : {}),
        durationMs: Date.now() - started,
        tail: [...tail],
      };
    };
    const end = () => {
      unregister();
      void finish().then((result) => {
        resolveDone();
        resolve(result);
      });
    };
    child.on('error', (e) => {
      spawnError = e;
      // A process that never started emits no 'exit'.
      if (pgid === undefined && !exit) {
        exit = { code: null, signal: null };
        end();
      }
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      end();
    });
  });
}
