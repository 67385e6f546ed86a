/**
 * Numerics of the statistics: the two-pass variance under large offsets (against exact rational
 * arithmetic), the TOST at n = 2 against statsmodels, n < 2 errors across the new APIs, and the
 * extra reference cases in test/fixtures/equivalence-extra.json (scripts/gen-equivalence-extra.py).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type EquivalenceArgs, runEquivalence } from '../src/gate/equivalence.js';
import { seedsNeeded, tostPower } from '../src/stats/power.js';
import { robustTost } from '../src/stats/robust.js';
import { planSequential, sequentialDecision } from '../src/stats/sequential.js';
import { summarize } from '../src/stats/summary.js';
import { tost } from '../src/stats/tost.js';

function relErr(got: number, want: number): number {
  if (Object.is(got, want)) return 0;
  if (want === 0) return Math.abs(got);
  return Math.abs(got / want - 1);
}

/** Exact sample variance of k·scale (k integers), via BigInt: (nΣk² − (Σk)²) / (n(n−1)) · scale². */
function exactVariance(ks: readonly bigint[], scale: number): number {
  const n = BigInt(ks.length);
  const s = ks.reduce((a, k) => a + k, 0n);
  const s2 = ks.reduce((a, k) => a + k * k, 0n);
  const num = n * s2 - s * s;
  const den = n * (n - 1n);
  // num and den are exact; one division in double (≤ 1 ulp) on the way out.
  return (Number(num) / Number(den)) * scale * scale;
}

describe('two-pass variance (summary.ts) under large offsets', () => {
  // Values offset + k·2^-p are exactly representable, so the exact variance is known.
  const cases: Array<[offset: number, p: number, ks: number[]]> = [
    [1e9, 20, [3, 7, 1, 9, 4, 4, 6, 2, 8, 5]],
    [-1e9, 20, [1000, 1003, 999, 1001, 1002]],
    [1e12, 10, [12, 17, 11, 19, 14]],
    [2 ** 40, 8, [1, 2]],
    [123456.789, 30, [5, 1, 9, 2, 7, 3, 3, 8]],
  ];
  it.each(cases)('offset %d, step 2^-%d', (offset, p, ks) => {
    const scale = 2 ** -p;
    const base = offset; // round once; every value is base + k·scale, exactly
    const xs = ks.map((k) => base + k * scale);
    // representable: the test is exact
    xs.forEach((x, i) => {
      expect(x - base).toBe(ks[i]! * scale);
    });
    const want = exactVariance(ks.map(BigInt), scale);
    const s = summarize(xs);
    expect(relErr(s.variance, want), `variance ${s.variance} vs exact ${want}`).toBeLessThan(1e-13);
    const exactMean = base + (ks.reduce((a, k) => a + k, 0) / ks.length) * scale;
    expect(relErr(s.mean, exactMean)).toBeLessThan(1e-15);
    // The textbook one-pass formula loses everything here: this is what the test guards against.
    const n = xs.length;
    const naive = (xs.reduce((a, x) => a + x * x, 0) - xs.reduce((a, x) => a + x, 0) ** 2 / n) / (n - 1);
    if (Math.abs(offset) >= 1e9) expect(relErr(naive, want)).toBeGreaterThan(1e-3);
  });

  it('keeps the TOST difference exact under a shared 1e9 offset', () => {
    const c = [0.125, 0.25, 0.375].map((v) => 1e9 + v);
    const b = [0.0625, 0.125, 0.1875, 0.25].map((v) => 1e9 + v);
    const r = tost({ candidate: c, baseline: b, lower: -0.5, upper: 0.5, alpha: 0.05, design: 'welch' });
    expect(r.diff).toBe(0.25 - 0.15625);
    expect(relErr(r.se, Math.sqrt(0.015625 / 3 + 0.006510416666666667 / 4))).toBeLessThan(1e-13);
  });
});

describe('tost with n = 2 vs statsmodels 0.13.5 (ttost_ind / ttost_paired, tconfint)', () => {
  // /usr/bin/python3 -c "from statsmodels.stats.weightstats import *; import numpy as np; ..."
  // (the calls are in the statsmodels.call strings of test/fixtures/equivalence-extra.json)
  const refs = [
    {
      name: 'welch 2 vs 2',
      input: {
        candidate: [0.91, 0.93],
        baseline: [0.92, 0.9],
        lower: -0.05,
        upper: 0.05,
        alpha: 0.05,
        design: 'welch' as const,
      },
      p: 0.05278640450004214,
      pLower: 0.02565835097474313,
      pUpper: 0.05278640450004214,
      df: 2,
      tLower: 4.242640687119282,
      ci: [-0.03129483209672647, 0.051294832096726486],
      verdict: 'inconclusive',
    },
    {
      name: 'welch 2 vs 3',
      input: {
        candidate: [0.91, 0.93],
        baseline: [0.92, 0.9, 0.95],
        lower: -0.05,
        upper: 0.05,
        alpha: 0.05,
        design: 'welch' as const,
      },
      p: 0.038663061906959804,
      pLower: 0.038663061906959804,
      pUpper: 0.02831924188525189,
      df: 2.9980879541108982,
      tLower: 2.6457513110645947,
      ci: [-0.04485355725701458, 0.03818689059034798],
      verdict: 'equivalent',
    },
    {
      name: 'paired 2',
      input: {
        candidate: [0.91, 0.93],
        baseline: [0.905, 0.921],
        lower: -0.02,
        upper: 0.02,
        alpha: 0.05,
        design: 'paired' as const,
      },
      p: 0.048589790347528986,
      pLower: 0.023535526661438017,
      pUpper: 0.048589790347528986,
      df: 1,
      tLower: 13.499999999999991,
      ci: [-0.00562750302960187, 0.01962750302960188],
      verdict: 'equivalent',
    },
  ];
  it.each(refs)('$name', (ref) => {
    const r = tost(ref.input);
    expect(relErr(r.p, ref.p)).toBeLessThan(1e-9);
    expect(relErr(r.pLower, ref.pLower)).toBeLessThan(1e-9);
    expect(relErr(r.pUpper, ref.pUpper)).toBeLessThan(1e-9);
    expect(relErr(r.df, ref.df)).toBeLessThan(1e-12);
    expect(relErr(r.tLower, ref.tLower)).toBeLessThan(1e-12);
    // scipy's t.ppf (behind statsmodels' CI) is good to ~5e-9 relative.
    expect(Math.abs(r.ci[0] - ref.ci[0]!)).toBeLessThan(1e-9);
    expect(Math.abs(r.ci[1] - ref.ci[1]!)).toBeLessThan(1e-9);
    expect(r.verdict).toBe(ref.verdict);
  });
});

describe('n < 2 is an error everywhere', () => {
  const bounds = { lower: -0.01, upper: 0.01 };
  it('tost', () => {
    expect(() => tost({ candidate: [0.9], baseline: [0.9, 0.91], ...bounds, alpha: 0.05, design: 'welch' })).toThrow(
      /at least 2 values/,
    );
    expect(() => tost({ candidate: [0.9, 0.91], baseline: [0.9], ...bounds, alpha: 0.05, design: 'welch' })).toThrow(
      /at least 2 values/,
    );
  });
  it('power', () => {
    expect(() => tostPower({ sd: 0.01, ...bounds, alpha: 0.05, nBaseline: 5, nCandidate: 1 })).toThrow(
      /nCandidate must be an integer ≥ 2/,
    );
    expect(() => seedsNeeded({ sd: 0.01, ...bounds, alpha: 0.05, nBaseline: 1 })).toThrow(
      /nBaseline must be an integer ≥ 2/,
    );
  });
  it('sequential', () => {
    expect(() => planSequential({ min: 1, max: 5, alpha: 0.05, nBaseline: 5 })).toThrow(/min must be an integer ≥ 2/);
    expect(() => planSequential({ min: 2, max: 5, alpha: 0.05, nBaseline: 1 })).toThrow(
      /nBaseline must be an integer ≥ 2/,
    );
    const plan = planSequential({ min: 2, max: 4, alpha: 0.05, nBaseline: 5, calibration: 'bonferroni' });
    expect(() => sequentialDecision(plan, 0, [0.9], [1, 2, 3, 4, 5], bounds)).toThrow(/at 2 candidate seeds, got 1/);
  });
  it('robust (needs 10)', () => {
    expect(() => robustTost({ candidate: [0.9, 0.91], baseline: [0.9, 0.91], ...bounds, alpha: 0.05 })).toThrow(
      /needs ≥ 10 seeds per side/,
    );
  });
});

interface ExtraCase {
  id: string;
  design: 'welch' | 'paired';
  inputs: { x1: number[]; x2: number[]; low: number | null; upp: number | null; alpha: number };
  argv: string[];
  exitCode: 0 | 1;
  expected: Record<string, unknown> & { ci: [number, number]; degenerate: boolean; verdict: string };
  statsmodels: { pvalue: number | null; df: number | null; ci_low: number | null; ci_high: number | null };
}
const extra = JSON.parse(readFileSync(new URL('./fixtures/equivalence-extra.json', import.meta.url), 'utf8')) as {
  cases: ExtraCase[];
};

/** The argv of a fixture case as runEquivalence's arguments (what the CLI's parseArgs would give). */
function argsOf(argv: string[]): EquivalenceArgs {
  const args: Record<string, string | boolean> = {};
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    const m = /^--([a-z]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argv entry ${a}`);
    if (m[2] !== undefined) args[m[1]!] = m[2];
    else if (m[1] === 'paired' || m[1] === 'json') args[m[1]] = true;
    else args[m[1]!] = argv[++i]!;
  }
  return args as EquivalenceArgs;
}

function close(got: unknown, want: unknown, what: string, tol: number): void {
  if (want === null) {
    expect(got, what).toBeNull();
    return;
  }
  if (typeof want === 'number') {
    expect(typeof got, what).toBe('number');
    const g = got as number;
    const scale = Math.max(Math.abs(want), 1e-300);
    expect(Math.abs(g - want) / scale, `${what}: ${g} vs ${want}`).toBeLessThanOrEqual(tol);
    return;
  }
  expect(got, what).toEqual(want);
}

describe('extra reference cases (test/fixtures/equivalence-extra.json)', () => {
  for (const c of extra.cases) {
    it(`${c.id}: runEquivalence JSON matches the mpmath reference`, () => {
      const out = runEquivalence(argsOf(c.argv));
      expect(out.exitCode).toBe(c.exitCode);
      const json = JSON.parse(JSON.stringify(out.json)) as Record<string, unknown>;
      for (const [key, want] of Object.entries(c.expected)) {
        if (key === 'ci') {
          const ci = json.ci as [number, number];
          // 1e-5 relative is the CLI contract; ends near 0 get an absolute floor of 1e-12.
          expect(Math.abs(ci[0] - c.expected.ci[0]), `${c.id} ci_low`).toBeLessThanOrEqual(
            1e-5 * Math.abs(c.expected.ci[0]) + 1e-12,
          );
          expect(Math.abs(ci[1] - c.expected.ci[1]), `${c.id} ci_high`).toBeLessThanOrEqual(
            1e-5 * Math.abs(c.expected.ci[1]) + 1e-12,
          );
        } else close(json[key], want, `${c.id} ${key}`, 1e-5);
      }
    });

    it(`${c.id}: tost agrees with the reference to 1e-9 and with statsmodels to 1e-7`, () => {
      const { x1, x2, low, upp, alpha } = c.inputs;
      const r = tost({
        candidate: x1,
        baseline: x2,
        lower: low ?? -Infinity,
        upper: upp ?? Infinity,
        alpha,
        design: c.design,
      });
      expect(r.verdict).toBe(c.expected.verdict);
      expect(r.degenerate).toBe(c.expected.degenerate);
      for (const k of ['pLower', 'pUpper', 'p', 'se', 'diff'] as const) {
        const want = c.expected[k] as number;
        expect(relErr(r[k], want) <= 1e-9 || Math.abs(r[k] - want) < 1e-300, `${k}: ${r[k]} vs ${want}`).toBe(true);
      }
      if (c.expected.df === null) expect(r.df).toBeNaN();
      else expect(relErr(r.df, c.expected.df as number)).toBeLessThan(1e-12);
      expect(Math.abs(r.ci[0] - c.expected.ci[0])).toBeLessThan(1e-12 * Math.max(1, Math.abs(r.mean1)));
      expect(Math.abs(r.ci[1] - c.expected.ci[1])).toBeLessThan(1e-12 * Math.max(1, Math.abs(r.mean1)));
      if (!c.expected.degenerate) {
        expect(relErr(r.p, c.statsmodels.pvalue!)).toBeLessThan(1e-7);
        expect(relErr(r.df, c.statsmodels.df!)).toBeLessThan(1e-9);
        expect(Math.abs(r.ci[0] - c.statsmodels.ci_low!)).toBeLessThan(1e-7 * Math.max(1e-3, Math.abs(r.mean1)));
        expect(Math.abs(r.ci[1] - c.statsmodels.ci_high!)).toBeLessThan(1e-7 * Math.max(1e-3, Math.abs(r.mean1)));
      }
    });
  }
});
