import { summarize } from './summary.js';

/** {n, mean, sd} as reports show it; one value has no spread to speak of, so sd is 0. */
export function describeSample(xs: number[]): { n: number; mean: number; sd: number } {
  const s = summarize(xs);
  return { n: s.n, mean: s.mean, sd: s.n > 1 ? s.sd : 0 };
}
