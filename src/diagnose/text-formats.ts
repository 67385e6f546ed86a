/**
 * JSON and CSV as arrays (pure: text in, arrays out).
 *
 * JSON: numbers are compared leaf by leaf on dotted paths (the same key syntax as config drift:
 * `optimizer.lr`, `layers.0.units`, `a["b.c"]`); an array of numbers, or a rectangular nest of them,
 * is one float64 array with its shape; strings, booleans and null are compared as text.
 * CSV: the first row names the columns; a column whose non-empty cells are all numbers (`nan`,
 * `inf` included; an empty cell reads as NaN, as pandas writes it) is a float64 array; any other
 * column is compared cell by cell as strings.
 */
import { parseCsv } from '../util/csv.js';
import { childKey } from '../util/dotted.js';
import { dtype } from './dtype.js';
import type { LoadedArray } from './types.js';

const F64 = dtype('float64');

function f64(values: number[]): Buffer {
  const buf = Buffer.alloc(values.length * 8);
  values.forEach((v, i) => {
    buf.writeDoubleLE(v, i * 8);
  });
  return buf;
}

/** Shape of a number or a rectangular nest of number arrays; null otherwise. */
function numericShape(v: unknown): number[] | null {
  if (typeof v === 'number') return [];
  if (!Array.isArray(v)) return null;
  if (v.length === 0) return [0];
  const first = numericShape(v[0]);
  if (first === null) return null;
  for (let i = 1; i < v.length; i++) {
    const s = numericShape(v[i]);
    if (s === null || s.length !== first.length || s.some((d, k) => d !== first[k])) return null;
  }
  return [v.length, ...first];
}

export function jsonArrays(doc: unknown): Map<string, LoadedArray> {
  const out = new Map<string, LoadedArray>();
  const visit = (v: unknown, key: string): void => {
    const shape = numericShape(v);
    if (shape !== null) {
      const values = shape.length === 0 ? [v as number] : ((v as unknown[]).flat(Infinity) as number[]);
      out.set(key, { kind: 'numeric', dtype: F64, shape, data: f64(values) });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => {
        visit(item, childKey(key, String(i), true));
      });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      if (entries.length === 0) out.set(key, { kind: 'text', dtype: 'object', shape: [], values: ['{}'] });
      for (const [k, item] of entries) visit(item, childKey(key, k, false));
    } else {
      const t = v === null ? 'null' : typeof v === 'boolean' ? 'boolean' : 'string';
      out.set(key, { kind: 'text', dtype: t, shape: [], values: [String(v)] });
    }
  };
  visit(doc, '');
  return out;
}

const NUMBER = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)$/;
const SPECIAL: Record<string, number> = { nan: NaN, inf: Infinity, infinity: Infinity };

function cellNumber(cell: string): number | undefined {
  const s = cell.trim();
  if (NUMBER.test(s)) return Number(s);
  const m = /^([+-]?)(nan|inf|infinity)$/i.exec(s);
  if (!m) return undefined;
  const v = SPECIAL[m[2]!.toLowerCase()]!;
  return m[1] === '-' ? -v : v;
}

export function csvArrays(text: string): { arrays: Map<string, LoadedArray>; notes: string[] } {
  const rows = parseCsv(text);
  const notes: string[] = [];
  const arrays = new Map<string, LoadedArray>();
  const header = rows[0] ?? [];
  const body = rows.slice(1);
  const width = Math.max(header.length, ...body.map((r) => r.length));
  if (width > header.length)
    notes.push(
      `some rows have ${width} cells but the header names ${header.length} columns; extra cells are compared as columns #${header.length + 1}…`,
    );
  const seen = new Map<string, number>();
  for (let c = 0; c < width; c++) {
    let name = c < header.length ? header[c]! : `#${c + 1}`;
    const n = (seen.get(name) ?? 0) + 1;
    seen.set(name, n);
    if (n > 1) name = `${name} (${n})`;
    const cells = body.map((r) => r[c] ?? '');
    const nums = cells.map((cell) => (cell.trim() === '' ? NaN : cellNumber(cell)));
    const numeric = cells.some((cell) => cell.trim() !== '') && nums.every((v) => v !== undefined);
    arrays.set(
      name,
      numeric
        ? { kind: 'numeric', dtype: F64, shape: [cells.length], data: f64(nums as number[]) }
        : { kind: 'text', dtype: 'string', shape: [cells.length], values: cells },
    );
  }
  return { arrays, notes };
}
