/**
 * A one-line picture of a metric's CI against its margin band: `··│──[■■]──│··`.
 * `─` is inside the band (`│` its edges), `·` outside it, `[■]` the CI (`◆` when it fits in one
 * cell). A one-sided margin's band runs to the strip's end on its open side. Pure layout.
 */

/** Cells in the strip: wide enough to tell a CI at an edge from one inside, narrow enough for a comment. */
export const STRIP_WIDTH = 21;

export interface StripInput {
  /** CI of candidate − baseline; null in exact mode. */
  ci: readonly [number, number] | null;
  /** Band on the difference; null = open on that side. */
  lower: number | null;
  upper: number | null;
}

/** The strip, or undefined when there is nothing to draw (exact mode, no bounds, non-finite values). */
export function ciStrip(m: StripInput, width = STRIP_WIDTH): string | undefined {
  if (!m.ci || (m.lower === null && m.upper === null)) return undefined;
  const [lo, hi] = m.ci;
  const marks = [lo, hi, m.lower, m.upper].filter((v): v is number => v !== null);
  if (!marks.every(Number.isFinite)) return undefined;
  let min = Math.min(...marks, 0);
  let max = Math.max(...marks, 0);
  // Room beyond the outermost mark, so an edge and a CI end at the same value stay readable.
  const pad = (max - min) * 0.15 || Math.abs(max) || 1;
  min -= pad;
  max += pad;
  const cell = (x: number) => Math.min(width - 1, Math.max(0, Math.round(((x - min) / (max - min)) * (width - 1))));

  const lowEdge = m.lower === null ? undefined : cell(m.lower);
  const highEdge = m.upper === null ? undefined : cell(m.upper);
  const inBand = (i: number) => (lowEdge === undefined || i >= lowEdge) && (highEdge === undefined || i <= highEdge);
  const out: string[] = Array.from({ length: width }, (_, i) => (inBand(i) ? '─' : '·'));
  if (lowEdge !== undefined) out[lowEdge] = '│';
  if (highEdge !== undefined) out[highEdge] = '│';
  const a = cell(lo);
  const b = cell(hi);
  if (a === b) out[a] = '◆';
  else {
    for (let i = a + 1; i < b; i++) out[i] = '■';
    out[a] = '[';
    out[b] = ']';
  }
  return out.join('');
}
