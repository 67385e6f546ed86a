/** The seeded PRNG behind the simulations: xoshiro128** reference output, uniforms, normals. */
import { describe, expect, it } from 'vitest';
import { createRng, xoshiro128ss } from '../src/stats/prng.js';

describe('prng', () => {
  it('xoshiro128** matches the reference C implementation (state 1, 2, 3, 4)', () => {
    // gcc build of Blackman & Vigna's xoshiro128starstar.c with s = {1, 2, 3, 4}
    const next = xoshiro128ss([1, 2, 3, 4]);
    expect(Array.from({ length: 5 }, next)).toEqual([11520, 0, 5927040, 70819200, 2031721883]);
  });

  it('is deterministic per seed and differs across seeds', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.uniform())).not.toEqual(xs);
    expect(() => createRng(1.5)).toThrow(RangeError);
  });

  it('uniforms lie in [0, 1) and normals have mean 0, variance 1', () => {
    const rng = createRng(7);
    const n = 200_000;
    let s = 0;
    let s2 = 0;
    let s4 = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      expect(u >= 0 && u < 1).toBe(true);
      const z = rng.normal();
      s += z;
      s2 += z * z;
      s4 += z ** 4;
    }
    expect(Math.abs(s / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(s2 / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
    expect(Math.abs(s4 / n - 3)).toBeLessThan(4 * Math.sqrt(96 / n));
  });
});
