/**
 * The stat cache: (path, size, mtime, inode, ctime) → sha256, kept in `.repro-gate/cache/stat`.
 * A file whose stat tuple still matches is not read again. ctime is in the tuple because it cannot
 * be set from user space: an edit that keeps size and mtime (`touch -d`) afterwards still moves it.
 * Times are node's millisecond doubles (sub-microsecond precision): two versions of a file would
 * have to agree in size, inode, mtime and ctime to within that to be confused.
 *
 * Racy-git rule: a file modified in the same clock tick as the cache was written could change again
 * without its mtime moving, so an entry whose mtime is not older than the cache file's own mtime (the
 * write time, on the same file system clock) is not trusted; it is hashed again and re-cached.
 * Rounding to doubles never moves a later time before an earlier one, so the rule only errs towards
 * re-hashing. A cache that does not parse is discarded with a warning: it only ever costs a re-hash.
 */
import { lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseStatCache, type StatCacheEntries, statCacheBytes } from '../schema/stat-cache.js';

/** Pure: marks unusable the entries not older than the cache's write time; how many there were. */
export function dropRacy(entries: StatCacheEntries, writtenMs: number): number {
  const { stats } = entries;
  let dropped = 0;
  for (let k = 0; k < entries.paths.length; k++) {
    if ((stats[4 * k + 1] as number) < writtenMs) continue;
    stats[4 * k] = Number.NaN;
    dropped++;
  }
  return dropped;
}

/** The entries still usable (not dropped as racy). */
export function usableCount(entries: StatCacheEntries): number {
  let n = 0;
  for (let k = 0; k < entries.paths.length; k++) if (!Number.isNaN(entries.stats[4 * k])) n++;
  return n;
}

/**
 * Pure: the usable entry number of each of `paths`, or −1. The cache is written in the order of the
 * manifest, so an unchanged tree matches entry by entry with one string comparison each; a path out
 * of step is looked up in a map built only then.
 */
export function entryNumbers(entries: StatCacheEntries, paths: readonly string[]): Int32Array {
  const out = new Int32Array(paths.length).fill(-1);
  const { stats } = entries;
  const cached = entries.paths;
  let byPath: Map<string, number> | undefined;
  let k = 0;
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i] as string;
    let e = -1;
    if (k < cached.length && cached[k] === p) e = k++;
    else {
      byPath ??= new Map(cached.map((x, j) => [x, j]));
      const j = byPath.get(p);
      if (j !== undefined) {
        e = j;
        k = j + 1;
      }
    }
    if (e >= 0 && !Number.isNaN(stats[4 * e])) out[i] = e;
  }
  return out;
}

export interface LoadedStatCache {
  entries: StatCacheEntries;
  /** Entries dropped as racy or as not valid: the cache must be rewritten even if nothing else changed. */
  stale: boolean;
}

const empty = (): StatCacheEntries => ({ paths: [], stats: new Float64Array(0), sha256: '' });

/** Reads the cache at `file`; missing → empty, corrupt → empty with a warning naming the file. */
export async function loadStatCache(file: string, warn: (m: string) => void): Promise<LoadedStatCache> {
  // lstat: the gate's own file is never a link (one committed by a change under test could point at
  // /proc/self/environ, and a parse error would quote what it read).
  const st = await lstat(file).catch(() => undefined);
  if (!st) return { entries: empty(), stale: false };
  const discard = (why: string) => {
    warn(`The stat cache ${file} ${why}; discarded, every data file is hashed again.`);
    return { entries: empty(), stale: true };
  };
  if (!st.isFile()) return discard('is not a regular file');
  const parsed = parseStatCache(await readFile(file));
  if (typeof parsed === 'string') return discard(`is not in the expected format (${parsed})`);
  return { entries: parsed, stale: dropRacy(parsed, st.mtimeMs) > 0 };
}

/** Writes the cache atomically (temporary file, then rename), so a killed gate leaves the old one or the new one. */
export async function saveStatCache(file: string, entries: StatCacheEntries): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, statCacheBytes(entries));
  await rename(tmp, file);
}
