/**
 * Hashes a list of files on a pool of worker threads (node:worker_threads, one per core). The
 * threads start before the list is known (their start-up overlaps the walk), then share one work
 * list through an atomic counter (see hash-worker.ts), so there is no per-file message, promise or
 * task object; each thread answers once.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  HASH_WORKER_SOURCE,
  type HashAnswer,
  type HashJob,
  type HashPhase,
  type HashThreadData,
  type StatPhase,
} from './hash-worker.js';

/** A file a thread could not hash: it kept changing, could not be read (errno code), or time ran out. */
export interface HashFailure {
  i: number;
  kind: 'changed' | 'error' | 'timeout';
  code: string;
}

/** Per item hashed, by index: its SHA-256, size and stat-cache fields "size mtimeMs ino ctimeMs". */
interface HashResults {
  sha256: string[];
  size: number[];
  stat: string[];
  /** Text of the files that start like a git-LFS pointer, by index. */
  pointers: Map<number, string>;
  /** The first file (lowest index) that could not be hashed; the others may then be missing. */
  failure?: HashFailure;
}

export interface PoolRun {
  /**
   * Stats every path on the threads: size, mtimeMs, inode, ctimeMs of path i at [4i, 4i + 4), NaN
   * for anything but a regular file. Optional; before `hash`.
   */
  stat: () => Promise<Float64Array>;
  /** Hashes the items at the indices `todo`; once. */
  hash: (todo: readonly number[]) => Promise<HashResults>;
  /** Indices of the items being read right now (to name them when the time limit passes). */
  busy: () => number[];
  /** Stops every thread (after a timeout elsewhere). */
  stop: () => Promise<void>;
}

/** Threads to use: the cores this process may run on, never more than there are files. */
export function poolSize(files: number, max = os.availableParallelism()): number {
  return Math.max(1, Math.min(max, files));
}

/** Threads started ahead of the work, so their start-up overlaps the walk; `run` hands them the list. */
export interface HashPool {
  /** Hands the threads the (absolute) paths; once. */
  run: (paths: readonly string[], deadline: number) => PoolRun;
  /** Stops the threads (when there is nothing to hash, or the walk failed). */
  close: () => void;
}

/** Starts `poolSize(Infinity, maxThreads)` hashing threads, idle until `run`. */
export function startPool(maxThreads?: number): HashPool {
  const threads = poolSize(Number.POSITIVE_INFINITY, maxThreads);
  const shared = new SharedArrayBuffer(4 * (2 + threads));
  const state = new Int32Array(shared);
  state.fill(-1, 2);
  // The next message of each thread; a thread that fails or exits rejects the one awaited, or the next.
  const waiting: Array<{ resolve: (m: unknown) => void; reject: (e: unknown) => void } | undefined> = [];
  const failed: unknown[] = [];
  // execArgv: [] — the thread needs none of the parent's flags (a loader such as tsx would only slow its start).
  const workers = Array.from({ length: threads }, (_, worker) => {
    const data: HashThreadData = { shared, worker };
    const w = new Worker(HASH_WORKER_SOURCE, { eval: true, workerData: data, execArgv: [] });
    const fail = (err: unknown) => {
      failed[worker] ??= err;
      waiting[worker]?.reject(err);
      waiting[worker] = undefined;
    };
    w.on('message', (m) => {
      waiting[worker]?.resolve(m);
      waiting[worker] = undefined;
    });
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`hashing thread ${worker} exited (code ${code}) without results`)));
    return w;
  });
  const close = () => {
    for (const w of workers) void w.terminate();
  };
  /** Posts `message` to every thread and waits for each one's answer. */
  const all = <T>(message: object) =>
    Promise.all(
      workers.map((w, worker) => {
        const answer = new Promise<T>((resolve, reject) => {
          if (failed[worker] !== undefined) reject(failed[worker]);
          else waiting[worker] = { resolve: resolve as (m: unknown) => void, reject };
        });
        w.postMessage(message);
        return answer;
      }),
    );
  const run = (paths: readonly string[], deadline: number): PoolRun => {
    // Where each path starts in the joined text: a thread cuts out only the paths it takes.
    const starts = new Int32Array(new SharedArrayBuffer(4 * (paths.length + 1)));
    let at = 0;
    for (let i = 0; i < paths.length; i++) {
      starts[i] = at;
      at += (paths[i] as string).length + 1;
    }
    starts[paths.length] = at;
    const job: HashJob = { paths: `${paths.join('\0')}\0`, starts: starts.buffer as SharedArrayBuffer, deadline };
    for (const w of workers) w.postMessage(job);
    return {
      stat: async () => {
        const stats = new Float64Array(new SharedArrayBuffer(8 * 4 * paths.length)).fill(Number.NaN);
        const phase: StatPhase = { stats: stats.buffer as SharedArrayBuffer };
        await all(phase);
        Atomics.store(state, 0, 0); // the counter starts again for the hashing
        return stats;
      },
      hash: async (todo) => {
        const list = new Int32Array(new SharedArrayBuffer(4 * todo.length));
        list.set(todo);
        const phase: HashPhase = { todo: list.buffer as SharedArrayBuffer };
        const answers = await all<HashAnswer>(phase);
        close(); // a thread's teardown need not be waited for
        return collate(answers, paths.length);
      },
      busy: () => Array.from(state.subarray(2)).filter((i) => i >= 0),
      stop: async () => {
        Atomics.store(state, 1, 1);
        await Promise.all(workers.map((w) => w.terminate()));
      },
    };
  };
  return { run, close };
}

function collate(answers: HashAnswer[], n: number): HashResults {
  const out: HashResults = {
    sha256: new Array<string>(n),
    size: new Array<number>(n),
    stat: new Array<string>(n),
    pointers: new Map(),
  };
  for (const answer of answers) {
    for (const [i, text] of answer.pointers) out.pointers.set(i, text);
    if (!answer.lines) continue;
    for (const line of answer.lines.split('\n')) {
      const [index, sha, size, stat] = line.split('\t') as [string, string, string, string];
      const i = Number(index);
      if (sha.startsWith('!')) {
        if (!out.failure || i < out.failure.i)
          out.failure = { i, kind: sha.slice(1) as HashFailure['kind'], code: size };
        continue;
      }
      out.sha256[i] = sha;
      out.size[i] = Number(size);
      out.stat[i] = stat;
    }
  }
  return out;
}
