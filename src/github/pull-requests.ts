import type { RepoRef, WorkflowRunHead } from './context.js';
import type { Octokit } from './octokit.js';

/**
 * The open PRs whose head is exactly the commit a workflow_run ran on. This is the trusted answer
 * to "which PR is this report for?" in a `workflow_run` follow-up, where the report file itself
 * comes from an untrusted fork run and GitHub leaves `workflow_run.pull_requests` empty for forks.
 */
export async function pullRequestsForRun(octokit: Octokit, repo: RepoRef, head: WorkflowRunHead): Promise<number[]> {
  const found = new Set(head.pullRequests);
  const pulls = await octokit.paginate(octokit.rest.pulls.list, {
    ...repo,
    state: 'open',
    head: `${head.headOwner}:${head.headBranch}`,
    per_page: 100,
  });
  for (const pr of pulls) if (pr.head.sha === head.headSha) found.add(pr.number);
  return [...found];
}
