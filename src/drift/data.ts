import type { DataFingerprint } from '../schema/baseline.js';
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

export interface SnapshotChange {
  path: string;
  change: 'added' | 'removed' | 'modified';
}

/**
 * Pure: the files that differ between two stat snapshots (fingerprint/data.ts statSnapshot: path →
 * "size:mtimeNs:ino"), sorted by path. Taken around a training, a non-empty result means the
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
