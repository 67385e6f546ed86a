/**
 * Layout of a large data drift: per-folder counts and the first rows, so the report stays short for
 * 10⁵ changed files (every entry is still in the JSON report's `drift.data`).
 */
import type { DataDrift } from '../schema/report.js';

/** Rows listed one by one; beyond this the section summarises by folder. */
export const DATA_ROWS_SHOWN = 20;

export interface FolderCount {
  folder: string;
  added: number;
  removed: number;
  modified: number;
}

/** Changed files per folder (the path's parent; "." for top-level files), most changes first, then by name. */
export function countByFolder(data: readonly DataDrift[]): FolderCount[] {
  const byFolder = new Map<string, FolderCount>();
  for (const d of data) {
    const cut = d.path.lastIndexOf('/');
    const folder = cut < 0 ? '.' : `${d.path.slice(0, cut)}/`;
    let c = byFolder.get(folder);
    if (!c) {
      c = { folder, added: 0, removed: 0, modified: 0 };
      byFolder.set(folder, c);
    }
    c[d.change]++;
  }
  const total = (c: FolderCount) => c.added + c.removed + c.modified;
  return [...byFolder.values()].sort(
    (a, b) => total(b) - total(a) || (a.folder < b.folder ? -1 : a.folder > b.folder ? 1 : 0),
  );
}

/** The rows to list: declared-lineage changes first (few, and they explain the rest), then files in order. */
export function rowsShown(data: readonly DataDrift[]): DataDrift[] {
  const lineage = data.filter((d) => d.lineage);
  const files = data.filter((d) => !d.lineage);
  return [...lineage, ...files].slice(0, DATA_ROWS_SHOWN);
}
