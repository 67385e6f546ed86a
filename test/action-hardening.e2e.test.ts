/**
 * The built action (dist/index.js, as the runner runs it) against a change that tries to pass by
 * rewriting its own baseline, a training that prints workflow commands, and pull_request_target
 * with the pull request's code checked out. GitHub is the local fake on 127.0.0.1.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeGitHub, TOKENS } from './helpers/fake-github.js';
import { buildBundle, REPO_ROOT, runAction } from './helpers/run-action.js';

const EXAMPLE = join(REPO_ROOT, 'examples/breast-cancer-logreg');
const gateInputs = { 'working-directory': 'example', config: 'repro-gate.exact.yml' };

function exampleFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (name === '.repro-gate') continue;
      if (statSync(p).isDirectory()) walk(p);
      else files[join('example', relative(EXAMPLE, p))] = readFileSync(p, 'utf8');
    }
  };
  walk(EXAMPLE);
  return files;
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  });
}

function pullRequest(baseSha: string, labels: string[] = []) {
  return {
    name: 'pull_request',
    payload: {
      number: 7,
      pull_request: {
        number: 7,
        base: { sha: baseSha, ref: 'main' },
        head: { sha: 'b'.repeat(40), ref: 'feature' },
        labels: labels.map((name) => ({ name })),
      },
      repository: { name: 'ml', full_name: 'acme/ml', owner: { login: 'acme' } },
    },
  };
}

let bundle: string;
let gh: FakeGitHub;
beforeAll(() => {
  bundle = buildBundle();
});
beforeEach(async () => {
  gh = await FakeGitHub.start();
});
afterEach(async () => {
  await gh.close();
});

describe('a pull request that rewrites the baseline to hide a regression', () => {
  let workspace: string;
  let baseSha: string;
  beforeAll(async () => {
    // The base branch: the example with a baseline recorded by the action, committed.
    const rec = await runAction({
      bundle,
      event: { name: 'push', payload: {} },
      files: exampleFiles(),
      inputs: { command: 'record', ...gateInputs },
    });
    expect(rec.exitCode, rec.stdout).toBe(0);
    workspace = rec.workspace;
    git(workspace, 'init', '-q', '-b', 'main');
    git(workspace, 'add', '-A');
    git(workspace, 'commit', '-qm', 'base');
    baseSha = git(workspace, 'rev-parse', 'HEAD').trim();
    // The pull request: a regression (learning rate ÷ 10), and the baseline re-recorded to match it.
    const params = join(workspace, 'example/params.json');
    writeFileSync(params, readFileSync(params, 'utf8').replace('"learning_rate": 0.05,', '"learning_rate": 0.005,'));
    const again = await runAction({
      bundle,
      workspace,
      event: { name: 'push', payload: {} },
      inputs: { command: 'record', ...gateInputs },
    });
    expect(again.exitCode, again.stdout).toBe(0);
    git(workspace, 'commit', '-qam', 'regress, and re-record the baseline');
  }, 180_000);

  function copy(): string {
    const dir = `${workspace}-${Math.random().toString(36).slice(2)}`;
    cpSync(workspace, dir, { recursive: true });
    return dir;
  }

  it('fails the step against the base commit, and the comment leads with the baseline change', async () => {
    const r = await runAction({
      bundle,
      apiUrl: gh.url,
      workspace: copy(),
      event: pullRequest(baseSha),
      inputs: { 'github-token': TOKENS.installation, ...gateInputs },
    });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.verdict).toBe('mismatch');
    const report = JSON.parse(readFileSync(r.outputs['report-json']!, 'utf8'));
    expect(report.baselineChange).toMatchObject({
      base: baseSha,
      changed: ['baseline'],
      verdictAgainstBase: 'mismatch',
      verdictAgainstChange: 'reproducible',
      follows: 'base',
    });
    expect(report.warnings[0].code).toBe('baseline-changed');
    const [comment] = gh.commentsOn('acme', 'ml', 7);
    const lines = comment!.body.split('\n');
    expect(lines[1]).toBe('## ❌ repro-gate: mismatch');
    expect(lines[3]).toMatch(
      /^\*\*⚠️ This change updates the baseline\.\*\* Against the base commit [0-9a-f]{12}&#39;s, the verdict is mismatch; against this change&#39;s, reproducible\. The result follows the base commit until/,
    );
    expect(comment!.body).toMatch(/the pull request&#39;s &quot;baseline-update&quot; label/);
  }, 120_000);

  it('passes when the pull request carries the baseline-label', async () => {
    const r = await runAction({
      bundle,
      apiUrl: gh.url,
      workspace: copy(),
      event: pullRequest(baseSha, ['enhancement', 'baseline-update']),
      inputs: { 'github-token': TOKENS.installation, ...gateInputs },
    });
    expect(r.exitCode).toBe(0);
    expect(r.outputs.verdict).toBe('reproducible');
    const report = JSON.parse(readFileSync(r.outputs['report-json']!, 'utf8'));
    expect(report.baselineChange).toMatchObject({ follows: 'change', verdictAgainstBase: 'mismatch' });
  }, 120_000);
});

describe('training output and untrusted checkouts', () => {
  const forging = {
    'repro-gate.yml': `version: 1
train:
  command: [sh, train.sh, "{seed}", "{out}", forge]
  env: {REPRO_GATE_TEST_PIDS: /tmp}
seeds: [0]
mode: exact
metrics:
  loss: {}
`,
    'train.sh': readFileSync(join(REPO_ROOT, 'test/fixtures/misbehaving/train.sh'), 'utf8'),
  };

  it('cannot forge workflow commands: no output line reaches the runner starting with ::', async () => {
    const r = await runAction({
      bundle,
      event: { name: 'push', payload: {} },
      files: forging,
      inputs: { command: 'record' },
    });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(r.stdout).toContain('[seed 0] ::error::forged by the training');
    const commandLines = r.stdout.split(/\r\n|\r|\n/).filter((l) => /^\s*::/.test(l));
    expect(commandLines.filter((l) => l.includes('forged'))).toEqual([]);
    expect(r.errors).toEqual([]);
    expect(r.warnings.filter((w) => w.includes('forged'))).toEqual([]);
  });

  it("refuses to train the pull request's own checkout on the runner under pull_request_target", async () => {
    const files = { ...forging, 'repro-gate.yml': forging['repro-gate.yml'].replace('forge]', 'good]') };
    const r = await runAction({
      bundle,
      event: { ...pullRequest('c'.repeat(40)), name: 'pull_request_target' },
      files,
      inputs: { command: 'record' },
      env: { GITHUB_SHA: 'a'.repeat(40) },
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]).toMatch(
      /Refusing to train on the runner itself: this is a pull_request_target run and the checked-out commit .* is not the base branch's/,
    );
    expect(r.errors[0]).toMatch(/Set train\.image in repro-gate\.yml/);
  });
});
