/**
 * Hashes a list of files on a pool of worker threads (node:worker_threads, one per core, at most one
 * per file). The threads share one work list through an atomic counter (see hash-worker.ts), so
 * there is no per-file message, promise or task object; results come back once per thread.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { HASH_WORKER_SOURCE, type HashItem, type HashJob, type HashRow } from './hash-worker.js';

export type { HashItem, HashRow } from './hash-worker.js';

export interface PoolRun {
  /** One row per item that was hashed, in item order; stops short when a row is not `ok`. */
  rows: Promise<HashRow[]>;
  /** Indices of the items being read right now (to name them when the time limit passes). */
  busy: () => number[];
  /** Stops every thread (after a timeout elsewhere); the rows promise then rejects. */
  stop: () => Promise<void>;
}

/** Threads to use: the cores this process may run on, never more than there are files. */
export function poolSize(files: number): number {
  return Math.max(1, Math.min(os.availableParallelism(), files));
}

export function hashInPool(items: HashItem[], deadline: number): PoolRun {
  const threads = poolSize(items.length);
  const shared = new SharedArrayBuffer(4 * (2 + threads));
  const state = new Int32Array(shared);
  state.fill(-1, 2);
  const workers: Worker[] = [];
  const results = Array.from({ length: threads }, (_, worker) => {
    const job: HashJob = { items, shared, worker, deadline };
    const w = new Worker(HASH_WORKER_SOURCE, { eval: true, workerData: job, execArgv: [] });
    workers.push(w);
    return new Promise<HashRow[]>((resolve, reject) => {
      // Resolve on the answer, not on exit: a thread's teardown need not be waited for.
      w.once('message', (rows: HashRow[]) => {
        resolve(rows);
        void w.terminate();
      });
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`hashing thread ${worker} exited (code ${code}) without results`)));
    });
  });
  const rows = Promise.all(results).then((perThread) => {
    const all = perThread.flat().sort((a, b) => a.i - b.i);
    // Past the first row that is not ok, the others stopped early: report that one (lowest index).
    const firstBad = all.findIndex((r) => r.kind !== 'ok');
    return firstBad < 0 ? all : all.slice(0, firstBad + 1);
  });
  return {
    rows,
    busy: () => Array.from(state.subarray(2)).filter((i) => i >= 0),
    stop: async () => {
      Atomics.store(state, 1, 1);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}
