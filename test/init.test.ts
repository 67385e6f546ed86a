/**
 * `repro-gate init` on copies of the bundled examples and an empty folder (real files, in-process
 * main()): what it detects, that the starter config is accepted by the gate's loader and by the
 * JSON Schema, that it never overwrites, and the next three commands. The example's
 * init → record → check runs through the installed package in test/package.e2e.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { main } from '../src/cli.js';
import { parseConfig } from '../src/config/load.js';
import { readScript } from '../src/config/starter.js';
import { copyProject, REPO_ROOT } from './helpers/project.js';

const validate = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(
  JSON.parse(readFileSync(join(REPO_ROOT, 'schema/repro-gate.schema.json'), 'utf8')),
);

async function cli(cwd: string, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd });
  return { code, stdout, stderr };
}

/** A copy of an example without its configs and baselines: a project that has never seen repro-gate. */
async function bare(example: string): Promise<string> {
  const dir = await copyProject(join(REPO_ROOT, 'examples', example));
  for (const f of ['repro-gate.yml', 'repro-gate.exact.yml']) rmSync(join(dir, f), { force: true });
  return dir;
}

/** The written starter, checked the two ways a user's tools check it. */
function starter(dir: string, name = 'repro-gate.yml') {
  const text = readFileSync(join(dir, name), 'utf8');
  expect(validate(parse(text)), JSON.stringify(validate.errors)).toBe(true);
  return { text, config: parseConfig(text, join(dir, name)) };
}

describe('repro-gate init', () => {
  it('reads an argparse training: --seed/--out, metrics.json and its keys, data/, params.json', async () => {
    const dir = await bare('breast-cancer-logreg');
    const r = await cli(dir, 'init');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        'Wrote repro-gate.yml. Review the lines marked "check", then:',
        '  1. repro-gate record',
        '  2. git add repro-gate.yml .repro-gate/baseline.json && git commit -m "repro-gate baseline"',
        '  3. repro-gate check',
        '',
      ].join('\n'),
    );
    const { text, config } = starter(dir);
    expect(config.train.command).toEqual(['python3', 'train.py', '--seed', '{seed}', '--out', '{out}']);
    expect(config.metricsFile).toBe('metrics.json');
    expect(config.metrics.map((m) => m.name)).toEqual(['accuracy', 'loss', 'macro_f1']);
    expect(config.data).toEqual(['data/']);
    expect(config.config).toEqual(['params.json']);
    expect(text).toContain('# Metric names found in train.py.');
    expect(text).not.toMatch(/command: .*# check/);
  });

  it('takes metric names from an earlier run’s metrics file when there is one', async () => {
    const dir = await bare('breast-cancer-logreg');
    const run = join(dir, 'runs', 'seed-0');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'metrics.json'), JSON.stringify({ accuracy: 0.9, train: { loss: 0.1 }, note: 'x' }));
    expect((await cli(dir, 'init')).code).toBe(0);
    const { text, config } = starter(dir);
    expect(config.metrics.map((m) => m.name)).toEqual(['accuracy', 'train.loss']);
    expect(text).toContain('# Metric names found in runs/seed-0/metrics.json.');
  });

  it('reads a nanoGPT-style training: --key=value flags, losses only printed, a Python config', async () => {
    const dir = await bare('torch-pyconfig');
    const r = await cli(dir, 'init', '--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { config: string; facts: { metricPattern: string }; next: string[] };
    expect(doc.config).toBe('repro-gate.yml');
    expect(doc.next).toHaveLength(3);
    const { config } = starter(dir);
    expect(config.train.command).toEqual(['python3', 'train.py', '--seed={seed}', '--out_dir={out}']);
    expect(config.metricsFile).toBe('');
    expect(config.metrics.map((m) => m.name)).toEqual(['train_loss', 'val_loss']);
    expect(config.config).toEqual(['config/train_tiny.py']);
    // The pattern reads the line the training really prints.
    const [pattern] = config.metricPatterns;
    expect(new RegExp(pattern ?? '').exec('step 40: train loss 2.6081, val loss 2.7130')?.groups).toEqual({
      train_loss: '2.6081',
      val_loss: '2.7130',
    });
  });

  it('writes a placeholder that still loads in an empty folder, with every guess marked "check"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-init-empty-'));
    expect((await cli(dir, 'init')).code).toBe(0);
    const { text, config } = starter(dir);
    expect(config.train.command[1]).toBe('train.py');
    expect(text).toMatch(/command: .*# check$/m);
    expect(text).toMatch(/file: metrics\.json {3}# check/);
    expect(text).toContain('# Check: the metrics your training writes.');
    expect(text).not.toContain('yaml-language-server'); // no schema installed here to point at
  });

  it('points editors at the installed JSON Schema when the package is in node_modules', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-init-schema-'));
    const schemaDir = join(dir, 'node_modules', 'repro-gate', 'schema');
    mkdirSync(schemaDir, { recursive: true });
    writeFileSync(join(schemaDir, 'repro-gate.schema.json'), '{}');
    expect((await cli(dir, 'init')).code).toBe(0);
    expect(starter(dir).text).toMatch(
      /^# yaml-language-server: \$schema=node_modules\/repro-gate\/schema\/repro-gate\.schema\.json\n/,
    );
  });

  it('never overwrites: a second init exits 2 and leaves the file as it was', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-init-twice-'));
    writeFileSync(join(dir, 'repro-gate.yml'), 'mine\n');
    const r = await cli(dir, 'init', '--json');
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toBe(
      'repro-gate.yml already exists; repro-gate init never overwrites a config.',
    );
    expect(readFileSync(join(dir, 'repro-gate.yml'), 'utf8')).toBe('mine\n');
  });

  it('writes where --config says, and the next commands name it', async () => {
    const dir = await bare('breast-cancer-logreg');
    mkdirSync(join(dir, 'ci'));
    const r = await cli(dir, 'init', '--config', 'ci/gate.yml');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  1. repro-gate record --config ci/gate.yml\n');
    expect(r.stdout).toContain('  2. git add ci/gate.yml ci/.repro-gate/baseline.json &&');
    starter(join(dir, 'ci'), 'gate.yml');
    const missing = await cli(dir, 'init', '--config', 'nowhere/gate.yml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/Cannot write nowhere\/gate\.yml: the folder .* does not exist\./);
  });
});

describe('readScript', () => {
  it('finds argparse flags by name, including other spellings of the output folder', () => {
    const r = readScript('p.add_argument("--seed", type=int)\np.add_argument(\'--output_dir\')\n');
    expect(r).toMatchObject({ seedArgs: ['--seed', '{seed}'], outArgs: ['--output_dir', '{out}'], flagsFound: true });
    expect(readScript('print("hello")\n').flagsFound).toBe(false);
  });

  it('reads the keys of the dict written next to the metrics file, stopping at its end', () => {
    const text = [
      'json.dump({',
      '  "accuracy": acc,',
      '  "f1": f1,',
      '  "per_class": {"a": 1},',
      '}, open(os.path.join(out, "metrics.json"), "w"))',
    ].join('\n');
    expect(readScript(text).metricNames).toEqual([]); // the name comes after the dict: nothing to guess from
    const after =
      'with open(f"{out}/metrics.json", "w") as f:\n    json.dump({"acc": a, "loss": l}, f)\n}\nx = {"other": 1}\n';
    expect(readScript(after)).toMatchObject({ metricsFile: 'metrics.json', metricNames: ['acc', 'loss'] });
  });
});
