import { getOctokit } from '@actions/github';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import Bottleneck from 'bottleneck/light.js';

export type Octokit = ReturnType<typeof getOctokit>;

/** Bounded retries: 5xx and network failures back off, rate limits wait as GitHub says, the rest is an answer. */
interface RetryPolicy {
  /** Retries after the first attempt. */
  retries: number;
  /** Backoff for 5xx and network failures: base · (retry number)², as @octokit/plugin-retry spaces them. */
  baseDelayMs: number;
  /** A rate limit asking for a longer wait than this is not worth blocking CI for: give up instead. */
  maxDelayMs: number;
  /**
   * Time between two writes. Unset: the throttling plugin's pacing, against secondary limits (1 s
   * between writes, as GitHub asks; 3 s between those that notify people, such as a new comment).
   */
  writeIntervalMs?: number;
}

const DEFAULT_RETRY: RetryPolicy = { retries: 3, baseDelayMs: 1000, maxDelayMs: 60_000 };

/**
 * Client errors are answers, never retried; 429 and rate-limited 403s are the throttling plugin's
 * (it reads retry-after and x-ratelimit-reset); 501 is a definite "no".
 */
const DO_NOT_RETRY = [400, 401, 403, 404, 410, 422, 429, 451, 501];

export interface OctokitOptions {
  /** REST root; GHES sets GITHUB_API_URL. */
  baseUrl?: string;
  retry?: RetryPolicy;
}

/**
 * An Octokit with @octokit/plugin-retry (5xx, network) and @octokit/plugin-throttling (primary and
 * secondary rate limits, and GitHub's pacing of writes) on every request, paginated pages included.
 * baseUrl is passed explicitly: @actions/github reads GITHUB_API_URL once at import time, which is
 * right on a runner but wrong for anything that sets the variable later (tests, embedding).
 */
export function createOctokit(token: string, opts: OctokitOptions = {}): Octokit {
  const baseUrl = (opts.baseUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, '');
  const policy = opts.retry ?? DEFAULT_RETRY;
  const pace = () => new Bottleneck.Group({ maxConcurrent: 1, minTime: policy.writeIntervalMs });
  // retryAfter is in seconds; retryCount counts the retries already made for this request.
  const waitOrGiveUp = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
    retryCount < policy.retries && retryAfter * 1000 <= policy.maxDelayMs;
  return getOctokit(
    token,
    {
      baseUrl,
      retry: { retries: policy.retries, retryAfterBaseValue: policy.baseDelayMs, doNotRetry: DO_NOT_RETRY },
      throttle: {
        onRateLimit: waitOrGiveUp,
        onSecondaryRateLimit: waitOrGiveUp,
        ...(policy.writeIntervalMs === undefined ? {} : { write: pace(), notifications: pace() }),
      },
    },
    retry,
    throttling,
  );
}
