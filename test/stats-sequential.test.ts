/** Group-sequential TOST: plan shapes, α′ per look, decisions and the multi-metric combination. */
import { describe, expect, it } from 'vitest';
import {
  combineSequential,
  conditionalPower,
  informationFractions,
  planSequential,
  type SequentialDecision,
  sequentialDecision,
  sequentialLooks,
  spend,
} from '../src/stats/sequential.js';
import { tost } from '../src/stats/tost.js';

const B10 = [0.9118, 0.913, 0.9125, 0.9109, 0.9122, 0.9131, 0.9116, 0.9127, 0.912, 0.9112];
const bounds = { lower: -0.01, upper: 0.01 };

describe('sequentialLooks', () => {
  it('spreads about 4 looks by default, always ending at max', () => {
    expect(sequentialLooks({ min: 3, max: 10 })).toEqual([3, 5, 7, 10]);
    expect(sequentialLooks({ min: 2, max: 20 })).toEqual([2, 8, 14, 20]);
    expect(sequentialLooks({ min: 3, max: 4 })).toEqual([3, 4]);
    expect(sequentialLooks({ min: 5, max: 5 })).toEqual([5]);
  });
  it('steps', () => {
    expect(sequentialLooks({ min: 3, max: 10, step: 2 })).toEqual([3, 5, 7, 9, 10]);
    expect(sequentialLooks({ min: 3, max: 10, step: 1 })).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sequentialLooks({ min: 3, max: 9, step: 3 })).toEqual([3, 6, 9]);
  });
  it('explicit looks and errors', () => {
    expect(sequentialLooks({ looks: [3, 6, 12] })).toEqual([3, 6, 12]);
    expect(() => sequentialLooks({ looks: [3, 3] })).toThrow(/increase strictly/);
    expect(() => sequentialLooks({ looks: [1, 3] })).toThrow(/≥ 2 seeds/);
    expect(() => sequentialLooks({ min: 5, max: 4 })).toThrow(/max must be an integer ≥ min/);
    expect(() => sequentialLooks({ min: 5 })).toThrow(/give min and max/);
    expect(() => sequentialLooks({ min: 3, max: 10, step: 0 })).toThrow(/step must be a positive integer/);
  });
});

describe('spending and information', () => {
  it('spending functions reach α at t = 1 and match the Lan–DeMets forms', () => {
    expect(spend('obrien-fleming', 0.05, 1)).toBe(0.05);
    // 2 − 2Φ(1.959964/√0.5) = 2 − 2Φ(2.771808)
    expect(spend('obrien-fleming', 0.05, 0.5)).toBeCloseTo(0.0055746, 6);
    expect(spend('pocock-spending', 0.05, 0.5)).toBeCloseTo(0.05 * Math.log(1 + (Math.E - 1) / 2), 14);
  });
  it('information fractions account for the fixed baseline', () => {
    const f = informationFractions([3, 5, 7, 10], 10, 'welch');
    expect(f[3]).toBe(1);
    expect(f[0]).toBeCloseTo((1 / 10 + 1 / 10) / (1 / 3 + 1 / 10), 14);
    expect(informationFractions([3, 5, 10], 10, 'paired')).toEqual([0.3, 0.5, 1]);
  });
});

describe('planSequential', () => {
  it('bonferroni: the levels sum to α', () => {
    const p = planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10, calibration: 'bonferroni' });
    expect(p.method).toBe('pocock/bonferroni');
    expect(p.alphaPerLook).toEqual([0.0125, 0.0125, 0.0125, 0.0125]);
    const obf = planSequential({
      min: 3,
      max: 10,
      alpha: 0.05,
      nBaseline: 10,
      calibration: 'bonferroni',
      boundary: 'obrien-fleming',
    });
    expect(obf.alphaPerLook.reduce((a, b) => a + b, 0)).toBeCloseTo(0.05, 15);
    expect(obf.alphaPerLook[0]!).toBeLessThan(obf.alphaPerLook[3]!);
    expect(obf.guarantee).toMatch(/Welch does not quite hold it for tiny unbalanced samples/);
  });

  it('a single look is the fixed-n test at α', () => {
    const p = planSequential({ min: 5, max: 5, alpha: 0.05, nBaseline: 5 });
    expect(p).toMatchObject({ looks: [5], alphaPerLook: [0.05], method: 'fixed' });
  });

  it('simulated: deterministic, below α, and holds its target on its own sample', () => {
    // (Its cache is a speed matter, measured by `npm run bench:seeds`, not asserted on a clock here.)
    const a = planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10 });
    const b = planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10 });
    expect(b).toEqual(a);
    b.alphaPerLook[0] = 1; // callers get copies
    expect(planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10 }).alphaPerLook[0]).toBe(a.alphaPerLook[0]);
    expect(a.method).toBe('pocock/simulated');
    expect(a.looks).toEqual([3, 5, 7, 10]);
    const level = a.alphaPerLook[0]!;
    expect(new Set(a.alphaPerLook).size).toBe(1); // Pocock: one constant
    expect(level).toBeGreaterThan((0.05 / 4) * 0.9); // not far below Bonferroni (Welch's small-n liberality eats the correlation gain)
    expect(level).toBeLessThan(0.05 / 2);
    const sim = a.simulation!;
    expect(sim.target).toBeCloseTo(0.05 - 2 * Math.sqrt((0.05 * 0.95) / 20000), 12);
    for (const r of sim.falsePass) expect(r).toBeLessThanOrEqual(sim.target);
    expect(Math.max(...sim.falsePass)).toBeGreaterThan(sim.target - 0.002); // the binding ratio sits on the target
    expect(a.guarantee).toMatch(/Calibrated by seeded simulation/);
  });

  it('simulated paired plans gain over Bonferroni (correlated looks, exact t)', () => {
    const p = planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10, design: 'paired' });
    expect(p.alphaPerLook[0]!).toBeGreaterThan((0.05 / 4) * 1.25);
    expect(p.simulation!.varianceRatios).toEqual([Infinity]);
  });

  it('spending plans increase α′ over the looks (O’Brien–Fleming)', () => {
    const p = planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10, boundary: 'obrien-fleming', reps: 5000 });
    expect(p.method).toBe('obrien-fleming/simulated');
    for (let k = 1; k < p.looks.length; k++) expect(p.alphaPerLook[k]!).toBeGreaterThan(p.alphaPerLook[k - 1]!);
    expect(p.alphaPerLook[0]!).toBeLessThan(0.002);
  });

  it('rejects bad plans', () => {
    expect(() => planSequential({ min: 3, max: 10, alpha: 0.5, nBaseline: 10 })).toThrow(/alpha/);
    expect(() => planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 5, design: 'paired' })).toThrow(
      /needs ≥ 10 seeds/,
    );
    expect(() => planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10, reps: 10 })).toThrow(/reps/);
    expect(() => planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10, futilityConditionalPower: 1 })).toThrow(
      /futilityConditionalPower/,
    );
  });
});

describe('sequentialDecision', () => {
  const plan = planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10, calibration: 'bonferroni' });

  it('stops for equivalence at the first look when the CI at α′ is inside', () => {
    const d = sequentialDecision(plan, 0, [0.9121, 0.9119, 0.9124], B10, bounds);
    expect(d).toMatchObject({ decision: 'equivalent', final: true, runsUsed: 3, look: 0, looks: 4, alphaLook: 0.0125 });
    expect(d.result.ciLevel).toBeCloseTo(0.975, 14);
    expect(d.result).toEqual(
      tost({ candidate: [0.9121, 0.9119, 0.9124], baseline: B10, ...bounds, alpha: 0.0125, design: 'welch' }),
    );
    expect(d.reason).toMatch(
      /97\.5% CI \[.*\] lies inside \(-0\.01, 0\.01\) at look 1 of 4 \(3 seeds\): stopped for equivalence/,
    );
  });

  it('stops as not equivalent when the CI is wholly outside (futility, non-binding)', () => {
    const d = sequentialDecision(plan, 0, [0.8821, 0.8819, 0.8824], B10, bounds);
    expect(d.decision).toBe('not-equivalent');
    expect(d.reason).toMatch(/wholly outside .* stopped, not equivalent/);
  });

  it('continues when the CI overlaps a bound, and is inconclusive at the last look', () => {
    const c3 = [0.905, 0.921, 0.897];
    const d = sequentialDecision(plan, 0, c3, B10, bounds);
    expect(d).toMatchObject({ decision: 'continue', final: false });
    expect(d.reason).toMatch(/continue to 5 seeds/);
    const c10 = [0.905, 0.921, 0.897, 0.93, 0.89, 0.925, 0.9, 0.915, 0.935, 0.888];
    const last = sequentialDecision(plan, 3, c10, B10, bounds);
    expect(last).toMatchObject({ decision: 'inconclusive', final: true, runsUsed: 10 });
  });

  it('checks the look matches the plan', () => {
    expect(() => sequentialDecision(plan, 4, [1, 2], B10, bounds)).toThrow(/not in the plan/);
    expect(() => sequentialDecision(plan, 1, [1, 2, 3], B10, bounds)).toThrow(
      /look 2 of the plan is at 5 candidate seeds, got 3/,
    );
    expect(() => sequentialDecision(plan, 0, [1, 2, 3], B10.slice(0, 5), bounds)).toThrow(
      /calibrated for 10 baseline seeds/,
    );
    expect(() => sequentialDecision(plan, 0, [1, 2, 3], B10, bounds, 'paired')).toThrow(/calibrated for welch/);
  });

  it('paired looks pair the same seeds', () => {
    const p = planSequential({
      min: 3,
      max: 10,
      alpha: 0.05,
      nBaseline: 10,
      design: 'paired',
      calibration: 'bonferroni',
    });
    const c = B10.slice(0, 3).map((v) => v + 0.0004);
    expect(sequentialDecision(p, 0, c, B10.slice(0, 3), bounds).decision).toBe('equivalent');
    expect(() => sequentialDecision(p, 0, c, B10, bounds)).toThrow(/baseline values of the same 3 seeds/);
  });

  it('optional futility on conditional power stops hopeless runs as inconclusive', () => {
    const p = planSequential({
      min: 3,
      max: 10,
      alpha: 0.05,
      nBaseline: 10,
      calibration: 'bonferroni',
      futilityConditionalPower: 0.1,
    });
    // Difference ≈ 0.009 with large noise: the CI straddles the bound, passing later is unlikely.
    const c = [0.914, 0.932, 0.917];
    const d = sequentialDecision(p, 0, c, B10, bounds);
    expect(d.decision).toBe('inconclusive');
    expect(d.conditionalPower!).toBeLessThan(0.1);
    expect(d.reason).toMatch(/futility/);
    // The same data without the rule just continues.
    expect(sequentialDecision(plan, 0, c, B10, bounds).decision).toBe('continue');
    // A promising look keeps going.
    const ok = sequentialDecision(p, 0, [0.9105, 0.9135, 0.9125], B10, { lower: -0.0025, upper: 0.0025 });
    expect(ok.decision).toBe('continue');
    expect(ok.conditionalPower!).toBeGreaterThan(0.5);
  });

  it('conditional power is 0 when even a perfect estimate cannot fit, 1 for a noiseless fit', () => {
    const p = planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10, calibration: 'bonferroni' });
    expect(conditionalPower(p, [0, 1, 2], [0, 1, 2, 0, 1, 2, 0, 1, 2, 1], bounds)).toBe(0);
    expect(conditionalPower(p, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], bounds)).toBe(1);
  });
});

describe('combineSequential (intersection–union over metrics)', () => {
  const plan = planSequential({ min: 3, max: 10, alpha: 0.05, nBaseline: 10, calibration: 'bonferroni' });
  const eq = sequentialDecision(plan, 0, [0.9121, 0.9119, 0.9124], B10, bounds);
  const cont = sequentialDecision(plan, 0, [0.905, 0.921, 0.897], B10, bounds);
  const bad = sequentialDecision(plan, 0, [0.8821, 0.8819, 0.8824], B10, bounds);
  const withKind = (d: SequentialDecision, decision: SequentialDecision['decision']): SequentialDecision => ({
    ...d,
    decision,
  });

  it('equivalent only when every metric is equivalent at the same look', () => {
    expect(combineSequential([eq, eq]).decision).toBe('equivalent');
    expect(combineSequential([eq, cont], ['accuracy', 'loss'])).toMatchObject({
      decision: 'continue',
      final: false,
      reason: 'loss not yet decided at look 1 of 4 (3 seeds).',
    });
  });
  it('fails as soon as any metric is clearly not equivalent', () => {
    expect(combineSequential([eq, cont, bad], ['a', 'b', 'c'])).toMatchObject({
      decision: 'not-equivalent',
      final: true,
      reason: 'c clearly not equivalent at look 1 of 4 (3 seeds).',
    });
  });
  it('inconclusive when a metric stops for futility or at the last look', () => {
    expect(combineSequential([eq, withKind(cont, 'inconclusive')]).decision).toBe('inconclusive');
    expect(() => combineSequential([])).toThrow(RangeError);
    expect(() => combineSequential([eq, { ...cont, look: 1 }])).toThrow(/same look/);
  });
});
