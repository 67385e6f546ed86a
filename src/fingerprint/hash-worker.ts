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
 * Two phases, each over the shared counter: with a stat cache, the threads first stat every path
 * (plain stats into shared memory: no per-file message or text) while the main thread loads the
 * cache; then they hash the files the main thread found changed. Each hashed file is answered
 * with one line (see `HashAnswer`). A file that changes while it is read (size, mtime or inode
 * differ after the read) is read once more, then reported as changing.
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
  /** Epoch ms after which a worker stops between chunks. */
  deadline: number;
}

/** Phase 1 (optional): Float64Array to fill with size, mtimeMs, inode, ctimeMs of path i at [4i, 4i + 4) (NaN-filled: left so for anything but a regular file). */
export interface StatPhase {
  stats: SharedArrayBuffer;
}

/** Phase 2: Int32Array of the indices to hash. */
export interface HashPhase {
  todo: SharedArrayBuffer;
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
let deadline, paths, starts;
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

const pathAt = (i) => paths.slice(starts[i], starts[i + 1] - 1);

/** Hashes item i; false when the gate must stop on it. */
function hashItem(i) {
  const abs = pathAt(i);
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

/** Calls fn(x) for each x of xs taken from the shared counter, until done or stopped. */
function share(xs, fn) {
  for (;;) {
    if (Atomics.load(state, 1) !== 0) break;
    const at = Atomics.add(state, 0, 1);
    if (at >= xs) break;
    Atomics.store(state, 2 + worker, at);
    fn(at);
  }
  Atomics.store(state, 2 + worker, -1);
}

function statAll(stats) {
  share(starts.length - 1, (i) => {
    let st;
    try {
      st = fs.statSync(pathAt(i), { throwIfNoEntry: false });
    } catch {} // unreadable: left NaN, so it is hashed, and the read says why
    if (!st || !st.isFile()) return;
    stats[4 * i] = st.size;
    stats[4 * i + 1] = st.mtimeMs;
    stats[4 * i + 2] = st.ino;
    stats[4 * i + 3] = st.ctimeMs;
  });
  parentPort.postMessage({ statted: true });
}

function hashAll(todo) {
  share(todo.length, (at) => {
    const i = todo[at];
    Atomics.store(state, 2 + worker, i);
    let ok;
    try {
      ok = hashItem(i);
    } catch (err) {
      lines.push(i + '\t!error\t' + String((err && err.code) || err).replace(/[\t\n]/g, ' '));
      ok = false;
    }
    if (!ok) Atomics.store(state, 1, 1); // stop everyone: the gate fails on this file
  });
  parentPort.postMessage({ lines: lines.join('\n'), pointers });
}

parentPort.on('message', (m) => {
  if (m.paths !== undefined) {
    deadline = m.deadline;
    paths = m.paths;
    starts = new Int32Array(m.starts);
  } else if (m.stats) statAll(new Float64Array(m.stats));
  else hashAll(new Int32Array(m.todo));
});
`;
