/**
 * The code each data thread runs, as source text started with `new Worker(code, {eval: true})`.
 * Text rather than a file path because the gate ships as single-file bundles (dist/cli.js,
 * dist/index.js): a separate worker file would have to be found next to whichever bundle runs, and
 * under vitest/tsx it would be TypeScript that a worker cannot load. Plain CommonJS, no imports of
 * the project's own modules, so it runs the same from the sources, the tests and the bundles.
 *
 * A thread answers three kinds of request, each with synchronous file calls (no event-loop round
 * trip per file; the main thread stays free to enforce the time limit even if a call hangs):
 * - walk: list folders, one level each, with one lstat per entry (see `WalkAnswer`). The main
 *   thread hands out the subfolders it is told about (walk.ts), so the walk spreads over the threads.
 * - classify: stat a chunk of the names of a folder too big for one request, as a walk would.
 * - hash: every thread gets the whole list of files to read and takes the next index from a shared
 *   counter (Atomics.add), so small and large files balance across threads with no per-file message
 *   or promise. Each hashed file is answered with one line (see `HashAnswer`). A file that changes
 *   while it is read (size, mtime or inode differ after the read) is read once more, then reported
 *   as changing.
 */

/** Hash request. Paths travel as one NUL-joined string: copying one string to a thread is a memcpy, where 10⁵ small objects would each be cloned. */
export interface HashRequest {
  /** Absolute paths, each followed by a NUL. */
  hash: string;
  /** Int32Array: where path i starts in `hash` at [i], and its end + 1 at [i + 1]. */
  starts: SharedArrayBuffer;
  /** Epoch ms after which a thread stops between chunks. */
  deadline: number;
}

/** Walk request: absolute folder paths, each followed by a NUL. */
export interface WalkRequest {
  walk: string;
}

/** Classify request: names in one folder (of a `%` answer), each followed by a NUL; answered as a `#` folder's children, in the order given. */
export interface ClassifyRequest {
  folder: string;
  classify: string;
}

/**
 * A walk's answer. `text` holds NUL-terminated tokens, folder after folder in the order asked:
 * - a header: `#<n>` (n children follow), `%<n>` (n bare names follow, in byte order: too many for
 *   one request; the main thread has them classified in chunks) or `!<errno code>` (the folder
 *   could not be listed);
 * - per child, in the byte order of its name (a folder's name with a `/` after it, so a depth-first
 *   walk visits files in the byte order of their full paths): `<kind><name>`, kind one of
 *   f (file), F (file reached through a symlink), d (folder), D (folder through a symlink),
 *   s (FIFO, socket or device), b (broken symlink); a folder's token is followed by `<dev>:<ino>`
 *   (empty if it could not be statted).
 * `stats` holds size, mtimeMs, inode, ctimeMs of each file child, in token order (NaN: not a
 * regular file any more, or not statable).
 */
export interface WalkAnswer {
  text: string;
  stats: Float64Array;
}

/** Folders with more entries than this are answered as bare names (`%`), for the main thread to share out. */
export const WALK_FOLDER_MAX = 4096;

/**
 * What a thread is started with. `shared` is an Int32Array: [0] next index to take while hashing,
 * [1] stop flag, [2 + w] item worker w is hashing (−1 idle).
 */
export interface HashThreadData {
  shared: SharedArrayBuffer;
  worker: number;
}

/**
 * A thread's answer to a hash request: one line per file it read, `i\tsha256\tsize`, or
 * `i\t!kind\tcode` for a file it could not hash (kind: changed, error, timeout); and the text of
 * files that start like a git-LFS pointer.
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
const FOLDER_MAX = ${WALK_FOLDER_MAX};
const FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK; // a file swapped for a FIFO cannot block the open
const buf = Buffer.allocUnsafe(CHUNK);

const { shared, worker } = workerData;
const state = new Int32Array(shared);
let deadline, paths, starts;
const sameVersion = (a, b) => a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino;
const tryStat = (p) => { try { return fs.statSync(p, { throwIfNoEntry: false }); } catch {} };
const tryLstat = (p) => { try { return fs.lstatSync(p, { throwIfNoEntry: false }); } catch {} };

// The stats of one answer, grown by doubling: no JS array of boxed numbers per file.
let nums = new Float64Array(4096);
let used = 0;
function pushStat(st) {
  if (used + 4 > nums.length) {
    const grown = new Float64Array(nums.length * 2);
    grown.set(nums);
    nums = grown;
  }
  const ok = st && st.isFile(); // else NaN: not a regular file any more (hashing says why)
  nums[used] = ok ? st.size : NaN;
  nums[used + 1] = ok ? st.mtimeMs : NaN;
  nums[used + 2] = ok ? st.ino : NaN;
  nums[used + 3] = ok ? st.ctimeMs : NaN;
  used += 4;
}
function answer(tokens) {
  tokens.push('');
  const stats = nums.slice(0, used);
  used = 0;
  parentPort.postMessage({ text: tokens.join('\0'), stats }, [stats.buffer]);
}

// Byte order of UTF-8, as util/bytes.ts sortBytesBy: UTF-16 order agrees below U+D800.
const BEYOND_BMP_ORDER = /[\uD800-\uFFFF]/;
function sortByKey(xs, key) {
  if (xs.some((x) => BEYOND_BMP_ORDER.test(key(x)))) {
    const bytes = new Map(xs.map((x) => [x, Buffer.from(key(x))]));
    return xs.sort((a, b) => Buffer.compare(bytes.get(a), bytes.get(b)));
  }
  return xs.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}
const nameOf = (x) => x;
const keyOf = (k) => (k.kind === 'd' || k.kind === 'D' ? k.name + '/' : k.name);

/** One lstat tells the kind (no Dirent objects); a symlink is followed, since its target is what training reads. */
function kidOf(base, name) {
  const p = base + name;
  let st = tryLstat(p);
  let kind;
  if (!st) kind = 'f'; // gone since listed: left unstatted, and hashing says what happened
  else if (st.isSymbolicLink()) {
    st = tryStat(p);
    kind = !st ? 'b' : st.isFile() ? 'F' : st.isDirectory() ? 'D' : 's';
  } else kind = st.isFile() ? 'f' : st.isDirectory() ? 'd' : 's';
  return { name, kind, st };
}
function emit(kid, tokens) {
  tokens.push(kid.kind + kid.name);
  if (kid.kind === 'f' || kid.kind === 'F') pushStat(kid.st);
  else if (kid.kind === 'd' || kid.kind === 'D') tokens.push(kid.st.dev + ':' + kid.st.ino);
}

/** Lists one folder into tokens (see WalkAnswer). */
function listFolder(abs, tokens) {
  let names;
  try {
    names = fs.readdirSync(abs);
  } catch (err) {
    tokens.push('!' + String((err && err.code) || err).replace(/\0/g, ' '));
    return;
  }
  if (names.length > FOLDER_MAX) {
    tokens.push('%' + names.length);
    for (const name of sortByKey(names, nameOf)) tokens.push(name);
    return;
  }
  const base = abs.endsWith('/') ? abs : abs + '/';
  const kids = sortByKey(names.map((name) => kidOf(base, name)), keyOf);
  tokens.push('#' + kids.length);
  for (const kid of kids) emit(kid, tokens);
}

function walk(folders) {
  const tokens = [];
  for (const abs of folders.split('\0')) if (abs !== '') listFolder(abs, tokens);
  answer(tokens);
}

function classify(folder, names) {
  const tokens = [];
  const base = folder.endsWith('/') ? folder : folder + '/';
  for (const name of names.split('\0')) if (name !== '') emit(kidOf(base, name), tokens);
  answer(tokens);
}

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
    return { sha256: hash.digest('hex'), size, pointer };
  } finally {
    fs.closeSync(fd);
  }
}

const pathAt = (i) => paths.slice(starts[i], starts[i + 1] - 1);

/** Hashes item i into lines/pointers; false when the gate must stop on it. */
function hashItem(i, lines, pointers) {
  const abs = pathAt(i);
  for (let attempt = 0; attempt < 2; attempt++) {
    const r = hashOnce(abs);
    if (r === 'timeout') {
      lines.push(i + '\t!timeout\t');
      return false;
    }
    if (r) {
      lines.push(i + '\t' + r.sha256 + '\t' + r.size);
      if (r.pointer !== undefined) pointers.push([i, r.pointer]);
      return true;
    }
  }
  lines.push(i + '\t!changed\t');
  return false;
}

function hashAll() {
  const lines = [];
  const pointers = [];
  const n = starts.length - 1;
  for (;;) {
    if (Atomics.load(state, 1) !== 0) break;
    const i = Atomics.add(state, 0, 1);
    if (i >= n) break;
    Atomics.store(state, 2 + worker, i);
    let ok;
    try {
      ok = hashItem(i, lines, pointers);
    } catch (err) {
      lines.push(i + '\t!error\t' + String((err && err.code) || err).replace(/[\t\n]/g, ' '));
      ok = false;
    }
    if (!ok) Atomics.store(state, 1, 1); // stop everyone: the gate fails on this file
  }
  Atomics.store(state, 2 + worker, -1);
  parentPort.postMessage({ lines: lines.join('\n'), pointers });
}

parentPort.on('message', (m) => {
  if (m.walk !== undefined) walk(m.walk);
  else if (m.classify !== undefined) classify(m.folder, m.classify);
  else {
    deadline = m.deadline;
    paths = m.hash;
    starts = new Int32Array(m.starts);
    hashAll();
  }
});
`;
