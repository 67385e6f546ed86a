/**
 * Bounded retries for GitHub REST calls: 5xx and rate limits are transient, everything else is an
 * answer. A plain 403 ("Resource not accessible by integration") is the read-only / fork token
 * signal and is never retried — the caller turns it into a warning.
 */

export interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Backoff for 5xx: base · 2^attempt (attempt 0 = first retry). */
  baseDelayMs: number;
  /** A server-requested wait longer than this is not worth blocking CI for: give up instead. */
  maxDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 1000, maxDelayMs: 60_000 };

/** The parts of an Octokit RequestError we look at (kept structural so tests can fake it). */
interface HttpErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

function header(err: HttpErrorLike, name: string): string | undefined {
  const v = err.response?.headers?.[name];
  return v === undefined ? undefined : String(v);
}

function apiMessage(err: HttpErrorLike): string {
  const data = err.response?.data as { message?: unknown } | undefined;
  return typeof data?.message === 'string' ? data.message : (err.message ?? '');
}

/** A primary or secondary rate limit (GitHub answers 403 or 429 for both). */
export function isRateLimited(err: unknown): boolean {
  const e = err as HttpErrorLike;
  if (e?.status !== 403 && e?.status !== 429) return false;
  return (
    header(e, 'retry-after') !== undefined ||
    header(e, 'x-ratelimit-remaining') === '0' ||
    /rate limit/i.test(apiMessage(e))
  );
}

/** A 403 that is not a rate limit: the token may read but not write (fork PRs, missing `permissions:`). */
export function isPermissionDenied(err: unknown): boolean {
  return (err as HttpErrorLike)?.status === 403 && !isRateLimited(err);
}

/**
 * How long to wait before retry number `attempt` (0-based), or null when the error is final.
 * Pure: `now` is passed in so tests can pin the clock.
 */
export function retryDelay(err: unknown, attempt: number, policy: RetryPolicy, now = Date.now()): number | null {
  if (attempt >= policy.retries) return null;
  const e = err as HttpErrorLike;
  const status = e?.status ?? 0;
  let wait: number;
  if (isRateLimited(e)) {
    const retryAfter = Number(header(e, 'retry-after'));
    const reset = Number(header(e, 'x-ratelimit-reset'));
    if (header(e, 'retry-after') !== undefined && Number.isFinite(retryAfter)) wait = Math.max(0, retryAfter) * 1000;
    else if (header(e, 'x-ratelimit-remaining') === '0' && Number.isFinite(reset))
      wait = Math.max(0, reset * 1000 - now);
    else wait = 60_000; // GitHub's advice for a secondary limit without headers: wait a minute
    return wait <= policy.maxDelayMs ? wait : null;
  }
  // status 0 / ≥500: network failure or server error; 501 is a definite "no".
  if (status === 0 || (status >= 500 && status !== 501)) {
    return Math.min(policy.baseDelayMs * 2 ** attempt, policy.maxDelayMs);
  }
  return null;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy = DEFAULT_RETRY): Promise<T> {
  const sleep = policy.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const wait = retryDelay(err, attempt, policy);
      if (wait === null) throw err;
      await sleep(wait);
    }
  }
}
