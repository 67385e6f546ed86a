/** robust: true — rank-based equivalence on the example, and its refusal below 10 seeds per side. */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyExample, editFile, parseJson, runCli, withEdit } from './helpers/project.js';

let dir: string;

beforeAll(async () => {
  dir = await copyExample();
  await editFile(path.join(dir, 'repro-gate.yml'), (t) => t.replace(/^seeds: 5$/m, 'seeds: 10\nrobust: true'));
  const r = await runCli(['record'], dir);
  expect(r.code, r.stderr).toBe(0);
});

describe('robust equivalence', () => {
  it('checks with Hodges–Lehmann / Mann–Whitney CIs at 10 seeds per side', async () => {
    const r = await runCli(['check', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const report = parseJson(r);
    expect(report.verdict).toBe('equivalent');
    expect(report.metrics.every((m: { design: string; df: unknown }) => m.design === 'rank' && m.df === null)).toBe(
      true,
    );
    expect(report.summary).toMatch(/10 seeds, rank-based TOST/);
  });

  it('refuses fewer than 10 seeds per side and explains why', async () => {
    await withEdit(
      path.join(dir, 'repro-gate.yml'),
      (t) => t.replace(/^seeds: 10$/m, 'seeds: [0, 1, 2, 3, 4]'),
      async () => {
        const r = await runCli(['check'], dir);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(
          /^repro-gate: robust equivalence needs ≥ 10 seeds per side \(candidate has 5, baseline 10\): with fewer, the rank-based CI cannot reach/,
        );
        expect(r.stderr).toMatch(/→ Run ≥ 10 seeds on each side/);
      },
    );
  });

  it('cannot be combined with paired or sequential seeds', async () => {
    await withEdit(
      path.join(dir, 'repro-gate.yml'),
      (t) => t.replace('robust: true', 'robust: true\npaired: true'),
      async () => {
        const r = await runCli(['check'], dir);
        expect(r.code).toBe(2);
        expect(r.stderr).toMatch(/robust: robust: true is an independent-samples test with fixed seeds/);
      },
    );
  });
});
