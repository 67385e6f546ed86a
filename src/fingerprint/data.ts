/**
 * Data fingerprints: SHA-256 of the full content of every file under the config's `data:` entries,
 * as a flat manifest keyed by POSIX path relative to the root.
 *
 * Walk rules:
 * - Folders are walked recursively; names are visited in byte order and the manifest's keys are
 *   sorted by byte order of the full path, so the result never depends on the file system.
 * - Symlinks are followed, to files and to folders, and recorded under the link's own path with the
 *   target's content (a data folder that links to `/mnt/datasets/...` is fingerprinted, not skipped).
 *   A link back to a folder that is already being walked (a cycle) is skipped.
 * - A broken symlink is an error: training could not read it either, and silently skipping it would
 *   hide exactly the kind of drift this gate exists to catch.
 * - The kernel's files are never read: anything that resolves under /proc, /sys or /dev or onto a
 *   pseudo-file system (reading /proc/self/environ would hash the gate's own secrets; /dev/zero never
 *   ends), and FIFOs, sockets and devices inside folders, are skipped with a warning. Listing a FIFO,
 *   socket or device directly in `data:` is an error.
 * - An entry must stay inside the root lexically (`../x` or an outside absolute path is an error);
 *   symlink targets may live anywhere else, since it is their content that is hashed.
 * - The whole fingerprint has a time limit (`timeLimitMs`, 30 minutes by default), and a file that
 *   changes while it is hashed (size, mtime or inode) is hashed again once, then refused.
 * - Folders are listed, and files statted and hashed, on worker threads (walk.ts, hash-pool.ts); the
 *   manifest does not depend on how many. With a stat cache (stat-cache.ts), a file whose stat
 *   tuple (taken by the walk) is unchanged is not read.
 */
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DataFingerprint, FileEntry } from '../schema/baseline.js';
import { entrySha256 } from '../schema/stat-cache.js';
import { sortBytesBy } from '../util/bytes.js';
import { formatDuration } from '../util/duration.js';
import { GateError } from '../util/errors.js';
import { pseudoLocationReason } from '../util/files.js';
import { plural } from '../util/format.js';
import { stderrLogger } from '../util/logger.js';
import { toPosix } from '../util/paths.js';
import { lfsTracked } from './git.js';
import { type HashFailure, type HashPool, startPool } from './hash-pool.js';
import { type LfsPointer, parseLfsPointer, refuseLfsPointers } from './lfs.js';
import { resolveEntry } from './paths.js';
import { entryNumbers, loadStatCache, saveStatCache, usableCount } from './stat-cache.js';
import { type FolderNode, type FolderTask, type Found, readOut, type WalkRules, walkFolders } from './walk.js';

/** Generous: hashing runs at hundreds of MB/s, so this is terabytes, or a stalled network mount. */
const DEFAULT_TIME_LIMIT_MS = 30 * 60_000;

export interface DataFingerprintOptions {
  /** Where skipped files are reported (one line each); default: stderr. */
  warn?: (message: string) => void;
  /** The longest the whole fingerprint may take; default 30 minutes. */
  timeLimitMs?: number;
  /** Entries that are absolute paths outside `root` by declaration (`external: true`). */
  external?: ReadonlySet<string>;
  /** The stat cache file (`.repro-gate/cache/stat`); none: every file is read. */
  statCache?: string;
  /**
   * git-LFS pointers (files LFS manages, not checked out): `pointer` (default) fingerprints them by
   * the oid they name; `require-content` refuses them, for verbs whose training will read the files.
   */
  lfs?: 'pointer' | 'require-content';
  /** At most this many hashing threads (default: one per core); the benchmark measures one core with 1. */
  threads?: number;
  /** Told how many files were read and how many the stat cache answered. */
  counts?: (counts: HashCounts) => void;
}

/** Statted as the walk's threads stat: size, mtimeMs, inode, ctimeMs. */
const statsOf = (st: Stats) => Float64Array.of(st.size, st.mtimeMs, st.ino, st.ctimeMs);

/**
 * Collects the files under `entries`, walking folders on the pool's threads (walk.ts); a missing
 * entry or a FIFO listed directly is an error (unless `rules.tolerant`). Files reached through a
 * symlink that resolve to the kernel's are left out with a warning (one statfs per file system).
 */
async function collect(
  pool: HashPool,
  rules: WalkRules,
  warn: (message: string) => void,
  entries: string[],
  root: string,
  external: ReadonlySet<string> = new Set(),
): Promise<Found[]> {
  const top: FolderNode = { items: [] };
  const folders: FolderTask[] = [];
  for (const entry of entries) {
    // An external entry (a mounted volume) is an absolute path, kept as its own manifest key.
    const { abs, rel } = external.has(entry)
      ? { abs: path.resolve(entry), rel: toPosix(path.resolve(entry)) }
      : resolveEntry(root, entry, 'data');
    rules.checkTime(() => `looking up data: entry "${entry}"`);
    const st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ELOOP') return undefined;
      throw new GateError(`Cannot access data path ${entry} (${err.code ?? err}).`, 'Check its permissions.');
    });
    if (!st) {
      if (rules.tolerant) continue;
      if (external.has(entry))
        throw new GateError(
          `External data path "${entry}" listed in data: (external: true) does not exist.`,
          'Mount the volume that holds it before running the gate (in CI: a step before this one), or fix the path in repro-gate.yml.',
        );
      throw new GateError(
        `Data path "${entry}" listed in data: does not exist (looked for ${abs}).`,
        `Fix the data: list in repro-gate.yml (paths are relative to ${path.resolve(root)}), or create the file.`,
      );
    }
    if (!st.isFile() && !st.isDirectory()) {
      if (rules.tolerant) continue;
      throw new GateError(
        `Data path "${entry}" is not a regular file or folder.`,
        'List files or folders in data: in repro-gate.yml.',
      );
    }
    // The entry itself may be (or sit under) a symlink: where does it really lead?
    const real = await realpath(abs);
    const viaLink = real !== path.resolve(abs);
    if (viaLink && st.isDirectory()) {
      const reason = await pseudoLocationReason(real, st);
      if (reason) {
        warn(`Data folder ${rel || '.'} ${reason}; skipped (the kernel's files are not data).`);
        continue;
      }
    }
    if (st.isFile()) top.items.push({ rel, abs, entry, viaLink, stats: statsOf(st), at: 0 });
    else {
      const node: FolderNode = { items: [] };
      top.items.push(node);
      folders.push({ abs, rel, entry, viaLink, ancestors: [`${st.dev}:${st.ino}`], node });
    }
  }
  await walkFolders(pool, folders, rules);
  const found = readOut(top.items, warn);
  if (!found.some((f) => f.viaLink)) return found;
  const kept: Found[] = [];
  for (const f of found) {
    if (f.viaLink) {
      rules.checkTime(() => `looking up ${f.rel} (data: entry "${f.entry}")`);
      const real = await realpath(f.abs).catch((err: unknown) => {
        if (rules.tolerant) return undefined; // gone since the walk: not in the snapshot
        throw err;
      });
      if (!real) continue;
      const reason = await pseudoLocationReason(real, await stat(real));
      if (reason) {
        warn(`Data file ${f.rel} ${reason}; skipped (the kernel's files are not data).`);
        continue;
      }
    }
    kept.push(f);
  }
  return kept;
}

/**
 * The files in manifest order (byte order of `rel`), each once: a file listed by two entries keeps
 * the later one, as a map keyed by path would. One entry cannot list a file twice.
 */
function manifestOrder(found: Found[], entries: number): Found[] {
  let unique = found;
  if (entries > 1) {
    const byRel = new Map<string, Found>();
    for (const f of found) byRel.set(f.rel, f);
    unique = [...byRel.values()];
  }
  return sortBytesBy(unique, (f) => f.rel);
}

/** Whether the stats at a[i..i + 4) and b[j..j + 4) (size, mtimeMs, inode, ctimeMs) are the same; NaN never is. */
function sameStat(a: Float64Array, i: number, b: Float64Array, j: number): boolean {
  return a[i] === b[j] && a[i + 1] === b[j + 1] && a[i + 2] === b[j + 2] && a[i + 3] === b[j + 3];
}

/**
 * The stat cache's entries for `list`: each file's stat as the walk took it, before the read. A file
 * that changed between the walk and the read is cached under its old stat, so it is read again next
 * time: an earlier stat can only cost a re-read, never answer for newer content.
 */
function cacheEntries(list: readonly Found[], sha256: readonly string[], pointers: ReadonlyMap<number, string>) {
  const paths: string[] = [];
  const shas: string[] = [];
  const stats = new Float64Array(4 * list.length);
  for (const [i, f] of list.entries()) {
    const at = 4 * f.at;
    if (pointers.has(i) || Number.isNaN(f.stats[at])) continue; // a file the walk could not stat is not remembered
    stats.set(f.stats.subarray(at, at + 4), 4 * paths.length);
    paths.push(f.abs);
    shas.push(sha256[i] as string);
  }
  return { paths, sha256: shas.join(''), stats: stats.subarray(0, 4 * paths.length) };
}

/** What a fingerprint did: files read and hashed, and files the stat cache answered. */
export interface HashCounts {
  hashed: number;
  fromCache: number;
}

/** The files (manifest key → pointer) that are git-LFS pointers of files git-LFS manages. */
async function lfsPointers(
  root: string,
  texts: ReadonlyMap<number, string>,
  list: readonly Found[],
): Promise<Map<string, LfsPointer>> {
  const candidates = new Map<string, LfsPointer>();
  for (const [i, text] of texts) {
    const pointer = parseLfsPointer(text);
    if (pointer) candidates.set(list[i]?.rel as string, pointer);
  }
  if (!candidates.size) return candidates;
  // A file that merely looks like a pointer is data like any other: git must say LFS manages it.
  const tracked = await lfsTracked(root, [...candidates.keys()]);
  return new Map([...candidates].filter(([rel]) => tracked.has(rel)));
}

/** Turns a thread's failure into the one message for the user. */
function failureError(failure: HashFailure, rel: string, what: string, limit: number): GateError {
  if (failure.kind === 'timeout') return timeUpError(limit, `hashing ${what}`);
  if (failure.kind === 'changed')
    return new GateError(
      `Data file ${rel} changed while it was being fingerprinted (twice in a row), so its hash would not match any one version of it.`,
      'Something is still writing to it (a download, a running job): fingerprint it once it is complete, or leave it out of data: in repro-gate.yml.',
    );
  return new GateError(
    `Cannot read data file ${rel} (${failure.code}).`,
    'Check that the file exists and is readable by the runner.',
  );
}

function timeUpError(limit: number, what: string): GateError {
  return new GateError(
    `Fingerprinting data took longer than ${formatDuration(limit)}; stopped while ${what}.`,
    'A data file may be on a stalled network mount, or too large to hash on every run: narrow data: in repro-gate.yml (a checksum file of a large dataset is data too).',
  );
}

/**
 * Fingerprints the `data:` entries (files or folders, relative to `root`). Files skipped as not
 * data (the kernel's, FIFOs, …) are reported through `opts.warn` and left out of the manifest.
 * Files are hashed on worker threads (hash-pool.ts); with `opts.statCache`, files whose stat tuple
 * is unchanged since the last fingerprint are not read (stat-cache.ts).
 */
export async function fingerprintData(
  entries: string[],
  root: string,
  opts: DataFingerprintOptions = {},
): Promise<DataFingerprint> {
  const warn = opts.warn ?? ((m: string) => stderrLogger.warn(m));
  const limit = opts.timeLimitMs ?? DEFAULT_TIME_LIMIT_MS;
  const deadline = Date.now() + limit;
  let doing = () => 'starting';
  const checkTime = (what: () => string) => {
    doing = what;
    if (Date.now() > deadline) throw timeUpError(limit, what());
  };
  let list: Found[] = [];
  const todo: number[] = [];
  let hashing = false;

  // Started now, so the threads' start-up overlaps the entries' lookup; the cache loads during the walk.
  const pool = startPool(opts.threads);
  const statCache = opts.statCache;
  const loading = statCache ? loadStatCache(statCache, warn) : undefined;
  loading?.catch(() => {}); // awaited below; the walk may fail first
  const work = (async () => {
    const found = await collect(pool, { checkTime, tolerant: false }, warn, entries, root, opts.external);
    list = manifestOrder(found, entries.length);
    const cache = await loading;
    // A file whose stat, taken by the walk, matches its cache entry is not read.
    const entryOf = cache?.entries.paths.length
      ? entryNumbers(
          cache.entries,
          list.map((f) => f.abs),
        )
      : undefined;
    const hit = new Uint8Array(list.length);
    for (let i = 0; i < list.length; i++) {
      const k = entryOf ? (entryOf[i] as number) : -1;
      const f = list[i] as Found;
      if (k >= 0 && cache && sameStat(f.stats, 4 * f.at, cache.entries.stats, 4 * k)) hit[i] = 1;
      else todo.push(i);
    }
    if (todo.length) {
      const { rel, entry } = list[todo[0] as number] as Found;
      const others = todo.length > 1 ? ` and ${plural(todo.length - 1, 'other file')}` : '';
      checkTime(() => `hashing ${rel} (data: entry "${entry}")${others}`);
    }
    hashing = true;
    const hashed = await pool.hash(
      todo.map((i) => (list[i] as Found).abs),
      deadline,
    );
    if (hashed.failure) {
      const bad = list[todo[hashed.failure.i] as number] as Found;
      throw failureError(hashed.failure, bad.rel, `${bad.rel} (data: entry "${bad.entry}")`, limit);
    }
    return { hashed, cache, entryOf, hit };
  })();

  // A call that never returns (a stalled mount) cannot check the clock itself: race it.
  let timer: NodeJS.Timeout | undefined;
  const clock = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const busy = (hashing ? pool.busy() : []).map((j) => {
          const f = list[todo[j] as number] as Found;
          return `${f.rel} (data: entry "${f.entry}")`;
        });
        void pool.stop();
        reject(timeUpError(limit, busy.length ? `hashing ${busy.join(', ')}` : doing()));
      },
      Math.min(limit, 2 ** 31 - 1),
    ); // setTimeout fires at once beyond 2^31 − 1 ms
  });
  let done: Awaited<typeof work>;
  try {
    done = await Promise.race([work, clock]);
  } finally {
    clearTimeout(timer);
    pool.close(); // done already, or nothing to hash, or something failed
  }
  const { hashed, cache, entryOf, hit } = done;
  // By manifest index: hashed files from the threads' answers, the others from their cache entries.
  const sha256 = new Array<string>(list.length);
  const size = new Array<number>(list.length);
  const texts = new Map<number, string>();
  for (const [j, i] of todo.entries()) {
    sha256[i] = hashed.sha256[j] as string;
    size[i] = hashed.size[j] as number;
    const text = hashed.pointers.get(j);
    if (text !== undefined) texts.set(i, text);
  }
  if (cache && entryOf) {
    for (let i = 0; i < list.length; i++) {
      if (!hit[i]) continue;
      const k = entryOf[i] as number;
      sha256[i] = entrySha256(cache.entries, k);
      size[i] = cache.entries.stats[4 * k] as number;
    }
  }
  const fromCache = list.length - todo.length;
  const pointers = await lfsPointers(root, texts, list);
  const files = list.map(({ rel }, i): [string, FileEntry] => {
    const pointer = pointers.size ? pointers.get(rel) : undefined;
    return [
      rel,
      pointer ? { sha256: pointer.oid, size: pointer.size } : { sha256: sha256[i] as string, size: size[i] as number },
    ];
  });
  if (opts.lfs === 'require-content') await refuseLfsPointers(root, pointers);
  opts.counts?.({ hashed: todo.length, fromCache });
  // Pointer files are never cached: they are tiny, and must be recognised as pointers each time.
  const cacheable = list.length - texts.size;
  if (statCache && cache && (cache.stale || fromCache !== cacheable || usableCount(cache.entries) !== cacheable))
    await saveStatCache(statCache, cacheEntries(list, sha256, texts));
  // fromEntries (not assignment) so even a file named `__proto__` becomes a key.
  return { files: Object.fromEntries(files) };
}

/**
 * A cheap snapshot of the files under `entries` (no hashing): POSIX path → "size:mtimeMs:ino:ctimeMs".
 * Taken before and after training, `changedSince` (drift/data.ts) tells whether the training
 * modified its own data. Missing entries, broken links and the kernel's files are simply absent.
 */
export async function statSnapshot(
  entries: string[],
  root: string,
  external?: ReadonlySet<string>,
): Promise<Map<string, string>> {
  const pool = startPool();
  let found: Found[];
  try {
    found = await collect(pool, { checkTime: () => {}, tolerant: true }, () => {}, entries, root, external);
  } finally {
    pool.close();
  }
  const snapshot = new Map<string, string>();
  for (const { rel, stats, at } of manifestOrder(found, entries.length)) {
    if (Number.isNaN(stats[4 * at])) continue; // gone, or no longer a regular file
    snapshot.set(rel, `${stats[4 * at]}:${stats[4 * at + 1]}:${stats[4 * at + 2]}:${stats[4 * at + 3]}`);
  }
  return snapshot;
}
