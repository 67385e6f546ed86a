import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { summarize } from '../src/stats/summary.js';
import { tCdf, tQuantile, tSf } from '../src/stats/tdist.js';
import { ciVerdict, combineVerdicts, type TostDesign, type TostVerdict, tost } from '../src/stats/tost.js';

// Reference TOST and Student-t values (statsmodels, scipy, 50-digit mpmath): see test/fixtures/README.md.
const vectors = JSON.parse(readFileSync(new URL('fixtures/equivalence.json', import.meta.url), 'utf8'));

/** The vectors write non-finite values as strings and undefined ones (0/0 df) as null. */
function num(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'number') return v;
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') return Number(v);
  if (typeof v === 'string') return Number(v);
  throw new Error(`not a number: ${JSON.stringify(v)}`);
}

function relErr(got: number, want: number): number {
  if (Object.is(got, want) || (Number.isNaN(got) && Number.isNaN(want))) return 0;
  if (want === 0 || !Number.isFinite(want)) return got === want ? 0 : Infinity;
  return Math.abs(got / want - 1);
}

const worst: Record<string, number> = {};
function expectRel(what: string, got: number, want: number, tol: number, where: string): void {
  const e = relErr(got, want);
  worst[what] = Math.max(worst[what] ?? 0, e);
  expect(e, `${where}: ${what} got ${got}, want ${want}`).toBeLessThanOrEqual(tol);
}

afterAll(() => {
  const lines = Object.entries(worst).map(([k, v]) => `  ${k.padEnd(14)} ${v.toExponential(2)}`);
  console.info(`worst relative error vs vectors:\n${lines.join('\n')}`);
});

interface RefDesign {
  se: number;
  df: number | null;
  degenerate: boolean;
  t_lower: number | string;
  t_upper: number | string;
  t_crit: number | null;
  p_lower: number;
  p_upper: number;
  p_tost: number;
  ci_low: number;
  ci_high: number;
  ci_level: number;
  equivalent: boolean;
}

// The designs the gate offers; the vectors' pooled-variance and ratio references test designs it does not.
const designOf: Record<string, TostDesign> = { welch: 'welch', paired: 'paired', welch_ignoring_pairing: 'welch' };

describe('TOST vs reference vectors', () => {
  const cases = vectors.tost_cases.filter((c: { design: string }) => c.design !== 'family');
  for (const c of cases) {
    for (const [key, ref] of Object.entries(c.reference as Record<string, RefDesign>)) {
      const design = designOf[key];
      if (!design) continue;
      it(`${c.id} / ${key}`, () => {
        const { x1, x2, low, upp, alpha } = c.inputs;
        const r = tost({ candidate: x1, baseline: x2, lower: low, upper: upp, alpha, design });
        const where = `${c.id}/${key}`;
        expect(r.degenerate, where).toBe(ref.degenerate);
        expect(r.verdict === 'equivalent', where).toBe(ref.equivalent);
        expect(r.ciLevel).toBeCloseTo(ref.ci_level, 14);
        expectRel('se', r.se, num(ref.se), 1e-9, where);
        expectRel('df', r.df, num(ref.df), 1e-9, where);
        expectRel('t', r.tLower, num(ref.t_lower), 1e-9, where);
        expectRel('t', r.tUpper, num(ref.t_upper), 1e-9, where);
        expectRel('p (TOST)', r.pLower, num(ref.p_lower), 1e-9, where);
        expectRel('p (TOST)', r.pUpper, num(ref.p_upper), 1e-9, where);
        expectRel('p (TOST)', r.p, num(ref.p_tost), 1e-9, where);
        expectRel('tCrit', r.tCrit, num(ref.t_crit), 1e-10, where);
        expect(Math.abs(r.ci[0] - ref.ci_low), `${where}: ci_low ${r.ci[0]} vs ${ref.ci_low}`).toBeLessThanOrEqual(
          1e-10,
        );
        expect(Math.abs(r.ci[1] - ref.ci_high), `${where}: ci_high ${r.ci[1]} vs ${ref.ci_high}`).toBeLessThanOrEqual(
          1e-10,
        );
        if (ref.degenerate) expect(r.ci[0]).toBe(r.ci[1]);
      });
    }
  }

  it('pair_const_on_bound: CI is the single point on the bound → not-equivalent, p = 1', () => {
    const c = vectors.tost_cases.find((x: { id: string }) => x.id === 'pair_const_on_bound');
    const r = tost({
      candidate: c.inputs.x1,
      baseline: c.inputs.x2,
      lower: c.inputs.low,
      upper: c.inputs.upp,
      alpha: 0.05,
      design: 'paired',
    });
    expect(r).toMatchObject({
      degenerate: true,
      pLower: 0,
      pUpper: 1,
      p: 1,
      ci: [0.25, 0.25],
      verdict: 'not-equivalent',
    });
    expect(r.tUpper).toBeNaN();
  });

  it('family_one_fails: intersection-union over metrics', () => {
    const c = vectors.tost_cases.find((x: { design: string }) => x.design === 'family');
    const results = c.inputs.metrics.map((m: { x1: number[]; x2: number[]; low: number; upp: number }) =>
      tost({ candidate: m.x1, baseline: m.x2, lower: m.low, upper: m.upp, alpha: c.inputs.alpha, design: 'welch' }),
    );
    c.reference.per_metric.forEach(
      (
        ref: { name: string; p_tost_welch: number; df: number; ci_low: number; ci_high: number; equivalent: boolean },
        i: number,
      ) => {
        const r = results[i]!;
        expectRel('p (TOST)', r.p, ref.p_tost_welch, 1e-9, ref.name);
        expectRel('df', r.df, ref.df, 1e-9, ref.name);
        expect(Math.abs(r.ci[0] - ref.ci_low)).toBeLessThanOrEqual(1e-10);
        expect(Math.abs(r.ci[1] - ref.ci_high)).toBeLessThanOrEqual(1e-10);
        expect(r.verdict === 'equivalent').toBe(ref.equivalent);
      },
    );
    expect(results.map((r: { verdict: TostVerdict }) => r.verdict)).toEqual([
      'equivalent',
      'not-equivalent',
      'equivalent',
    ]);
    expect(combineVerdicts(results.map((r: { verdict: TostVerdict }) => r.verdict))).toBe('not-equivalent');
    expect(combineVerdicts(results.map((r: { verdict: TostVerdict }) => r.verdict)) === 'equivalent').toBe(
      c.reference.iut.equivalent,
    );
    expect(Math.max(...results.map((r: { p: number }) => r.p))).toBeCloseTo(c.reference.iut.p_overall, 12);
  });
});

describe('Student-t vs reference vectors (mpmath, 50 digits)', () => {
  for (const row of vectors.student_t.cdf) {
    it(`cdf/sf x=${row.x} df=${row.df}`, () => {
      const where = `x=${row.x} df=${row.df}`;
      expectRel('cdf', tCdf(row.x, row.df), Number(row.cdf_50_digits), 1e-12, where);
      expectRel('sf', tSf(row.x, row.df), Number(row.sf_50_digits), 1e-12, where);
    });
  }
  for (const row of vectors.student_t.ppf) {
    it(`ppf p=${row.p} df=${row.df}`, () => {
      const want = Number(row.ppf_50_digits);
      const got = tQuantile(row.p, row.df);
      if (want === 0) expect(got).toBe(0);
      else expectRel('ppf', got, want, 1e-12, `p=${row.p} df=${row.df}`);
    });
  }
});

describe('Student-t beyond the vectors', () => {
  // mpmath references (60+ digits) for huge df, the normal limit, and overflow-prone t.
  const tails: Array<[t: number, df: number, upperTail: number]> = [
    [2, 1e12, 0.02275013194831418461656567],
    [5, 1e12, 2.86651571927512295905898e-7],
    [3, 1e8, 0.001349898364018747193457591],
    [10, 1e20, 7.619853024160526260261959e-24],
    [35, 1e6, 1.637491816337564960923155e-268],
    [1.5, Infinity, 0.06680720126885806600449404],
    [8, Infinity, 6.220960574271784123515995e-16],
    [37.5, Infinity, 4.605353009581954843827969e-308],
    [1e8, 1.3, 1.380575199717894416103065e-11],
    [1e150, 0.3, 3.495007233838572528094808e-46],
    [1e300, 0.05, 4.485631048063479393251507e-16],
  ];
  it.each(tails)('P(T > %d), df=%d', (t, df, want) => {
    expectRel('sf (extra)', tSf(t, df), want, 1e-12, `t=${t} df=${df}`);
    expectRel('sf (extra)', tCdf(-t, df), want, 1e-12, `t=${-t} df=${df}`);
    expect(Math.abs(tCdf(t, df) - (1 - want))).toBeLessThan(2e-16);
  });

  const quantiles: Array<[p: number, df: number, want: number]> = [
    [0.05, 1e12, -1.6448536269529964571],
    [1e-10, 1e9, -6.361340968349943811924],
    [0.975, Infinity, 1.959963984540053855604],
    [1e-100, Infinity, -21.27345356096532429418],
    [1e-300, 5, -1.568392559099337801101e60],
    [0.999, 0.5, 102849.1156301753713337],
    [0.3, 1e15, -0.5244005127080409831216],
    [1e-5, 40, -4.835023895057646509639],
  ];
  it.each(quantiles)('tQuantile(%d, df=%d)', (p, df, want) => {
    expectRel('ppf (extra)', tQuantile(p, df), want, 1e-12, `p=${p} df=${df}`);
  });

  it('handles t = ±Infinity and t = 0', () => {
    for (const df of [0.5, 1, 7.5, 1e6, Infinity]) {
      expect(tCdf(-Infinity, df)).toBe(0);
      expect(tCdf(Infinity, df)).toBe(1);
      expect(tSf(Infinity, df)).toBe(0);
      expect(tSf(-Infinity, df)).toBe(1);
      expect(tCdf(0, df)).toBe(0.5);
      expect(tSf(0, df)).toBe(0.5);
    }
  });

  it('quantile round-trips over a grid (relative error in the tail probability)', () => {
    for (const df of [0.3, 1, 1.3, 2, 4.5, 30, 31, 1e3, 1e6, 1e10, 1e16, 1e30, Infinity]) {
      for (const p of [1e-250, 1e-40, 1e-8, 0.001, 0.05, 0.3, 0.5 - 1e-9, 0.6, 0.95, 0.999999]) {
        const t = tQuantile(p, df);
        if (!Number.isFinite(t)) continue; // beyond the largest double for tiny df
        const back = p < 0.5 ? tCdf(t, df) : tSf(t, df);
        expect(relErr(back, Math.min(p, 1 - p)), `p=${p} df=${df} t=${t}`).toBeLessThan(1e-12);
        expect(Math.sign(t)).toBe(p < 0.5 ? -1 : 1);
      }
    }
  });

  it('returns ±Infinity when the quantile is beyond the largest double', () => {
    expect(tQuantile(1e-20, 0.05)).toBe(-Infinity);
    expect(tQuantile(1 - 1e-16, 0.05)).toBe(Infinity);
  });

  it('throws RangeError on invalid arguments', () => {
    expect(() => tCdf(1, NaN)).toThrow(RangeError);
    expect(() => tSf(1, 0)).toThrow(RangeError);
    expect(() => tCdf(1, -2)).toThrow(RangeError);
    expect(() => tCdf(NaN, 3)).toThrow(RangeError);
    for (const p of [0, 1, -0.1, 1.5, NaN]) expect(() => tQuantile(p, 5)).toThrow(RangeError);
    expect(() => tQuantile(0.5, NaN)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  it('keeps precision under a large common offset', () => {
    const s = summarize([1e9 + 0.1, 1e9 + 0.2, 1e9 + 0.3]);
    expect(relErr(s.variance, 0.01)).toBeLessThan(1e-6);
    expect(relErr(s.mean, 1e9 + 0.2)).toBeLessThan(1e-15);
    expect(s.constant).toBe(false);
  });

  it('matches numpy on the vector samples', () => {
    const c = vectors.tost_cases[0];
    const s = summarize(c.inputs.x1);
    expect(relErr(s.variance, c.summary.var1)).toBeLessThan(1e-12);
    expect(relErr(s.mean, c.summary.mean1)).toBeLessThan(1e-15);
    expect(s).toMatchObject({ n: 5, min: 0.9108, max: 0.9134 });
  });

  it('flags constant samples by max === min and gives variance exactly 0', () => {
    expect(summarize([0.912, 0.912, 0.912])).toMatchObject({ constant: true, variance: 0, sd: 0, mean: 0.912 });
    const one = summarize([3]);
    expect(one.constant).toBe(true);
    expect(one.variance).toBeNaN();
  });

  it('throws on empty or non-finite input', () => {
    expect(() => summarize([])).toThrow(RangeError);
    expect(() => summarize([1, NaN])).toThrow(/\[1\] is NaN/);
  });
});

describe('tost: errors, one-sided bounds, degenerate cases', () => {
  const x1 = [0.9201, 0.9265, 0.915, 0.9232, 0.919];
  const x2 = [0.9118, 0.916, 0.9125, 0.9109, 0.9122];
  const base = { candidate: x1, baseline: x2, lower: -0.01, upper: 0.01, alpha: 0.05, design: 'welch' as const };

  it('rejects samples with fewer than 2 values', () => {
    expect(() => tost({ ...base, candidate: [0.9] })).toThrow(/candidate needs at least 2 values/);
    expect(() => tost({ ...base, baseline: [] })).toThrow(RangeError);
    expect(() => tost({ ...base, candidate: [1], baseline: [1], design: 'paired' })).toThrow(/at least 2 values/);
  });

  it('rejects non-finite values, naming the bad one', () => {
    expect(() => tost({ ...base, baseline: [0.9, NaN, 0.8] })).toThrow(/baseline\[1\] is NaN/);
    expect(() => tost({ ...base, candidate: [0.9, 0.8, Infinity] })).toThrow(/candidate\[2\] is Infinity/);
  });

  it('rejects paired samples of unequal length', () => {
    expect(() => tost({ ...base, baseline: x2.slice(0, 4), design: 'paired' })).toThrow(
      /paired design needs .* equal length.*5 and 4/,
    );
  });

  it('rejects bad alpha and bounds', () => {
    for (const alpha of [0, 0.5, -1, NaN]) expect(() => tost({ ...base, alpha })).toThrow(RangeError);
    expect(() => tost({ ...base, lower: 0.01, upper: -0.01 })).toThrow(RangeError);
    expect(() => tost({ ...base, lower: NaN })).toThrow(RangeError);
    expect(() => tost({ ...base, design: 'nope' as TostDesign })).toThrow(RangeError);
  });

  it('one-sided non-inferiority (upper = +Infinity) is a one-sided test at level alpha', () => {
    const two = tost(base);
    const one = tost({ ...base, upper: Infinity });
    expect(one.tUpper).toBe(-Infinity);
    expect(one.pUpper).toBe(0);
    expect(one.pLower).toBe(two.pLower);
    expect(one.p).toBe(two.pLower);
    expect(one.ci).toEqual(two.ci);
    expect(two.verdict).toBe('inconclusive'); // CI crosses upp = 0.01
    expect(one.verdict).toBe('equivalent'); // ci_lo > lower is all that is asked
  });

  it('one-sided in the other direction (lower = -Infinity)', () => {
    const r = tost({ ...base, lower: -Infinity });
    expect(r.tLower).toBe(Infinity);
    expect(r.pLower).toBe(0);
    expect(r.p).toBe(r.pUpper);
    expect(r.verdict).toBe('inconclusive');
    expect(tost({ ...base, lower: -Infinity, upper: 0.001 }).verdict).toBe('not-equivalent');
  });

  it('degenerate samples follow the se → 0+ limit, also with infinite bounds', () => {
    const c = [0.5, 0.5, 0.5];
    const b = [0.49, 0.49, 0.49];
    const r = tost({ candidate: c, baseline: b, lower: -Infinity, upper: 0.02, alpha: 0.05, design: 'welch' });
    expect(r).toMatchObject({ degenerate: true, pLower: 0, pUpper: 0, p: 0, verdict: 'equivalent' });
    expect(r.ci[0]).toBe(r.diff);
    expect(r.ci[1]).toBe(r.diff);
    expect(r.df).toBeNaN();
    const out = tost({ candidate: c, baseline: b, lower: -0.005, upper: 0.005, alpha: 0.05, design: 'welch' });
    expect(out).toMatchObject({ degenerate: true, pLower: 0, pUpper: 1, verdict: 'not-equivalent' });
  });

  it('a single constant side is not degenerate', () => {
    const r = tost({ ...base, candidate: [0.912, 0.912, 0.912, 0.912, 0.912] });
    expect(r.degenerate).toBe(false);
    expect(r.df).toBe(4);
  });
});

describe('verdict helpers', () => {
  it('ciVerdict', () => {
    expect(ciVerdict([-0.1, 0.1], -1, 1)).toBe('equivalent');
    expect(ciVerdict([-1, 0.1], -1, 1)).toBe('inconclusive'); // touching a bound is not inside
    expect(ciVerdict([1, 2], -1, 1)).toBe('not-equivalent');
    expect(ciVerdict([-3, -1], -1, 1)).toBe('not-equivalent');
    expect(ciVerdict([-3, 3], -1, 1)).toBe('inconclusive');
    expect(ciVerdict([0, 1e300], -1, Infinity)).toBe('equivalent');
  });

  it('combineVerdicts is an intersection-union', () => {
    expect(combineVerdicts(['equivalent', 'equivalent'])).toBe('equivalent');
    expect(combineVerdicts(['equivalent', 'inconclusive'])).toBe('inconclusive');
    expect(combineVerdicts(['inconclusive', 'not-equivalent', 'equivalent'])).toBe('not-equivalent');
    expect(() => combineVerdicts([])).toThrow(RangeError);
  });
});
