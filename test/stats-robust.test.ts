/** Robust (Hodges–Lehmann / Mann–Whitney) equivalence test for n ≥ 10 seeds per side. */
import { describe, expect, it } from 'vitest';
import { createRng } from '../src/stats/prng.js';
import { mannWhitneyCdf, ROBUST_MIN_SEEDS, robustTost } from '../src/stats/robust.js';
import { GateError } from '../src/util/errors.js';

describe('mannWhitneyCdf vs scipy 1.10.1 (scipy.stats._mannwhitneyu._mwu_state.cdf)', () => {
  it.each([
    [
      10,
      10,
      [0, 1, 2, 23, 24, 27, 50],
      [
        5.412544112234515e-6, 1.082508822446903e-5, 2.165017644893806e-5, 0.021628526272489117, 0.02621295113555175,
        0.04460477602892464, 0.5147437701617269,
      ],
    ],
    [10, 12, [0, 5, 30, 60], [1.546441174924147e-6, 2.9382382323558796e-5, 0.0251621443571908, 0.5128818549871181]],
  ])('m=%d n=%d', (m, n, ks, want) => {
    const cdf = mannWhitneyCdf(m, n);
    expect(cdf.length).toBe(m * n + 1);
    expect(cdf[m * n]).toBe(1);
    ks.forEach((k, i) => {
      expect(Math.abs(cdf[k]! / want[i]! - 1)).toBeLessThan(1e-12);
    });
  });
  it('small sizes by hand: 3 v 3 has 20 equally likely rank sets', () => {
    expect(Array.from(mannWhitneyCdf(3, 3)).map((p) => Math.round(p * 20))).toEqual([
      1, 2, 4, 7, 10, 13, 16, 18, 19, 20,
    ]);
  });
});

describe('robustTost', () => {
  // /usr/bin/python3: numpy.random.default_rng(5); sizes 11 v 13, 7 digits (no tied differences).
  const x = [
    0.9110377, 0.9104108, 0.911702, 0.9125045, 0.9133633, 0.9121316, 0.9113368, 0.9110583, 0.9128985, 0.9139617,
    0.9123273,
  ];
  const y = [
    0.91032, 0.9106501, 0.91372, 0.9120435, 0.9097214, 0.9116996, 0.9104041, 0.9110449, 0.9112144, 0.910944, 0.9124641,
    0.9117243, 0.9110927,
  ];

  it('matches an independent computation (numpy order statistics + scipy mannwhitneyu exact)', () => {
    const r = robustTost({ candidate: x, baseline: y, lower: -0.0015, upper: 0.0015, alpha: 0.05 });
    expect(r).toMatchObject({
      method: 'hodges-lehmann',
      n1: 11,
      n2: 13,
      k: 43,
      exact: true,
      ties: false,
      verdict: 'inconclusive',
      degenerate: false,
    });
    expect(r.estimate).toBe(0.0007382999999999695);
    expect(r.ci).toEqual([6.699999999915107e-6, 0.0015605000000000757]);
    expect(r.coverage).toBeCloseTo(0.906692883102898, 13);
    expect(r.coverage).toBeGreaterThanOrEqual(r.ciLevel);
    // scipy: mannwhitneyu(x - low, y, alternative='greater', method='exact') and (x - upp, y, 'less')
    expect(Math.abs(r.pLower / 2.6841400175630896e-5 - 1)).toBeLessThan(1e-10);
    expect(Math.abs(r.pUpper / 0.05280704959329269 - 1)).toBeLessThan(1e-10);
  });

  it('ties: CI and estimate from the order statistics, p-values conservative', () => {
    const a = [0.9131, 0.9102, 0.9125, 0.9118, 0.9144, 0.9109, 0.9121, 0.9137, 0.9113, 0.9128];
    const b = [0.9116, 0.9129, 0.9107, 0.9122, 0.9135, 0.9111, 0.9124, 0.9119, 0.914, 0.9104, 0.9126, 0.9115];
    const r = robustTost({ candidate: a, baseline: b, lower: -0.002, upper: 0.002, alpha: 0.05 });
    // numpy: d = sort(x_i - y_j); k = 35 from the exact U distribution
    expect(r).toMatchObject({ k: 35, ties: true, verdict: 'equivalent' });
    expect(r.ci).toEqual([-0.0007000000000000339, 0.0011999999999999789]);
    expect(r.estimate).toBe(0.00020000000000003348);
  });

  it('degenerate samples give CI [d, d]', () => {
    const r = robustTost({
      candidate: Array(10).fill(0.5),
      baseline: Array(10).fill(0.497),
      lower: -0.005,
      upper: 0.005,
      alpha: 0.05,
    });
    expect(r.degenerate).toBe(true);
    expect(r.ci[0]).toBe(r.ci[1]);
    expect(r.verdict).toBe('equivalent');
  });

  it('one-sided bounds', () => {
    const r = robustTost({ candidate: x, baseline: y, lower: -0.0015, upper: Infinity, alpha: 0.05 });
    expect(r.pUpper).toBe(0);
    expect(r.verdict).toBe('equivalent');
  });

  it('large samples use the normal approximation, close to the exact k', () => {
    const rng = createRng(3);
    const c = Array.from({ length: 60 }, () => rng.normal());
    const b = Array.from({ length: 60 }, () => rng.normal());
    const r = robustTost({ candidate: c, baseline: b, lower: -1, upper: 1, alpha: 0.05 });
    expect(r.exact).toBe(false);
    const cdf = mannWhitneyCdf(60, 60);
    let k = 0;
    while (cdf[k]! <= 0.05) k++;
    expect(Math.abs(r.k - k)).toBeLessThanOrEqual(1);
    expect(Math.abs(r.coverage - 0.9)).toBeLessThan(0.01);
  });

  it('refuses fewer than 10 seeds per side with a GateError that explains why', () => {
    const nine = x.slice(0, 9);
    let err: unknown;
    try {
      robustTost({ candidate: nine, baseline: y, lower: -1, upper: 1, alpha: 0.05 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).message).toMatch(
      /^robust equivalence needs ≥ 10 seeds per side \(candidate has 9, baseline 13\): with fewer, the rank-based CI cannot reach the \(1−2α\) coverage/,
    );
    expect((err as GateError).hint).toMatch(/Welch TOST/);
    expect(ROBUST_MIN_SEEDS).toBe(10);
  });

  it('holds its level at the margin and has power near Welch’s under normal noise', () => {
    const rng = createRng(21);
    const reps = 1500;
    let falsePass = 0;
    let pass = 0;
    for (let r = 0; r < reps; r++) {
      const b = Array.from({ length: 12 }, () => rng.normal());
      const atMargin = Array.from({ length: 12 }, () => 1 + rng.normal());
      const same = Array.from({ length: 12 }, () => rng.normal());
      if (robustTost({ candidate: atMargin, baseline: b, lower: -1, upper: 1, alpha: 0.05 }).verdict === 'equivalent')
        falsePass++;
      if (robustTost({ candidate: same, baseline: b, lower: -1.5, upper: 1.5, alpha: 0.05 }).verdict === 'equivalent')
        pass++;
    }
    expect(falsePass / reps).toBeLessThanOrEqual(0.05 + 3 * Math.sqrt((0.05 * 0.95) / reps));
    expect(pass / reps).toBeGreaterThan(0.75);
  });
});
