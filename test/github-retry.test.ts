/**
 * GitHub retries and rate limits, through @octokit/plugin-retry and @octokit/plugin-throttling as
 * createOctokit wires them, against the local fake GitHub: 5xx and network failures back off and
 * give up after the budget, rate limits wait as told (or give up when told to wait too long), and
 * client errors — the fork token's 403 above all — are answers, never retried.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isPermissionDenied, isRateLimited } from '../src/github/errors.js';
import { createOctokit } from '../src/github/octokit.js';
import { FakeGitHub, TOKENS } from './helpers/fake-github.js';

// maxDelayMs 1 s: enough for a one-second retry-after (the throttling plugin reads retry-after: 0 as absent:
// GitHub's "wait a minute").
const FAST = { retries: 3, baseDelayMs: 1, maxDelayMs: 1000, writeIntervalMs: 0 };
const httpErr = (status: number, headers: Record<string, string> = {}, message = 'x') => ({
  status,
  message,
  response: { headers, data: { message } },
});

describe('isRateLimited / isPermissionDenied', () => {
  it('tells a fork token’s 403 from a rate limit', () => {
    const fork = httpErr(403, {}, 'Resource not accessible by integration');
    expect(isPermissionDenied(fork)).toBe(true);
    expect(isRateLimited(fork)).toBe(false);
    for (const limited of [
      httpErr(403, { 'retry-after': '1' }),
      httpErr(429, { 'retry-after': '1' }),
      httpErr(403, { 'x-ratelimit-remaining': '0' }),
      httpErr(403, {}, 'You have exceeded a secondary rate limit'),
    ]) {
      expect(isRateLimited(limited)).toBe(true);
      expect(isPermissionDenied(limited)).toBe(false);
    }
    expect(isPermissionDenied(httpErr(404))).toBe(false);
  });
});

describe('createOctokit against the fake GitHub', () => {
  let gh: FakeGitHub;
  beforeEach(async () => {
    gh = await FakeGitHub.start();
  });
  afterEach(async () => {
    await gh.close();
  });
  const me = (retry = FAST) => createOctokit(TOKENS.user, { baseUrl: gh.url, retry }).rest.users.getAuthenticated();
  const calls = () => gh.requests.filter((r) => r.path === '/user').length;

  it('retries 502s and succeeds', async () => {
    gh.injectBadGateway(2);
    expect((await me()).data.login).toBe('octocat');
    expect(calls()).toBe(3);
  });

  it('gives up after the retry budget with the last error', async () => {
    gh.injectBadGateway(10);
    await expect(me()).rejects.toMatchObject({ status: 502 });
    expect(calls()).toBe(4); // 1 + 3 retries
  });

  it('never retries a 501 or a client error', async () => {
    gh.inject({ status: 501, body: { message: 'Not Implemented' } });
    await expect(me()).rejects.toMatchObject({ status: 501 });
    gh.inject({ status: 422, body: { message: 'Validation Failed' } });
    await expect(me()).rejects.toMatchObject({ status: 422 });
    expect(calls()).toBe(2);
  });

  it('waits out a secondary rate limit (403 or 429 with retry-after), once each', async () => {
    gh.injectSecondaryRateLimit(1);
    expect((await me()).data.login).toBe('octocat');
    expect(calls()).toBe(2);
    gh.inject({
      status: 429,
      headers: { 'retry-after': '1' },
      body: { message: 'You have exceeded a secondary rate limit.' },
    });
    expect((await me()).data.login).toBe('octocat');
    expect(calls()).toBe(4); // 429 is the throttling plugin's alone: not retried twice
  });

  it('waits for the primary limit to reset', async () => {
    const reset = String(Math.floor(Date.now() / 1000) - 10); // already past: retry at once
    gh.inject({
      status: 403,
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
      body: { message: 'API rate limit exceeded' },
    });
    expect((await me()).data.login).toBe('octocat');
    expect(calls()).toBe(2);
  });

  it('gives up rather than wait longer than maxDelayMs, and does not call it a permission problem', async () => {
    gh.injectSecondaryRateLimit(0); // no usable retry-after: GitHub's advice is a minute, over the budget
    const err = await me().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 403 });
    expect(isRateLimited(err)).toBe(true);
    expect(isPermissionDenied(err)).toBe(false);
    expect(calls()).toBe(1);
  });
});
