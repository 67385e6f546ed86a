/**
 * Arrays as the artifact differ loads them, and the one rule its JSON results follow: every
 * number in them is finite (non-finite values are spelled "NaN", "Infinity", "-Infinity"), so
 * `JSON.stringify` never silently turns one into null.
 */
import type { JsonNumber } from '../schema/diagnosis.js';
import type { DType } from './dtype.js';

export function jsonNumber(x: number): JsonNumber {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** An array as loaded from a file, before comparing. */
export type LoadedArray =
  | { kind: 'numeric'; dtype: DType; shape: number[]; data: Buffer; fortranOrder?: boolean }
  | { kind: 'text'; dtype: string; shape: number[]; values: string[] }
  /** Too large, or of a dtype not read as numbers: compared by SHA-256 of its data bytes. */
  | { kind: 'hashed'; dtype: string; shape: number[] | null; sha256: string; note: string };
