/**
 * Plain, JSON-serialisable results of the artifact differ. Every number in them is finite
 * (non-finite values are spelled as the strings "NaN", "Infinity", "-Infinity"), so
 * `JSON.stringify` never silently turns one into null.
 */
import type { DType } from './dtype.js';

export type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';

export function jsonNumber(x: number): JsonNumber {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

export type ArtifactFormat = 'npy' | 'npz' | 'safetensors' | 'json' | 'csv' | 'binary';

/** One array / tensor / JSON leaf / CSV column, before vs after. */
export interface ArrayDiff {
  /** Tensor name, .npz entry (without .npy), JSON dotted path, or CSV column header; "" for a lone .npy. */
  name: string;
  status: 'identical' | 'modified' | 'added' | 'removed';
  /** `float32`, `bfloat16`, `int64`, `bool`, …; `string` for text (CSV cells, JSON strings), `boolean`/`null` for JSON leaves; NumPy descr for unsupported ones. */
  dtypeBefore: string | null;
  dtypeAfter: string | null;
  shapeBefore: number[] | null;
  shapeAfter: number[] | null;
  elementsBefore: number | null;
  elementsAfter: number | null;
  /** Elements compared one by one (0 when only hashes could be compared). */
  compared: number;
  /**
   * Compared elements that differ: same dtype → their bits differ (so −0 vs +0 and different NaN
   * payloads count); different dtypes → their values differ (NaN equals NaN). null: not compared elementwise.
   */
  differing: number | null;
  /** Over differing pairs where both values are finite; null when not compared elementwise or not numeric. */
  maxAbsDiff: number | null;
  /** |after − before| / max(|before|, |after|): 0…2, never infinite. */
  maxRelDiff: number | null;
  /** Floats of the same dtype only, at that dtype's own width; a number (exact up to 2^53). */
  maxUlp: number | null;
  /** Differing pairs where either side is NaN or ±Infinity (not in the maxima above). */
  nonFiniteDiffering: number;
  nanBefore: number | null;
  nanAfter: number | null;
  /** Same dtype, same shape, every element's bits equal (or, for hash-only arrays, equal hashes). */
  bitIdentical: boolean;
  /** The first differing element in C (row-major) order. */
  firstDifference?: { index: number[]; before: JsonNumber | string; after: JsonNumber | string };
  note?: string;
}

export interface ArtifactDiff {
  name: string;
  format: ArtifactFormat;
  /** identical: the file bytes are equal. added / removed: the file exists on one side only. */
  status: 'identical' | 'modified' | 'added' | 'removed';
  sizeBefore: number | null;
  sizeAfter: number | null;
  sha256Before: string | null;
  sha256After: string | null;
  /** Empty when the bytes are identical, or for `binary` (and any fallback to hashes). */
  arrays: ArrayDiff[];
  /** Identical arrays left out of `arrays` to keep it under `maxEntries`. */
  arraysOmitted: number;
  notes: string[];
}

/** An array as loaded from a file, before comparing. */
export type LoadedArray =
  | { kind: 'numeric'; dtype: DType; shape: number[]; data: Buffer; fortranOrder?: boolean }
  | { kind: 'text'; dtype: string; shape: number[]; values: string[] }
  /** Too large, or of a dtype not read as numbers: compared by SHA-256 of its data bytes. */
  | { kind: 'hashed'; dtype: string; shape: number[] | null; sha256: string; note: string };
