/**
 * Slow decay (pure): each run passed, yet a metric's mean moved the same way in each of the last K
 * runs, toward the edge of its margin. Caught while there is still room, not when it finally fails.
 */
import type { HistoryLine } from '../schema/history.js';
import { num } from '../util/format.js';

export function slowDecay(lines: readonly HistoryLine[], k: number): string[] {
  const last = lines.filter((l) => l.command === 'check').slice(-k);
  if (last.length < k) return [];
  const names = Object.keys(last[last.length - 1]?.metrics ?? {});
  const out: string[] = [];
  for (const name of names) {
    const points = last.flatMap((l) => (Object.hasOwn(l.metrics, name) ? [l.metrics[name]] : []));
    const edgeNow = points[points.length - 1];
    if (points.length < k || !edgeNow) continue;
    const means = points.map((p) => p?.mean ?? Number.NaN);
    const steps = means.slice(1).map((m, i) => m - (means[i] ?? Number.NaN));
    const falling = steps.every((d) => d < 0) && typeof edgeNow.lower === 'number';
    const rising = steps.every((d) => d > 0) && typeof edgeNow.upper === 'number';
    if (!falling && !rising) continue;
    const edge = (falling ? edgeNow.lower : edgeNow.upper) ?? Number.NaN;
    out.push(
      `${name} ${falling ? 'fell' : 'rose'} in each of the last ${k} runs: ${num(means[0])} → ${num(means[means.length - 1])}, margin edge ${num(edge)}.`,
    );
  }
  return out;
}
