import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pullRequestFromEvent, readEvent, repoFromEnv, runUrl, workflowRunHead } from '../src/github/context.js';

const SHA = 'a'.repeat(40);

describe('pullRequestFromEvent', () => {
  it('reads pull_request and pull_request_target', () => {
    expect(pullRequestFromEvent('pull_request', { pull_request: { number: 12 } })).toBe(12);
    expect(pullRequestFromEvent('pull_request_target', { pull_request: { number: 3 } })).toBe(3);
  });

  it('reads issue_comment only on pull requests', () => {
    expect(pullRequestFromEvent('issue_comment', { issue: { number: 5, pull_request: { url: 'u' } } })).toBe(5);
    expect(pullRequestFromEvent('issue_comment', { issue: { number: 5 } })).toBeUndefined();
  });

  it('reads workflow_run.pull_requests[0], which is empty for forks', () => {
    expect(
      pullRequestFromEvent('workflow_run', { workflow_run: { pull_requests: [{ number: 9 }, { number: 10 }] } }),
    ).toBe(9);
    expect(pullRequestFromEvent('workflow_run', { workflow_run: { pull_requests: [] } })).toBeUndefined();
  });

  it('ignores other events and malformed payloads', () => {
    expect(pullRequestFromEvent('push', { pull_request: { number: 1 } })).toBeUndefined();
    expect(pullRequestFromEvent('pull_request', {})).toBeUndefined();
    expect(pullRequestFromEvent('pull_request', null)).toBeUndefined();
    expect(pullRequestFromEvent('pull_request', { pull_request: { number: '12' } })).toBeUndefined();
    expect(pullRequestFromEvent('pull_request', { pull_request: { number: -1 } })).toBeUndefined();
    expect(pullRequestFromEvent('pull_request', { pull_request: { number: 1.5 } })).toBeUndefined();
  });
});

describe('workflowRunHead', () => {
  const run = (over: object = {}) => ({
    workflow_run: {
      head_sha: SHA,
      head_branch: 'feature',
      head_repository: { owner: { login: 'forker' } },
      pull_requests: [],
      ...over,
    },
  });
  it('extracts what the PR lookup needs', () => {
    expect(workflowRunHead(run())).toEqual({
      pullRequests: [],
      headSha: SHA,
      headBranch: 'feature',
      headOwner: 'forker',
    });
    expect(workflowRunHead(run({ pull_requests: [{ number: 4 }, { number: 'x' }] }))?.pullRequests).toEqual([4]);
  });
  it('rejects incomplete payloads', () => {
    expect(workflowRunHead({})).toBeUndefined();
    expect(workflowRunHead(run({ head_sha: 'nope' }))).toBeUndefined();
    expect(workflowRunHead(run({ head_repository: null }))).toBeUndefined();
  });
});

describe('environment', () => {
  it('reads the event file, tolerating a missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-ctx-'));
    const file = join(dir, 'event.json');
    writeFileSync(file, JSON.stringify({ pull_request: { number: 1 } }));
    expect(readEvent({ GITHUB_EVENT_NAME: 'pull_request', GITHUB_EVENT_PATH: file })).toEqual({
      name: 'pull_request',
      payload: { pull_request: { number: 1 } },
    });
    expect(readEvent({ GITHUB_EVENT_PATH: join(dir, 'missing.json') })).toEqual({ name: '', payload: {} });
  });
  it('parses GITHUB_REPOSITORY strictly', () => {
    expect(repoFromEnv({ GITHUB_REPOSITORY: 'acme/ml.core' })).toEqual({ owner: 'acme', repo: 'ml.core' });
    expect(repoFromEnv({ GITHUB_REPOSITORY: 'acme/ml/../x' })).toBeUndefined();
    expect(repoFromEnv({})).toBeUndefined();
  });
  it('builds the run URL', () => {
    expect(runUrl({ GITHUB_REPOSITORY: 'a/b', GITHUB_RUN_ID: '42', GITHUB_SERVER_URL: 'https://ghe.example/' })).toBe(
      'https://ghe.example/a/b/actions/runs/42',
    );
    expect(runUrl({ GITHUB_REPOSITORY: 'a/b' })).toBeUndefined();
  });
});
