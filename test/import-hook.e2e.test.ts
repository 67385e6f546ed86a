/**
 * The import hook with real Python on the host, through the built CLI: which distributions a
 * training imports (its subprocesses included) is kept per run, package changes rank by it, and a
 * training's own sitecustomize and PYTHONPATH still work. Needs python3 ≥ 3.10 with attrs, six and
 * flask installed (the CI image has them); no Docker.
 */
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseJson, runCli } from './helpers/project.js';

const TRAIN = `import builtins, json, os, subprocess, sys
import attrs  # a third-party import of the training itself
import helper  # from lib/, the training's own PYTHONPATH
subprocess.run([sys.executable, "-c", "import six"], check=True)  # a child process's import counts too
out = sys.argv[sys.argv.index("--out") + 1]
metrics = {
    "accuracy": 0.9,
    "own_site": getattr(builtins, "OWN_SITE", 0),
    "helper": helper.VALUE,
    "hook_on_path": int(any("import-hook" in p for p in sys.path)),
}
with open(os.path.join(out, "metrics.json"), "w") as f:
    json.dump(metrics, f)
`;

const CONFIG = `version: 1
train:
  command: [python3, train.py, --out, "{out}"]
  env: {PYTHONPATH: lib}
seeds: [0, 1]
mode: exact
metrics:
  accuracy: {}
  own_site: {}
  helper: {}
  hook_on_path: {}
`;

let dir: string;
let baseline: Record<string, any>;
const baselineFile = () => path.join(dir, '.repro-gate', 'baseline.json');

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rg-imports-'));
  await mkdir(path.join(dir, 'lib'));
  await writeFile(path.join(dir, 'train.py'), TRAIN);
  await writeFile(path.join(dir, 'lib', 'helper.py'), 'VALUE = 7\n');
  await writeFile(path.join(dir, 'lib', 'sitecustomize.py'), 'import builtins\nbuiltins.OWN_SITE = 1\n');
  await writeFile(path.join(dir, 'repro-gate.yml'), CONFIG);
  const r = await runCli(['record', '--json'], dir);
  expect(r.code, r.stderr).toBe(0);
  const report = parseJson(r);
  expect(report.recorded.map((m: { name: string; mean: number }) => [m.name, m.mean])).toEqual([
    ['accuracy', 0.9],
    ['own_site', 1],
    ['helper', 7],
    ['hook_on_path', 0],
  ]);
  baseline = JSON.parse(await readFile(baselineFile(), 'utf8'));
}, 120_000);

async function driftWith(edit: (b: Record<string, any>) => void): Promise<Record<string, any>> {
  const copy = structuredClone(baseline);
  edit(copy);
  await writeFile(baselineFile(), JSON.stringify(copy));
  const r = await runCli(['drift', '--json'], dir);
  const report = parseJson(r);
  report.exit = r.code;
  return report;
}

describe('the import hook', () => {
  it("leaves the training's own sitecustomize, PYTHONPATH and sys.path working (metrics above)", () => {
    expect(baseline.fingerprints.environment['env.PYTHONPATH']).toBe('lib');
  });

  it('keeps per run the distributions imported by the training and its child processes, not the rest', async () => {
    for (const run of baseline.runs) {
      expect(run.packages).toEqual(expect.arrayContaining(['attrs', 'six']));
      expect(run.packages).not.toContain('flask');
    }
    expect(baseline.fingerprints.environment['package.flask']).toBeDefined();
    // The hook's folder is gone from {out}.
    expect(await readdir(path.join(dir, '.repro-gate', 'out', 'seed-0'))).toEqual(['metrics.json']);
  });

  it('counts a change of an imported package and folds one the training never imports', async () => {
    const report = await driftWith((b) => {
      b.fingerprints.environment['package.attrs'] = '0.0.1';
      b.fingerprints.environment['package.flask'] = '0.0.1';
    });
    expect(report.exit).toBe(1);
    expect(report.verdict).toBe('drift');
    expect(report.drift.environment.map((e: { key: string }) => e.key)).toEqual(['package.attrs']);
    expect(report.drift.noise).toEqual([
      expect.objectContaining({ key: 'package.flask', reason: 'not-imported', before: '0.0.1' }),
    ]);
  });

  it("counts every package change, and says why, when a run's imports were not recorded", async () => {
    const report = await driftWith((b) => {
      b.fingerprints.environment['package.flask'] = '0.0.1';
      delete b.runs[1].packages;
    });
    expect(report.exit).toBe(1);
    expect(report.drift.environment.map((e: { key: string }) => e.key)).toEqual(['package.flask']);
    expect(report.warnings.map((w: { code: string }) => w.code)).toEqual(['imports-unknown']);
  });

  it('is no drift when only a package the training never imports changed', async () => {
    const report = await driftWith((b) => {
      b.fingerprints.environment['package.flask'] = '0.0.1';
    });
    expect(report.exit).toBe(0);
    expect(report.verdict).toBe('no-drift');
  });
});
