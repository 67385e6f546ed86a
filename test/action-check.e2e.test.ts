/**
 * End to end: the built bundle running the real gate on the bundled example (exact mode, 2 seeds,
 * standard-library Python), like a workflow would: record once on push, then check on a PR with a
 * fake GitHub API on 127.0.0.1 receiving the sticky comment. Each test checks a copy of the one
 * recorded project, so the slow part (training) runs as few times as possible.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { commentKey, commentMarker } from '../src/github/sticky-comment.js';
import { ACTIONS_BOT_USER, FakeGitHub, HUMAN, TOKENS } from './helpers/fake-github.js';
import { buildBundle, REPO_ROOT, type RunActionOptions, runAction } from './helpers/run-action.js';

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

const gateInputs = { 'working-directory': 'example', config: 'repro-gate.exact.yml' };
/** The comment key is the config path relative to the workspace. */
const MARKER = commentMarker(commentKey('example/repro-gate.exact.yml'));

/** What a reader sees in a comment body: entities decoded, inline tags dropped. */
function plain(md: string): string {
  return md
    .replace(/<\/?(?:code|sub|sup)>/g, '')
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

let bundle: string;
/** A workspace holding the example with its exact-mode baseline recorded by the action. */
let recorded: string;
beforeAll(async () => {
  bundle = buildBundle();
  const rec = await runAction({
    bundle,
    event: { name: 'push', payload: { ref: 'refs/heads/main' } },
    files: exampleFiles(),
    inputs: { command: 'record', ...gateInputs },
  });
  expect(rec.errors).toEqual([]);
  expect(rec.exitCode).toBe(0);
  expect(rec.outputs.verdict).toBe('recorded');
  recorded = rec.workspace;
});

/** A private copy of the recorded project (tests edit it). */
function recordedCopy(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'rg-ws-')), 'workspace');
  cpSync(recorded, dir, { recursive: true });
  return dir;
}

/** The change the README's table shows failing: learning_rate 0.05 → 0.005. */
function driftLearningRate(workspace: string): void {
  const file = join(workspace, 'example/params.json');
  const before = readFileSync(file, 'utf8');
  const after = before.replace('"learning_rate": 0.05,', '"learning_rate": 0.005,');
  expect(after).not.toBe(before);
  writeFileSync(file, after);
}

let gh: FakeGitHub;
beforeEach(async () => {
  gh = await FakeGitHub.start();
});
afterEach(async () => {
  await gh.close();
});

function check(workspace: string, over: RunActionOptions = {}) {
  return runAction({
    bundle,
    apiUrl: gh.url,
    workspace,
    ...over,
    inputs: { 'github-token': TOKENS.installation, ...gateInputs, ...over.inputs },
  });
}

describe('check (built bundle, real gate)', () => {
  it('creates the comment, then edits it in place when the project drifts; the step fails and the comment names the drift', {
    timeout: 120_000,
  }, async () => {
    // A human pasted our marker into their own comment: it must never be taken for ours.
    const human = gh.addComment('acme', 'ml', 7, `${MARKER}\nI copied the bot's marker`, HUMAN);
    const ws = recordedCopy();

    const ok = await check(ws);
    expect(ok.errors).toEqual([]);
    expect(ok.exitCode).toBe(0);
    expect(ok.outputs.verdict).toBe('reproducible');
    expect(JSON.parse(readFileSync(ok.outputs['report-json']!, 'utf8')).pullRequest).toBe(7);
    expect(ok.summary).toMatch(/reproducible/);
    // Each seed's training output folded into its own group, progress lines between them.
    const groups = ok.stdout.split('\n').filter((l) => /^::(end)?group::/.test(l));
    expect(groups).toEqual([
      '::group::repro-gate check: seed 0',
      '::endgroup::',
      '::group::repro-gate check: seed 1',
      '::endgroup::',
    ]);
    expect(ok.stdout).toMatch(/^seed 2\/2 · \d+s elapsed · ~\d+s left$/m);
    expect(ok.stdout).toMatch(/^2\/2 seeds done · \d+s elapsed$/m);
    expect(gh.writes().map((w) => w.method)).toEqual(['POST']);
    const [, ours] = gh.commentsOn('acme', 'ml', 7);
    expect(ours!.user).toEqual(ACTIONS_BOT_USER);
    expect(ours!.body.startsWith(`${MARKER}\n`)).toBe(true);
    expect(ok.outputs['comment-url']).toBe(`https://github.com/acme/ml/pull/7#issuecomment-${ours!.id}`);

    driftLearningRate(ws);
    const bad = await check(ws);
    expect(bad.exitCode).toBe(1);
    expect(bad.outputs.verdict).toBe('mismatch');
    // The drifted key, annotated on its line of the diff (properties escaped as the runner reads them), then the failure.
    expect(bad.stdout).toContain(
      '::error title=repro-gate%3A config modified since the baseline,file=example/params.json,line=2::learning_rate: 0.05 → 0.005. Most likely cause of the mismatch.\n',
    );
    expect(bad.errors).toHaveLength(2);
    expect(bad.errors[1]).toMatch(/^repro-gate: mismatch — [^\n]+$/);
    // One more write, an edit of our comment; no new comment.
    expect(gh.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      'POST /repos/acme/ml/issues/7/comments',
      `PATCH /repos/acme/ml/issues/comments/${ours!.id}`,
    ]);
    expect(gh.commentsOn('acme', 'ml', 7)).toHaveLength(2);
    expect(bad.outputs['comment-url']).toBe(ok.outputs['comment-url']);
    expect(human.body).toBe(`${MARKER}\nI copied the bot's marker`);

    const body = plain(gh.commentsOn('acme', 'ml', 7)[1]!.body);
    expect(body).toMatch(/repro-gate: mismatch/);
    expect(body).toMatch(/Most likely cause: config/);
    expect(body).toMatch(/\| params\.json \| learning_rate \| 0\.05 \| 0\.005 \|/);
    expect(plain(bad.summary)).toMatch(/\| params\.json \| learning_rate \| 0\.05 \| 0\.005 \|/);
    // What to do next, and where the run is.
    expect(body).toContain('- Look first at learning_rate in params.json: 0.05 → 0.005.');
    expect(body).toMatch(/run the baseline-update workflow .* then add the baseline-update label\./);
    expect(body).toContain('[workflow run](https://github.com/acme/ml/actions/runs/4242)');
    expect(plain(bad.summary)).toContain('[workflow run](https://github.com/acme/ml/actions/runs/4242)');
  });

  it('finds its comment behind 150 earlier ones (several pages) and edits only that one', async () => {
    const human = gh.addComment('acme', 'ml', 7, `${MARKER}\nquoting the bot`, HUMAN);
    for (let i = 0; i < 150; i++)
      gh.addComment('acme', 'ml', 7, `comment ${i}`, i % 2 ? HUMAN : { login: 'ci-bot[bot]', type: 'Bot' });
    const ours = gh.addComment('acme', 'ml', 7, `${MARKER}\nan older report`, ACTIONS_BOT_USER);
    gh.addComment('acme', 'ml', 7, 'lgtm', HUMAN);

    const r = await check(recordedCopy());
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(gh.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
      `PATCH /repos/acme/ml/issues/comments/${ours.id}`,
    ]);
    expect(ours.body).toMatch(/repro-gate: reproducible/);
    expect(human.body).toBe(`${MARKER}\nquoting the bot`);
    expect(gh.commentsOn('acme', 'ml', 7)).toHaveLength(153);
    // It read past the first page to get there.
    const pages = gh.requests
      .filter((q) => q.method === 'GET' && q.path === '/repos/acme/ml/issues/7/comments')
      .map((q) => q.query.page ?? '1');
    expect(pages).toEqual(['1', '2']);
    expect(r.outputs['comment-url']).toBe(`https://github.com/acme/ml/pull/7#issuecomment-${ours.id}`);
  });

  it("with a fork's read-only token: warns, posts nothing, the summary holds the report, and the verdict alone decides the step", {
    timeout: 120_000,
  }, async () => {
    const ws = recordedCopy();
    const fork = { inputs: { 'github-token': TOKENS.fork } };

    const pass = await check(ws, fork);
    expect(pass.exitCode).toBe(0);
    expect(pass.errors).toEqual([]);
    expect(pass.warnings.filter((w) => w.includes('read-only'))).toHaveLength(1);
    expect(pass.summary).toMatch(/repro-gate: reproducible/);
    expect(pass.summary).toMatch(/\| Metric \| Baseline \(n=2\) \| This run \(n=2\) \|/);
    expect(JSON.parse(readFileSync(pass.outputs['report-json']!, 'utf8'))).toMatchObject({
      verdict: 'reproducible',
      pullRequest: 7,
    });
    expect(pass.outputs['comment-url']).toBe('');

    driftLearningRate(ws);
    const fail = await check(ws, fork);
    expect(fail.exitCode).toBe(1);
    expect(fail.errors).toEqual([
      expect.stringMatching(/^learning_rate: 0.05 → 0.005\. /),
      expect.stringMatching(/^repro-gate: mismatch — /),
    ]);
    expect(fail.warnings.filter((w) => w.includes('read-only'))).toHaveLength(1);
    expect(plain(fail.summary)).toMatch(/\| params\.json \| learning_rate \| 0\.05 \| 0\.005 \|/);
    expect(JSON.parse(readFileSync(fail.outputs['report-json']!, 'utf8'))).toMatchObject({
      verdict: 'mismatch',
      cause: 'config',
      pullRequest: 7,
    });
    expect(gh.comments).toHaveLength(0);

    // The fork-safe pair's second half: a workflow_run run downloads that report and posts it.
    const headSha = 'c'.repeat(40);
    gh.pulls.push({ owner: 'acme', repo: 'ml', number: 7, headSha, headLabel: 'forker:feature', state: 'open' });
    const workflowRun = {
      name: 'workflow_run',
      payload: {
        action: 'completed',
        workflow_run: {
          id: 99,
          event: 'pull_request',
          head_sha: headSha,
          head_branch: 'feature',
          head_repository: { owner: { login: 'forker' } },
          pull_requests: [],
        },
      },
    };
    const reportJson = readFileSync(fail.outputs['report-json']!, 'utf8');
    const post = (json: string) =>
      runAction({
        bundle,
        apiUrl: gh.url,
        event: workflowRun,
        files: { 'artifact/repro-gate-report.json': json },
        // The same config inputs as the check, so both halves write the same sticky comment.
        inputs: {
          command: 'comment',
          report: 'artifact/repro-gate-report.json',
          'github-token': TOKENS.installation,
          ...gateInputs,
        },
      });
    const tampered = await post(reportJson.replace('"pullRequest": 7', '"pullRequest": 8'));
    expect(tampered.exitCode).toBe(1);
    expect(tampered.errors.join('\n')).toMatch(/report is for pull request #8, but this run belongs to #7; refusing/);
    expect(gh.comments).toHaveLength(0);

    const posted = await post(reportJson);
    expect(posted.errors).toEqual([]);
    expect(posted.exitCode).toBe(0); // posting a failing report is not a failure of the poster
    const [comment, ...more] = gh.commentsOn('acme', 'ml', 7);
    expect(more).toEqual([]);
    expect(comment!.body.startsWith(`${MARKER}\n`)).toBe(true);
    expect(plain(comment!.body)).toMatch(/\| params\.json \| learning_rate \| 0\.05 \| 0\.005 \|/);
  });

  it('keeps the token and runner secrets out of the training environment', async () => {
    const dump =
      "import os,json; json.dump(dict(os.environ), open('env-dump.json','w')); json.dump({'m': 1}, open(os.path.join(os.environ['REPRO_GATE_OUT'], 'metrics.json'), 'w'))";
    const config = `version: 1\ntrain:\n  command: [python3, -c, "${dump.replace(/"/g, '\\"')}"]\nseeds: 1\nmode: exact\nmetrics:\n  file: metrics.json\n  m: {margin: 0.1}\nbaseline: baseline.json\n`;
    const r = await runAction({
      bundle,
      apiUrl: gh.url,
      event: { name: 'push', payload: {} },
      files: { 'gate/repro-gate.yml': config },
      inputs: { command: 'record', 'working-directory': 'gate', 'github-token': TOKENS.installation },
      env: {
        GITHUB_TOKEN: TOKENS.installation,
        ACTIONS_RUNTIME_TOKEN: 'runtime-secret',
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc-secret',
      },
    });
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);
    const env = readFileSync(join(r.workspace, 'gate/env-dump.json'), 'utf8');
    for (const secret of [TOKENS.installation, 'runtime-secret', 'oidc-secret']) expect(env).not.toContain(secret);
    expect(Object.keys(JSON.parse(env)).filter((k) => /^(INPUT_|GITHUB_|ACTIONS_)/.test(k))).toEqual([]);
  });
});
