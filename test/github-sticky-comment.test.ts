import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createOctokit } from '../src/github/octokit.js';
import {
  ACTIONS_BOT,
  commentKey,
  commentMarker,
  composeBody,
  findStickyComment,
  GitHubPermissionError,
  MAX_COMMENT_LENGTH,
  resolveIdentity,
  type UpsertOptions,
  upsertStickyComment,
} from '../src/github/sticky-comment.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { ACTIONS_BOT_USER, FakeGitHub, HUMAN, TOKENS } from './helpers/fake-github.js';
import { sampleReport } from './helpers/sample-report.js';

// maxDelayMs 1 s: enough for a one-second retry-after (the throttling plugin reads retry-after: 0 as absent).
const FAST = { retries: 3, baseDelayMs: 1, maxDelayMs: 1000, writeIntervalMs: 0 };
const KEY = commentKey('repro-gate.yml');
const MARKER = commentMarker(KEY);

let gh: FakeGitHub;
beforeEach(async () => {
  gh = await FakeGitHub.start();
});
afterEach(async () => {
  await gh.close();
});

function upsert(over: Partial<UpsertOptions> & { token?: string } = {}) {
  const { token = TOKENS.installation, ...rest } = over;
  return upsertStickyComment({
    octokit: createOctokit(token, { baseUrl: gh.url, retry: FAST }),
    owner: 'acme',
    repo: 'ml',
    issueNumber: 7,
    key: KEY,
    body: 'report v1',
    mode: 'on-change',
    ...rest,
  });
}

describe('marker and body (pure)', () => {
  it('derives a stable key per config path', () => {
    expect(commentKey('repro-gate.yml')).toBe(commentKey('./repro-gate.yml'));
    expect(commentKey('a/repro-gate.yml')).not.toBe(commentKey('b/repro-gate.yml'));
    expect(MARKER).toMatch(/^<!-- repro-gate:v1 key=[0-9a-f]{12} -->$/);
    expect(() => commentMarker('x --> <script>')).toThrow();
  });

  it('gives a renderer the budget left after the marker', () => {
    let seen = 0;
    const body = composeBody(MARKER, (max) => {
      seen = max;
      return 'x';
    });
    expect(seen).toBe(MAX_COMMENT_LENGTH - MARKER.length - 1);
    expect(body).toBe(`${MARKER}\nx`);
  });

  it('cuts an over-long string body at a line break, as a last resort', () => {
    const long = Array.from({ length: 10_000 }, (_, i) => `line ${i} ${'y'.repeat(10)}`).join('\n');
    const body = composeBody(MARKER, long);
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH);
    expect(body).toMatch(/truncated to fit/);
  });

  it('only matches the marker in comments by our own identity', () => {
    const comments = [
      { id: 1, body: `${MARKER}\nfake`, html_url: 'h1', user: HUMAN },
      { id: 2, body: 'no marker', html_url: 'h2', user: ACTIONS_BOT_USER },
      { id: 3, body: `${MARKER}\nours`, html_url: 'h3', user: ACTIONS_BOT_USER },
      { id: 4, body: `${MARKER}\nnewer dup`, html_url: 'h4', user: ACTIONS_BOT_USER },
      // a user account literally named like the bot is still not a Bot
      { id: 5, body: `${MARKER}`, html_url: 'h5', user: { login: 'github-actions[bot]', type: 'User' } },
    ];
    expect(findStickyComment(comments, MARKER, ACTIONS_BOT)?.id).toBe(3);
    expect(findStickyComment(comments.slice(4), MARKER, ACTIONS_BOT)).toBeUndefined();
  });
});

describe('resolveIdentity', () => {
  it('uses GET /user for personal tokens', async () => {
    const me = await resolveIdentity(createOctokit(TOKENS.user, { baseUrl: gh.url, retry: FAST }));
    expect(me).toEqual({ login: 'octocat', type: 'User' });
  });
  it('falls back to github-actions[bot] when GET /user is forbidden (installation tokens)', async () => {
    const me = await resolveIdentity(createOctokit(TOKENS.installation, { baseUrl: gh.url, retry: FAST }));
    expect(me).toEqual(ACTIONS_BOT);
  });
  it('honours an explicit login without calling the API', async () => {
    const me = await resolveIdentity(
      createOctokit(TOKENS.installation, { baseUrl: gh.url, retry: FAST }),
      'my-app[bot]',
    );
    expect(me).toEqual({ login: 'my-app[bot]', type: 'Bot' });
    expect(gh.requests).toHaveLength(0);
  });
});

describe('upsertStickyComment against a fake GitHub', () => {
  it('creates once, then updates in place, then leaves an identical body alone', async () => {
    const first = await upsert({ body: 'report v1' });
    expect(first.action).toBe('created');
    expect(first.url).toMatch(/#issuecomment-\d+$/);

    const second = await upsert({ body: 'report v2' });
    expect(second).toMatchObject({ action: 'updated', id: first.id });

    const third = await upsert({ body: 'report v2' });
    expect(third).toMatchObject({ action: 'unchanged', id: first.id });

    const mine = gh.commentsOn('acme', 'ml', 7);
    expect(mine).toHaveLength(1);
    expect(mine[0]!.body).toBe(`${MARKER}\nreport v2`);
    expect(gh.writes().map((r) => r.method)).toEqual(['POST', 'PATCH']);
  });

  it('rewrites an identical body in mode always', async () => {
    await upsert({ body: 'same' });
    expect((await upsert({ body: 'same', mode: 'always' })).action).toBe('updated');
  });

  it('sends the token as authorization and talks to baseUrl', async () => {
    await upsert();
    expect(gh.requests.every((r) => r.headers.authorization === `token ${TOKENS.installation}`)).toBe(true);
  });

  it("never edits a human's comment that contains the marker", async () => {
    const planted = gh.addComment('acme', 'ml', 7, `${MARKER}\nI pasted your marker`, HUMAN);
    const r = await upsert({ body: 'real report' });
    expect(r.action).toBe('created');
    expect(planted.body).toBe(`${MARKER}\nI pasted your marker`);
    expect(gh.writes().some((w) => w.method === 'PATCH')).toBe(false);
  });

  it('keeps the comments of different config keys apart', async () => {
    await upsert({ key: commentKey('a/repro-gate.yml'), body: 'A' });
    await upsert({ key: commentKey('b/repro-gate.yml'), body: 'B' });
    await upsert({ key: commentKey('a/repro-gate.yml'), body: 'A2' });
    const bodies = gh.commentsOn('acme', 'ml', 7).map((c) => c.body.split('\n')[1]);
    expect(bodies).toEqual(['A2', 'B']);
  });

  it('finds its comment behind 250 earlier comments (3 pages of 100)', async () => {
    for (let i = 0; i < 249; i++) gh.addComment('acme', 'ml', 7, `chatter ${i}`, i % 2 ? HUMAN : ACTIONS_BOT_USER);
    const ours = gh.addComment('acme', 'ml', 7, `${MARKER}\nold report`, ACTIONS_BOT_USER);
    const r = await upsert({ body: 'new report' });
    expect(r).toMatchObject({ action: 'updated', id: ours.id });
    const pages = gh.requests.filter((q) => q.method === 'GET' && q.path.endsWith('/issues/7/comments'));
    expect(pages).toHaveLength(3);
    expect(pages.every((p) => p.query.per_page === '100')).toBe(true);
    expect(gh.commentsOn('acme', 'ml', 7)).toHaveLength(250);
  });

  it('identifies a PAT owner through GET /user', async () => {
    gh.addComment('acme', 'ml', 7, `${MARKER}\nby the bot`, ACTIONS_BOT_USER);
    const r = await upsert({ token: TOKENS.user, body: 'from octocat' });
    expect(r.action).toBe('created');
    expect(gh.commentsOn('acme', 'ml', 7).at(-1)!.user).toEqual({ login: 'octocat', type: 'User' });
    expect((await upsert({ token: TOKENS.user, body: 'again' })).action).toBe('updated');
  });

  it('retries 502s and a secondary rate limit, then succeeds', async () => {
    gh.injectBadGateway(2);
    gh.injectSecondaryRateLimit(1);
    const r = await upsert();
    expect(r.action).toBe('created');
    expect(gh.commentsOn('acme', 'ml', 7)).toHaveLength(1);
    // GET /user: 502, 502, rate-limited, then its real 403; one list; one create
    expect(gh.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      ...Array(4).fill('GET /user'),
      'GET /repos/acme/ml/issues/7/comments',
      'POST /repos/acme/ml/issues/7/comments',
    ]);
  });

  it('gives up after the retry budget', async () => {
    gh.injectBadGateway(10);
    await expect(upsert()).rejects.toMatchObject({ status: 502 });
    expect(gh.requests).toHaveLength(4); // 1 + 3 retries of GET /user; an outage is not "installation token"
    expect(gh.requests.every((r) => r.path === '/user')).toBe(true);
  });

  it('turns the fork 403 into a GitHubPermissionError without retrying the write', async () => {
    const err = await upsert({ token: TOKENS.fork }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GitHubPermissionError);
    expect((err as Error).message).toBe('Resource not accessible by integration');
    expect(gh.writes()).toHaveLength(1);
    expect(gh.comments).toHaveLength(0);
  });

  it('does not swallow other client errors as permission problems', async () => {
    const err = await upsert({ token: 'not-a-token' }).catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(GitHubPermissionError);
    expect(err).toMatchObject({ status: 401 });
  });

  it('fits a huge report by asking the renderer for a shorter one', async () => {
    const environment = Array.from({ length: 3000 }, (_, i) => ({
      key: `package.p${i}`,
      change: 'modified' as const,
      before: '1.0',
      after: '1.1',
    }));
    const report = sampleReport({ drift: { data: [], config: [], environment } });
    expect(renderMarkdown(report).length).toBeGreaterThan(MAX_COMMENT_LENGTH);
    const r = await upsert({
      body: (max) => renderMarkdown(report, { maxLength: max, truncatedNote: 'See the job summary.' }),
    });
    expect(r.action).toBe('created');
    const posted = gh.comments[0]!.body;
    expect(posted.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH);
    expect(posted.startsWith(`${MARKER}\n## ❌ repro-gate: not-equivalent`)).toBe(true);
    expect(posted).toContain('> See the job summary.');
    // The 3,000-row environment table was left out; at most the next step names the first change.
    expect(posted.match(/package\.p\d+/g)?.length ?? 0).toBeLessThanOrEqual(1);
    expect(posted).not.toContain('package.p1`');
  });
});
