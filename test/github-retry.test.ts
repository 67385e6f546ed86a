import { describe, expect, it } from 'vitest';
import { isPermissionDenied, isRateLimited, type RetryPolicy, retryDelay, withRetry } from '../src/github/retry.js';

const policy: RetryPolicy = { retries: 3, baseDelayMs: 100, maxDelayMs: 10_000 };
const httpErr = (status: number, headers: Record<string, string> = {}, message = 'x') => ({
  status,
  message,
  response: { headers, data: { message } },
});

describe('retryDelay', () => {
  it('backs off exponentially on 5xx and network failures', () => {
    expect([0, 1, 2].map((a) => retryDelay(httpErr(502), a, policy))).toEqual([100, 200, 400]);
    expect(retryDelay(httpErr(500), 0, policy)).toBe(100);
    expect(retryDelay(httpErr(0), 0, policy)).toBe(100);
    expect(retryDelay(httpErr(501), 0, policy)).toBeNull();
  });

  it('stops after the retry budget', () => {
    expect(retryDelay(httpErr(502), 3, policy)).toBeNull();
  });

  it('waits as told on secondary rate limits (403 or 429 with retry-after)', () => {
    expect(retryDelay(httpErr(403, { 'retry-after': '2' }), 0, policy)).toBe(2000);
    expect(retryDelay(httpErr(429, { 'retry-after': '0' }), 0, policy)).toBe(0);
  });

  it('waits until the reset when the primary limit is spent', () => {
    const now = 1_700_000_000_000;
    const err = httpErr(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(now / 1000 + 5) });
    expect(retryDelay(err, 0, policy, now)).toBe(5000);
  });

  it('gives up rather than wait longer than maxDelayMs', () => {
    expect(retryDelay(httpErr(403, { 'retry-after': '3600' }), 0, policy)).toBeNull();
    // a secondary limit without headers means "wait a minute"
    expect(retryDelay(httpErr(403, {}, 'You have exceeded a secondary rate limit'), 0, policy)).toBeNull();
    expect(retryDelay(httpErr(403, {}, 'secondary rate limit'), 0, { ...policy, maxDelayMs: 60_000 })).toBe(60_000);
  });

  it('never retries a plain 403 or other client errors', () => {
    const fork = httpErr(403, {}, 'Resource not accessible by integration');
    expect(retryDelay(fork, 0, policy)).toBeNull();
    expect(isPermissionDenied(fork)).toBe(true);
    expect(isRateLimited(fork)).toBe(false);
    for (const s of [400, 401, 404, 422]) expect(retryDelay(httpErr(s), 0, policy)).toBeNull();
  });

  it('does not call a rate-limited 403 a permission problem', () => {
    expect(isPermissionDenied(httpErr(403, { 'retry-after': '1' }))).toBe(false);
  });
});

describe('withRetry', () => {
  it('retries transient failures with the computed delays', async () => {
    const slept: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw httpErr(503);
        return 'ok';
      },
      { ...policy, sleep: async (ms) => void slept.push(ms) },
    );
    expect(result).toBe('ok');
    expect(slept).toEqual([100, 200]);
  });

  it('rethrows the last error when out of retries, and final errors at once', async () => {
    let calls = 0;
    const sleep = async () => {};
    await expect(
      withRetry(
        async () => {
          calls++;
          return Promise.reject(httpErr(502));
        },
        { ...policy, sleep },
      ),
    ).rejects.toMatchObject({ status: 502 });
    expect(calls).toBe(4);
    calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          return Promise.reject(httpErr(404));
        },
        { ...policy, sleep },
      ),
    ).rejects.toMatchObject({ status: 404 });
    expect(calls).toBe(1);
  });
});
