import type { ConfigDrift } from '../schema/report.js';

/** Gate settings the baseline was recorded with that a run now changes, as config drift on the gate's own file. */
export function diffSettings(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  file: string,
): ConfigDrift[] {
  const show = (v: unknown) =>
    v === undefined || v === null || typeof v !== 'object'
      ? (v as string | number | boolean | null | undefined)
      : JSON.stringify(v);
  return Object.keys(after)
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => ({ file, key, change: 'modified' as const, before: show(before[key]), after: show(after[key]) }));
}
