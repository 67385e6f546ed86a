/**
 * The built CLI against hostile or broken inputs: a tampered baseline, files that escape their
 * folder, names that are not names, oversized and pathological config files. Each must end in
 * exit 2 with one clear message (never "unexpected error"), and nothing may be written or leaked.
 */
import { mkdtemp, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyExample, parseJson, runCli, withEdit } from './helpers/project.js';

let dir: string;
let scratch: string;

beforeAll(async () => {
  dir = await copyExample({ keepBaselines: true });
  scratch = await mkdtemp(path.join(os.tmpdir(), 'rg-hostile-'));
});

/** A small project in a temp folder: repro-gate.yml plus the given files (a training in Python, data, …). */
async function project(config: string, files: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'rg-hostile-project-'));
  for (const [name, text] of Object.entries({ 'repro-gate.yml': config, ...files })) {
    await writeFile(path.join(root, name), text);
  }
  return root;
}

/** A config whose training is `train.py` with the seed and output folder as arguments. */
function configWith(extra: string, metrics = '  accuracy: {}\n'): string {
  return `version: 1\ntrain:\n  command: [python3, train.py, "{seed}", "{out}"]\nseeds: [0]\nmode: exact\nmetrics:\n${metrics}${extra}`;
}

function expectCleanError(r: { code: number | null; stderr: string }): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toContain('unexpected error');
}

describe('a tampered baseline', () => {
  it('whose commit is a git option is refused as corrupt, and git never sees it', async () => {
    const pwned = path.join(scratch, 'pwned');
    const baseline = path.join(dir, '.repro-gate', 'baseline.json');
    await withEdit(
      baseline,
      (t) => t.replace(/"commit": "[0-9a-f]{40}"/, `"commit": ${JSON.stringify(`--output=${pwned}`)}`),
      async () => {
        for (const command of ['drift', 'check']) {
          const r = await runCli([command, '--json'], dir);
          expectCleanError(r);
          expect(parseJson(r).error.message).toBe(
            `The baseline ${baseline} is corrupt: commit: expected a full commit SHA (40 or 64 lowercase hex digits) or null.`,
          );
        }
      },
    );
    await expect(stat(pwned)).rejects.toThrow(/ENOENT/);
  });
});

describe('files that escape their folder', () => {
  it('a metrics file that is a symlink to a file outside the output folder is refused, and not quoted', async () => {
    const secret = path.join(scratch, 'secret.json');
    await writeFile(secret, '{"accuracy": 0.5, "token": "SECRET-CONTENT"}');
    const train = `import os, sys\nos.symlink(${JSON.stringify(secret)}, os.path.join(sys.argv[2], "metrics.json"))\n`;
    const root = await project(configWith(''), { 'train.py': train });
    const r = await runCli(['record', '--json'], root);
    expectCleanError(r);
    const { message } = parseJson(r).error;
    expect(message).toMatch(
      /^The metrics\.file entry "metrics\.json" resolves through a symlink to .*secret\.json, outside the run's output folder \(.*seed-0\); it is not read\.$/,
    );
    expect(r.stdout + r.stderr).not.toContain('SECRET-CONTENT');
    await expect(stat(path.join(root, '.repro-gate', 'baseline.json'))).rejects.toThrow(/ENOENT/);
  });

  it('a metrics.file or baseline: outside its folder is refused when the config is loaded', async () => {
    const root = await project(
      configWith('baseline: ../../baseline.json\n', '  file: ../metrics.json\n  accuracy: {}\n'),
    );
    const r = await runCli(['record'], root);
    expectCleanError(r);
    expect(r.stderr).toContain(
      `repro-gate.yml:7:9: The metrics.file entry "../metrics.json" points outside the run's output folder ({out}).`,
    );
  });

  it('a config: file that links out of the project is refused, so its values never reach a report', async () => {
    const secret = path.join(scratch, 'docker-config.json');
    await writeFile(secret, '{"auths": {"ghcr.io": {"auth": "SECRET-CONTENT"}}}');
    const params = path.join(dir, 'params.json');
    await rename(params, `${params}.orig`);
    await symlink(secret, params);
    try {
      const r = await runCli(['drift', '--json'], dir);
      expectCleanError(r);
      expect(parseJson(r).error.message).toMatch(
        /^The config: file "params\.json" resolves through a symlink to .*docker-config\.json, outside the project root/,
      );
      expect(r.stdout + r.stderr).not.toContain('SECRET-CONTENT');
    } finally {
      await rm(params);
      await rename(`${params}.orig`, params);
    }
  });

  it('invalid JSON in a metrics file is placed by line and column, not quoted', async () => {
    const train = `import os, sys\nopen(os.path.join(sys.argv[2], "metrics.json"), "w").write('{"accuracy": 0.5,\\n "x": SECRET-CONTENT}')\n`;
    const root = await project(configWith(''), { 'train.py': train });
    const r = await runCli(['record'], root);
    expectCleanError(r);
    expect(r.stderr).toContain("seed 0's metrics.json is not valid JSON at line 2, column 7 (expected a value).");
    expect(r.stderr).not.toContain('SECRET');
  });
});

describe('names that are not names', () => {
  it('a key named __proto__ in repro-gate.yml is refused with its place', async () => {
    const root = await project(configWith('', '  __proto__: {}\n  accuracy: {}\n'));
    const r = await runCli(['drift'], root);
    expectCleanError(r);
    expect(r.stderr).toContain(
      'repro-gate.yml:7:3: the key "metrics.__proto__" cannot be used: "__proto__" is not allowed as a name.',
    );
  });
});

describe('limits', () => {
  it('a repro-gate.yml over 1 MiB is refused before it is parsed', async () => {
    const root = await project(`${configWith('')}# ${'x'.repeat(1024 * 1024)}\n`);
    const r = await runCli(['drift'], root);
    expectCleanError(r);
    expect(r.stderr).toContain('repro-gate.yml is 1 MiB, over the 1 MiB limit for a config file.');
  });

  it('a data file that links to /proc/self/environ is skipped with a warning, never hashed or shown', async () => {
    const link = path.join(dir, 'data', 'environ');
    await symlink('/proc/self/environ', link);
    try {
      const r = await runCli(['drift', '--json'], dir, { ...process.env, RG_CANARY: 'SECRET-CANARY' });
      expect([0, 1], r.stderr).toContain(r.code);
      expect(parseJson(r).drift.data).toEqual([]);
      expect(r.stderr).toMatch(
        /warning: Data file data\/environ resolves to \/proc\/\d+\/environ, a kernel pseudo-file/,
      );
      expect(r.stdout + r.stderr).not.toContain('SECRET-CANARY');
    } finally {
      await rm(link);
    }
  });
});

describe('pathological config files', () => {
  it('a YAML alias bomb in repro-gate.yml is one message, not an unexpected error', async () => {
    const bomb = Array.from(
      { length: 6 },
      (_, i) => `x${i}: &x${i} [${Array.from({ length: 9 }, () => (i === 0 ? '"lol"' : `*x${i - 1}`)).join(', ')}]`,
    ).join('\n');
    const root = await project(`${configWith('')}${bomb}\n`);
    const r = await runCli(['drift'], root);
    expectCleanError(r);
    expect(r.stderr).toContain('repro-gate.yml: too many YAML aliases');
  });

  it('a config: file nested 100,000 levels deep is "nested too deeply", naming the file', async () => {
    const deep = 100_000;
    await withEdit(
      path.join(dir, 'params.json'),
      () => `{"lr": ${'['.repeat(deep)}${']'.repeat(deep)}}`,
      async () => {
        const r = await runCli(['drift'], dir);
        expectCleanError(r);
        expect(r.stderr).toContain('Invalid JSON in params.json: nested too deeply (more than 1,000 levels');
      },
    );
  });

  it('seeds given as a string is one clear message', async () => {
    const root = await project(configWith('').replace('seeds: [0]', 'seeds: "5"'));
    const r = await runCli(['check'], root);
    expectCleanError(r);
    expect(r.stderr).toContain(
      'repro-gate.yml:4:8: seeds: expected a whole number of seeds ≥ 1 or a list of non-negative integers, got "5"',
    );
  });
});

describe('a baseline no recording could have written', () => {
  it('with a seed recorded twice is refused as corrupt before any training', async () => {
    const baseline = path.join(dir, '.repro-gate', 'baseline.json');
    await withEdit(
      baseline,
      (t) => {
        const b = JSON.parse(t);
        b.runs[1].seed = b.runs[0].seed;
        return JSON.stringify(b, null, 2);
      },
      async () => {
        const r = await runCli(['check', '--json'], dir);
        expectCleanError(r);
        expect(parseJson(r).error).toEqual({
          message: `The baseline ${baseline} is corrupt: runs: seed 0 is recorded twice.`,
          hint: 'Run `repro-gate record` (or the action with `command: record`) and commit the baseline file.',
        });
        expect(r.stderr).not.toMatch(/\[seed \d\]/); // nothing was trained
      },
    );
  });
});
