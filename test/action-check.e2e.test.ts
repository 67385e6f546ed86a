/**
 * End to end: the built bundle running the real gate on the bundled example (exact mode, 2 seeds,
 * standard-library Python), like a workflow would: record on push, then check on a PR with a
 * fake GitHub receiving the sticky comment.
 */
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeGitHub, TOKENS } from './helpers/fake-github.js';
import { REPO_ROOT, buildBundle, pullRequestEvent, runAction, type RunActionOptions } from './helpers/run-action.js';

const EXAMPLE = join(REPO_ROOT, 'examples/breast-cancer-logreg');

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

let bundle: string;
beforeAll(() => {
  bundle = buildBundle();
});

let gh: FakeGitHub;
beforeEach(async () => {
  gh = await FakeGitHub.start();
});
afterEach(async () => {
  await gh.close();
});

const gateInputs = { 'working-directory': 'example', config: 'repro-gate.exact.yml' };

async function recordThenCheck(check: RunActionOptions = {}) {
  const rec = await runAction({
    bundle,
    apiUrl: gh.url,
    event: { name: 'push', payload: { ref: 'refs/heads/main' } },
    files: exampleFiles(),
    inputs: { command: 'record', ...gateInputs },
  });
  expect(rec.errors).toEqual([]);
  expect(rec.exitCode).toBe(0);
  expect(rec.outputs.verdict).toBe('recorded');
  return runAction({
    bundle,
    apiUrl: gh.url,
    workspace: rec.workspace,
    ...check,
    inputs: { 'github-token': TOKENS.installation, ...gateInputs, ...check.inputs },
  });
}

describe('check (built bundle, real gate)', () => {
  it('passes, comments once, and fails the step in one line after a config change', async () => {
    const ok = await recordThenCheck();
    expect(ok.errors).toEqual([]);
    expect(ok.exitCode).toBe(0);
    expect(ok.outputs.verdict).toBe('reproducible');
    expect(JSON.parse(readFileSync(ok.outputs['report-json']!, 'utf8')).pullRequest).toBe(7);
    expect(ok.summary).toMatch(/reproducible/);
    expect(gh.commentsOn('acme', 'ml', 7)).toHaveLength(1);

    const params = join(ok.workspace, 'example/params.json');
    const p = JSON.parse(readFileSync(params, 'utf8'));
    p.learning_rate /= 2;
    writeFileSync(params, JSON.stringify(p));
    const bad = await runAction({
      bundle,
      apiUrl: gh.url,
      workspace: ok.workspace,
      inputs: { 'github-token': TOKENS.installation, ...gateInputs },
    });
    expect(bad.exitCode).toBe(1);
    expect(bad.outputs.verdict).toBe('mismatch');
    expect(bad.errors).toHaveLength(1);
    expect(bad.errors[0]).toMatch(/^repro-gate: mismatch — [^\n]+$/);
    const comments = gh.commentsOn('acme', 'ml', 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toMatch(/mismatch/);
    expect(bad.outputs['comment-url']).toBe(ok.outputs['comment-url']);
  });

  it('with a fork read-only token: warns once and the verdict alone decides the step', async () => {
    const r = await recordThenCheck({ inputs: { 'github-token': TOKENS.fork }, event: pullRequestEvent(7) });
    expect(r.exitCode).toBe(0);
    expect(r.warnings.filter((w) => w.includes('read-only'))).toHaveLength(1);
    expect(r.summary).toMatch(/reproducible/);
    expect(JSON.parse(readFileSync(r.outputs['report-json']!, 'utf8'))).toMatchObject({ verdict: 'reproducible', pullRequest: 7 });
    expect(gh.comments).toHaveLength(0);
  });

  it('keeps the token and runner secrets out of the training environment', async () => {
    const dump = "import os,json; json.dump(dict(os.environ), open('env-dump.json','w')); json.dump({'m': 1}, open(os.path.join(os.environ['REPRO_GATE_OUT'], 'metrics.json'), 'w'))";
    const config = `version: 1\ntrain:\n  command: [python3, -c, "${dump.replace(/"/g, '\\"')}"]\nseeds: 1\nmode: exact\nmetrics:\n  file: metrics.json\n  m: {margin: 0.1}\nbaseline: baseline.json\n`;
    const r = await runAction({
      bundle,
      apiUrl: gh.url,
      event: { name: 'push', payload: {} },
      files: { 'gate/repro-gate.yml': config },
      inputs: { command: 'record', 'working-directory': 'gate', 'github-token': TOKENS.installation },
      env: { GITHUB_TOKEN: TOKENS.installation, ACTIONS_RUNTIME_TOKEN: 'runtime-secret', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-secret' },
    });
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);
    const env = readFileSync(join(r.workspace, 'gate/env-dump.json'), 'utf8');
    for (const secret of [TOKENS.installation, 'runtime-secret', 'oidc-secret']) expect(env).not.toContain(secret);
    expect(Object.keys(JSON.parse(env)).filter((k) => /^(INPUT_|GITHUB_|ACTIONS_)/.test(k))).toEqual([]);
  });
});
