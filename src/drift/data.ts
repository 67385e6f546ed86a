import type { DataFingerprint, DataSummary } from '../schema/baseline.js';
import type { DataDrift } from '../schema/report.js';
import { sortBytes } from '../util/bytes.js';
import { diffLineage } from './lineage.js';

/** Per-file differences between two manifests, sorted by path, then changes of declared lineage. */
export function diffData(before: DataFingerprint, after: DataFingerprint): DataDrift[] {
  // Own keys only (a file may be called "constructor"): Object.entries, then Map look-ups.
  const filesBefore = new Map(Object.entries(before.files));
  const filesAfter = new Map(Object.entries(after.files));
  const paths = sortBytes([...new Set([...filesBefore.keys(), ...filesAfter.keys()])]);
  const out: DataDrift[] = [];
  for (const p of paths) {
    const b = filesBefore.get(p)?.sha256 ?? null;
    const a = filesAfter.get(p)?.sha256 ?? null;
    if (b === a) continue;
    out.push({ path: p, change: b === null ? 'added' : a === null ? 'removed' : 'modified', before: b, after: a });
  }
  return [...out, ...diffLineage(before.lineage, after.lineage)];
}

/**
 * Pure: the folders that differ between a large entry's summary in the baseline and now, when its
 * per-file manifest is not available. The deepest differing folders are named (a new or removed
 * folder once, not with each of its sub-folders); the entry itself when only its own files differ.
 * `before`/`after` are folder roots; detail counts the files.
 */
export function diffFolders(prefix: string, before: DataSummary, after: DataSummary): DataDrift[] {
  if (before.root === after.root) return [];
  const b = new Map(Object.entries(before.folders));
  const a = new Map(Object.entries(after.folders));
  const differs = sortBytes(new Set([...b.keys(), ...a.keys()])).filter((k) => b.get(k)?.root !== a.get(k)?.root);
  const gone = (k: string) => !b.has(k) || !a.has(k);
  const named = differs.filter((k) => {
    // A sub-folder of a folder that is new or removed as a whole says nothing more.
    const parent = k.slice(0, k.slice(0, -1).lastIndexOf('/') + 1);
    if (parent.length > prefix.length + 1 && differs.includes(parent) && gone(parent)) return false;
    // A folder whose changes all lie in differing sub-folders is named through them.
    const hasChild = differs.some((c) => c !== k && c.startsWith(k));
    return !hasChild || gone(k) || b.get(k)?.own !== a.get(k)?.own;
  });
  const row = (k: string, was: { root: string; files: number } | undefined, now: typeof was): DataDrift => ({
    path: k,
    change: was === undefined ? 'added' : now === undefined ? 'removed' : 'modified',
    before: was?.root ?? null,
    after: now?.root ?? null,
    detail: `folder, ${was?.files ?? 0} files in the baseline, ${now?.files ?? 0} now`,
    folder: true,
  });
  const rows = named.map((k) => row(k, b.get(k), a.get(k)));
  // Files directly in the entry changed (or the summary lists no folders): name the entry itself.
  if (!rows.length || before.own !== after.own) rows.unshift(row(prefix === '' ? './' : `${prefix}/`, before, after));
  return rows;
}

export interface SnapshotChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
}

/**
 * Pure: the files that differ between two stat snapshots (fingerprint/data.ts statSnapshot: path →
 * "size:mtimeMs:ino:ctimeMs"), sorted by path. Taken around a training, a non-empty result means the
 * training wrote to its own data.
 */
export function changedSince(
  before: ReadonlyMap<string, string>,
  after: ReadonlyMap<string, string>,
): SnapshotChange[] {
  const out: SnapshotChange[] = [];
  for (const p of sortBytes(new Set([...before.keys(), ...after.keys()]))) {
    const b = before.get(p);
    const a = after.get(p);
    if (b === a) continue;
    out.push({ path: p, change: b === undefined ? 'added' : a === undefined ? 'removed' : 'modified' });
  }
  return out;
}
