/**
 * Hashes a list of files on a pool of worker threads (node:worker_threads, one per core, at most one
 * per file). The threads share one work list through an atomic counter (see hash-worker.ts), so
 * there is no per-file message, promise or task object; each thread answers once.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { HASH_WORKER_SOURCE, type HashAnswer, type HashJob } from './hash-worker.js';

/** A file a thread could not hash: it kept changing, could not be read (errno code), or time ran out. */
export interface HashFailure {
  i: number;
  kind: 'changed' | 'error' | 'timeout';
  code: string;
}

/** Per item, by index: its SHA-256, size, stat tuple "size:mtimeNs:ino:ctimeNs", whether the cache answered. */
interface HashResults {
  sha256: string[];
  size: number[];
  stat: string[];
  fromCache: Uint8Array;
  /** Text of the files that start like a git-LFS pointer, by index. */
  pointers: Map<number, string>;
  /** The first file (lowest index) that could not be hashed; the others may then be missing. */
  failure?: HashFailure;
}

export interface PoolRun {
  results: Promise<HashResults>;
  /** Indices of the items being read right now (to name them when the time limit passes). */
  busy: () => number[];
  /** Stops every thread (after a timeout elsewhere). */
  stop: () => Promise<void>;
}

/** Threads to use: the cores this process may run on, never more than there are files. */
export function poolSize(files: number, max = os.availableParallelism()): number {
  return Math.max(1, Math.min(max, files));
}

/**
 * Hashes `paths` (absolute), reusing `cached[i]` ("size:mtimeNs:ino:ctimeNs:sha256", or "") when the
 * file's stat tuple still matches it.
 */
export function hashInPool(
  paths: readonly string[],
  cached: readonly string[],
  deadline: number,
  maxThreads?: number,
): PoolRun {
  const threads = poolSize(paths.length, maxThreads);
  const shared = new SharedArrayBuffer(4 * (2 + threads));
  const state = new Int32Array(shared);
  state.fill(-1, 2);
  const joinedPaths = paths.join('\0');
  const joinedCached = cached.join('\0');
  const workers: Worker[] = [];
  const answers = Array.from({ length: threads }, (_, worker) => {
    const job: HashJob = { paths: joinedPaths, cached: joinedCached, shared, worker, deadline };
    // execArgv: [] — the thread needs none of the parent's flags (a loader such as tsx would only slow its start).
    const w = new Worker(HASH_WORKER_SOURCE, { eval: true, workerData: job, execArgv: [] });
    workers.push(w);
    return new Promise<HashAnswer>((resolve, reject) => {
      // Resolve on the answer, not on exit: a thread's teardown need not be waited for.
      w.once('message', (answer: HashAnswer) => {
        resolve(answer);
        void w.terminate();
      });
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`hashing thread ${worker} exited (code ${code}) without results`)));
    });
  });
  const results = Promise.all(answers).then((all) => collate(all, paths.length));
  return {
    results,
    busy: () => Array.from(state.subarray(2)).filter((i) => i >= 0),
    stop: async () => {
      Atomics.store(state, 1, 1);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

function collate(answers: HashAnswer[], n: number): HashResults {
  const out: HashResults = {
    sha256: new Array<string>(n),
    size: new Array<number>(n),
    stat: new Array<string>(n),
    fromCache: new Uint8Array(n),
    pointers: new Map(),
  };
  for (const answer of answers) {
    for (const [i, text] of answer.pointers) out.pointers.set(i, text);
    if (!answer.lines) continue;
    for (const line of answer.lines.split('\n')) {
      const [index, sha, size, stat, fromCache] = line.split('\t') as [string, string, string, string, string];
      const i = Number(index);
      if (sha.startsWith('!')) {
        if (!out.failure || i < out.failure.i)
          out.failure = { i, kind: sha.slice(1) as HashFailure['kind'], code: size };
        continue;
      }
      out.sha256[i] = sha;
      out.size[i] = Number(size);
      out.stat[i] = stat;
      out.fromCache[i] = fromCache === '1' ? 1 : 0;
    }
  }
  return out;
}
