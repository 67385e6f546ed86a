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
 * Per file the worker answers one line (see `HashAnswer`). A file whose stat tuple matches the
 * stat-cache entry it was given is not read. A file that changes while it is read (size, mtime or
 * inode differ after the read) is read once more, then reported as changing.
 */

/**
 * What every thread gets. Paths and cache entries travel as one NUL-joined string each: copying a
 * single string to a thread is a memcpy, where 10⁵ small objects would each be cloned.
 */
export interface HashJob {
  /** Absolute paths, NUL-joined. */
  paths: string;
  /** Per path, NUL-joined: the stat-cache entry "size:mtimeNs:ino:ctimeNs:sha256", or "" for none. */
  cached: string;
  /** Int32Array over a SharedArrayBuffer: [0] next index to take, [1] stop flag, [2 + w] item worker w is on (−1 idle). */
  shared: SharedArrayBuffer;
  worker: number;
  /** Epoch ms after which a worker stops between chunks. */
  deadline: number;
}

/**
 * A thread's answer: one line per file it took, `i\tsha256\tsize\tstat\tfromCache` (stat as
 * "size:mtimeNs:ino:ctimeNs", fromCache 0 or 1), or `i\t!kind\tcode` for a file it could not hash
 * (kind: changed, error, timeout); and the text of files that start like a git-LFS pointer.
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

const { shared, worker, deadline } = workerData;
const paths = workerData.paths.split('\0');
const cached = workerData.cached.split('\0');
const state = new Int32Array(shared);
const sameVersion = (a, b) => a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino;
const tuple = (st) => st.size + ':' + st.mtimeNs + ':' + st.ino + ':' + st.ctimeNs;

function hashOnce(abs) {
  const fd = fs.openSync(abs, FLAGS);
  try {
    const before = fs.fstatSync(fd, { bigint: true });
    if (!before.isFile()) return undefined;
    const hash = createHash('sha256');
    let size = 0;
    let pointer;
    for (;;) {
      if (Date.now() > deadline) return 'timeout';
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      if (size === 0 && n <= LFS_MAX && BigInt(n) === before.size && buf.toString('latin1', 0, LFS_HEAD.length) === LFS_HEAD) {
        pointer = buf.toString('utf8', 0, n);
      }
      hash.update(buf.subarray(0, n)); // copied into the hash state, so buf can be reused
      size += n;
      // A short read that reached the size is the end: skip the read that would say so.
      if (n < CHUNK && BigInt(size) === before.size) break;
    }
    // Written to or replaced while read? One stat of the path tells both.
    const after = fs.statSync(abs, { bigint: true, throwIfNoEntry: false });
    if (!after || !sameVersion(after, before) || BigInt(size) !== before.size) return undefined;
    return { sha256: hash.digest('hex'), size, stat: tuple(before), pointer };
  } finally {
    fs.closeSync(fd);
  }
}

const lines = [];
const pointers = [];

/** Hashes item i; false when the gate must stop on it. */
function hashItem(i) {
  const abs = paths[i];
  const entry = cached[i];
  if (entry) {
    const st = fs.statSync(abs, { bigint: true, throwIfNoEntry: false });
    if (st && st.isFile()) {
      const t = tuple(st);
      if (entry.length === t.length + 65 && entry.startsWith(t + ':')) {
        lines.push(i + '\t' + entry.slice(t.length + 1) + '\t' + st.size + '\t' + t + '\t1');
        return true;
      }
    }
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = hashOnce(abs);
    if (r === 'timeout') {
      lines.push(i + '\t!timeout\t');
      return false;
    }
    if (r) {
      lines.push(i + '\t' + r.sha256 + '\t' + r.size + '\t' + r.stat + '\t0');
      if (r.pointer !== undefined) pointers.push([i, r.pointer]);
      return true;
    }
  }
  lines.push(i + '\t!changed\t');
  return false;
}

for (;;) {
  if (Atomics.load(state, 1) !== 0) break;
  const i = Atomics.add(state, 0, 1);
  if (i >= paths.length) break;
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
`;
