/**
 * Pure: roots over data manifests, so a baseline can hold a large data: entry as one hash plus the
 * hashes of its folders instead of a line per file. A root is the SHA-256 of the entry's sorted
 * (path, size, sha256) list; a folder's root is the same over the files under it, so it is also the
 * key that proves a stored manifest (manifest-store.ts) is the list it claims to be.
 */
import { createHash, type Hash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { DataFingerprint, DataSummary, FileEntry } from '../schema/baseline.js';
import { MANIFEST_FORMAT, manifestSchema } from '../schema/manifest.js';
import { sortBytesBy } from '../util/bytes.js';

/** Entries with at most this many files stay listed file by file in the baseline, as before. */
const INLINE_MAX_FILES = 1000;
/** At most this many folder roots per entry (~160 bytes each in the baseline). */
const FOLDER_ROOTS_MAX = 500;

export type ManifestFile = readonly [path: string, size: number, sha256: string];

function line(h: Hash, f: ManifestFile): void {
  // A path never holds NUL, so the fields cannot run into each other.
  h.update(`${f[0]}\0${f[1]}\0${f[2]}\n`);
}

/** The root of a sorted list. */
export function manifestRoot(files: Iterable<ManifestFile>): string {
  const h = createHash('sha256');
  for (const f of files) line(h, f);
  return h.digest('hex');
}

/** The folder (ending in "/") `level` levels below `prefix` that holds `file`, or undefined. */
function folderAt(prefix: string, file: string, level: number): string | undefined {
  let at = prefix === '' ? 0 : prefix.length + 1;
  for (let i = 0; i < level; i++) {
    const slash = file.indexOf('/', at);
    if (slash < 0) return undefined;
    at = slash + 1;
  }
  return file.slice(0, at);
}

/**
 * The summary of one entry's files (sorted by path bytes): its root, and its folders' roots down to
 * `depth` levels (default: as deep as FOLDER_ROOTS_MAX allows, at most 2). Drift passes the
 * baseline's depth so both sides hold the same folders.
 */
export function summarize(prefix: string, files: readonly ManifestFile[], depth?: number): DataSummary {
  // Files per folder, for both levels (a folder's key says its level), and how many folders per level.
  const counts = new Map<string, number>();
  const perLevel = [0, 0];
  for (const f of files)
    for (const level of [1, 2]) {
      const folder = folderAt(prefix, f[0], level);
      if (folder === undefined) break;
      const n = counts.get(folder);
      if (n === undefined) perLevel[level - 1] = (perLevel[level - 1] ?? 0) + 1;
      counts.set(folder, (n ?? 0) + 1);
    }
  const [one, two] = perLevel as [number, number];
  const d = depth ?? (one + two <= FOLDER_ROOTS_MAX ? 2 : one <= FOLDER_ROOTS_MAX ? 1 : 0);
  const hashes = new Map<string, Hash>();
  // Per folder (and '' for the entry): the files not in a deeper listed folder, so a change among
  // them is named even when a sub-folder changed too.
  const owns = new Map<string, Hash>();
  const add = (m: Map<string, Hash>, k: string, f: ManifestFile) => {
    let h = m.get(k);
    if (!h) {
      h = createHash('sha256');
      m.set(k, h);
    }
    line(h, f);
  };
  const whole = createHash('sha256');
  const base = depthOf(prefix);
  let bytes = 0;
  for (const f of files) {
    line(whole, f);
    bytes += f[1];
    let deepest = '';
    for (let level = 1; level <= d; level++) {
      const folder = folderAt(prefix, f[0], level);
      if (folder === undefined) break;
      add(hashes, folder, f);
      deepest = folder;
    }
    // At the deepest listed level a folder's own files are all of its files: its root says it.
    if (deepest === '' || deepest.split('/').length - 1 - base < d) add(owns, deepest, f);
  }
  const own = (k: string) => owns.get(k)?.digest('hex');
  const folders = sortBytesBy(hashes, ([k]) => k).map(([k, h]): [string, DataSummary['folders'][string]] => {
    const o = own(k);
    return [k, { root: h.digest('hex'), files: counts.get(k) ?? 0, ...(o ? { own: o } : {}) }];
  });
  const o = d > 0 ? own('') : undefined;
  return {
    root: whole.digest('hex'),
    files: files.length,
    bytes,
    depth: d,
    ...(o ? { own: o } : {}),
    folders: Object.fromEntries(folders),
  };
}

/** How many path segments the prefix itself has. */
function depthOf(prefix: string): number {
  return prefix === '' ? 0 : prefix.split('/').length;
}

/** Which of `prefixes` a data file belongs to: the longest that holds it, or undefined. */
function prefixOf(file: string, prefixes: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const p of prefixes)
    if ((p === '' || file === p || file.startsWith(`${p}/`)) && (best === undefined || p.length > best.length))
      best = p;
  return best;
}

/** The files of `data` under each of `prefixes` (longest prefix wins), in path order. */
export function groupFiles(files: DataFingerprint['files'], prefixes: readonly string[]): Map<string, ManifestFile[]> {
  const out = new Map<string, ManifestFile[]>(prefixes.map((p) => [p, []]));
  for (const [p, e] of Object.entries(files)) {
    const key = prefixOf(p, prefixes);
    if (key !== undefined) out.get(key)?.push([p, e.size, e.sha256]);
  }
  return out;
}

export interface Summarised {
  data: DataFingerprint;
  /** The manifests the summaries stand for, to store by root. */
  manifests: Array<{ root: string; entry: string; files: ManifestFile[] }>;
}

/** What `record` writes: entries (by prefix) with more than `inlineMax` files as summaries, the rest inline. */
export function summariseLarge(
  data: DataFingerprint,
  prefixes: readonly string[],
  inlineMax = INLINE_MAX_FILES,
): Summarised {
  const manifests: Summarised['manifests'] = [];
  const summaries: Record<string, DataSummary> = {};
  const moved = new Set<string>();
  for (const [prefix, files] of groupFiles(data.files, prefixes)) {
    if (files.length <= inlineMax) continue;
    const summary = summarize(prefix, files);
    summaries[prefix] = summary;
    manifests.push({ root: summary.root, entry: prefix, files });
    for (const f of files) moved.add(f[0]);
  }
  if (!manifests.length) return { data, manifests };
  const files: [string, FileEntry][] = Object.entries(data.files).filter(([p]) => !moved.has(p));
  return {
    data: { ...data, files: Object.fromEntries(files), summaries: Object.fromEntries(Object.entries(summaries)) },
    manifests,
  };
}

export function encodeManifest(entry: string, files: readonly ManifestFile[]): Buffer {
  return gzipSync(JSON.stringify({ 'repro-gate-manifest': MANIFEST_FORMAT, entry, files }));
}

export type Decoded = { files: ManifestFile[] } | { problem: string };

/** A stored manifest's bytes → its files, only if they hash to `root`; otherwise what is wrong. */
export function decodeManifest(bytes: Uint8Array, root: string): Decoded {
  let raw: unknown;
  try {
    raw = JSON.parse(gunzipSync(bytes).toString('utf8'));
  } catch {
    return { problem: 'is corrupt or truncated (not gzip-compressed JSON)' };
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) return { problem: 'is not a repro-gate manifest' };
  if (manifestRoot(parsed.data.files) !== root)
    return { problem: 'does not hash to its name (edited, or stored under the wrong root)' };
  return { files: parsed.data.files };
}
