/**
 * The stat cache: (path, size, mtime ns, inode, ctime ns) → sha256, kept in `.repro-gate/cache/stat`.
 * A file whose stat tuple still matches is not read again. ctime is in the tuple because it cannot
 * be set from user space: an edit that keeps size and mtime (`touch -d` afterwards) still moves it.
 *
 * Racy-git rule: a file modified in the same clock tick as the cache was written could change again
 * without its mtime moving, so an entry whose mtime is not older than the cache file's own mtime (the
 * write time, on the same file system clock) is not trusted; it is hashed again and re-cached.
 * A cache that does not parse or validate is discarded with a warning: it only ever costs a re-hash.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { STAT_CACHE_VERSION, type StatCacheEntry, statCacheSchema } from '../schema/stat-cache.js';

/** Pure: the entries that may be trusted, given the cache file's write time (its mtime, ns). */
export function trustedEntries(files: Record<string, StatCacheEntry>, writtenNs: bigint): Map<string, StatCacheEntry> {
  const out = new Map<string, StatCacheEntry>();
  for (const [abs, entry] of Object.entries(files)) if (BigInt(entry[1]) < writtenNs) out.set(abs, entry);
  return out;
}

export interface LoadedStatCache {
  entries: Map<string, StatCacheEntry>;
  /** Entries dropped as racy or as not valid: the cache must be rewritten even if nothing else changed. */
  stale: boolean;
}

/** Reads the cache at `file`; missing → empty, corrupt → empty with a warning naming the file. */
export async function loadStatCache(file: string, warn: (m: string) => void): Promise<LoadedStatCache> {
  const st = await stat(file, { bigint: true }).catch(() => undefined);
  if (!st) return { entries: new Map(), stale: false };
  let parsed: ReturnType<typeof statCacheSchema.safeParse>;
  try {
    parsed = statCacheSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    warn(
      `The stat cache ${file} is not valid JSON (${(err as Error).message}); discarded, every data file is hashed again.`,
    );
    return { entries: new Map(), stale: true };
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    warn(
      `The stat cache ${file} is not in the expected format (${issue?.path.join('.') || 'top level'}: ${issue?.message}); discarded, every data file is hashed again.`,
    );
    return { entries: new Map(), stale: true };
  }
  const entries = trustedEntries(parsed.data.files, st.mtimeNs);
  return { entries, stale: entries.size !== Object.keys(parsed.data.files).length };
}

/** Writes the cache atomically (temporary file, then rename), so a killed gate leaves the old one or the new one. */
export async function saveStatCache(file: string, entries: Map<string, StatCacheEntry>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify({ version: STAT_CACHE_VERSION, files: Object.fromEntries(entries) }));
  await rename(tmp, file);
}
