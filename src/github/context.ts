/**
 * What the workflow run is about, from the runner's environment and event payload.
 * Pure functions over plain values; `readEvent` is the only one that touches the file system.
 * Not `@actions/github`'s `context`: that is read once, when the module loads, from process.env,
 * and types the payload as trusted; here every function takes its environment (tests run many
 * events in one process) and checks the payload's shape, since a fork controls parts of it.
 */
import { readFileSync } from 'node:fs';

export interface EventInfo {
  name: string;
  payload: unknown;
}

export interface RepoRef {
  owner: string;
  repo: string;
}

type Env = Record<string, string | undefined>;

/** Reads GITHUB_EVENT_NAME / GITHUB_EVENT_PATH; a missing or unreadable payload is just `{}`. */
export function readEvent(env: Env = process.env): EventInfo {
  let payload: unknown = {};
  if (env.GITHUB_EVENT_PATH) {
    try {
      payload = JSON.parse(readFileSync(env.GITHUB_EVENT_PATH, 'utf8'));
    } catch {
      payload = {};
    }
  }
  return { name: env.GITHUB_EVENT_NAME ?? '', payload };
}

export function repoFromEnv(env: Env = process.env): RepoRef | undefined {
  const [, owner, repo] = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)$/.exec(env.GITHUB_REPOSITORY ?? '') ?? [];
  return owner && repo ? { owner, repo } : undefined;
}

/** Link to this run, where the job summary lives. */
export function runUrl(env: Env = process.env): string | undefined {
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
  if (!env.GITHUB_REPOSITORY || !/^\d+$/.test(env.GITHUB_RUN_ID ?? '')) return undefined;
  return `${server}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`;
}

function asPositiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : undefined;
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * The pull request an event is about, or undefined.
 * - pull_request / pull_request_target: the PR itself
 * - issue_comment: only when the issue is a PR (it then carries `issue.pull_request`)
 * - workflow_run: `workflow_run.pull_requests[0]` — empty for PRs from forks (a GitHub limitation;
 *   see `workflowRunHead` for the lookup that covers them)
 */
export function pullRequestFromEvent(eventName: string, payload: unknown): number | undefined {
  const p = obj(payload);
  if (!p) return undefined;
  switch (eventName) {
    case 'pull_request':
    case 'pull_request_target':
    case 'pull_request_review':
    case 'pull_request_review_comment':
      return asPositiveInt(obj(p.pull_request)?.number);
    case 'issue_comment': {
      const issue = obj(p.issue);
      return issue && obj(issue.pull_request) ? asPositiveInt(issue.number) : undefined;
    }
    case 'workflow_run': {
      const prs = obj(p.workflow_run)?.pull_requests;
      return Array.isArray(prs) ? asPositiveInt(obj(prs[0])?.number) : undefined;
    }
    default:
      return undefined;
  }
}

export interface WorkflowRunHead {
  /** PR numbers GitHub attached to the run (same-repository PRs only). */
  pullRequests: number[];
  headSha: string;
  headBranch: string;
  /** Owner of the repository the commit came from (the fork's owner for fork PRs). */
  headOwner: string;
}

/** The triggering run's head, for finding its PR when GitHub did not attach one (forks). */
export function workflowRunHead(payload: unknown): WorkflowRunHead | undefined {
  const run = obj(obj(payload)?.workflow_run);
  if (!run) return undefined;
  const headSha = run.head_sha;
  const headBranch = run.head_branch;
  const headOwner = obj(obj(run.head_repository)?.owner)?.login;
  if (typeof headSha !== 'string' || !/^[0-9a-f]{40}$/i.test(headSha)) return undefined;
  if (typeof headBranch !== 'string' || typeof headOwner !== 'string') return undefined;
  const prs = Array.isArray(run.pull_requests) ? run.pull_requests : [];
  const pullRequests = prs.map((pr) => asPositiveInt(obj(pr)?.number)).filter((n): n is number => n !== undefined);
  return { pullRequests, headSha, headBranch, headOwner };
}

export interface PullRequestRefs {
  number: number;
  /** The base commit the pull request was opened against (or last synchronised with). */
  baseSha?: string;
  headSha?: string;
  labels: string[];
}

/** Number, base and head commits and labels of the pull request a pull_request(_target) event is about. */
export function pullRequestRefs(eventName: string, payload: unknown): PullRequestRefs | undefined {
  if (eventName !== 'pull_request' && eventName !== 'pull_request_target') return undefined;
  const pr = obj(obj(payload)?.pull_request);
  const number = asPositiveInt(pr?.number);
  if (!pr || number === undefined) return undefined;
  const sha = (v: unknown) => {
    const s = obj(v)?.sha;
    return typeof s === 'string' && /^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(s) ? s : undefined;
  };
  const labels = Array.isArray(pr.labels)
    ? pr.labels.flatMap((l) => {
        const name = obj(l)?.name;
        return typeof name === 'string' ? [name] : [];
      })
    : [];
  return { number, baseSha: sha(pr.base), headSha: sha(pr.head), labels };
}
