/**
 * `drift` on an untouched copy of the bundled example, through the built CLI, as a new user runs
 * it on a runner whose kernel differs from the one the baseline was recorded on: no drift, exit 0,
 * and the kernel shown folded. (A changed image digest: container.e2e.test.ts; a changed imported
 * package: import-hook.e2e.test.ts; both exit 1.) Needs python3; no Docker.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyExample, parseJson, runCli } from './helpers/project.js';

let dir: string;

beforeAll(async () => {
  dir = await copyExample({ keepBaselines: true });
  // The runner was patched since the baseline was recorded: only the kernel build string differs.
  const file = path.join(dir, '.repro-gate', 'baseline.json');
  const baseline = JSON.parse(await readFile(file, 'utf8'));
  baseline.fingerprints.environment.kernel = '5.15.0-1057-azure';
  await writeFile(file, `${JSON.stringify(baseline, null, 2)}\n`);
}, 60_000);

describe('drift on a different kernel', () => {
  it('is no drift (exit 0), the kernel line folded into one terminal line', async () => {
    const r = await runCli(['drift'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('✅ repro-gate: no-drift');
    expect(r.stdout).toMatch(/^\d+ host facts? changed, not counted: (.+, )?kernel(, .+)?$/m);
    expect(r.stdout).not.toMatch(/#### Environment/);
  });

  it('folds it into a closed <details> in GitHub Markdown, and into drift.noise in JSON', async () => {
    const md = await runCli(['drift', '--markdown'], dir);
    expect(md.code).toBe(0);
    expect(md.stdout).toMatch(/<details><summary>\d+ host facts? changed, not counted<\/summary>/);
    expect(md.stdout).toMatch(
      /\| <code>kernel<\/code> \| <code>5\.15\.0-1057-azure<\/code> \| <code>[^<]+<\/code> \| host noise \|/,
    );
    const json = parseJson(await runCli(['drift', '--json'], dir));
    expect(json.verdict).toBe('no-drift');
    expect(json.drift.environment).toEqual([]);
    expect(json.drift.noise).toContainEqual(expect.objectContaining({ key: 'kernel', reason: 'host' }));
  });
});
