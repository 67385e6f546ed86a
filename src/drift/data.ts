import type { DataFingerprint } from '../schema/baseline.js';
import type { DataDrift } from '../schema/report.js';
import { sortBytes } from '../util/bytes.js';

/** Per-file differences between two manifests, sorted by path. */
export function diffData(before: DataFingerprint, after: DataFingerprint): DataDrift[] {
  const paths = sortBytes([...new Set([...Object.keys(before.files), ...Object.keys(after.files)])]);
  const out: DataDrift[] = [];
  for (const p of paths) {
    const b = Object.hasOwn(before.files, p) ? before.files[p]!.sha256 : null;
    const a = Object.hasOwn(after.files, p) ? after.files[p]!.sha256 : null;
    if (b === a) continue;
    out.push({ path: p, change: b === null ? 'added' : a === null ? 'removed' : 'modified', before: b, after: a });
  }
  return out;
}
