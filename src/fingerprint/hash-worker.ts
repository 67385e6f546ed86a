/**
 * The code each hashing thread runs, as source text started with `new Worker(code, {eval: true})`.
 * Text rather than a file path because the gate ships as single-file bundles (dist/cli.js,
 * dist/index.js): a separate worker file would have to be found next to whichever bundle runs, and
 * under vitest/tsx it would be TypeScript that a worker cannot load. Plain CommonJS, no imports of
 * the project's own modules, so it runs the same from the sources, the tests and the bundles.
 *
 * Work sharing: every worker gets the whole list of files and takes the next index from a shared
 * counter (Atomics.add), so small and large files balance across threads with no per-file message
 * or promise. Reads are synchronous inside the thread (one open/fstat/read/close, no event-loop round
 * trips); the main thread stays free to enforce the time limit even if a read hangs.
 *
 * A file whose stat (size, mtime, inode, ctime) equals the stat-cache entry it was given is not
 * read: the thread marks it in a shared byte array and answers nothing else for it, so a warm
 * re-check of 10⁵ files sends no per-file text back. Every other file is hashed and answered with
 * one line (see `HashAnswer`). A file that changes while it is read (size, mtime or inode differ
 * after the read) is read once more, then reported as changing.
 */

/**
 * What every thread gets. Paths travel as one NUL-joined string: copying a single string to a
 * thread is a memcpy, where 10⁵ small objects would each be cloned. The rest is shared memory.
 */
export interface HashJob {
  /** Absolute paths, each followed by a NUL. */
  paths: string;
  /** Int32Array: where path i starts in `paths` at [i], and its end + 1 at [i + 1]. */
  starts: SharedArrayBuffer;
  /** Float64Array: per path i, the stat-cache entry's size, mtimeMs, inode, ctimeMs at [4i, 4i + 4); NaN for none. */
  cached: SharedArrayBuffer;
  /** Uint8Array: set to 1 at i when the cache answered path i. */
  hits: SharedArrayBuffer;
  /** Epoch ms after which a worker stops between chunks. */
  deadline: number;
}

/**
 * What a thread is started with, before it has a job. `shared` is an Int32Array: [0] next index to
 * take, [1] stop flag, [2 + w] item worker w is on (−1 idle).
 */
export interface HashThreadData {
  shared: SharedArrayBuffer;
  worker: number;
}

/**
 * A thread's answer: one line per file it read, `i\tsha256\tsize\tstat` (stat as
 * "size mtimeMs ino ctimeMs", the stat-cache fields), or `i\t!kind\tcode` for a file it could not
 * hash (kind: changed, error, timeout); and the text of files that start like a git-LFS pointer.
 */
export interface HashAnswer {
  lines: string;
  pointers: Array<[number, string]>;
}

/** Git-LFS pointer files are at most this big (the spec's limit) and start with this line. */
const LFS_POINTER_MAX = 1024;
const LFS_VERSION_LINE = 'version https://git-lfs.github.com/spec/v1\n';

export const HASH_WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const CHUNK = 1 << 20;
const LFS_MAX = ${LFS_POINTER_MAX};
const LFS_HEAD = ${JSON.stringify(LFS_VERSION_LINE)};
const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK; // a file swapped for a FIFO cannot block the open
const buf = Buffer.allocUnsafe(CHUNK);

const { shared, worker } = workerData;
const state = new Int32Array(shared);
let deadline, paths, starts, cached, hits;
const sameVersion = (a, b) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
const tuple = (st) => st.size + ' ' + st.mtimeMs + ' ' + st.ino + ' ' + st.ctimeMs;

function hashOnce(abs) {
  const fd = fs.openSync(abs, FLAGS);
  try {
    const before = fs.fstatSync(fd);
    if (!before.isFile()) return undefined;
    const hash = createHash('sha256');
    let size = 0;
    let pointer;
    for (;;) {
      if (Date.now() > deadline) return 'timeout';
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      if (size === 0 && n <= LFS_MAX && n === before.size && buf.toString('latin1', 0, LFS_HEAD.length) === LFS_HEAD) {
        pointer = buf.toString('utf8', 0, n);
      }
      hash.update(buf.subarray(0, n)); // copied into the hash state, so buf can be reused
      size += n;
      // A short read that reached the size is the end: skip the read that would say so.
      if (n < CHUNK && size === before.size) break;
    }
    // Written to or replaced while read? One stat of the path tells both.
    const after = fs.statSync(abs, { throwIfNoEntry: false });
    if (!after || !sameVersion(after, before) || size !== before.size) return undefined;
    return { sha256: hash.digest('hex'), size, stat: tuple(before), pointer };
  } finally {
    fs.closeSync(fd);
  }
}

const lines = [];
const pointers = [];

/** Hashes item i; false when the gate must stop on it. */
function hashItem(i) {
  const abs = paths.slice(starts[i], starts[i + 1] - 1);
  const c = 4 * i;
  if (!Number.isNaN(cached[c])) { // NaN: no entry
    const st = fs.statSync(abs, { throwIfNoEntry: false });
    if (st && st.isFile() && st.size === cached[c] && st.mtimeMs === cached[c + 1] && st.ino === cached[c + 2] && st.ctimeMs === cached[c + 3]) {
      hits[i] = 1;
      return true;
    }
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = hashOnce(abs);
    if (r === 'timeout') {
      lines.push(i + '\t!timeout\t');
      return false;
    }
    if (r) {
      lines.push(i + '\t' + r.sha256 + '\t' + r.size + '\t' + r.stat);
      if (r.pointer !== undefined) pointers.push([i, r.pointer]);
      return true;
    }
  }
  lines.push(i + '\t!changed\t');
  return false;
}

function work() {
  const n = starts.length - 1;
  for (;;) {
    if (Atomics.load(state, 1) !== 0) break;
    const i = Atomics.add(state, 0, 1);
    if (i >= n) break;
    Atomics.store(state, 2 + worker, i);
    let ok;
    try {
      ok = hashItem(i);
    } catch (err) {
      lines.push(i + '\t!error\t' + String((err && err.code) || err).replace(/[\t\n]/g, ' '));
      ok = false;
    }
    if (!ok) Atomics.store(state, 1, 1); // stop everyone: the gate fails on this file
  }
  Atomics.store(state, 2 + worker, -1);
  parentPort.postMessage({ lines: lines.join('\n'), pointers });
}

parentPort.once('message', (job) => {
  deadline = job.deadline;
  paths = job.paths;
  starts = new Int32Array(job.starts);
  cached = new Float64Array(job.cached);
  hits = new Uint8Array(job.hits);
  work();
});
`;
