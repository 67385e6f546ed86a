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
 * Per file the worker answers one result row (see `HashRow`). A file whose stat tuple matches the
 * stat-cache entry it was given is not read. A file that changes while it is read (size, mtime or
 * inode differ after the read) is read once more, then reported as changing.
 */

/** One file to hash: where it is, and what the stat cache remembers of it (if anything). */
export interface HashItem {
  abs: string;
  /** [size, mtimeNs, ino, ctimeNs, sha256] from the stat cache; reused if the file's stat matches. */
  cached?: readonly [string, string, string, string, string];
}

/**
 * A worker's answer for item `i`:
 * - `ok`: sha256, size, the stat tuple [size, mtimeNs, ino, ctimeNs] to cache, whether the cache
 *   answered, and the file's text when it is small enough to be a git-LFS pointer and starts like one;
 * - `changed`: it changed while read, twice; `error`: an errno code; `timeout`: the deadline passed.
 */
export type HashRow =
  | {
      i: number;
      kind: 'ok';
      sha256: string;
      size: number;
      stat: [string, string, string, string];
      fromCache: boolean;
      lfsPointer?: string;
    }
  | { i: number; kind: 'changed' | 'timeout' }
  | { i: number; kind: 'error'; code: string };

export interface HashJob {
  items: HashItem[];
  /** Int32Array over a SharedArrayBuffer: [0] next index to take, [1] stop flag, [2 + w] item worker w is on (−1 idle). */
  shared: SharedArrayBuffer;
  worker: number;
  /** Epoch ms after which a worker stops between chunks. */
  deadline: number;
}

/** Git-LFS pointer files are at most this big (the spec's limit) and start with this line. */
const LFS_POINTER_MAX = 1024;
const LFS_VERSION_LINE = 'version https://git-lfs.github.com/spec/v1\n';

export const HASH_WORKER_SOURCE = `
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const CHUNK = 1 << 20;
const LFS_MAX = ${LFS_POINTER_MAX};
const LFS_HEAD = ${JSON.stringify(LFS_VERSION_LINE)};
const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK; // a file swapped for a FIFO cannot block the open
const buf = Buffer.allocUnsafe(CHUNK);

const { items, shared, worker, deadline } = workerData;
const state = new Int32Array(shared);
const sameVersion = (a, b) => a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino;
const tuple = (st) => [String(st.size), String(st.mtimeNs), String(st.ino), String(st.ctimeNs)];

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

function hashItem(i, item) {
  if (item.cached) {
    const st = fs.statSync(item.abs, { bigint: true, throwIfNoEntry: false });
    if (st && st.isFile()) {
      const t = tuple(st);
      const c = item.cached;
      if (t[0] === c[0] && t[1] === c[1] && t[2] === c[2] && t[3] === c[3]) {
        return { i, kind: 'ok', sha256: c[4], size: Number(st.size), stat: t, fromCache: true };
      }
    }
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = hashOnce(item.abs);
    if (r === 'timeout') return { i, kind: 'timeout' };
    if (r) {
      const row = { i, kind: 'ok', sha256: r.sha256, size: r.size, stat: r.stat, fromCache: false };
      if (r.pointer !== undefined) row.lfsPointer = r.pointer;
      return row;
    }
  }
  return { i, kind: 'changed' };
}

const rows = [];
for (;;) {
  if (Atomics.load(state, 1) !== 0) break;
  const i = Atomics.add(state, 0, 1);
  if (i >= items.length) break;
  Atomics.store(state, 2 + worker, i);
  let row;
  try {
    row = hashItem(i, items[i]);
  } catch (err) {
    row = { i, kind: 'error', code: (err && err.code) || String(err) };
  }
  rows.push(row);
  if (row.kind !== 'ok') Atomics.store(state, 1, 1); // stop everyone: the gate fails on this file
}
Atomics.store(state, 2 + worker, -1);
parentPort.postMessage(rows);
`;
