/**
 * The nightly's issue, end to end: the built bundle run like the runner runs it on a `schedule`
 * event against the fake GitHub, on a copy of the bundled example. One issue per gate and branch is
 * opened on failure, found again across pages by marker and author, updated, and closed with
 * "resolved by <sha>" when a later run passes; without issues: write it is one warning. Needs
 * python3 (the example's standard-library training); no Docker.
 */
import { execFileSync } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { commentKey, commentMarker } from '../src/github/sticky-comment.js';
import { ACTIONS_BOT_USER, type FakeArtifact, FakeGitHub, HUMAN, TOKENS } from './helpers/fake-github.js';
import { copyExample } from './helpers/project.js';
import { buildBundle, runAction } from './helpers/run-action.js';

const SHA = 'e'.repeat(40);
const MARKER = commentMarker(commentKey('repro-gate.yml#main'));
/** The committed baseline was recorded with this machine's OPENBLAS_CORETYPE (a determinism variable). */
const RUNNER: Record<string, string> = process.env.OPENBLAS_CORETYPE
  ? { OPENBLAS_CORETYPE: process.env.OPENBLAS_CORETYPE }
  : {};
const schedule = { name: 'schedule', payload: { schedule: '0 3 * * *' } };

let bundle: string;
let workspace: string;
let params: string;
let original: string;
beforeAll(async () => {
  bundle = buildBundle();
  workspace = await copyExample({ keepBaselines: true });
  params = path.join(workspace, 'params.json');
  original = await readFile(params, 'utf8');
}, 120_000);

let gh: FakeGitHub;
beforeEach(async () => {
  gh = await FakeGitHub.start();
  await writeFile(params, original);
});
afterEach(async () => {
  await gh.close();
});

/** Changes the learning rate in params.json: config drift, so `drift` fails. */
async function drifted(value: number): Promise<void> {
  const p = JSON.parse(original);
  p.learning_rate = value;
  await writeFile(params, JSON.stringify(p));
}

function nightly(inputs: Record<string, string> = {}) {
  return runAction({
    bundle,
    apiUrl: gh.url,
    workspace,
    event: schedule,
    env: { ...RUNNER, GITHUB_REF_NAME: 'main', GITHUB_SHA: SHA },
    inputs: { command: 'drift', 'github-token': TOKENS.installation, ...inputs },
  });
}

const ours = () => gh.issues.filter((i) => i.body.startsWith(`${MARKER}\n`) && i.user.login === ACTIONS_BOT_USER.login);

describe('issue: on-failure (default for drift)', () => {
  it('opens one issue, updates it across pages of other issues, and closes it when a run passes', async () => {
    // Someone pasted our marker into their own issue: it must never be taken for ours.
    gh.addIssue('acme', 'ml', {
      title: 'copycat',
      body: `${MARKER}\nnot the bot`,
      labels: ['repro-gate'],
      user: HUMAN,
    });

    await drifted(0.2);
    const first = await nightly();
    expect(first.exitCode).toBe(1);
    expect(first.outputs.verdict).toBe('drift');
    expect(first.plainWarnings).toEqual([]);
    expect(ours()).toHaveLength(1);
    const [issue] = ours();
    expect(issue).toMatchObject({ title: 'repro-gate: drift on main', labels: ['repro-gate'], state: 'open' });
    expect(issue!.body).toContain('## ⚠️ repro-gate: drift');
    expect(issue!.body).toMatch(/<code>learning&#95;rate<\/code> \| <code>[^<]+<\/code> \| <code>0\.2<\/code>/);
    expect(first.outputs['issue-url']).toBe(`https://github.com/acme/ml/issues/${issue!.number}`);

    // 150 newer labelled issues push ours to the second page of the listing.
    for (let i = 0; i < 150; i++)
      gh.addIssue('acme', 'ml', { title: `other ${i}`, body: 'x', labels: ['repro-gate'], user: ACTIONS_BOT_USER });
    await drifted(0.3);
    const second = await nightly();
    expect(second.exitCode).toBe(1);
    expect(ours()).toHaveLength(1);
    expect(ours()[0]!.body).toMatch(/<code>0\.3<\/code>/);
    expect(gh.requests.some((r) => r.path === '/repos/acme/ml/issues' && r.query.page === '2')).toBe(true);

    // The same failure again: nothing to write.
    const writes = gh.writes().length;
    expect((await nightly()).exitCode).toBe(1);
    expect(gh.writes()).toHaveLength(writes);

    await writeFile(params, original);
    const passed = await nightly();
    expect(passed.exitCode).toBe(0);
    expect(passed.outputs.verdict).toBe('no-drift');
    expect(ours()[0]!.state).toBe('closed');
    expect(gh.commentsOn('acme', 'ml', issue!.number).map((c) => c.body)).toEqual([`resolved by ${SHA}`]);
    expect(passed.outputs['issue-url']).toBe('');
    expect(gh.issues.find((i) => i.title === 'copycat')?.state).toBe('open');

    // Passing again with nothing open writes nothing.
    const before = gh.writes().length;
    expect((await nightly()).exitCode).toBe(0);
    expect(gh.writes()).toHaveLength(before);
  });

  it('without issues: write: one warning, and the step still fails or passes on its verdict alone', async () => {
    await drifted(0.2);
    const r = await nightly({ 'github-token': TOKENS.noIssues });
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual(['repro-gate: drift — Drift since the baseline: 1 config key changed.']);
    expect(r.plainWarnings).toHaveLength(1);
    expect(r.plainWarnings[0]).toMatch(
      /^repro-gate: cannot open or close the repro-gate issue: the token may not write issues \(Resource not accessible by integration\)\. Give the workflow "permissions: issues: write"/,
    );
    expect(gh.issues).toEqual([]);
  });

  it('issue: never opens nothing', async () => {
    await drifted(0.2);
    const r = await nightly({ issue: 'never' });
    expect(r.exitCode).toBe(1);
    expect(gh.requests.filter((q) => q.path.includes('/issues'))).toEqual([]);
  });

  it('check on a schedule opens one too (a retraining nightly), check on a pull request does not', async () => {
    await drifted(0.005);
    const r = await nightly({ command: 'check' });
    expect(r.exitCode).toBe(1);
    expect(r.outputs.verdict).toBe('not-equivalent');
    expect(ours()).toMatchObject([{ title: 'repro-gate: not-equivalent on main', state: 'open' }]);

    const pr = await runAction({
      bundle,
      apiUrl: gh.url,
      workspace,
      env: { ...RUNNER, GITHUB_REF_NAME: '7/merge', GITHUB_SHA: SHA },
      inputs: { command: 'check', 'github-token': TOKENS.installation, comment: 'never' },
    });
    expect(pr.exitCode).toBe(1);
    expect(ours()).toHaveLength(1);
  }, 120_000);
});

describe('history in the action', () => {
  it('appends on the default branch only; a pull request run charts it but adds nothing', async () => {
    const config = `${await readFile(path.join(workspace, 'repro-gate.yml'), 'utf8')}history: {file: .repro-gate/history.jsonl}\n`;
    await writeFile(path.join(workspace, 'h.yml'), config);
    const historyFile = path.join(workspace, '.repro-gate', 'history.jsonl');
    const push = await runAction({
      bundle,
      apiUrl: gh.url,
      workspace,
      event: { name: 'push', payload: { ref: 'refs/heads/main', repository: { default_branch: 'main' } } },
      env: { ...RUNNER, GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', GITHUB_SHA: SHA },
      inputs: { command: 'check', config: 'h.yml', 'github-token': TOKENS.installation },
    });
    expect(push.exitCode, push.stdout).toBe(0);
    const lines = (await readFile(historyFile, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ command: 'check', verdict: 'equivalent' });

    const pr = await runAction({
      bundle,
      apiUrl: gh.url,
      workspace,
      env: { ...RUNNER, GITHUB_REF: 'refs/pull/7/merge', GITHUB_SHA: SHA },
      inputs: { command: 'check', config: 'h.yml', 'github-token': TOKENS.installation, comment: 'never' },
    });
    expect(pr.exitCode).toBe(0);
    expect((await readFile(historyFile, 'utf8')).trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(await readFile(pr.outputs['report-json']!, 'utf8'));
    expect(report.history).toHaveLength(2);
    expect(pr.summary).toContain('```mermaid\nxychart-beta');
    const page = await readFile(pr.outputs['history-html']!, 'utf8');
    expect(page.match(/<svg /g)).toHaveLength(4); // one chart per metric of the example
    expect(page).not.toMatch(/<script|https?:\/\//);
  }, 120_000);
});

describe('history-artifact', () => {
  /** A zip holding history.jsonl, made by Python's zipfile (a real zip writer). */
  function zipOf(text: string): Buffer {
    return execFileSync('python3', [
      '-c',
      'import io, sys, zipfile\nb = io.BytesIO()\nwith zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:\n    z.writestr("history.jsonl", sys.argv[1])\nsys.stdout.buffer.write(b.getvalue())',
      text,
    ]);
  }
  const line = (mean: number, day: number) =>
    `${JSON.stringify({ v: 1, time: `2026-09-${day}T03:00:00.000Z`, commit: null, command: 'check', verdict: 'equivalent', metrics: { accuracy: { mean, sd: 0.003, n: 5 } }, environment: '0'.repeat(64) })}\n`;

  it("restores the newest default-branch artifact, never a pull request's or an expired one, then appends", async () => {
    const historyFile = path.join(workspace, '.repro-gate', 'history.jsonl');
    await rm(historyFile, { force: true });
    const add = (id: number, created: string, over: Partial<FakeArtifact>, text: string) =>
      gh.artifacts.push({
        id,
        name: 'repro-gate-history',
        created_at: created,
        expired: false,
        head_branch: 'main',
        repository_id: 1,
        head_repository_id: 1,
        zip: zipOf(text),
        ...over,
      });
    add(1, '2026-09-01T00:00:00Z', {}, line(0.95, 10));
    add(2, '2026-09-02T00:00:00Z', {}, line(0.95, 10) + line(0.951, 11));
    add(3, '2026-09-03T00:00:00Z', { expired: true }, line(0.1, 12));
    add(4, '2026-09-04T00:00:00Z', { head_branch: 'feature' }, line(0.2, 13));
    add(5, '2026-09-05T00:00:00Z', { head_repository_id: 99 }, line(0.3, 14)); // a fork's run on its "main"
    const push = await runAction({
      bundle,
      apiUrl: gh.url,
      workspace,
      event: { name: 'push', payload: { ref: 'refs/heads/main', repository: { default_branch: 'main' } } },
      env: { ...RUNNER, GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', GITHUB_SHA: SHA },
      inputs: {
        command: 'check',
        config: 'h.yml',
        'github-token': TOKENS.installation,
        'history-artifact': 'repro-gate-history',
      },
    });
    expect(push.exitCode, push.stdout).toBe(0);
    expect(push.stdout).toContain('repro-gate: history from artifact repro-gate-history (2): restored');
    const lines = (await readFile(historyFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.metrics.accuracy.mean)).toEqual([0.95, 0.951, expect.any(Number)]);
    expect(lines[2]).toMatchObject({ command: 'check', verdict: 'equivalent' });
  }, 120_000);
});
