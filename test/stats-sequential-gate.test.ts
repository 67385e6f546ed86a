/** The gate glue for sequential seeds and the pre-flight power warnings, on run records. */
import { describe, expect, it } from 'vitest';
import { seedWarnings } from '../src/compare/power-warnings.js';
import { compareSequentialLook, planForGate } from '../src/compare/sequential.js';
import type { RunRecord } from '../src/schema/baseline.js';
import type { MetricSpec } from '../src/schema/config.js';
import { metricResultSchema } from '../src/schema/report.js';
import { GateError } from '../src/util/errors.js';

function runs(values: Record<string, number[]>, firstSeed = 0): RunRecord[] {
  const n = Object.values(values)[0]!.length;
  return Array.from({ length: n }, (_, i) => ({
    seed: firstSeed + i,
    metrics: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v[i]!])),
    artifacts: {},
    durationMs: 1,
  }));
}
const acc: MetricSpec = {
  name: 'accuracy',
  margin: { kind: 'absolute', value: 0.01, text: '0.01' },
  direction: 'both',
};
const loss: MetricSpec = { name: 'loss', margin: { kind: 'relative', percent: 5, text: '5%' }, direction: 'both' };
const baseAcc = [0.9118, 0.913, 0.9125, 0.9109, 0.9122, 0.9131, 0.9116, 0.9127, 0.912, 0.9112];
const baseLoss = [0.301, 0.298, 0.303, 0.299, 0.302, 0.3, 0.297, 0.301, 0.304, 0.3];
const baseline = runs({ accuracy: baseAcc, loss: baseLoss });
const seeds = { min: 3, max: 10, calibration: 'bonferroni' as const };

describe('planForGate', () => {
  it('plans from the config and the baseline size', () => {
    const p = planForGate(seeds, { alpha: 0.05, paired: false, nBaseline: 10 });
    expect(p).toMatchObject({ looks: [3, 5, 7, 10], nBaseline: 10, design: 'welch', method: 'pocock/bonferroni' });
  });
  it('refuses a baseline that cannot support the plan', () => {
    expect(() => planForGate(seeds, { alpha: 0.05, paired: true, nBaseline: 5 })).toThrow(GateError);
    expect(() => planForGate(seeds, { alpha: 0.05, paired: false, nBaseline: 1 })).toThrow(/at least 2 runs/);
  });
});

describe('compareSequentialLook', () => {
  const plan = planForGate(seeds, { alpha: 0.05, paired: false, nBaseline: 10 });

  it('stops at the first look when every metric is equivalent, with schema-valid metric results', () => {
    const cand = runs({ accuracy: [0.9121, 0.9119, 0.9124], loss: [0.3, 0.301, 0.2995] });
    const r = compareSequentialLook(plan, 0, baseline, cand, [acc, loss]);
    expect(r.decision).toBe('equivalent');
    for (const m of r.metrics) expect(metricResultSchema.safeParse(m).success).toBe(true);
    expect(r.metrics.map((m) => m.verdict)).toEqual(['equivalent', 'equivalent']);
    expect(r.metrics[1]!.upper).toBeCloseTo(0.05 * 0.3005, 12); // 5% of the whole baseline's mean
    expect(r.summary).toMatchObject({
      stoppedAtLook: 1,
      runsUsed: 3,
      maxRuns: 10,
      looks: [3, 5, 7, 10],
      method: 'pocock/bonferroni',
    });
    expect(r.summary.reason).toBe(
      'Stopped at look 1 of 4 after 3 of up to 10 seeds (97.5% CIs (α′ = 0.0125)): every metric is equivalent; 7 training runs saved.',
    );
  });

  it('continues while a metric is undecided, and fails fast when one clearly is not equivalent', () => {
    const undecided = runs({ accuracy: [0.905, 0.921, 0.897], loss: [0.3, 0.301, 0.2995] });
    const r = compareSequentialLook(plan, 0, baseline, undecided, [acc, loss]);
    expect(r.decision).toBe('continue');
    expect(r.metrics.map((m) => m.verdict)).toEqual(['inconclusive', 'equivalent']);
    expect(r.summary.reason).toBe(
      'Look 1 of 4 (3 seeds, 97.5% CIs (α′ = 0.0125)): accuracy not decided yet; continuing to 5 seeds.',
    );
    const broken = runs({ accuracy: [0.9121, 0.9119, 0.9124], loss: [0.4, 0.401, 0.3995] });
    const f = compareSequentialLook(plan, 0, baseline, broken, [acc, loss]);
    expect(f.decision).toBe('not-equivalent');
    expect(f.summary.reason).toMatch(
      /loss clearly not equivalent \(CI wholly outside the margin\); 7 training runs saved\.$/,
    );
  });

  it('paired plans match seeds', () => {
    const p = planForGate(seeds, { alpha: 0.05, paired: true, nBaseline: 10 });
    const cand = runs({ accuracy: baseAcc.slice(0, 3).map((v) => v + 0.0003), loss: baseLoss.slice(0, 3) });
    const r = compareSequentialLook(p, 0, baseline, cand, [acc]);
    expect(r.metrics[0]).toMatchObject({ design: 'paired', baseline: { n: 3 }, candidate: { n: 3 } });
    expect(r.decision).toBe('equivalent');
    expect(() => compareSequentialLook(p, 0, baseline, runs({ accuracy: [1, 2, 3] }, 20), [acc])).toThrow(
      /no run for seed\(s\) 20, 21, 22/,
    );
  });
});

describe('seedWarnings (pre-flight)', () => {
  it('warns per metric when the configured seeds cannot show equivalence', () => {
    const noisy = runs({ accuracy: [0.91, 0.9, 0.918], loss: [0.3, 0.3001, 0.2999] });
    const w = seedWarnings(noisy, [acc, loss], { alpha: 0.05, nCandidate: 3 });
    expect(w).toHaveLength(1);
    expect(w[0]?.code).toBe('low-power');
    expect(w[0]?.message).toMatch(
      /^accuracy: with this noise \(sd 0\.009\), 3 seeds cannot show equivalence within ±0\.01: use ≥ \d+ seeds \(and re-record the baseline with them\) or widen the margin$/,
    );
  });
  it('is quiet for comfortable plans, constant metrics and paired comparisons', () => {
    expect(seedWarnings(baseline, [acc, loss], { alpha: 0.0125, nCandidate: 10 })).toEqual([]);
    expect(seedWarnings(runs({ accuracy: [0.9, 0.9, 0.9] }), [acc], { alpha: 0.05, nCandidate: 3 })).toEqual([]);
    expect(
      seedWarnings(runs({ accuracy: [0.91, 0.905, 0.913] }), [acc], { alpha: 0.05, nCandidate: 3, paired: true }),
    ).toEqual([]);
  });
});
