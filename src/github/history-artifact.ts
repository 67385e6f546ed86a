/**
 * The metrics history across runs in Actions lives in an artifact (README, "Metrics history": a
 * cache is evicted after 7 days unused, an artifact keeps its retention period). This finds the
 * newest unexpired artifact of that name uploaded by a run of the default branch of this repository
 * itself — never one a pull request (or a fork's) run uploaded — and downloads its zip.
 */
import type { Octokit } from './octokit.js';

/** A history zip beyond this is not read. */
const MAX_ARTIFACT_BYTES = 16 * 1024 * 1024;

export async function latestHistoryZip(
  octokit: Octokit,
  repo: { owner: string; repo: string },
  name: string,
  defaultBranch: string,
): Promise<{ zip: Buffer; id: number } | { problem: string } | null> {
  const { data } = await octokit.rest.actions.listArtifactsForRepo({ ...repo, name, per_page: 100 });
  const trusted = data.artifacts
    .filter(
      (a) =>
        !a.expired &&
        a.workflow_run?.head_branch === defaultBranch &&
        a.workflow_run.head_repository_id !== undefined &&
        a.workflow_run.head_repository_id === a.workflow_run.repository_id,
    )
    .sort((a, b) => Date.parse(b.created_at ?? '') - Date.parse(a.created_at ?? ''));
  const newest = trusted[0];
  if (!newest) return null;
  if (newest.size_in_bytes > MAX_ARTIFACT_BYTES)
    return { problem: `artifact ${name} is ${newest.size_in_bytes} bytes, over the 16 MiB limit` };
  const { data: zip } = await octokit.rest.actions.downloadArtifact({
    ...repo,
    artifact_id: newest.id,
    archive_format: 'zip',
  });
  return { zip: Buffer.from(zip as ArrayBuffer), id: newest.id };
}
