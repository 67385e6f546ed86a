import { getOctokit } from '@actions/github';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.js';

export type Octokit = ReturnType<typeof getOctokit>;

export interface OctokitOptions {
  /** REST root; GHES sets GITHUB_API_URL. */
  baseUrl?: string;
  retry?: RetryPolicy;
}

/**
 * An Octokit whose every request (paginated pages included) goes through `withRetry`.
 * baseUrl is passed explicitly: @actions/github reads GITHUB_API_URL once at import time, which is
 * right on a runner but wrong for anything that sets the variable later (tests, embedding).
 */
export function createOctokit(token: string, opts: OctokitOptions = {}): Octokit {
  const baseUrl = (opts.baseUrl ?? process.env.GITHUB_API_URL ?? 'https://api.github.com').replace(/\/+$/, '');
  const octokit = getOctokit(token, { baseUrl });
  const policy = opts.retry ?? DEFAULT_RETRY;
  octokit.hook.wrap('request', (request, options) => withRetry(async () => request(options), policy));
  return octokit;
}
