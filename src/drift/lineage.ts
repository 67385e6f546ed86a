/**
 * Pure: what changed in the declared lineage of data entries (source snapshot, extraction query,
 * preprocessing files), as data drift entries that say which part changed and, for a query, which
 * lines: `query changed (WHERE date < '2024-06-01' → '2024-07-01')`.
 */
import { createHash } from 'node:crypto';
import type { Lineage } from '../schema/baseline.js';
import type { DataDrift } from '../schema/report.js';
import { sortBytes } from '../util/bytes.js';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
/** Longest excerpt of a changed line shown on each side. */
const EXCERPT = 60;
/** Words of unchanged text kept before a change, for context. */
const CONTEXT_WORDS = 3;

function clip(text: string): string {
  return text.length > EXCERPT ? `${text.slice(0, EXCERPT - 1)}…` : text;
}

/** One changed line as `before → after`, without the unchanged start and end (word-aligned), with a little context. */
function lineChange(before: string, after: string): string {
  let p = 0;
  while (p < before.length && p < after.length && before[p] === after[p]) p++;
  let s = 0;
  while (s < before.length - p && s < after.length - p && before.at(-1 - s) === after.at(-1 - s)) s++;
  // Back to a word start, then keep a few words before the change as context (on the before side).
  const cut = before.slice(0, p).search(/\S*$/);
  const words = before.slice(0, cut).trimEnd().split(/\s+/).filter(Boolean);
  const context = words.slice(-CONTEXT_WORDS).join(' ');
  // Forward to a word end after the change.
  const endOf = (text: string) => {
    const from = text.length - s;
    const m = /^\S*/.exec(text.slice(from));
    return from + (m?.[0].length ?? 0);
  };
  const b = before.slice(cut, endOf(before)).trim();
  const a = after.slice(cut, endOf(after)).trim();
  return `${clip(context ? `${context} ${b}` : b)} → ${clip(a)}`;
}

/** The changed lines of a query, as short excerpts: `WHERE date < '2024-06-01' → '2024-07-01'`. */
export function describeQueryChange(before: string, after: string): string {
  const a = before.trim().split(/\r?\n/);
  const b = after.trim().split(/\r?\n/);
  const parts: string[] = [];
  let changed = 0;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    changed++;
    if (parts.length < 3) {
      const where = a.length > 1 || b.length > 1 ? `line ${i + 1}: ` : '';
      if (x === undefined) parts.push(`${where}added ${clip((y as string).trim())}`);
      else if (y === undefined) parts.push(`${where}removed ${clip(x.trim())}`);
      else parts.push(`${where}${lineChange(x, y)}`);
    }
  }
  if (!changed) return 'whitespace changed';
  return changed > parts.length ? `${parts.join('; ')}; ${changed - parts.length} more lines` : parts.join('; ');
}

export function diffLineage(
  before: Record<string, Lineage> | undefined,
  after: Record<string, Lineage> | undefined,
): DataDrift[] {
  const b = new Map(Object.entries(before ?? {}));
  const a = new Map(Object.entries(after ?? {}));
  const out: DataDrift[] = [];
  for (const path of sortBytes(new Set([...b.keys(), ...a.keys()]))) {
    const x = b.get(path);
    const y = a.get(path);
    const change = (p: string | undefined, q: string | undefined) =>
      p === undefined ? ('added' as const) : q === undefined ? ('removed' as const) : ('modified' as const);
    if (x?.source !== y?.source) {
      out.push({
        path,
        change: change(x?.source, y?.source),
        before: x?.source ?? null,
        after: y?.source ?? null,
        detail: `source changed (${x?.source ?? '(none)'} → ${y?.source ?? '(none)'})`,
        lineage: 'source',
      });
    }
    if (x?.query !== y?.query) {
      const from = x?.queryFile ?? y?.queryFile;
      out.push({
        path,
        change: change(x?.query, y?.query),
        before: x?.query === undefined ? null : sha(x.query),
        after: y?.query === undefined ? null : sha(y.query),
        detail:
          x?.query !== undefined && y?.query !== undefined
            ? `query${from ? ` (${from})` : ''} changed (${describeQueryChange(x.query, y.query)})`
            : `query ${x?.query === undefined ? 'declared' : 'no longer declared'}`,
        lineage: 'query',
      });
    }
    const px = new Map(Object.entries(x?.preprocess ?? {}));
    const py = new Map(Object.entries(y?.preprocess ?? {}));
    for (const file of sortBytes(new Set([...px.keys(), ...py.keys()]))) {
      const p = px.get(file);
      const q = py.get(file);
      if (p === q) continue;
      const c = change(p, q);
      out.push({
        path,
        change: c,
        before: p ?? null,
        after: q ?? null,
        detail: `preprocess ${file} ${c === 'modified' ? 'changed' : c}`,
        lineage: 'preprocess',
      });
    }
  }
  return out;
}
