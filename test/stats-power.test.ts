/** TOST power, sample size and the "cannot pass" warning. */
import { describe, expect, it } from 'vitest';
import {
  expectedInterval,
  type PowerInput,
  powerWarning,
  seedsNeeded,
  tostPower,
  tostPowerApprox,
} from '../src/stats/power.js';
import { createRng } from '../src/stats/prng.js';
import { tost } from '../src/stats/tost.js';

/** Fraction of simulated gates (the real tost) that show equivalence. */
function simulate(input: PowerInput, reps: number, seed: number): number {
  const rng = createRng(seed);
  const design = input.design ?? 'welch';
  const delta = input.trueDiff ?? 0;
  let pass = 0;
  for (let r = 0; r < reps; r++) {
    const c: number[] = [];
    const b: number[] = [];
    if (design === 'paired') {
      for (let i = 0; i < input.nCandidate; i++) {
        c.push(delta + input.sd * rng.normal());
        b.push(0);
      }
    } else {
      for (let i = 0; i < input.nCandidate; i++) c.push(delta + (input.sdCandidate ?? input.sd) * rng.normal());
      for (let i = 0; i < input.nBaseline; i++) b.push(input.sd * rng.normal());
    }
    if (
      tost({ candidate: c, baseline: b, lower: input.lower, upper: input.upper, alpha: input.alpha, design })
        .verdict === 'equivalent'
    )
      pass++;
  }
  return pass / reps;
}

describe('tostPower (numerical integration over the sample variances)', () => {
  const cases: Array<[string, PowerInput]> = [
    ['welch 5 v 5, margin = sd', { sd: 1, lower: -1, upper: 1, alpha: 0.05, nBaseline: 5, nCandidate: 5 }],
    ['welch 3 v 10, margin 1.5 sd', { sd: 1, lower: -1.5, upper: 1.5, alpha: 0.05, nBaseline: 10, nCandidate: 3 }],
    ['welch 2 v 2', { sd: 1, lower: -2, upper: 2, alpha: 0.05, nBaseline: 2, nCandidate: 2 }],
    [
      'welch unequal sd, true diff 0.5',
      { sd: 1, sdCandidate: 2, lower: -2, upper: 2, alpha: 0.05, nBaseline: 10, nCandidate: 4, trueDiff: 0.5 },
    ],
    ['paired 6', { sd: 1, lower: -1, upper: 1, alpha: 0.05, nBaseline: 6, nCandidate: 6, design: 'paired' }],
    ['one-sided (upper = ∞)', { sd: 1, lower: -1, upper: Infinity, alpha: 0.05, nBaseline: 5, nCandidate: 5 }],
    [
      'asymmetric, at 0.7 of the margin',
      { sd: 0.004, lower: -0.01, upper: 0.005, alpha: 0.05, nBaseline: 10, nCandidate: 10, trueDiff: 0.0035 },
    ],
  ];
  const reps = 6000;
  it.each(cases)('%s: within 4 simulation SE of 6000 simulated gates', (_, input) => {
    const exact = tostPower(input);
    const sim = simulate(input, reps, 11);
    const se = Math.sqrt(Math.max(exact * (1 - exact), 1e-4) / reps);
    expect(Math.abs(exact - sim), `exact ${exact} vs simulated ${sim}`).toBeLessThan(4 * se);
  });

  it.each(cases)('%s: the default grid is within 2e-4 of a 4× finer one', (_, input) => {
    expect(Math.abs(tostPower(input) - tostPower(input, { nodes: 32 }))).toBeLessThan(2e-4);
  });

  it('zero noise is deterministic', () => {
    const base = { sd: 0, lower: -0.01, upper: 0.01, alpha: 0.05, nBaseline: 5, nCandidate: 5 };
    expect(tostPower(base)).toBe(1);
    expect(tostPower({ ...base, trueDiff: 0.01 })).toBe(0);
    expect(tostPower({ ...base, design: 'paired' })).toBe(1);
  });

  it('grows with n and falls with the true difference', () => {
    const base = { sd: 0.003, lower: -0.005, upper: 0.005, alpha: 0.05, nBaseline: 10 };
    const ps = [3, 5, 7, 10, 15].map((n) => tostPower({ ...base, nCandidate: n }));
    for (let i = 1; i < ps.length; i++) expect(ps[i]!).toBeGreaterThan(ps[i - 1]!);
    const ds = [0, 0.002, 0.004, 0.005].map((d) => tostPower({ ...base, nCandidate: 10, trueDiff: d }));
    for (let i = 1; i < ds.length; i++) expect(ds[i]!).toBeLessThan(ds[i - 1]!);
    expect(ds[3]!).toBeLessThanOrEqual(0.05); // at the margin: at most α
  });

  it('the σ-plug-in approximation is fine at large n, poor at small n (documented)', () => {
    const big = { sd: 1, lower: -0.8, upper: 0.8, alpha: 0.05, nBaseline: 50, nCandidate: 50 };
    expect(Math.abs(tostPowerApprox(big) - tostPower(big))).toBeLessThan(0.01);
    const small = { sd: 1, lower: -1, upper: 1, alpha: 0.05, nBaseline: 5, nCandidate: 5 };
    expect(tostPowerApprox(small)).toBe(0); // expected CI wider than the margin …
    expect(tostPower(small)).toBeGreaterThan(0.05); // … yet lucky small-s samples pass
  });

  it('expectedInterval', () => {
    const e = expectedInterval({ sd: 0.0031, lower: -0.005, upper: 0.005, alpha: 0.05, nBaseline: 3, nCandidate: 3 });
    expect(e.df).toBeCloseTo(4, 12);
    expect(e.se).toBeCloseTo(0.0031 * Math.sqrt(2 / 3), 15);
    expect(e.halfWidth).toBeGreaterThan(0.005);
  });
});

describe('seedsNeeded', () => {
  const base = { sd: 0.0031, lower: -0.005, upper: 0.005, alpha: 0.05 };
  it('is the smallest n reaching the target', () => {
    const n = seedsNeeded({ ...base, nBaseline: 3, bothSides: true })!;
    expect(n).toBe(8);
    expect(tostPower({ ...base, nBaseline: n, nCandidate: n })).toBeGreaterThanOrEqual(0.8);
    expect(tostPower({ ...base, nBaseline: n - 1, nCandidate: n - 1 })).toBeLessThan(0.8);
    const fixed = seedsNeeded({ ...base, nBaseline: 10 })!;
    expect(tostPower({ ...base, nBaseline: 10, nCandidate: fixed })).toBeGreaterThanOrEqual(0.8);
    expect(tostPower({ ...base, nBaseline: 10, nCandidate: fixed - 1 })).toBeLessThan(0.8);
    expect(seedsNeeded({ ...base, nBaseline: 10, target: 0.9 })!).toBeGreaterThan(fixed);
  });
  it('is undefined when a fixed baseline is too small for any candidate n (≤ cap)', () => {
    expect(seedsNeeded({ ...base, nBaseline: 3 })).toBeUndefined();
    expect(seedsNeeded({ ...base, sd: 0.05, nBaseline: 3, bothSides: true, cap: 20 })).toBeUndefined();
  });
  it('paired always grows both sides', () => {
    expect(seedsNeeded({ ...base, nBaseline: 2, design: 'paired' })).toBe(
      seedsNeeded({ ...base, nBaseline: 99, design: 'paired' }),
    );
  });
});

describe('powerWarning', () => {
  const base = { sd: 0.0031, lower: -0.005, upper: 0.005, alpha: 0.05 };
  it('cannot pass: the expected CI is wider than the margin', () => {
    expect(powerWarning({ ...base, nBaseline: 3, nCandidate: 3 })).toBe(
      'with this noise (sd 0.0031), 3 seeds cannot show equivalence within ±0.005: use ≥ 8 seeds (and re-record the baseline with them) or widen the margin',
    );
    expect(powerWarning({ ...base, sd: 0.01, nBaseline: 10, nCandidate: 10 })).toBe(
      'with this noise (sd 0.01), 10 seeds cannot show equivalence within ±0.005: use ≥ 70 seeds (and re-record the baseline with them) or widen the margin',
    );
  });
  it('low power, with advice against a fixed baseline', () => {
    expect(powerWarning({ ...base, nBaseline: 10, nCandidate: 3 })).toBe(
      'with this noise (sd 0.0031), 3 seeds show equivalence within ±0.005 only ~40% of the time even when nothing changed: use ≥ 7 seeds or widen the margin',
    );
    expect(powerWarning({ ...base, nBaseline: 5, nCandidate: 3 })).toMatch(
      /only ~28% of the time even when nothing changed: against the baseline's 5 seeds it takes \d+; re-record the baseline and run ≥ 8 seeds on each side, or widen the margin$/,
    );
    expect(powerWarning({ ...base, nBaseline: 10, nCandidate: 3, lowPower: 0 })).toBeUndefined();
  });
  it('one-sided and asymmetric bounds', () => {
    expect(powerWarning({ ...base, upper: Infinity, nBaseline: 3, nCandidate: 3 })).toMatch(
      /^with this noise \(sd 0\.0031\), 3 seeds cannot show equivalence \(a drop of at most 0\.005\): use ≥ \d+ seeds/,
    );
    expect(powerWarning({ ...base, lower: -0.004, upper: 0.006, nBaseline: 3, nCandidate: 3 })).toMatch(
      /within \(-0\.004, 0\.006\)/,
    );
  });
  it('quiet when the plan is fine or training is deterministic', () => {
    expect(powerWarning({ ...base, nBaseline: 10, nCandidate: 10 })).toBeUndefined();
    expect(powerWarning({ ...base, sd: 0, nBaseline: 2, nCandidate: 2 })).toBeUndefined();
  });
});
