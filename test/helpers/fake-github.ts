/**
 * A real HTTP server on 127.0.0.1 that answers the GitHub REST calls the action makes, closely
 * enough for Octokit: issue comments (list with per_page/page and Link headers, create, update),
 * issues (list by state and label with pagination, create, update title/body/state), workflow
 * artifacts (list by name, download as zip), GET /user, and pulls listing. Tokens decide who you are:
 *   - installation tokens write as github-actions[bot] and get 403 on GET /user (like GITHUB_TOKEN)
 *   - fork tokens can read but every write is 403 "Resource not accessible by integration"
 *   - user tokens (PATs) are a User and can call GET /user
 * Faults (502s, rate limits) can be queued, and every request is recorded.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type TokenKind =
  | { kind: 'installation'; login?: string; noIssues?: boolean } // login defaults to github-actions[bot]; noIssues: no issues: write
  | { kind: 'fork' }
  | { kind: 'user'; login: string };

export interface FakeUser {
  login: string;
  type: 'User' | 'Bot';
}

export interface FakeComment {
  id: number;
  owner: string;
  repo: string;
  issue: number;
  body: string;
  user: FakeUser;
  created_at: string;
  updated_at: string;
}

export interface FakeIssue {
  number: number;
  owner: string;
  repo: string;
  title: string;
  body: string;
  labels: string[];
  state: 'open' | 'closed';
  user: FakeUser;
}

export interface FakeArtifact {
  id: number;
  name: string;
  created_at: string;
  expired: boolean;
  /** The branch of the run that uploaded it, and the repositories (a fork's run: head differs). */
  head_branch: string;
  repository_id: number;
  head_repository_id: number;
  zip: Buffer;
}

export interface FakePull {
  owner: string;
  repo: string;
  number: number;
  headSha: string;
  /** "owner:branch" as GitHub's `head` filter expects. */
  headLabel: string;
  state: 'open' | 'closed';
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface Fault {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** Only requests this matches consume the fault; default: any. */
  match?: (req: RecordedRequest) => boolean;
}

export const TOKENS = {
  installation: 'ghs_fake_installation_token',
  fork: 'ghs_fake_fork_readonly_token',
  user: 'ghp_fake_personal_token',
  /** A workflow token without `issues: write`: it can comment on pull requests, not write issues. */
  noIssues: 'ghs_fake_no_issues_token',
} as const;

export const HUMAN: FakeUser = { login: 'mallory', type: 'User' };
export const ACTIONS_BOT_USER: FakeUser = { login: 'github-actions[bot]', type: 'Bot' };

const NOT_ACCESSIBLE = {
  message: 'Resource not accessible by integration',
  documentation_url: 'https://docs.github.com/rest',
  status: '403',
};

export class FakeGitHub {
  url = '';
  readonly requests: RecordedRequest[] = [];
  readonly comments: FakeComment[] = [];
  readonly pulls: FakePull[] = [];
  readonly issues: FakeIssue[] = [];
  readonly artifacts: FakeArtifact[] = [];
  /** Issue numbers start well above the PR numbers tests use. */
  private nextIssue = 500;
  readonly tokens = new Map<string, TokenKind>([
    [TOKENS.installation, { kind: 'installation' }],
    [TOKENS.fork, { kind: 'fork' }],
    [TOKENS.user, { kind: 'user', login: 'octocat' }],
    [TOKENS.noIssues, { kind: 'installation', noIssues: true }],
  ]);
  private faults: Fault[] = [];
  private nextId = 1000;
  private clock = Date.UTC(2025, 0, 1);
  private server = createServer((req, res) => void this.handle(req, res));

  static async start(): Promise<FakeGitHub> {
    const gh = new FakeGitHub();
    await new Promise<void>((resolve) => gh.server.listen(0, '127.0.0.1', resolve));
    gh.url = `http://127.0.0.1:${(gh.server.address() as AddressInfo).port}`;
    return gh;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Fail the next matching request(s). */
  inject(fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.faults.push(fault);
  }

  injectBadGateway(times = 1): void {
    this.inject({ status: 502, body: { message: 'Server Error' } }, times);
  }

  /** GitHub's secondary rate limit: 403 with retry-after (0 so tests stay fast). */
  injectSecondaryRateLimit(retryAfterSeconds = 0): void {
    this.inject({
      status: 403,
      headers: { 'retry-after': String(retryAfterSeconds) },
      body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' },
    });
  }

  addComment(owner: string, repo: string, issue: number, body: string, user: FakeUser): FakeComment {
    const t = this.tick();
    const c = { id: this.nextId++, owner, repo, issue, body, user, created_at: t, updated_at: t };
    this.comments.push(c);
    return c;
  }

  /** The fake clock, one second on at each write. */
  private tick(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  addIssue(owner: string, repo: string, fields: Partial<FakeIssue> & { title: string; user: FakeUser }): FakeIssue {
    const issue: FakeIssue = { body: '', labels: [], state: 'open', ...fields, owner, repo, number: this.nextIssue++ };
    this.issues.push(issue);
    return issue;
  }

  commentsOn(owner: string, repo: string, issue: number): FakeComment[] {
    return this.comments.filter((c) => c.owner === owner && c.repo === repo && c.issue === issue);
  }

  /** Requests that changed something. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET');
  }

  private identity(token: TokenKind): FakeUser {
    if (token.kind === 'user') return { login: token.login, type: 'User' };
    if (token.kind === 'installation' && token.login) return { login: token.login, type: 'Bot' };
    return ACTIONS_BOT_USER;
  }

  private commentJson(c: FakeComment) {
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${this.url}/repos/${c.owner}/${c.repo}/issues/comments/${c.id}`,
      html_url: `https://github.com/${c.owner}/${c.repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${this.url}/repos/${c.owner}/${c.repo}/issues/${c.issue}`,
      body: c.body,
      user: { login: c.user.login, id: c.user.login.length, type: c.user.type },
      created_at: c.created_at,
      updated_at: c.updated_at,
      author_association: c.user.type === 'Bot' ? 'NONE' : 'CONTRIBUTOR',
    };
  }

  /** Creating or editing an issue, or commenting on one (not on a pull request). */
  private isIssueWrite(pathname: string): boolean {
    if (/^\/repos\/[^/]+\/[^/]+\/issues$/.test(pathname)) return true;
    const n = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)(?:\/comments)?$/.exec(pathname)?.[1];
    return n !== undefined && this.issues.some((i) => i.number === Number(n));
  }

  private issueJson(i: FakeIssue) {
    return {
      id: i.number * 10,
      number: i.number,
      title: i.title,
      body: i.body,
      state: i.state,
      labels: i.labels.map((name) => ({ name })),
      html_url: `https://github.com/${i.owner}/${i.repo}/issues/${i.number}`,
      user: { login: i.user.login, id: i.user.login.length, type: i.user.type },
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const u = new URL(req.url ?? '/', this.url);
    const rec: RecordedRequest = {
      method: req.method ?? 'GET',
      path: u.pathname,
      query: Object.fromEntries(u.searchParams),
      headers: req.headers,
      body: raw ? safeJson(raw) : undefined,
    };
    this.requests.push(rec);

    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, {
        'content-type': 'application/json; charset=utf-8',
        'x-ratelimit-limit': '5000',
        'x-ratelimit-remaining': '4999',
        ...headers,
      });
      res.end(body === undefined ? '' : JSON.stringify(body));
    };

    const faultIdx = this.faults.findIndex((f) => !f.match || f.match(rec));
    if (faultIdx >= 0) {
      const [f] = this.faults.splice(faultIdx, 1);
      return send(f!.status, f!.body ?? { message: 'injected' }, f!.headers);
    }

    const auth = /^(?:token|bearer) (.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1];
    const token = auth ? this.tokens.get(auth) : undefined;
    if (!token) return send(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest' });
    const isWrite = rec.method !== 'GET';
    if (isWrite && token.kind === 'fork') return send(403, NOT_ACCESSIBLE);
    if (isWrite && token.kind === 'installation' && token.noIssues && this.isIssueWrite(u.pathname))
      return send(403, NOT_ACCESSIBLE);

    if (rec.method === 'GET' && u.pathname === '/user') {
      if (token.kind !== 'user') return send(403, NOT_ACCESSIBLE);
      return send(200, { login: token.login, id: 1, type: 'User' });
    }
    const issueComments = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/.exec(u.pathname);
    if (issueComments) {
      const [, owner, repo, n] = issueComments as unknown as [string, string, string, string];
      if (rec.method === 'GET') {
        const all = this.commentsOn(owner, repo, Number(n)).sort((a, b) => a.id - b.id);
        const perPage = Math.min(Math.max(Number(u.searchParams.get('per_page') ?? 30) || 30, 1), 100);
        const page = Math.max(Number(u.searchParams.get('page') ?? 1) || 1, 1);
        const last = Math.max(Math.ceil(all.length / perPage), 1);
        const items = all.slice((page - 1) * perPage, page * perPage).map((c) => this.commentJson(c));
        return send(200, items, linkHeader(u, page, last));
      }
      if (rec.method === 'POST') {
        const body = (rec.body as { body?: unknown } | undefined)?.body;
        if (typeof body !== 'string') return send(422, { message: 'Invalid request: body is required' });
        if (body.length > 65_536)
          return send(422, { message: 'Validation Failed: body is too long (maximum is 65536 characters)' });
        const c = this.addComment(owner, repo, Number(n), body, this.identity(token));
        return send(201, this.commentJson(c));
      }
    }
    const comment = /^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/.exec(u.pathname);
    if (comment && rec.method === 'PATCH') {
      const [, owner, repo, id] = comment;
      const c = this.comments.find((x) => x.id === Number(id) && x.owner === owner && x.repo === repo);
      if (!c) return send(404, { message: 'Not Found' });
      const body = (rec.body as { body?: unknown } | undefined)?.body;
      if (typeof body !== 'string') return send(422, { message: 'Invalid request: body is required' });
      if (body.length > 65_536)
        return send(422, { message: 'Validation Failed: body is too long (maximum is 65536 characters)' });
      c.body = body;
      c.updated_at = this.tick();
      return send(200, this.commentJson(c));
    }
    const issues = /^\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(u.pathname);
    if (issues && rec.method === 'GET') {
      const [, owner, repo] = issues;
      const state = u.searchParams.get('state') ?? 'open';
      const labels = (u.searchParams.get('labels') ?? '').split(',').filter(Boolean);
      const all = this.issues
        .filter((i) => i.owner === owner && i.repo === repo)
        .filter((i) => state === 'all' || i.state === state)
        .filter((i) => labels.every((l) => i.labels.includes(l)))
        .sort((a, b) => b.number - a.number); // newest first, as GitHub lists them
      const perPage = Math.min(Math.max(Number(u.searchParams.get('per_page') ?? 30) || 30, 1), 100);
      const page = Math.max(Number(u.searchParams.get('page') ?? 1) || 1, 1);
      const last = Math.max(Math.ceil(all.length / perPage), 1);
      const items = all.slice((page - 1) * perPage, page * perPage).map((i) => this.issueJson(i));
      return send(200, items, linkHeader(u, page, last));
    }
    if (issues && rec.method === 'POST') {
      const [, owner, repo] = issues as unknown as [string, string, string];
      const b = (rec.body ?? {}) as { title?: unknown; body?: unknown; labels?: unknown };
      if (typeof b.title !== 'string' || !b.title) return send(422, { message: 'Validation Failed: title is missing' });
      if (typeof b.body === 'string' && b.body.length > 65_536)
        return send(422, { message: 'Validation Failed: body is too long (maximum is 65536 characters)' });
      const issue = this.addIssue(owner, repo, {
        title: b.title,
        body: typeof b.body === 'string' ? b.body : '',
        labels: Array.isArray(b.labels) ? b.labels.map(String) : [],
        user: this.identity(token),
      });
      return send(201, this.issueJson(issue));
    }
    const oneIssue = /^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)$/.exec(u.pathname);
    if (oneIssue && rec.method === 'PATCH') {
      const [, owner, repo, n] = oneIssue;
      const issue = this.issues.find((i) => i.owner === owner && i.repo === repo && i.number === Number(n));
      if (!issue) return send(404, { message: 'Not Found' });
      const b = (rec.body ?? {}) as { title?: unknown; body?: unknown; state?: unknown };
      if (typeof b.body === 'string' && b.body.length > 65_536)
        return send(422, { message: 'Validation Failed: body is too long (maximum is 65536 characters)' });
      if (typeof b.title === 'string') issue.title = b.title;
      if (typeof b.body === 'string') issue.body = b.body;
      if (b.state === 'open' || b.state === 'closed') issue.state = b.state;
      return send(200, this.issueJson(issue));
    }
    if (rec.method === 'GET' && /^\/repos\/[^/]+\/[^/]+\/actions\/artifacts$/.test(u.pathname)) {
      const name = u.searchParams.get('name');
      const items = this.artifacts
        .filter((a) => !name || a.name === name)
        .map((a) => ({
          id: a.id,
          name: a.name,
          size_in_bytes: a.zip.length,
          expired: a.expired,
          created_at: a.created_at,
          archive_download_url: `${this.url}${u.pathname}/${a.id}/zip`,
          workflow_run: {
            id: a.id + 1,
            repository_id: a.repository_id,
            head_repository_id: a.head_repository_id,
            head_branch: a.head_branch,
            head_sha: 'f'.repeat(40),
          },
        }));
      return send(200, { total_count: items.length, artifacts: items });
    }
    const artifactZip = /^\/repos\/[^/]+\/[^/]+\/actions\/artifacts\/(\d+)\/zip$/.exec(u.pathname);
    if (rec.method === 'GET' && artifactZip) {
      const a = this.artifacts.find((x) => x.id === Number(artifactZip[1]));
      if (!a || a.expired) return send(a ? 410 : 404, { message: a ? 'Artifact has expired' : 'Not Found' });
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': String(a.zip.length) });
      res.end(a.zip);
      return;
    }
    const pulls = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(u.pathname);
    if (pulls && rec.method === 'GET') {
      const [, owner, repo] = pulls;
      const state = u.searchParams.get('state') ?? 'open';
      const head = u.searchParams.get('head');
      const items = this.pulls
        .filter((p) => p.owner === owner && p.repo === repo)
        .filter((p) => state === 'all' || p.state === state)
        .filter((p) => !head || p.headLabel === head)
        .map((p) => ({
          number: p.number,
          state: p.state,
          html_url: `https://github.com/${p.owner}/${p.repo}/pull/${p.number}`,
          head: { sha: p.headSha, label: p.headLabel, ref: p.headLabel.split(':')[1] },
        }));
      return send(200, items);
    }
    return send(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  }
}

function linkHeader(u: URL, page: number, last: number): Record<string, string> {
  const at = (p: number) => {
    const x = new URL(u);
    x.searchParams.set('page', String(p));
    return x.toString();
  };
  const links: string[] = [];
  if (page > 1) links.push(`<${at(page - 1)}>; rel="prev"`, `<${at(1)}>; rel="first"`);
  if (page < last) links.push(`<${at(page + 1)}>; rel="next"`, `<${at(last)}>; rel="last"`);
  return links.length ? { link: links.join(', ') } : {};
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}
