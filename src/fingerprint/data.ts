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
 * - Files are hashed on worker threads (hash-pool.ts); the manifest does not depend on how many.
 *   With a stat cache (stat-cache.ts), a file whose stat tuple is unchanged is not read.
 */
import type { BigIntStats, Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DataFingerprint, FileEntry } from '../schema/baseline.js';
import { entrySha256, statCacheLine } from '../schema/stat-cache.js';
import { sortBytesBy } from '../util/bytes.js';
import { formatDuration } from '../util/duration.js';
import { GateError } from '../util/errors.js';
import { pseudoLocationReason } from '../util/files.js';
import { plural } from '../util/format.js';
import { stderrLogger } from '../util/logger.js';
import { toPosix } from '../util/paths.js';
import { lfsTracked } from './git.js';
import { type HashFailure, type PoolRun, startPool } from './hash-pool.js';
import { type LfsPointer, parseLfsPointer, refuseLfsPointers } from './lfs.js';
import { resolveEntry } from './paths.js';
import { entryNumbers, loadStatCache, saveStatCache, usableCount } from './stat-cache.js';

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

/** A file to hash: where it is, which `data:` entry listed it, and whether a symlink led to it. */
interface Found {
  /** The manifest key: POSIX path relative to the root (absolute for an external entry). */
  rel: string;
  abs: string;
  entry: string;
  viaLink: boolean;
}

interface WalkContext {
  /** In walk order; a file listed twice (by overlapping entries) appears twice. */
  out: Found[];
  warn: (message: string) => void;
  /** Throws once the time limit has passed; names what was being done. */
  checkTime: (doing: () => string) => void;
  /** statSnapshot: a broken link is simply not there (the fingerprint reports it). */
  tolerant: boolean;
}

function join(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}

const direntName = (d: { name: string }) => d.name;

/** Collects regular files under one walked folder. */
async function walk(
  ctx: WalkContext,
  abs: string,
  rel: string,
  entry: string,
  viaLink: boolean,
  ancestors: Set<string>,
): Promise<void> {
  ctx.checkTime(() => `walking ${rel || '.'} (data: entry "${entry}")`);
  const dirents = await readdir(abs, { withFileTypes: true });
  for (const d of sortBytesBy(dirents, direntName)) {
    const { name } = d;
    const childAbs = abs.endsWith('/') ? `${abs}${name}` : `${abs}/${name}`; // abs is already normalised: no path.join per file
    const childRel = join(rel, name);
    const isLink = d.isSymbolicLink();
    let st: Stats | undefined;
    if (isLink) {
      st = await stat(childAbs).catch(() => undefined);
      if (!st) {
        if (ctx.tolerant) continue;
        throw new GateError(
          `Data file ${childRel} is a broken symlink.`,
          'Restore its target (e.g. pull the data), remove the link, or narrow data: in repro-gate.yml.',
        );
      }
    }
    const linked = viaLink || isLink;
    if (st ? st.isFile() : d.isFile()) {
      ctx.out.push({ rel: childRel, abs: childAbs, entry, viaLink: linked });
    } else if (st ? st.isDirectory() : d.isDirectory()) {
      const s = st ?? (await stat(childAbs));
      const id = `${s.dev}:${s.ino}`;
      if (ancestors.has(id)) continue; // a symlink cycle back to a folder already on the path
      if (linked) {
        const reason = await pseudoLocationReason(await realpath(childAbs), s);
        if (reason) {
          ctx.warn(`Data folder ${childRel} ${reason}; skipped (the kernel's files are not data).`);
          continue;
        }
      }
      ancestors.add(id);
      await walk(ctx, childAbs, childRel, entry, linked, ancestors);
      ancestors.delete(id);
    } else {
      // FIFOs, sockets and devices: not data, and reading a FIFO would block forever.
      ctx.warn(`Data path ${childRel} is not a regular file (a FIFO, socket or device); skipped.`);
    }
  }
}

/** Collects the files under `entries`; a missing entry or a FIFO listed directly is an error. */
async function collect(
  ctx: WalkContext,
  entries: string[],
  root: string,
  external: ReadonlySet<string> = new Set(),
): Promise<void> {
  for (const entry of entries) {
    // An external entry (a mounted volume) is an absolute path, kept as its own manifest key.
    const { abs, rel } = external.has(entry)
      ? { abs: path.resolve(entry), rel: toPosix(path.resolve(entry)) }
      : resolveEntry(root, entry, 'data');
    ctx.checkTime(() => `looking up data: entry "${entry}"`);
    const st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ELOOP') return undefined;
      throw new GateError(`Cannot access data path ${entry} (${err.code ?? err}).`, 'Check its permissions.');
    });
    if (!st) {
      if (ctx.tolerant) continue;
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
      if (ctx.tolerant) continue;
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
        ctx.warn(`Data folder ${rel || '.'} ${reason}; skipped (the kernel's files are not data).`);
        continue;
      }
    }
    if (st.isFile()) ctx.out.push({ rel, abs, entry, viaLink });
    else await walk(ctx, abs, rel, entry, viaLink, new Set([`${st.dev}:${st.ino}`]));
  }
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

/** size, mtime (ns) and inode: what changes when a file is written or replaced. */
function version(st: BigIntStats): string {
  return `${st.size}:${st.mtimeNs}:${st.ino}`;
}

/** Whether the stats at a[i..i + 4) and b[j..j + 4) (size, mtimeMs, inode, ctimeMs) are the same; NaN never is. */
function sameStat(a: Float64Array, i: number, b: Float64Array, j: number): boolean {
  return a[i] === b[j] && a[i + 1] === b[j + 1] && a[i + 2] === b[j + 2] && a[i + 3] === b[j + 3];
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
  let pool: PoolRun | undefined;
  let list: Found[] = [];

  // Started now, so the threads' start-up overlaps the walk and the cache's load.
  const threads = startPool(opts.threads);
  const work = (async () => {
    const found: Found[] = [];
    await collect({ out: found, warn, checkTime, tolerant: false }, entries, root, opts.external);
    // Files reached through a symlink may be the kernel's: skip those (one statfs per file system).
    let kept = found;
    if (found.some((f) => f.viaLink)) {
      kept = [];
      for (const f of found) {
        if (f.viaLink) {
          checkTime(() => `looking up ${f.rel} (data: entry "${f.entry}")`);
          const real = await realpath(f.abs);
          const reason = await pseudoLocationReason(real, await stat(real));
          if (reason) {
            warn(`Data file ${f.rel} ${reason}; skipped (the kernel's files are not data).`);
            continue;
          }
        }
        kept.push(f);
      }
    }
    list = manifestOrder(kept, entries.length);
    const statCache = opts.statCache;
    if (!list.length) {
      const cache = statCache ? await loadStatCache(statCache, warn) : undefined;
      return { results: undefined, cache, entryOf: undefined, fromCache: undefined };
    }
    const { rel, entry } = list[0] as Found;
    const others = list.length > 1 ? ` and ${plural(list.length - 1, 'other file')}` : '';
    checkTime(() => `hashing ${rel} (data: entry "${entry}")${others}`);
    const paths = list.map((x) => x.abs);
    pool = threads.run(paths, deadline);
    // With a cache to compare against, the threads stat every file while this thread loads it.
    const hasCache = statCache !== undefined && (await lstat(statCache).catch(() => undefined)) !== undefined;
    const [now, cache] =
      statCache && hasCache
        ? await Promise.all([pool.stat(), loadStatCache(statCache, warn)])
        : [undefined, statCache ? await loadStatCache(statCache, warn) : undefined];
    const entryOf = now && cache?.entries.paths.length ? entryNumbers(cache.entries, paths) : undefined;
    const fromCache = new Uint8Array(paths.length);
    const todo: number[] = [];
    for (let i = 0; i < paths.length; i++) {
      const k = entryOf ? (entryOf[i] as number) : -1;
      if (k >= 0 && now && cache && sameStat(now, 4 * i, cache.entries.stats, 4 * k)) fromCache[i] = 1;
      else todo.push(i);
    }
    const results = await pool.hash(todo);
    if (results.failure) {
      const bad = list[results.failure.i] as Found;
      throw failureError(results.failure, bad.rel, `${bad.rel} (data: entry "${bad.entry}")`, limit);
    }
    return { results, cache, entryOf, fromCache };
  })();

  // A read that never returns (a stalled mount) cannot check the clock itself: race it.
  let timer: NodeJS.Timeout | undefined;
  const clock = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const busy = (pool?.busy() ?? []).map((i) => {
          const f = list[i] as Found;
          return `${f.rel} (data: entry "${f.entry}")`;
        });
        void pool?.stop();
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
    threads.close(); // done already, or nothing to hash, or something failed
  }
  const { results: r, cache, entryOf, fromCache: hit } = done;
  if (!r) {
    if (opts.statCache && cache?.entries.paths.length) await saveStatCache(opts.statCache, []);
    opts.counts?.({ hashed: 0, fromCache: 0 });
    return { files: {} };
  }
  // Files the cache answered take their hash and size from their entry.
  let fromCache = 0;
  if (cache && entryOf && hit) {
    for (let i = 0; i < list.length; i++) {
      if (!hit[i]) continue;
      const k = entryOf[i] as number;
      r.sha256[i] = entrySha256(cache.entries, k);
      r.size[i] = cache.entries.stats[4 * k] as number;
      fromCache++;
    }
  }
  const pointers = await lfsPointers(root, r.pointers, list);
  const files = list.map(({ rel }, i): [string, FileEntry] => {
    const pointer = pointers.size ? pointers.get(rel) : undefined;
    return [
      rel,
      pointer
        ? { sha256: pointer.oid, size: pointer.size }
        : { sha256: r.sha256[i] as string, size: r.size[i] as number },
    ];
  });
  if (opts.lfs === 'require-content') await refuseLfsPointers(root, pointers);
  opts.counts?.({ hashed: list.length - fromCache, fromCache });
  // Pointer files are never cached: they are tiny, and must be recognised as pointers each time.
  const cacheable = list.length - r.pointers.size;
  if (opts.statCache && cache && (cache.stale || fromCache !== cacheable || usableCount(cache.entries) !== cacheable)) {
    const { stats } = cache.entries;
    const lines: string[] = [];
    for (const [i, f] of list.entries()) {
      if (r.pointers.has(i) || /[\t\n]/.test(f.abs)) continue; // a line cannot hold a tab or newline
      const k = hit?.[i] ? (entryOf?.[i] as number) : -1;
      const stat = k < 0 ? (r.stat[i] as string) : stats.subarray(4 * k, 4 * k + 4).join(' ');
      lines.push(statCacheLine(f.abs, stat, r.sha256[i] as string));
    }
    await saveStatCache(opts.statCache, lines);
  }
  // fromEntries (not assignment) so even a file named `__proto__` becomes a key.
  return { files: Object.fromEntries(files) };
}

/**
 * A cheap snapshot of the files under `entries` (no hashing): POSIX path → "size:mtimeNs:ino".
 * Taken before and after training, `changedSince` (drift/data.ts) tells whether the training
 * modified its own data. Missing entries, broken links and the kernel's files are simply absent.
 */
export async function statSnapshot(
  entries: string[],
  root: string,
  external?: ReadonlySet<string>,
): Promise<Map<string, string>> {
  const found: Found[] = [];
  await collect({ out: found, warn: () => {}, checkTime: () => {}, tolerant: true }, entries, root, external);
  const snapshot = new Map<string, string>();
  for (const f of manifestOrder(found, entries.length)) {
    const st = await stat(f.abs, { bigint: true }).catch(() => undefined);
    if (!st?.isFile()) continue;
    if (f.viaLink && (await pseudoLocationReason(await realpath(f.abs), await stat(f.abs)))) continue;
    snapshot.set(f.rel, version(st));
  }
  return snapshot;
}
