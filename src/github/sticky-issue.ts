/**
 * One issue per gate and branch for scheduled runs: opened when a run fails, updated while it stays
 * open and the runs keep failing, and closed with "resolved by <sha>" when a later run passes. Found
 * again by the same rules as the sticky comment: the hidden marker AND the token's own identity
 * (anyone can paste the marker into an issue), among open issues carrying the label.
 */

import { isPermissionDenied } from './errors.js';
import type { Octokit } from './octokit.js';
import {
  type CommentBody,
  commentMarker,
  composeBody,
  findStickyComment,
  GitHubPermissionError,
  resolveIdentity,
} from './sticky-comment.js';

const ISSUE_LABEL = 'repro-gate';

export interface IssueSyncOptions {
  octokit: Octokit;
  owner: string;
  repo: string;
  /** From `commentKey`: separates the issues of different gates (and branches). */
  key: string;
  /** Whether this run failed: open or update the issue; else close one that is open. */
  failing: boolean;
  title: string;
  body: CommentBody;
  /** The commit this run checked, named when closing. */
  sha: string;
  author?: string;
}

export interface IssueSyncResult {
  action: 'created' | 'updated' | 'unchanged' | 'closed' | 'none';
  url?: string;
  number?: number;
}

export async function syncIssue(opts: IssueSyncOptions): Promise<IssueSyncResult> {
  const { octokit, owner, repo } = opts;
  const marker = commentMarker(opts.key);
  try {
    const me = await resolveIdentity(octokit, opts.author);
    // Every page: a repository can have many open issues with the label (other gates, other branches).
    const open = (
      await octokit.paginate(octokit.rest.issues.listForRepo, {
        owner,
        repo,
        state: 'open',
        labels: ISSUE_LABEL,
        per_page: 100,
      })
    ).filter((i) => !i.pull_request);
    const existing = findStickyComment(open, marker, me);
    if (!opts.failing) {
      if (!existing) return { action: 'none' };
      await octokit.rest.issues.createComment({
        owner,
        repo,
        issue_number: existing.number,
        body: `resolved by ${opts.sha}`,
      });
      await octokit.rest.issues.update({ owner, repo, issue_number: existing.number, state: 'closed' });
      return { action: 'closed', url: existing.html_url, number: existing.number };
    }
    const body = composeBody(marker, opts.body);
    if (existing) {
      const same =
        existing.title === opts.title && (existing.body ?? '').replace(/\r\n/g, '\n').trimEnd() === body.trimEnd();
      if (same) return { action: 'unchanged', url: existing.html_url, number: existing.number };
      await octokit.rest.issues.update({ owner, repo, issue_number: existing.number, title: opts.title, body });
      return { action: 'updated', url: existing.html_url, number: existing.number };
    }
    const { data } = await octokit.rest.issues.create({ owner, repo, title: opts.title, body, labels: [ISSUE_LABEL] });
    return { action: 'created', url: data.html_url, number: data.number };
  } catch (err) {
    if (isPermissionDenied(err)) throw new GitHubPermissionError(describe(err));
    throw err;
  }
}

function describe(err: unknown): string {
  const data = (err as { response?: { data?: { message?: unknown } } })?.response?.data;
  if (typeof data?.message === 'string') return data.message;
  return err instanceof Error ? err.message : String(err);
}
