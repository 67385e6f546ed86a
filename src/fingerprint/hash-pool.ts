/**
 * Hashes a list of files on a pool of worker threads (node:worker_threads, one per core). The
 * threads start before the list is known (their start-up overlaps the walk), then share one work
 * list through an atomic counter (see hash-worker.ts), so there is no per-file message, promise or
 * task object; each thread answers once.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { HASH_WORKER_SOURCE, type HashAnswer, type HashJob, type HashThreadData } from './hash-worker.js';

/** A file a thread could not hash: it kept changing, could not be read (errno code), or time ran out. */
export interface HashFailure {
  i: number;
  kind: 'changed' | 'error' | 'timeout';
  code: string;
}

/**
 * Per item, by index: whether the stat cache answered it (then nothing else is set: the caller has
 * the entry); otherwise its SHA-256, size and stat-cache fields "size mtimeMs ino ctimeMs".
 */
interface HashResults {
  fromCache: Uint8Array;
  sha256: string[];
  size: number[];
  stat: string[];
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
 * Stat-cache entries to check, per item i at [4i, 4i + 4): size, mtimeMs, inode, ctimeMs (NaN: none).
 * Shared memory, so filling it is the only copy.
 */
export function cachedStats(items: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(8 * 4 * items)).fill(Number.NaN);
}

/** Threads started ahead of the work, so their start-up overlaps the walk; `run` hands them the list. */
export interface HashPool {
  /**
   * Hashes `paths` (absolute), skipping the files whose stat still equals their entry in `cached`
   * (from `cachedStats`; none: every file is read). Once only.
   */
  run: (paths: readonly string[], cached: Float64Array | undefined, deadline: number) => PoolRun;
  /** Stops the threads (when there is nothing to hash, or the walk failed). */
  close: () => void;
}

/** Starts `poolSize(Infinity, maxThreads)` hashing threads, idle until `run`. */
export function startPool(maxThreads?: number): HashPool {
  const threads = poolSize(Number.POSITIVE_INFINITY, maxThreads);
  const shared = new SharedArrayBuffer(4 * (2 + threads));
  const state = new Int32Array(shared);
  state.fill(-1, 2);
  // execArgv: [] — the thread needs none of the parent's flags (a loader such as tsx would only slow its start).
  const workers = Array.from(
    { length: threads },
    (_, worker) =>
      new Worker(HASH_WORKER_SOURCE, {
        eval: true,
        workerData: { shared, worker } satisfies HashThreadData,
        execArgv: [],
      }),
  );
  // A thread that fails before `run` (it cannot: its code has no input yet) would surface there.
  for (const w of workers) w.on('error', () => {});
  const close = () => {
    for (const w of workers) void w.terminate();
  };
  const run = (paths: readonly string[], cached: Float64Array | undefined, deadline: number): PoolRun => {
    // Where each path starts in the joined text: a thread cuts out only the paths it takes.
    const starts = new Int32Array(new SharedArrayBuffer(4 * (paths.length + 1)));
    let at = 0;
    for (let i = 0; i < paths.length; i++) {
      starts[i] = at;
      at += (paths[i] as string).length + 1;
    }
    starts[paths.length] = at;
    const cache = (cached ?? cachedStats(paths.length)).buffer as SharedArrayBuffer;
    const hits = new SharedArrayBuffer(paths.length);
    const job: HashJob = {
      paths: `${paths.join('\0')}\0`,
      starts: starts.buffer as SharedArrayBuffer,
      cached: cache,
      hits,
      deadline,
    };
    const answers = workers.map(
      (w, worker) =>
        new Promise<HashAnswer>((resolve, reject) => {
          // Resolve on the answer, not on exit: a thread's teardown need not be waited for.
          w.once('message', (answer: HashAnswer) => {
            resolve(answer);
            void w.terminate();
          });
          w.once('error', reject);
          w.once('exit', (code) => reject(new Error(`hashing thread ${worker} exited (code ${code}) without results`)));
          w.postMessage(job);
        }),
    );
    return {
      results: Promise.all(answers).then((all) => collate(all, new Uint8Array(hits))),
      busy: () => Array.from(state.subarray(2)).filter((i) => i >= 0),
      stop: async () => {
        Atomics.store(state, 1, 1);
        await Promise.all(workers.map((w) => w.terminate()));
      },
    };
  };
  return { run, close };
}

function collate(answers: HashAnswer[], fromCache: Uint8Array): HashResults {
  const n = fromCache.length;
  const out: HashResults = {
    fromCache,
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
