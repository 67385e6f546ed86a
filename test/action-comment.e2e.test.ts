/**
 * End to end: the built bundle, run like the runner runs it, posting a fork's report from a
 * privileged workflow_run workflow (`command: comment`) to a fake GitHub. The report file is
 * untrusted: tampering must be rejected or escaped, and nothing may leak the token.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { commentKey, commentMarker } from '../src/github/sticky-comment.js';
import { FakeGitHub, TOKENS } from './helpers/fake-github.js';
import { buildBundle, type RunActionOptions, runAction } from './helpers/run-action.js';
import { sampleReport } from './helpers/sample-report.js';

const HEAD_SHA = 'c'.repeat(40);
const MARKER = commentMarker(commentKey('repro-gate.yml'));

let bundle: string;
beforeAll(() => {
  bundle = buildBundle();
});

let gh: FakeGitHub;
beforeEach(async () => {
  gh = await FakeGitHub.start();
  // The fork PR #7 whose run produced the report; GitHub leaves workflow_run.pull_requests empty.
  gh.pulls.push({
    owner: 'acme',
    repo: 'ml',
    number: 7,
    headSha: HEAD_SHA,
    headLabel: 'forker:feature',
    state: 'open',
  });
  gh.pulls.push({
    owner: 'acme',
    repo: 'ml',
    number: 8,
    headSha: 'd'.repeat(40),
    headLabel: 'other:feature',
    state: 'open',
  });
});
afterEach(async () => {
  await gh.close();
});

const workflowRun = {
  name: 'workflow_run',
  payload: {
    action: 'completed',
    workflow_run: {
      id: 99,
      event: 'pull_request',
      head_sha: HEAD_SHA,
      head_branch: 'feature',
      head_repository: { full_name: 'forker/ml', owner: { login: 'forker' } },
      pull_requests: [],
    },
  },
};

function postReport(reportJson: string, over: RunActionOptions = {}) {
  return runAction({
    bundle,
    apiUrl: gh.url,
    event: workflowRun,
    files: { 'artifact/repro-gate-report.json': reportJson },
    ...over,
    inputs: {
      command: 'comment',
      report: 'artifact/repro-gate-report.json',
      'github-token': TOKENS.installation,
      ...over.inputs,
    },
  });
}

describe('command: comment (built bundle)', () => {
  it('posts a valid fork report to the PR found from the workflow_run head, then leaves it alone', async () => {
    const report = sampleReport({ pullRequest: 7 });
    const r = await postReport(JSON.stringify(report));
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);

    const comments = gh.commentsOn('acme', 'ml', 7);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body.startsWith(`${MARKER}\n`)).toBe(true);
    expect(comments[0]!.body).toContain('accuracy');
    expect(comments[0]!.user.login).toBe('github-actions[bot]');

    expect(r.outputs.verdict).toBe('not-equivalent');
    expect(r.outputs['comment-url']).toBe(`https://github.com/acme/ml/pull/7#issuecomment-${comments[0]!.id}`);
    expect(JSON.parse(readFileSync(r.outputs['report-json']!, 'utf8'))).toEqual(report);
    expect(r.outputs['report-json']!.startsWith(r.runnerTemp)).toBe(true);
    expect(readFileSync(r.outputs['report-markdown']!, 'utf8')).toContain('accuracy');
    expect(r.summary).toContain('accuracy');

    // the PR was looked up by the fork's head, not taken from the report
    const lookup = gh.requests.find((q) => q.path === '/repos/acme/ml/pulls');
    expect(lookup?.query.head).toBe('forker:feature');

    const again = await postReport(JSON.stringify(report));
    expect(again.exitCode).toBe(0);
    expect(gh.commentsOn('acme', 'ml', 7)).toHaveLength(1);
    expect(gh.writes()).toHaveLength(1);
  });

  it('never writes the token to logs, outputs, summary or files', async () => {
    const r = await postReport(JSON.stringify(sampleReport({ pullRequest: 7 })));
    expect(r.exitCode).toBe(0);
    // The runner strips its own ::add-mask:: command; everything else must not carry the token.
    const maskCommand = `::add-mask::${TOKENS.installation}`;
    expect(r.stdout.split('\n')).toContain(maskCommand);
    const stdout = r.stdout
      .split('\n')
      .filter((l) => l !== maskCommand)
      .join('\n');
    const everything = [
      stdout,
      r.stderr,
      r.summary,
      JSON.stringify(r.outputs),
      readFileSync(r.outputs['report-json']!, 'utf8'),
    ];
    for (const text of everything) expect(text).not.toContain(TOKENS.installation);
    expect(gh.comments.map((c) => c.body).join('')).not.toContain(TOKENS.installation);
  });

  it('refuses a report that claims another PR than the run belongs to', async () => {
    const r = await postReport(JSON.stringify(sampleReport({ pullRequest: 8 })));
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(/report is for pull request #8, but this run belongs to #7; refusing/);
    expect(gh.writes()).toHaveLength(0);
  });

  it('refuses a report whose PR differs from the pr-number input', async () => {
    const r = await postReport(JSON.stringify(sampleReport({ pullRequest: 7 })), { inputs: { 'pr-number': '8' } });
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(/#7.*#8/);
    expect(gh.writes()).toHaveLength(0);
  });

  it('posts to the pr-number input when it matches the report', async () => {
    const r = await postReport(JSON.stringify(sampleReport({ pullRequest: 8 })), {
      inputs: { 'pr-number': '8' },
      event: { name: 'workflow_dispatch', payload: {} },
    });
    expect(r.exitCode).toBe(0);
    expect(gh.commentsOn('acme', 'ml', 8)).toHaveLength(1);
  });

  it('rejects extra keys and reports without a PR, without writing anything', async () => {
    const extra = { ...sampleReport({ pullRequest: 7 }), body: '@everyone click here' };
    const r1 = await postReport(JSON.stringify(extra));
    expect(r1.exitCode).toBe(1);
    expect(r1.errors.join('\n')).toMatch(/not a valid repro-gate report: \(root\): Unrecognized key/);

    const r2 = await postReport(JSON.stringify(sampleReport()));
    expect(r2.exitCode).toBe(1);
    expect(r2.errors.join('\n')).toMatch(/names no pull request/);

    const r3 = await postReport('{"schemaVersion": 1');
    expect(r3.exitCode).toBe(1);
    expect(r3.errors.join('\n')).toMatch(/not valid JSON/);
    expect(gh.writes()).toHaveLength(0);
  });

  it('escapes markup in repository-controlled text', async () => {
    const report = sampleReport({ pullRequest: 7 });
    report.metrics[0]!.name = '<script>alert(1)</script> [x](https://evil.example) @org/team';
    report.summary = '<img src=x onerror=alert(1)>';
    const r = await postReport(JSON.stringify(report));
    expect(r.exitCode).toBe(0);
    const body = gh.commentsOn('acme', 'ml', 7)[0]!.body;
    expect(body).not.toMatch(/<script|<img|\]\(https:\/\/evil|@org/);
    expect(body).toContain('&lt;script&gt;');
  });

  it('fails clearly when the privileged token cannot write', async () => {
    const r = await postReport(JSON.stringify(sampleReport({ pullRequest: 7 })), {
      inputs: { 'github-token': TOKENS.fork },
    });
    expect(r.exitCode).toBe(1);
    expect(r.errors.join('\n')).toMatch(/cannot comment on pull request #7: Resource not accessible by integration/);
  });

  it('names the input in errors', async () => {
    const r = await postReport('{}', { inputs: { 'fail-on': 'mismach' } });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      expect.stringMatching(/^repro-gate: Input "fail-on": unknown verdict "mismach"; expected one of /),
    ]);
  });
});
