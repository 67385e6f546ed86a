/**
 * One comment per PR (per config), found again by a hidden versioned marker AND by being written
 * by the token's own identity — anyone can paste the marker into a comment, so the marker alone
 * never makes a comment ours to edit.
 */
import { createHash } from 'node:crypto';
import { isPermissionDenied } from './errors.js';
import type { Octokit } from './octokit.js';

/** GitHub rejects issue comment bodies longer than this. */
export const MAX_COMMENT_LENGTH = 65_536;

const MARKER_VERSION = 'v1';

/**
 * Stable short id for a config path (relative to the workspace, `/`-separated), so two gates in one
 * repository keep separate comments while reruns of the same gate find theirs.
 */
export function commentKey(configPath: string): string {
  const norm = configPath
    .replace(/\\/g, '/')
    .replace(/^(\.\/)+/, '')
    .replace(/\/{2,}/g, '/');
  return createHash('sha256').update(norm).digest('hex').slice(0, 12);
}

export function commentMarker(key: string): string {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) throw new Error(`invalid comment key ${JSON.stringify(key)}`);
  return `<!-- repro-gate:${MARKER_VERSION} key=${key} -->`;
}

export interface Identity {
  login: string;
  type: 'Bot' | 'User';
}

/** Who GITHUB_TOKEN (and any Actions-issued installation token) comments as. */
export const ACTIONS_BOT: Identity = { login: 'github-actions[bot]', type: 'Bot' };

function identityFromLogin(login: string): Identity {
  return { login, type: /\[bot\]$/i.test(login) ? 'Bot' : 'User' };
}

/**
 * The identity the token writes as. `GET /user` answers for PATs and user tokens; installation
 * tokens (GITHUB_TOKEN, GitHub Apps) get 403 there, and GITHUB_TOKEN writes as github-actions[bot].
 * Tokens of other GitHub Apps write as `<slug>[bot]`: pass `override` for those.
 */
export async function resolveIdentity(octokit: Octokit, override?: string): Promise<Identity> {
  if (override) return identityFromLogin(override);
  try {
    const { data } = await octokit.rest.users.getAuthenticated();
    return { login: data.login, type: data.type === 'Bot' ? 'Bot' : 'User' };
  } catch (err) {
    // Only a definite "not for this token" means installation token; an outage must not make a
    // PAT look like the bot (we would then post a duplicate comment).
    if ([401, 403, 404].includes((err as { status?: number })?.status ?? 0)) return ACTIONS_BOT;
    throw err;
  }
}

export interface CommentLike {
  id: number;
  body?: string | null;
  html_url: string;
  user?: { login: string; type?: string } | null;
}

function isOwnComment(c: CommentLike, marker: string, me: Identity): boolean {
  return (
    !!c.body?.includes(marker) &&
    c.user?.login.toLowerCase() === me.login.toLowerCase() &&
    (c.user.type ?? 'User') === me.type
  );
}

/** The oldest of our comments (a race between two runs can leave two; we keep editing the first). */
export function findStickyComment<C extends CommentLike>(comments: C[], marker: string, me: Identity): C | undefined {
  return comments.find((c) => isOwnComment(c, marker, me));
}

/** Either a ready body, or a renderer told how long it may be (it drops whole sections to fit). */
export type CommentBody = string | ((maxLength: number) => string);

const HARD_TRUNCATION_NOTE = '\n\n_… truncated to fit GitHub’s comment size limit._';

/** Marker + body, never over the limit: the renderer gets the budget; a string is cut as a last resort. */
export function composeBody(marker: string, body: CommentBody): string {
  const budget = MAX_COMMENT_LENGTH - marker.length - 1;
  let text = typeof body === 'function' ? body(budget) : body;
  if (text.length > budget) {
    const room = budget - HARD_TRUNCATION_NOTE.length;
    const cut = text.lastIndexOf('\n', room);
    text = text.slice(0, cut > 0 ? cut : room) + HARD_TRUNCATION_NOTE;
  }
  return `${marker}\n${text}`;
}

/** GitHub may hand back CRLF; compare what a reader would see. */
function sameBody(a: string | null | undefined, b: string): boolean {
  const norm = (s: string) => s.replace(/\r\n/g, '\n').trimEnd();
  return a != null && norm(a) === norm(b);
}

/** The token may read but not write (fork PR, or `permissions:` without pull-requests/issues: write). */
export class GitHubPermissionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitHubPermissionError';
  }
}

export interface UpsertOptions {
  octokit: Octokit;
  owner: string;
  repo: string;
  issueNumber: number;
  /** From `commentKey`; separates the comments of different gates on one PR. */
  key: string;
  body: CommentBody;
  /** on-change: leave an identical comment alone; always: rewrite it (bumps its edit time). */
  mode: 'on-change' | 'always';
  /** Login the token writes as, when it is neither a user token nor GITHUB_TOKEN (`my-app[bot]`). */
  author?: string;
}

export interface UpsertResult {
  action: 'created' | 'updated' | 'unchanged';
  url: string;
  id: number;
}

export async function upsertStickyComment(opts: UpsertOptions): Promise<UpsertResult> {
  const { octokit, owner, repo, issueNumber } = opts;
  const marker = commentMarker(opts.key);
  const body = composeBody(marker, opts.body);
  try {
    const me = await resolveIdentity(octokit, opts.author);
    // Every page: a busy PR easily has more than one page of comments before ours.
    const comments = await octokit.paginate(octokit.rest.issues.listComments, {
      owner,
      repo,
      issue_number: issueNumber,
      per_page: 100,
    });
    const existing = findStickyComment(comments, marker, me);
    if (existing) {
      if (opts.mode === 'on-change' && sameBody(existing.body, body)) {
        return { action: 'unchanged', url: existing.html_url, id: existing.id };
      }
      const { data } = await octokit.rest.issues.updateComment({ owner, repo, comment_id: existing.id, body });
      return { action: 'updated', url: data.html_url, id: data.id };
    }
    const { data } = await octokit.rest.issues.createComment({ owner, repo, issue_number: issueNumber, body });
    return { action: 'created', url: data.html_url, id: data.id };
  } catch (err) {
    if (isPermissionDenied(err)) throw new GitHubPermissionError(errorMessage(err));
    throw err;
  }
}

function errorMessage(err: unknown): string {
  const data = (err as { response?: { data?: { message?: unknown } } })?.response?.data;
  if (typeof data?.message === 'string') return data.message;
  return err instanceof Error ? err.message : String(err);
}
