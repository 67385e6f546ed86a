/**
 * Pure: whether runs can become a baseline at all. The comparison later takes each metric's mean
 * and variance over seeds (stats/summary.ts); values so large that either overflows to ±Infinity
 * (around 1e308, or 1e154 and up for the variance) would make every later check meaningless.
 */
import type { RunRecord } from '../schema/baseline.js';
import { GateError } from '../util/errors.js';
import { listSome, num } from '../util/format.js';

/**
 * Mean and variance as stats/summary.ts computes them (shifted by the first value, corrected
 * two-pass), and whether every step stayed finite.
 */
function overflows(xs: readonly number[]): boolean {
  const [shift] = xs;
  if (shift === undefined) return false;
  let sum = 0;
  for (const x of xs) sum += x - shift;
  const meanShifted = sum / xs.length;
  const mean = shift + meanShifted;
  if (!Number.isFinite(sum) || !Number.isFinite(mean)) return true;
  if (xs.length < 2) return false;
  let ss = 0;
  let s = 0;
  for (const x of xs) {
    const dev = x - shift - meanShifted;
    ss += dev * dev;
    s += dev;
  }
  const variance = (ss - (s * s) / xs.length) / (xs.length - 1);
  return !Number.isFinite(ss) || !Number.isFinite(variance);
}

/**
 * Refuses, at record time, a metric whose mean or variance over the seeds overflows to ±Infinity,
 * naming the metric and its seeds. A run without a value for a metric is left to the caller.
 */
export function checkRecordable(runs: readonly RunRecord[], metricNames: readonly string[]): void {
  for (const name of metricNames) {
    const withValue = runs.filter((r) => Object.hasOwn(r.metrics, name));
    const values = withValue.map((r) => r.metrics[name] as number);
    if (!overflows(values)) continue;
    const largest = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    throw new GateError(
      `Metric "${name}" cannot be recorded: over seeds ${listSome(
        withValue.map((r) => String(r.seed)),
        10,
      )} its mean or variance overflows to infinity (values up to ${num(largest)}), so no later run could be compared with it.`,
      'Report the metric on a smaller scale from the training (other units, or its logarithm), then record again.',
    );
  }
}
