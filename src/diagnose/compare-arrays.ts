/** Element-by-element comparison of two loaded arrays (pure; no I/O). */
import { createHash } from 'node:crypto';
import type { ArrayDiff } from '../schema/diagnosis.js';
import { ulpDistance, ulpDistance64, type View, view } from './dtype.js';
import type { LoadedArray } from './types.js';
import { jsonNumber } from './types.js';

const MAX_TEXT = 200;

type Numeric = Extract<LoadedArray, { kind: 'numeric' }>;
type Text = Extract<LoadedArray, { kind: 'text' }>;

function elementCount(shape: number[] | null): number | null {
  return shape === null ? null : shape.reduce((a, b) => a * b, 1);
}

function dtypeOf(a: LoadedArray): string {
  return a.kind === 'numeric' ? a.dtype.name : a.dtype;
}

function sameShape(a: number[] | null, b: number[] | null): boolean {
  return a !== null && b !== null && a.length === b.length && a.every((d, i) => d === b[i]);
}

/** C-order linear index → multi-index. */
function unravel(i: number, shape: number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k]!;
    idx[k] = d === 0 ? 0 : i % d;
    i = d === 0 ? 0 : Math.floor(i / d);
  }
  return idx;
}

/** Maps a logical C-order index to the storage index of a Fortran-ordered array. */
function storageIndex(a: Numeric): (i: number) => number {
  if (!a.fortranOrder || a.shape.length < 2) return (i) => i;
  const shape = a.shape;
  const fStrides: number[] = [];
  let s = 1;
  for (const d of shape) {
    fStrides.push(s);
    s *= d;
  }
  return (i) => {
    let off = 0;
    for (let k = shape.length - 1; k >= 0; k--) {
      const d = shape[k]!;
      off += (i % d) * fStrides[k]!;
      i = Math.floor(i / d);
    }
    return off;
  };
}

function countNaN(a: Numeric): number {
  if (a.dtype.kind !== 'f') return 0;
  const v = view(a.data, a.dtype);
  let nan = 0;
  if (a.dtype.name === 'float32' || a.dtype.name === 'float64') {
    const f =
      a.dtype.name === 'float32'
        ? new Float32Array(v.words.buffer, v.words.byteOffset, v.length)
        : new Float64Array(v.words.buffer, v.words.byteOffset, v.length);
    for (let i = 0; i < f.length; i++) if (Number.isNaN(f[i])) nan++;
    return nan;
  }
  // float16 / bfloat16: exponent all ones and a non-zero fraction.
  const w = v.words;
  const [expMask, fracMask] = a.dtype.name === 'float16' ? [0x7c00, 0x03ff] : [0x7f80, 0x007f];
  for (let i = 0; i < w.length; i++) if ((w[i]! & expMask) === expMask && (w[i]! & fracMask) !== 0) nan++;
  return nan;
}

function clip(s: string): string {
  return s.length > MAX_TEXT ? `${s.slice(0, MAX_TEXT - 1)}…` : s;
}

function base(name: string, before: LoadedArray | undefined, after: LoadedArray | undefined): ArrayDiff {
  const shapeBefore = before ? before.shape : null;
  const shapeAfter = after ? after.shape : null;
  return {
    name,
    status: !before ? 'added' : !after ? 'removed' : 'modified',
    dtypeBefore: before ? dtypeOf(before) : null,
    dtypeAfter: after ? dtypeOf(after) : null,
    shapeBefore,
    shapeAfter,
    elementsBefore: elementCount(shapeBefore),
    elementsAfter: elementCount(shapeAfter),
    compared: 0,
    differing: null,
    maxAbsDiff: null,
    maxRelDiff: null,
    maxUlp: null,
    nonFiniteDiffering: 0,
    nanBefore: before?.kind === 'numeric' ? countNaN(before) : null,
    nanAfter: after?.kind === 'numeric' ? countNaN(after) : null,
    bitIdentical: false,
  };
}

/**
 * How many leading elements (C order) to compare: all when the shapes match or only the shape
 * changed (same count, compared flat), the common prefix of two 1-D arrays of different length
 * (a history that grew by one epoch), and none otherwise.
 */
function comparable(d: ArrayDiff): { n: number; note?: string } {
  if (sameShape(d.shapeBefore, d.shapeAfter)) return { n: d.elementsAfter! };
  const nb = d.elementsBefore!;
  const na = d.elementsAfter!;
  if (nb === na) return { n: na, note: 'shape changed; values compared in flat row-major order' };
  if (d.shapeBefore!.length <= 1 && d.shapeAfter!.length <= 1) {
    return { n: Math.min(nb, na), note: `length changed (${nb} → ${na}); the first ${Math.min(nb, na)} compared` };
  }
  return { n: 0, note: `element count changed (${nb} → ${na}); values not compared` };
}

/** Same dtype: are the bits of element i (before) and j (after) equal? */
function bitsEqual(b: View, a: View): (i: number, j: number) => boolean {
  const wb = b.words;
  const wa = a.words;
  if (b.dtype.size === 8) return (i, j) => wb[2 * i] === wa[2 * j] && wb[2 * i + 1] === wa[2 * j + 1];
  return (i, j) => wb[i] === wa[j];
}

/** Different dtypes: are the values equal (NaN equals NaN)? */
function valuesEqual(b: View, a: View): (i: number, j: number) => boolean {
  return (i, j) => {
    const x = b.value(i);
    const y = a.value(j);
    return x === y || (Number.isNaN(x) && Number.isNaN(y));
  };
}

function ulpFn(b: View, a: View): (i: number, j: number) => number {
  const wb = b.words;
  const wa = a.words;
  if (b.dtype.size === 8) return (i, j) => ulpDistance64(wb[2 * i]!, wb[2 * i + 1]!, wa[2 * j]!, wa[2 * j + 1]!);
  const size = b.dtype.size as 2 | 4;
  return (i, j) => ulpDistance(wb[i]!, wa[j]!, size);
}

export function compareArrays(
  name: string,
  before: LoadedArray | undefined,
  after: LoadedArray | undefined,
): ArrayDiff {
  const d = base(name, before, after);
  if (!before || !after) return d;
  if (before.kind === 'hashed' || after.kind === 'hashed') return compareHashed(d, before, after);
  if (before.kind === 'numeric' && after.kind === 'numeric') return compareNumeric(d, before, after);
  return compareText(d, asText(before), asText(after));
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

function compareHashed(d: ArrayDiff, before: LoadedArray, after: LoadedArray): ArrayDiff {
  const hash = (a: LoadedArray) =>
    a.kind === 'hashed'
      ? a.sha256
      : a.kind === 'numeric'
        ? sha256(a.data)
        : sha256(Buffer.from(JSON.stringify(a.values)));
  const equal =
    d.dtypeBefore === d.dtypeAfter && sameShape(d.shapeBefore, d.shapeAfter) && hash(before) === hash(after);
  d.bitIdentical = equal;
  d.status = equal ? 'identical' : 'modified';
  d.note = [before, after].find((a): a is Extract<LoadedArray, { kind: 'hashed' }> => a.kind === 'hashed')!.note;
  return d;
}

function asText(a: Numeric | Text): Text {
  if (a.kind === 'text') return a;
  const v = view(a.data, a.dtype);
  const idx = storageIndex(a);
  const n = elementCount(a.shape)!;
  const values = Array.from({ length: n }, (_, i) => String(v.value(idx(i))));
  return { kind: 'text', dtype: a.dtype.name, shape: a.shape, values };
}

function compareText(d: ArrayDiff, before: Text, after: Text): ArrayDiff {
  const { n, note } = comparable(d);
  if (note) d.note = note;
  let differing = 0;
  for (let i = 0; i < n; i++) {
    const b = before.values[i]!;
    const a = after.values[i]!;
    if (a === b) continue;
    if (differing++ === 0) d.firstDifference = { index: unravel(i, after.shape), before: clip(b), after: clip(a) };
  }
  const comparedAll = sameShape(d.shapeBefore, d.shapeAfter);
  d.compared = n;
  d.differing = comparedAll || n > 0 ? differing : null;
  d.bitIdentical = comparedAll && differing === 0 && d.dtypeBefore === d.dtypeAfter;
  d.status = d.bitIdentical ? 'identical' : 'modified';
  return d;
}

function compareNumeric(d: ArrayDiff, before: Numeric, after: Numeric): ArrayDiff {
  const sameType = before.dtype.name === after.dtype.name;
  const shapesEqual = sameShape(before.shape, after.shape);
  const isFloat = before.dtype.kind === 'f' && after.dtype.kind === 'f';

  // Fast path: the same bytes laid out the same way.
  if (
    sameType &&
    shapesEqual &&
    before.dtype.littleEndian === after.dtype.littleEndian &&
    Boolean(before.fortranOrder) === Boolean(after.fortranOrder) &&
    before.data.equals(after.data)
  ) {
    Object.assign(d, {
      status: 'identical',
      compared: d.elementsAfter,
      differing: 0,
      maxAbsDiff: 0,
      maxRelDiff: 0,
      maxUlp: sameType && isFloat ? 0 : null,
      bitIdentical: true,
    });
    return d;
  }

  const { n, note } = comparable(d);
  if (note) d.note = note;
  if (!sameType)
    d.note = [note, `dtype changed (${before.dtype.name} → ${after.dtype.name}); values compared as numbers`]
      .filter(Boolean)
      .join('; ');
  const vb = view(before.data, before.dtype);
  const va = view(after.data, after.dtype);
  const idxB = storageIndex(before);
  const idxA = storageIndex(after);
  const equal = sameType ? bitsEqual(vb, va) : valuesEqual(vb, va);
  const ulp = sameType && isFloat ? ulpFn(vb, va) : undefined;

  let differing = 0;
  let maxAbs = 0;
  let maxRel = 0;
  let maxUlp = 0;
  let nonFinite = 0;
  for (let i = 0; i < n; i++) {
    const ib = idxB(i);
    const ia = idxA(i);
    if (equal(ib, ia)) continue;
    const x = vb.value(ib);
    const y = va.value(ia);
    if (differing++ === 0)
      d.firstDifference = { index: unravel(i, after.shape), before: jsonNumber(x), after: jsonNumber(y) };
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      nonFinite++;
      continue;
    }
    const abs = Math.abs(y - x);
    const scale = Math.max(Math.abs(x), Math.abs(y));
    if (abs > maxAbs) maxAbs = abs;
    if (scale > 0 && abs / scale > maxRel) maxRel = abs / scale;
    if (ulp) {
      const u = ulp(ib, ia);
      if (u > maxUlp) maxUlp = u;
    }
  }
  const elementwise = shapesEqual || n > 0;
  d.compared = n;
  d.differing = elementwise ? differing : null;
  d.maxAbsDiff = elementwise ? maxAbs : null;
  d.maxRelDiff = elementwise ? maxRel : null;
  d.maxUlp = elementwise && ulp ? maxUlp : null;
  d.nonFiniteDiffering = nonFinite;
  d.bitIdentical = sameType && shapesEqual && differing === 0;
  d.status = d.bitIdentical ? 'identical' : 'modified';
  return d;
}
