import { describe, expect, it } from 'vitest';
import { ciStrip, STRIP_WIDTH } from '../src/report/ci-strip.js';

/** Cell indexes of a character in the strip. */
function at(strip: string, ch: string): number[] {
  return [...strip].flatMap((c, i) => (c === ch ? [i] : []));
}

describe('CI strip', () => {
  it('draws the band between its edges and a CI inside it', () => {
    const s = ciStrip({ ci: [-0.001, 0.002], lower: -0.01, upper: 0.01 })!;
    expect([...s]).toHaveLength(STRIP_WIDTH);
    const [lo, hi] = at(s, '│');
    const open = s.indexOf('[');
    const close = s.indexOf(']');
    expect(lo).toBeLessThan(open);
    expect(close).toBeLessThan(hi!);
    // Outside the band: dots; between the edges: band or CI only.
    expect(s.slice(0, lo)).toMatch(/^·+$/);
    expect(s.slice(hi! + 1)).toMatch(/^·+$/);
    expect(s.slice(lo! + 1, hi)).toMatch(/^[─[■\]]+$/);
  });

  it('puts the edges symmetrically for a symmetric band', () => {
    const s = ciStrip({ ci: [0, 0.001], lower: -1, upper: 1 })!;
    const [lo, hi] = at(s, '│');
    expect(lo).toBe(STRIP_WIDTH - 1 - hi!);
  });

  it('shows a CI beyond an edge in the dotted area', () => {
    // The test report's failing metric: CI [−0.0093, −0.0067] against ±0.005.
    const s = ciStrip({ ci: [-0.0093, -0.0067], lower: -0.005, upper: 0.005 })!;
    expect(s).toBe('··[■■]·│──────────│··');
    const above = ciStrip({ ci: [0.006, 0.02], lower: -0.005, upper: 0.005 })!;
    const edges = at(above, '│');
    expect(edges).toHaveLength(2);
    expect(above.indexOf('[')).toBeGreaterThan(edges[1]!);
  });

  it('runs a one-sided band to the end of the strip on its open side', () => {
    const higher = ciStrip({ ci: [-0.002, 0.003], lower: -0.005, upper: null })!;
    expect(at(higher, '│')).toHaveLength(1);
    expect(higher.at(-1)).toBe('─');
    expect(higher[0]).toBe('·');
    const lower = ciStrip({ ci: [-0.002, 0.003], lower: null, upper: 0.005 })!;
    expect(at(lower, '│')).toHaveLength(1);
    expect(lower[0]).toBe('─');
    expect(lower.at(-1)).toBe('·');
  });

  it('marks a CI narrower than a cell with one diamond', () => {
    const s = ciStrip({ ci: [0.0001, 0.0001], lower: -1, upper: 1 })!;
    expect(at(s, '◆')).toEqual([Math.floor(STRIP_WIDTH / 2)]);
    expect(s).not.toMatch(/[[\]]/);
  });

  it('draws nothing in exact mode, without bounds or for non-finite values', () => {
    expect(ciStrip({ ci: null, lower: null, upper: null })).toBeUndefined();
    expect(ciStrip({ ci: [0, 1], lower: null, upper: null })).toBeUndefined();
    expect(ciStrip({ ci: [Number.NEGATIVE_INFINITY, 1], lower: -1, upper: 1 })).toBeUndefined();
  });
});
