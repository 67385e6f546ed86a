/**
 * The built CLI on real copies of the example: real python training, real files, real git.
 * What a new user would try: untouched → passes; a data row, a hyperparameter or the code
 * edited → reported with the right cause; bad input → exit 2 with one clear message.
 */
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyExample, editFile, git, parseJson, runCli, withEdit } from './helpers/project.js';

const EXACT = ['--config', 'repro-gate.exact.yml'];

let dir: string;

beforeAll(async () => {
  dir = await copyExample();
  const recorded = await runCli(['record'], dir);
  expect(recorded.code, recorded.stderr).toBe(0);
  // record shows each metric's spread, to choose margins from.
  expect(recorded.stdout).toMatch(/^Metric +Recorded \(n=5\)\n─+ +─+\naccuracy +0\.98\d* ± 0\.00\d+$/m);
  const recordedExact = await runCli(['record', ...EXACT], dir);
  expect(recordedExact.code, recordedExact.stderr).toBe(0);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'baselines');
});

describe('an untouched project', () => {
  it('is equivalent in statistical mode, with the report on stdout and logs on stderr', async () => {
    // --no-cache: record saved every seed, and this test wants to see them train.
    const r = await runCli(['check', '--no-cache'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^✅ repro-gate: equivalent/);
    expect(r.stdout).toMatch(/^accuracy +.* +✅ equivalent$/m);
    expect(r.stdout).toContain('No data, config or environment drift since the baseline.');
    expect(r.stderr).toMatch(/\[seed 4\] .*test accuracy=/);
  });

  it('is reproducible in exact mode, and --json prints one document', async () => {
    const r = await runCli(['check', '--json', ...EXACT], dir);
    expect(r.code).toBe(0);
    const report = parseJson(r);
    expect(report.verdict).toBe('reproducible');
    expect(report.mismatches).toEqual([]);
    expect(report.metrics.map((m: { name: string; verdict: string }) => [m.name, m.verdict])).toEqual([
      ['accuracy', 'reproducible'],
      ['loss', 'reproducible'],
      ['macro_f1', 'reproducible'],
      ['train.loss', 'reproducible'],
    ]);
    expect(report.cause).toBeUndefined();
  });

  it('shows no drift', async () => {
    const r = await runCli(['drift', '--json'], dir);
    expect(r.code).toBe(0);
    expect(parseJson(r)).toMatchObject({ verdict: 'no-drift', drift: { data: [], config: [], environment: [] } });
  });
});

describe('a changed project', () => {
  it('reports one edited data row as that file modified, and blames data', async () => {
    const csv = path.join(dir, 'data', 'wdbc.csv');
    const before = await readFile(csv, 'utf8');
    // Flip the label of the first data row (malignant → benign).
    await withEdit(
      csv,
      (t) => t.replace(/^(.*\n.*),0\n/, '$1,1\n'),
      async () => {
        const after = await readFile(csv, 'utf8');
        const drift = await runCli(['drift', '--json'], dir);
        expect(drift.code).toBe(1);
        const d = parseJson(drift);
        expect(d.verdict).toBe('drift');
        expect(d.drift.data).toHaveLength(1);
        expect(d.drift.data[0]).toMatchObject({
          path: 'data/wdbc.csv',
          change: 'modified',
          detail: 'line 2 changed (of 570)',
        });
        expect(d.drift.data[0].before).toBe(sha256(before));
        expect(d.drift.data[0].after).toBe(sha256(after));

        const check = await runCli(['check', '--json'], dir);
        expect(check.code).toBe(1);
        const c = parseJson(check);
        expect(c.verdict).toBe('not-equivalent');
        expect(c.cause).toBe('data');
        expect(c.causeEvidence).toMatch(/^data\/wdbc\.csv changed, and \S+ moved by [−+]/);
      },
    );
  });

  it('reports a changed hyperparameter with its key, old and new value, and blames config', async () => {
    await withEdit(
      path.join(dir, 'params.json'),
      (t) => t.replace('"learning_rate": 0.05', '"learning_rate": 0.005'),
      async () => {
        const r = await runCli(['check', '--json'], dir);
        expect(r.code).toBe(1);
        const report = parseJson(r);
        expect(report.verdict).toBe('not-equivalent');
        expect(report.drift.config).toEqual([
          { file: 'params.json', key: 'learning_rate', change: 'modified', before: 0.05, after: 0.005 },
        ]);
        expect(report.cause).toBe('config');
        expect(report.causeEvidence).toMatch(/^params\.json: learning_rate 0\.05 → 0\.005, and/);

        const md = await runCli(['check'], dir);
        expect(md.stdout).toMatch(/^Most likely cause: config — /m);
        expect(md.stdout).toMatch(/^params\.json +learning_rate +0\.05 +0\.005$/m);
        // The next step, above the drift tables; each metric's CI drawn against its band.
        expect(md.stdout).toContain(
          'Next step\n- Look first at learning_rate in params.json: 0.05 → 0.005.\n- If the change is intended, accept it: run repro-gate record and commit .repro-gate/baseline.json.',
        );
        expect(md.stdout).toMatch(/\nloss +[·─│[■\]◆]{21} {2}❌ not-equivalent\n/);
        // Not a TTY: progress as plain lines on stderr.
        expect(md.stderr).toMatch(/^seed 5\/5 · \d+(m\d\d)?s elapsed · ~\d+[sm] left$/m);
        expect(md.stderr).toMatch(/^5\/5 seeds done · /m);
        expect(md.stderr).not.toContain('\x1b');
      },
    );
  });

  it('gives mismatch / not-equivalent with exit 1 for a real change to the training code, and blames code', async () => {
    const restore = await editFile(path.join(dir, 'train.py'), (t) =>
      t.replace(
        'lr, l2, bs, epochs = params["learning_rate"], params["l2"], params["batch_size"], params["epochs"]',
        'lr, l2, bs, epochs = params["learning_rate"] / 2, params["l2"], params["batch_size"], params["epochs"]',
      ),
    );
    try {
      git(dir, 'commit', '-qam', 'halve the learning rate in code');
      const exact = await runCli(['check', '--json', ...EXACT], dir);
      expect(exact.code).toBe(1);
      const e = parseJson(exact);
      expect(e.verdict).toBe('mismatch');
      expect(e.mismatches).toContainEqual(expect.objectContaining({ seed: 0, kind: 'artifact', name: 'model.json' }));
      expect(e.mismatches).toContainEqual(expect.objectContaining({ seed: 1, kind: 'metric', name: 'loss' }));
      expect(e.drift).toEqual({ data: [], config: [], environment: [] });
      expect(e.cause).toBe('code');
      expect(e.causeEvidence).toMatch(/training code changed since the baseline \(train\.py\)/);

      const stat = await runCli(['check', '--json'], dir);
      expect(stat.code).toBe(1);
      expect(parseJson(stat)).toMatchObject({ verdict: 'not-equivalent', cause: 'code' });
    } finally {
      await restore();
      git(dir, 'commit', '-qam', 'revert');
    }
  });
});

describe('outside git', () => {
  it('says code changes cannot be told apart, rather than blaming the clone depth', async () => {
    const plain = await mkdtemp(path.join(os.tmpdir(), 'rg-nogit-'));
    await cp(dir, plain, { recursive: true, filter: (src) => !src.includes(`${path.sep}.git`) });
    await editFile(path.join(plain, 'params.json'), (t) =>
      t.replace('"learning_rate": 0.05', '"learning_rate": 0.005'),
    );
    const report = parseJson(await runCli(['check', '--json', ...EXACT], plain));
    expect(report.verdict).toBe('mismatch');
    expect(report.warnings).toContainEqual({
      code: 'code-changes-unknown',
      message:
        'This folder is not a git checkout, so changes to the training code since the baseline cannot be told apart.',
    });
  });
});

describe('changed gate settings', () => {
  it('show as config drift of the gate file itself', async () => {
    const file = path.join(dir, 'repro-gate.exact.yml');
    await withEdit(
      file,
      (t) => t.replace('seeds: 2', 'seeds: [0, 1, 2]'),
      async () => {
        const r = await runCli(['drift', '--json', ...EXACT], dir);
        expect(r.code).toBe(1);
        expect(parseJson(r).drift.config).toEqual([
          {
            group: 'gate settings',
            file: 'repro-gate.exact.yml',
            key: 'seeds',
            change: 'modified',
            before: '[0,1]',
            after: '[0,1,2]',
          },
        ]);
      },
    );
  });
});

describe('bad input exits 2 with one clear message and no stack trace', () => {
  async function withConfig(yaml: string): Promise<string> {
    const file = path.join(dir, 'bad.yml');
    await writeFile(file, yaml);
    return 'bad.yml';
  }
  const base = (cmd: string, extra = '') => `version: 1
train:
  command: ${cmd}
  timeout: 3s
seeds: 2
mode: exact
metrics:
  accuracy: {margin: 0.01}
baseline: .repro-gate/bad-baseline.json
${extra}`;

  function expectCleanError(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp): void {
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack frames
  }

  it('a typo in a config key names the key', async () => {
    const text = (await readFile(path.join(dir, 'repro-gate.yml'), 'utf8')).replace('  timeout: 2m', '  timout: 2m');
    const r = await runCli(['check', '--config', await withConfig(text)], dir);
    expectCleanError(
      r,
      /^repro-gate: bad\.yml:\d+:3: unknown key "train\.timout" — did you mean "timeout"\?\n {2}→ Fix bad\.yml/,
    );
  });

  it('with --json, the error is one JSON document on stdout too', async () => {
    const r = await runCli(['check', '--json', '--config', 'nope.yml'], dir);
    expect(r.code).toBe(2);
    expect(parseJson(r)).toEqual({
      error: {
        message: expect.stringMatching(/^Config file not found: .*nope\.yml$/),
        hint: expect.stringMatching(/--config PATH/),
      },
    });
  });

  it('a missing config file', async () => {
    expectCleanError(
      await runCli(['check', '--config', 'nope.yml'], dir),
      /Config file not found: .*nope\.yml\n {2}→ /,
    );
  });

  it('a missing baseline says to run record', async () => {
    const r = await runCli(['check', '--config', await withConfig(base('[python3, -c, "print(1)"]'))], dir);
    expectCleanError(r, /No baseline at .*bad-baseline\.json\.\n {2}→ Run `repro-gate record --config bad\.yml`/);
  });

  it('a corrupt baseline says to run record', async () => {
    await writeFile(path.join(dir, '.repro-gate', 'bad-baseline.json'), '{"schemaVersion": 1, "runs": [');
    const r = await runCli(['check', '--config', await withConfig(base('[python3, -c, "print(1)"]'))], dir);
    expectCleanError(
      r,
      /baseline .*bad-baseline\.json is not valid JSON.*\n {2}→ Run `repro-gate record --config bad\.yml`/,
    );
  });

  it('a training crash names the seed and shows its last lines', async () => {
    const cmd =
      '[python3, -c, "import sys; print(\'loading data\', flush=True); sys.exit(\'CUDA out of memory on seed \' + sys.argv[1])", "{seed}"]';
    const r = await runCli(['record', '--config', await withConfig(base(cmd))], dir);
    expectCleanError(
      r,
      /Seed 0: training exited with code 1\. Last output:\n {4}loading data\n {4}CUDA out of memory on seed 0\n {2}Full log: .*seed-0\.log/,
    );
  });

  it('a timeout stops the training and says how to raise the limit', async () => {
    const r = await runCli(
      [
        'record',
        '--config',
        await withConfig(base('[python3, -c, "import time; print(\'starting\', flush=True); time.sleep(60)"]')),
      ],
      dir,
    );
    expectCleanError(
      r,
      /Seed 0: training timed out after 3\.0s and was stopped\. Last output:\n {4}starting[\s\S]*→ Raise train\.timeout/,
    );
  });

  it('a missing metrics file', async () => {
    const r = await runCli(['record', '--config', await withConfig(base('[python3, -c, "print(1)"]'))], dir);
    expectCleanError(
      r,
      /The training did not write seed 0's metrics\.json\.\n {2}→ Make the training write its metrics as JSON into the \{out\} folder/,
    );
  });

  it('a NaN metric', async () => {
    const cmd = `[python3, -c, "import json, sys; json.dump({'accuracy': float('nan')}, open(sys.argv[1] + '/metrics.json', 'w'))", "{out}"]`;
    const r = await runCli(['record', '--config', await withConfig(base(cmd))], dir);
    expectCleanError(
      r,
      /Metric "accuracy" in seed 0's metrics\.json is NaN, not a finite number\.\n {2}→ The training diverged/,
    );
  });

  it('a failed record leaves the committed baseline untouched and no temp files', async () => {
    const baselineFile = path.join(dir, '.repro-gate', 'baseline.exact.json');
    const before = await readFile(baselineFile, 'utf8');
    const text = (await readFile(path.join(dir, 'repro-gate.exact.yml'), 'utf8')).replace(
      'seeds: 2',
      'seeds: [0, 1, 99]',
    );
    await writeFile(path.join(dir, 'crash.yml'), text);
    // Seed 99 crashes after seeds 0 and 1 succeeded.
    await withEdit(
      path.join(dir, 'train.py'),
      (t) =>
        t.replace(
          'def main(argv=None):',
          'def main(argv=None):\n    if "99" in (argv or sys.argv): sys.exit("seed 99 always fails")',
        ),
      async () => {
        const r = await runCli(['record', '--config', 'crash.yml'], dir);
        expectCleanError(r, /Seed 99: training exited with code 1/);
        expect(await readFile(baselineFile, 'utf8')).toBe(before);
        expect((await readdir(path.join(dir, '.repro-gate'))).filter((f) => f.includes('.tmp'))).toEqual([]);
      },
    );
  });

  it('an unknown command or option', async () => {
    expectCleanError(
      await runCli(['chek'], dir),
      /Unknown command "chek"\.\n {2}→ Use one of: record, check, aggregate, drift, history, equivalence, diagnose, init, help/,
    );
    expectCleanError(await runCli(['check', '--confg', 'x'], dir), /Unknown option '--confg'/);
  });
});

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
