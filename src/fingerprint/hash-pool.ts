/**
 * The data threads (node:worker_threads, one per core) that list folders, stat files and hash
 * them. The threads start before the work is known (their start-up overlaps loading the config and
 * the stat cache). Walk and classify requests go to one thread each (walk.ts shares them out); a hash
 * request goes to every thread, which then share one list through an atomic counter (see
 * hash-worker.ts), so there is no per-file message, promise or task object.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import {
  type ClassifyRequest,
  HASH_WORKER_SOURCE,
  type HashAnswer,
  type HashRequest,
  type HashThreadData,
  type WalkAnswer,
  type WalkRequest,
} from './hash-worker.js';

/** A file a thread could not hash: it kept changing, could not be read (errno code), or time ran out. */
export interface HashFailure {
  i: number;
  kind: 'changed' | 'error' | 'timeout';
  code: string;
}

/** Per path hashed, by index: its SHA-256 and size. */
interface HashResults {
  sha256: string[];
  size: number[];
  /** Text of the files that start like a git-LFS pointer, by index. */
  pointers: Map<number, string>;
  /** The first file (lowest index) that could not be hashed; the others may then be missing. */
  failure?: HashFailure;
}

/** Threads to use: the cores this process may run on, never more than there are files. */
export function poolSize(files: number, max = os.availableParallelism()): number {
  return Math.max(1, Math.min(max, files));
}

export interface HashPool {
  threads: number;
  /** Lists `folders` (absolute) one level deep on thread `worker` (layout: hash-worker.ts WalkAnswer). */
  walk: (worker: number, folders: readonly string[]) => Promise<WalkAnswer>;
  /** Classifies and stats `names` in `folder` on thread `worker`, as a walk lists a folder's children. */
  classify: (worker: number, folder: string, names: readonly string[]) => Promise<WalkAnswer>;
  /** Hashes `paths` on every thread; results by index into `paths`. */
  hash: (paths: readonly string[], deadline: number) => Promise<HashResults>;
  /** Indices (into the paths being hashed) of the files being read right now, to name them when time runs out. */
  busy: () => number[];
  /** Stops every thread now (after a timeout elsewhere). */
  stop: () => Promise<void>;
  /** Lets the threads go once done (their teardown need not be waited for). */
  close: () => void;
}

const joined = (paths: readonly string[]) => `${paths.join('\0')}\0`;

/** Starts `poolSize(Infinity, maxThreads)` data threads, idle until asked. */
export function startPool(maxThreads?: number): HashPool {
  const threads = poolSize(Number.POSITIVE_INFINITY, maxThreads);
  const shared = new SharedArrayBuffer(4 * (2 + threads));
  const state = new Int32Array(shared);
  state.fill(-1, 2);
  // The answer each thread owes; a thread that fails or exits rejects the one awaited, or the next.
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
    w.on('exit', (code) => fail(new Error(`data thread ${worker} exited (code ${code}) without an answer`)));
    return w;
  });
  /** Sends `message` to thread `worker` and waits for its answer; one request per thread at a time. */
  const ask = <T>(worker: number, message: WalkRequest | ClassifyRequest | HashRequest) => {
    const answer = new Promise<T>((resolve, reject) => {
      if (failed[worker] !== undefined) reject(failed[worker]);
      else waiting[worker] = { resolve: resolve as (m: unknown) => void, reject };
    });
    workers[worker]?.postMessage(message);
    return answer;
  };
  return {
    threads,
    walk: (worker, folders) => ask<WalkAnswer>(worker, { walk: joined(folders) }),
    classify: (worker, folder, names) => ask<WalkAnswer>(worker, { folder, classify: joined(names) }),
    hash: async (paths, deadline) => {
      if (!paths.length) return collate([], 0); // the stat cache answered every file: no round trip
      // Where each path starts in the joined text: a thread cuts out only the paths it takes.
      const starts = new Int32Array(new SharedArrayBuffer(4 * (paths.length + 1)));
      let at = 0;
      for (let i = 0; i < paths.length; i++) {
        starts[i] = at;
        at += (paths[i] as string).length + 1;
      }
      starts[paths.length] = at;
      Atomics.store(state, 0, 0);
      const request: HashRequest = { hash: joined(paths), starts: starts.buffer as SharedArrayBuffer, deadline };
      const answers = await Promise.all(workers.map((_, worker) => ask<HashAnswer>(worker, request)));
      return collate(answers, paths.length);
    },
    busy: () => Array.from(state.subarray(2)).filter((i) => i >= 0),
    stop: async () => {
      Atomics.store(state, 1, 1);
      await Promise.all(workers.map((w) => w.terminate()));
    },
    close: () => {
      for (const w of workers) void w.terminate();
    },
  };
}

function collate(answers: HashAnswer[], n: number): HashResults {
  const out: HashResults = {
    sha256: new Array<string>(n),
    size: new Array<number>(n),
    pointers: new Map(),
  };
  for (const answer of answers) {
    for (const [i, text] of answer.pointers) out.pointers.set(i, text);
    if (!answer.lines) continue;
    for (const line of answer.lines.split('\n')) {
      const [index, sha, size] = line.split('\t') as [string, string, string];
      const i = Number(index);
      if (sha.startsWith('!')) {
        if (!out.failure || i < out.failure.i)
          out.failure = { i, kind: sha.slice(1) as HashFailure['kind'], code: size };
        continue;
      }
      out.sha256[i] = sha;
      out.size[i] = Number(size);
    }
  }
  return out;
}
