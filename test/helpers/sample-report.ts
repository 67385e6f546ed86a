import type { Report } from '../../src/schema/report.js';

/** A valid statistical `check` report (per src/report/schema.ts), for tests that need one. */
export function sampleReport(over: Partial<Report> = {}): Report {
  return {
    schemaVersion: 2,
    tool: { name: 'repro-gate', version: '0.1.0' },
    command: 'check',
    verdict: 'not-equivalent',
    summary: 'accuracy is not equivalent to the baseline (diff −0.031, margin ±0.01)',
    mode: 'statistical',
    alpha: 0.05,
    seeds: [0, 1, 2],
    metrics: [
      {
        name: 'accuracy',
        verdict: 'not-equivalent',
        baseline: { n: 3, mean: 0.95, sd: 0.002 },
        candidate: { n: 3, mean: 0.919, sd: 0.003 },
        diff: -0.031,
        ci: [-0.036, -0.026],
        p: 0.99,
        lower: -0.01,
        upper: 0.01,
        margin: '0.01',
        direction: 'both',
        design: 'welch',
        df: 3.5,
        se: 0.002,
        degenerate: false,
      },
    ],
    mismatches: [],
    drift: {
      data: [{ path: 'data/train.csv', change: 'modified', before: 'ab'.repeat(32), after: 'cd'.repeat(32) }],
      config: [],
      environment: [],
    },
    cause: 'data',
    warnings: [],
    baseline: { path: '.repro-gate/baseline.json', recordedAt: '2025-01-01T00:00:00Z', commit: 'f'.repeat(40) },
    commit: 'e'.repeat(40),
    ...over,
  };
}
