/** Sequential seeds on the example: stop early when unchanged, stop at the first look when clearly broken. */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyExample, editFile, git, parseJson, runCli, withEdit } from './helpers/project.js';

let dir: string;

beforeAll(async () => {
  dir = await copyExample();
  await editFile(path.join(dir, 'repro-gate.yml'), (t) => t.replace(/^seeds: 5$/m, 'seeds: {min: 3, max: 10}'));
  const r = await runCli(['record'], dir);
  expect(r.code, r.stderr).toBe(0);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'sequential baseline');
});

describe('sequential seeds', () => {
  it('records max seeds, then stops early on an unchanged project and says why', async () => {
    const r = await runCli(['check', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const report = parseJson(r);
    expect(report.verdict).toBe('equivalent');
    expect(report.sequential.looks).toEqual([3, 5, 7, 10]);
    expect(report.sequential.runsUsed).toBeLessThan(10);
    expect(report.seeds).toHaveLength(report.sequential.runsUsed);
    expect(report.metrics[0].baseline.n).toBe(10);
    expect(report.sequential.reason).toMatch(
      /^Stopped at look \d of 4 after \d+ of up to 10 seeds .*every metric is equivalent; \d+ training runs saved\.$/,
    );
    const md = await runCli(['check'], dir);
    expect(md.stdout).toMatch(/Sequential seeds: Stopped at look \d of 4/);
    expect(md.stdout).toMatch(/^Metric +Baseline \(n=10\) +This run \(n=\d\) +Difference +97\.\d+% CI +/m);
  });

  it('stops at the first look when the training clearly changed', async () => {
    await withEdit(
      path.join(dir, 'params.json'),
      (t) => t.replace('"learning_rate": 0.05', '"learning_rate": 0.005'),
      async () => {
        const r = await runCli(['check', '--json'], dir);
        expect(r.code).toBe(1);
        const report = parseJson(r);
        expect(report.verdict).toBe('not-equivalent');
        expect(report.sequential).toMatchObject({ stoppedAtLook: 1, runsUsed: 3 });
        expect(report.cause).toBe('config');
      },
    );
  });

  it('is refused in exact mode with a message naming the key', async () => {
    await withEdit(
      path.join(dir, 'repro-gate.exact.yml'),
      (t) => t.replace(/^seeds: 2$/m, 'seeds: {min: 2, max: 4}'),
      async () => {
        const bad = await runCli(['check', '--config', 'repro-gate.exact.yml'], dir);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toMatch(/seeds: seeds: \{min, max\} \(sequential\) needs mode: statistical/);
      },
    );
  });
});
