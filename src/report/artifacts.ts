/**
 * A compact Markdown table of artifact diffs: one row per changed array (identical arrays are
 * counted, not listed). Every name or dtype that comes from a file goes through `code()`/`text()`.
 */

import type { ArrayDiff, ArtifactDiff, JsonNumber } from '../schema/diagnosis.js';
import { num, shortHash } from '../util/format.js';
import { type Escaper, GITHUB } from './escape.js';

export interface RenderArtifactOptions {
  /** Most table rows; the rest are counted in a closing line. Default 40. */
  maxRows?: number;
  /** Heading line; default "### Artifact differences". Pass "" for none. */
  heading?: string;
  /** How repository text is escaped; default GitHub Markdown (the terminal escaper works too). */
  escaper?: Escaper;
}

const HEADER =
  '| Artifact | Array | Type and shape | Differing | Max abs diff | Max rel diff | Max ULP | NaN before → after |';
const RULE = '|---|---|---|---|---|---|---|---|';

function shape(s: number[] | null): string {
  return s === null ? '?' : `[${s.join(', ')}]`;
}

function typeAndShape(a: ArrayDiff, { text }: Escaper): string {
  const dt =
    a.dtypeBefore === a.dtypeAfter || a.dtypeBefore === null || a.dtypeAfter === null
      ? text(a.dtypeAfter ?? a.dtypeBefore ?? '?', 40)
      : `${text(a.dtypeBefore, 40)} → ${text(a.dtypeAfter, 40)}`;
  const sb = shape(a.shapeBefore);
  const sa = shape(a.shapeAfter);
  const sh = a.shapeBefore === null || a.shapeAfter === null || sb === sa ? (a.shapeAfter ? sa : sb) : `${sb} → ${sa}`;
  // Shapes are built from numbers here, so they need no escaping (and stay readable).
  return `${dt} ${sh}`;
}

function differing(a: ArrayDiff): string {
  if (a.status === 'added' || a.status === 'removed') return a.status;
  if (a.differing === null)
    return a.bitIdentical ? '0 (by hash)' : a.compared === 0 && a.note?.includes('SHA-256') ? 'hash differs' : '—';
  const extra = a.nonFiniteDiffering ? ` (${a.nonFiniteDiffering} NaN/∞)` : '';
  return `${a.differing} / ${a.compared}${extra}`;
}

function nan(a: ArrayDiff): string {
  if (a.nanBefore === null && a.nanAfter === null) return '—';
  const b = a.nanBefore ?? '—';
  const c = a.nanAfter ?? '—';
  const warn = (a.nanAfter ?? 0) > (a.nanBefore ?? 0) ? ' ⚠️' : '';
  return b === c ? String(b) : `${b} → ${c}${warn}`;
}

function ulp(x: number | null): string {
  return x === null ? '—' : Number.isSafeInteger(x) ? String(x) : num(x);
}

function bytes(n: number | null): string {
  return n === null ? '—' : `${n} B`;
}

/** Enough significant digits to tell two values of that dtype apart, and no more. */
const DIGITS: Record<string, number> = { float16: 5, bfloat16: 4, float32: 9 };

function shortest(v: JsonNumber | string, dtype: string | null): string {
  if (typeof v !== 'number') return v;
  const digits = dtype ? DIGITS[dtype] : undefined;
  return digits ? String(Number(v.toPrecision(digits))) : String(v);
}

function rowsFor(d: ArtifactDiff, f: Escaper): string[] {
  const { code } = f;
  const name = code(d.name);
  if (d.status === 'added' || d.status === 'removed') {
    return [`| ${name} | — | ${bytes(d.sizeBefore ?? d.sizeAfter)} | file ${d.status} | — | — | — | — |`];
  }
  const changed = d.arrays.filter((a) => a.status !== 'identical');
  if (changed.length === 0) {
    const why = d.arrays.length
      ? `bytes differ, all ${d.arrays.length} arrays bit-identical`
      : `SHA-256 ${code(shortHash(d.sha256Before))} → ${code(shortHash(d.sha256After))}`;
    return [
      `| ${name} | — | ${d.sizeBefore === d.sizeAfter ? bytes(d.sizeAfter) : `${bytes(d.sizeBefore)} → ${bytes(d.sizeAfter)}`} | ${why} | — | — | — | — |`,
    ];
  }
  return changed.map(
    (a) =>
      `| ${name} | ${a.name === '' ? '(array)' : code(a.name, 120)} | ${typeAndShape(a, f)} | ${differing(a)} | ${num(a.maxAbsDiff)} | ${num(a.maxRelDiff)} | ${ulp(a.maxUlp)} | ${nan(a)} |`,
  );
}

export function renderArtifactDiffs(diffs: ArtifactDiff[], opts: RenderArtifactOptions = {}): string {
  const maxRows = opts.maxRows ?? 40;
  const heading = opts.heading ?? '### Artifact differences';
  const f = opts.escaper ?? GITHUB;
  const { code, text } = f;
  const out: string[] = heading ? [heading, ''] : [];
  const differ = diffs.filter((d) => d.status !== 'identical');
  if (differ.length === 0) {
    out.push(diffs.length ? `All ${diffs.length} artifacts are byte-identical.` : 'No artifacts compared.');
    return `${out.join('\n')}\n`;
  }
  const identical = diffs.length - differ.length;
  out.push(
    `${differ.length} of ${diffs.length} artifacts differ${identical ? ` (${identical} byte-identical)` : ''}.`,
    '',
  );
  const rows = differ.flatMap((d) => rowsFor(d, f));
  out.push(HEADER, RULE, ...rows.slice(0, maxRows));
  if (rows.length > maxRows) out.push('', `…and ${rows.length - maxRows} more changed arrays (see the JSON report).`);

  const details: string[] = [];
  for (const d of differ) {
    const same = d.arrays.filter((a) => a.status === 'identical').length + d.arraysOmitted;
    const changed = d.arrays.length - d.arrays.filter((a) => a.status === 'identical').length;
    if (changed > 0 && same > 0)
      details.push(`${code(d.name)}: ${same} other ${same === 1 ? 'array' : 'arrays'} bit-identical.`);
    const firsts = d.arrays.flatMap((a) => (a.firstDifference ? [{ a, first: a.firstDifference }] : [])).slice(0, 3);
    for (const { a, first } of firsts) {
      const dt = a.dtypeAfter ?? a.dtypeBefore;
      details.push(
        `${code(d.name)} ${a.name === '' ? '' : `${code(a.name, 120)} `}first differs at [${first.index.join(', ')}]: ${code(shortest(first.before, dt), 60)} → ${code(shortest(first.after, dt), 60)}`,
      );
    }
    for (const a of d.arrays)
      if (a.note && a.status !== 'identical')
        details.push(`${code(d.name)} ${a.name === '' ? '' : `${code(a.name, 120)} `}${text(a.note, 300)}`);
    for (const n of d.notes) details.push(`${code(d.name)}: ${text(n, 300)}`);
  }
  if (details.length) out.push('', ...details.slice(0, 20).map((l) => `- ${l}`));
  if (details.length > 20) out.push(`- …and ${details.length - 20} more notes.`);
  return `${out.join('\n')}\n`;
}
