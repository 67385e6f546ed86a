/**
 * The stat cache: (path, size, mtime ns, inode, ctime ns) → sha256, kept in `.repro-gate/cache/stat`.
 * A file whose stat tuple still matches is not read again. ctime is in the tuple because it cannot
 * be set from user space: an edit that keeps size and mtime (`touch -d` afterwards) still moves it.
 *
 * Racy-git rule: a file modified in the same clock tick as the cache was written could change again
 * without its mtime moving, so an entry whose mtime is not older than the cache file's own mtime (the
 * write time, on the same file system clock) is not trusted; it is hashed again and re-cached.
 * A cache that does not parse or validate is discarded with a warning: it only ever costs a re-hash.
 * Entries are strings "size:mtimeNs:ino:ctimeNs:sha256" by absolute path.
 */
import { lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { statCacheSchema, statCacheText } from '../schema/stat-cache.js';

/** Pure: the entries that may be trusted, given the cache file's write time (its mtime, ns). */
export function trustedEntries(entries: ReadonlyMap<string, string>, writtenNs: bigint): Map<string, string> {
  const out = new Map<string, string>();
  for (const [abs, entry] of entries) {
    const a = entry.indexOf(':') + 1;
    if (BigInt(entry.slice(a, entry.indexOf(':', a))) < writtenNs) out.set(abs, entry);
  }
  return out;
}

export interface LoadedStatCache {
  entries: Map<string, string>;
  /** Entries dropped as racy or as not valid: the cache must be rewritten even if nothing else changed. */
  stale: boolean;
}

/** Reads the cache at `file`; missing → empty, corrupt → empty with a warning naming the file. */
export async function loadStatCache(file: string, warn: (m: string) => void): Promise<LoadedStatCache> {
  // lstat: the gate's own file is never a link (one committed by a change under test could point at
  // /proc/self/environ, and a parse error would quote what it read).
  const st = await lstat(file, { bigint: true }).catch(() => undefined);
  if (!st) return { entries: new Map(), stale: false };
  const discard = (why: string) => {
    warn(`The stat cache ${file} ${why}; discarded, every data file is hashed again.`);
    return { entries: new Map<string, string>(), stale: true };
  };
  if (!st.isFile()) return discard('is not a regular file');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return discard('is not valid JSON'); // the parser's message would quote the file's text
  }
  const parsed = statCacheSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return discard(`is not in the expected format (${issue?.path.join('.') || 'top level'}: ${issue?.message})`);
  }
  const entries = trustedEntries(parsed.data.files, st.mtimeNs);
  return { entries, stale: entries.size !== parsed.data.files.size };
}

/** Writes the cache atomically (temporary file, then rename), so a killed gate leaves the old one or the new one. */
export async function saveStatCache(file: string, entries: ReadonlyMap<string, string>): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, statCacheText(entries));
  await rename(tmp, file);
}
