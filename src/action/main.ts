/**
 * The action entry: inputs → gate → report files, outputs, job summary, sticky comment, status.
 * The step's result depends only on the verdict (and on user errors); not being allowed to comment
 * (a fork's read-only token) is a warning, because the report still lands in the summary and file.
 */
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as core from '@actions/core';
import type { RunCacheStore } from '../cache/types.js';
import {
  aggregate,
  type GateCommand,
  gitCommit,
  handleCancellation,
  parseShardSpec,
  restoreHistory,
  runGate,
  trainShard,
} from '../gate/index.js';
import {
  type EventInfo,
  type PullRequestRefs,
  pullRequestFromEvent,
  pullRequestRefs,
  type RepoRef,
  readEvent,
  repoFromEnv,
  runUrl,
  workflowRunHead,
} from '../github/context.js';
import { latestHistoryZip } from '../github/history-artifact.js';
import { createOctokit, type Octokit } from '../github/octokit.js';
import { pullRequestsForRun } from '../github/pull-requests.js';
import { commentKey, GitHubPermissionError, upsertStickyComment } from '../github/sticky-comment.js';
import { syncIssue } from '../github/sticky-issue.js';
import { renderHistoryHtml } from '../report/history-html.js';
import { type MarkdownOptions, renderMarkdown } from '../report/markdown.js';
import type { Report } from '../schema/report.js';
import { formatGateError, GateError } from '../util/errors.js';
import { shortHash } from '../util/format.js';
import { inertLogLines } from '../util/log-lines.js';
import type { Logger } from '../util/logger.js';
import { planAnnotations } from './annotations.js';
import { type ActionInputs, readInputs } from './inputs.js';
import { actionsManifestRequest } from './manifest-cache.js';
import { actionsRunCache } from './run-cache.js';
import { checkPullRequest, readUntrustedReport } from './untrusted-report.js';

/** Training output and repository text never reach the runner as a workflow command. */
const actionLogger: Logger = {
  info: (text: string) => core.info(inertLogLines(text).join('\n')),
  // core.warning escapes line breaks itself: the whole text is one annotation.
  warn: (text: string) => core.warning(text),
  // A log has no live line: each update is a line of its own, outside the seeds' groups.
  progress: (line) => core.info(inertLogLines(line).join(' ')),
  group: (title, fn) => core.group(title, fn),
};

/** GitHub refuses step summaries over 1 MiB. */
const SUMMARY_MAX_BYTES = 1_000_000;

export async function run(): Promise<void> {
  // The runner cancels a job with SIGINT, then SIGTERM: stop every training first, then fail the step.
  handleCancellation((signal) => {
    core.setFailed(`repro-gate: cancelled by ${signal}; every training it started was stopped.`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
  try {
    const inputs = readInputs();
    if (inputs.command === 'comment') await commentFromReport(inputs);
    else if (inputs.shard && (inputs.command === 'check' || inputs.command === 'record'))
      await trainOneShard(inputs, inputs.command, inputs.shard);
    else await gateAndReport(inputs, inputs.command);
  } catch (err) {
    core.setFailed(`repro-gate: ${err instanceof GateError ? formatGateError(err) : errorText(err)}`);
  }
}

/**
 * One job of a matrix: train this shard's seeds and write the partial result for the aggregate
 * job (output shard-result, to upload as an artifact). No verdict and no comment: those come from
 * `command: aggregate` once every shard has finished.
 */
async function trainOneShard(inputs: ActionInputs, command: 'check' | 'record', spec: string): Promise<void> {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const event = readEvent();
  const refs = pullRequestRefs(event.name, event.payload);
  const cwd = resolve(workspace, inputs.workingDirectory);
  const shard = parseShardSpec(spec);
  const { file, result } = await trainShard(command, {
    configPath: inputs.config,
    cwd,
    log: actionLogger,
    untrustedHost: await untrustedCheckout(event.name, refs, cwd),
    ...runCacheRequest(event.name, inputs),
    ...actionsManifestRequest(event.name, inputs),
    shard,
  });
  core.setOutput('shard-result', file);
  core.setOutput('verdict', '');
  await core.summary
    .addRaw(
      `repro-gate: shard ${shard.index} of ${shard.count} trained seeds ${result.seeds.join(', ')}; the aggregate job compares and reports.\n`,
    )
    .write();
}

async function gateAndReport(inputs: ActionInputs, command: GateCommand | 'aggregate'): Promise<void> {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const cwd = resolve(workspace, inputs.workingDirectory);
  const event = readEvent();
  const pr = pullRequestFromEvent(event.name, event.payload);
  const refs = pullRequestRefs(event.name, event.payload);

  if (inputs.historyArtifact && command !== 'drift')
    await restoreHistoryOrWarn(inputs, inputs.historyArtifact, event, cwd);

  // The gate builds the training environment itself from an allowlist; nothing here is passed on.
  const req = {
    configPath: inputs.config,
    cwd,
    log: actionLogger,
    untrustedHost: await untrustedCheckout(event.name, refs, cwd),
    // drift trains nothing, so it needs no run cache; every command may need the data manifests.
    ...(command !== 'drift' ? runCacheRequest(event.name, inputs) : {}),
    ...actionsManifestRequest(event.name, inputs),
    // The metrics history is the default branch's: other runs chart it but add nothing to it.
    history: onDefaultBranch(event) ? ('append' as const) : ('read' as const),
    // A pull request is also judged by its base commit's baseline and gate settings.
    ...((command === 'check' || command === 'aggregate') && refs?.baseSha
      ? {
          base: refs.baseSha,
          baseRequired: false,
          acceptBaselineChange: refs.labels.includes(inputs.baselineLabel),
          acceptedBy: `the pull request's "${inputs.baselineLabel}" label`,
        }
      : {}),
  };
  const outcome =
    command === 'aggregate'
      ? await aggregate({ ...req, resultsDir: resolve(cwd, inputs.results ?? '') })
      : await runGate(command, req);
  const report: Report = pr ? { ...outcome.report, pullRequest: pr } : outcome.report;
  // This run made the report, so the comment links to it (a `comment` run only relays one).
  const view = viewOptions(inputs, runUrl(), pr !== undefined);

  annotateDrift(report, workspace, dirname(resolve(cwd, inputs.config)));
  const files = await writeReportFiles(inputs, report, view);
  core.setOutput('verdict', report.verdict);
  await writeSummary(report, view);

  let commentUrl = '';
  const repo = repoFromEnv();
  if (pr && repo && inputs.comment !== 'never') {
    if (!inputs.token) core.info('repro-gate: no github-token, so no PR comment (the job summary has the report)');
    else commentUrl = await commentOrWarn(inputs, createOctokit(inputs.token), repo, pr, report, files.json, view);
  }
  core.setOutput('comment-url', commentUrl);

  let issueUrl = '';
  if (repo && issueMode(inputs, command, event.name) === 'on-failure') {
    if (!inputs.token) core.info('repro-gate: no github-token, so no issue (the job summary has the report)');
    else issueUrl = await issueOrWarn(inputs, createOctokit(inputs.token), repo, report);
  }
  core.setOutput('issue-url', issueUrl);

  if (inputs.failOn.includes(report.verdict)) {
    core.setFailed(`repro-gate: ${report.verdict} — ${oneLine(report.summary)}`);
  }
}

/** The Actions cache, or none at all: a folder cache in a runner's throwaway checkout would only cost time. */
function runCacheRequest(eventName: string, inputs: ActionInputs): { runCache: RunCacheStore } | { noCache: string } {
  const runCache = actionsRunCache(eventName, inputs);
  // No folder cache in its place: a fresh runner's checkout has none to reuse.
  return runCache ? { runCache } : { noCache: 'the run cache is off for this job (see the note above)' };
}

/**
 * The metrics history from the newest artifact a default-branch run uploaded, when the project has
 * no history file of its own. Best effort: without it the run starts a new history, with a warning.
 */
async function restoreHistoryOrWarn(inputs: ActionInputs, name: string, event: EventInfo, cwd: string): Promise<void> {
  const repo = repoFromEnv();
  const repository = (event.payload as { repository?: { default_branch?: unknown } } | undefined)?.repository;
  const main = typeof repository?.default_branch === 'string' ? repository.default_branch : undefined;
  if (!repo || !inputs.token || !main) {
    core.info('repro-gate: no repository, token or default branch in the event, so the history artifact is not read');
    return;
  }
  try {
    const found = await latestHistoryZip(createOctokit(inputs.token), repo, name, main);
    if (found === null) {
      core.info(`repro-gate: no artifact ${name} from the ${main} branch yet; the history starts here`);
      return;
    }
    if ('problem' in found) {
      core.warning(`repro-gate: the history artifact is not used: ${found.problem}`);
      return;
    }
    const zipFile = join(process.env.RUNNER_TEMP || tmpdir(), `repro-gate-history-${found.id}.zip`);
    await writeFile(zipFile, found.zip);
    const result = await restoreHistory({ configPath: inputs.config, cwd }, zipFile);
    core.info(`repro-gate: history from artifact ${name} (${found.id}): ${result}`);
  } catch (err) {
    const why =
      err instanceof GitHubPermissionError || isForbidden(err) ? 'the token needs actions: read' : errorText(err);
    core.warning(`repro-gate: could not restore the metrics history from artifact ${name}: ${why}`);
  }
}

function isForbidden(err: unknown): boolean {
  return [401, 403].includes((err as { status?: number })?.status ?? 0);
}

/** A run of the default branch itself (push, schedule, workflow_dispatch on it), never of a pull request. */
function onDefaultBranch(event: EventInfo): boolean {
  const repository = (event.payload as { repository?: { default_branch?: unknown } } | undefined)?.repository;
  const main = typeof repository?.default_branch === 'string' ? repository.default_branch : undefined;
  return !!main && !event.name.startsWith('pull_request') && process.env.GITHUB_REF === `refs/heads/${main}`;
}

/** The issue input, or its default: scheduled runs (drift always is one, check on a schedule) open issues. */
function issueMode(
  inputs: ActionInputs,
  command: GateCommand | 'aggregate',
  eventName: string,
): 'on-failure' | 'never' {
  if (inputs.issue) return inputs.issue;
  // A pull request's run has its comment; an issue is for the branch's own (scheduled) runs.
  if (eventName.startsWith('pull_request')) return 'never';
  if (command === 'drift') return 'on-failure';
  return (command === 'check' || command === 'aggregate') && ['schedule', 'workflow_dispatch'].includes(eventName)
    ? 'on-failure'
    : 'never';
}

/** The branch this run checked, for the issue's title and key. */
function branchName(): string {
  return process.env.GITHUB_REF_NAME || process.env.GITHUB_REF?.replace(/^refs\/(heads|tags)\//, '') || 'unknown';
}

/**
 * One issue per gate and branch: opened or updated when the step fails on its verdict, closed when
 * it passes. Like the comment, it never decides the step: without issues: write it is one warning.
 */
async function issueOrWarn(inputs: ActionInputs, octokit: Octokit, repo: RepoRef, report: Report): Promise<string> {
  const branch = branchName();
  try {
    const result = await syncIssue({
      octokit,
      ...repo,
      key: commentKey(`${configKeyPath(inputs)}#${branch}`),
      failing: inputs.failOn.includes(report.verdict),
      title: `repro-gate: ${report.verdict} on ${branch}`,
      body: (maxLength) => renderMarkdown(report, { maxLength }),
      sha: process.env.GITHUB_SHA || report.commit || 'this run',
      author: inputs.commentAuthor,
    });
    if (result.action !== 'none') core.info(`repro-gate: issue ${result.action}: ${result.url}`);
    return result.action === 'closed' ? '' : (result.url ?? '');
  } catch (err) {
    if (err instanceof GitHubPermissionError) {
      core.warning(
        `repro-gate: cannot open or close the repro-gate issue: the token may not write issues (${err.message}). ` +
          'Give the workflow "permissions: issues: write", or set "issue: never".',
      );
    } else {
      core.warning(`repro-gate: could not open or close the repro-gate issue: ${errorText(err)}`);
    }
    return '';
  }
}

/**
 * pull_request_target runs with the base repository's secrets; if the pull request's own code is
 * checked out there, training it on the runner would hand that code the job's tokens.
 */
async function untrustedCheckout(
  eventName: string,
  refs: PullRequestRefs | undefined,
  cwd: string,
): Promise<string | undefined> {
  if (eventName !== 'pull_request_target') return undefined;
  const head = await gitCommit(cwd);
  const trusted = [process.env.GITHUB_SHA, refs?.baseSha].filter(Boolean);
  if (head && trusted.includes(head)) return undefined;
  return `this is a pull_request_target run and the checked-out commit ${head ? shortHash(head) : '(unknown)'} is not the base branch's`;
}

/** Posting is best effort for gate runs: the verdict, not the API, decides the step. */
async function commentOrWarn(
  inputs: ActionInputs,
  octokit: Octokit,
  repo: RepoRef,
  pr: number,
  report: Report,
  reportFile: string,
  view: MarkdownOptions,
): Promise<string> {
  try {
    return await postComment(inputs, octokit, repo, pr, report, view);
  } catch (err) {
    if (err instanceof GitHubPermissionError) {
      core.warning(
        `repro-gate: cannot comment on pull request #${pr}: the token is read-only (${err.message}). ` +
          `This is expected for pull requests from forks. The report is in the job summary and in ${reportFile}; ` +
          'upload that file as an artifact and post it from a workflow_run workflow with "command: comment".',
      );
    } else {
      core.warning(`repro-gate: could not comment on pull request #${pr}: ${errorText(err)}`);
    }
    return '';
  }
}

async function postComment(
  inputs: ActionInputs,
  octokit: Octokit,
  repo: RepoRef,
  pr: number,
  report: Report,
  view: MarkdownOptions,
): Promise<string> {
  const summaryLink = runUrl();
  const truncatedNote = summaryLink
    ? `Some details were left out to fit GitHub's comment size limit; the full report is in the [job summary](${summaryLink}).`
    : "Some details were left out to fit GitHub's comment size limit; the full report is in the job summary.";
  const result = await upsertStickyComment({
    octokit,
    ...repo,
    issueNumber: pr,
    key: commentKey(configKeyPath(inputs)),
    body: (maxLength) => renderMarkdown(report, { ...view, maxLength, truncatedNote }),
    mode: inputs.comment === 'always' ? 'always' : 'on-change',
    author: inputs.commentAuthor,
  });
  core.info(`repro-gate: PR comment ${result.action}: ${result.url}`);
  return result.url;
}

/**
 * command: comment — runs in a privileged workflow_run workflow on a report a fork run uploaded.
 * The file is untrusted; the PR number must come from a trusted source and match.
 */
async function commentFromReport(inputs: ActionInputs & { command: 'comment' }): Promise<void> {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const report = await readUntrustedReport(resolve(workspace, inputs.report));
  const repo = repoFromEnv();
  if (!repo) throw new GateError('GITHUB_REPOSITORY is not set', 'run command "comment" inside GitHub Actions');
  const octokit = createOctokit(inputs.token);
  const pr = checkPullRequest(report, await trustedPullRequests(inputs, readEvent(), octokit, repo));

  const view = viewOptions(inputs, undefined, true);
  await writeReportFiles(inputs, report, view);
  core.setOutput('verdict', report.verdict);
  await writeSummary(report, view);
  try {
    core.setOutput('comment-url', await postComment(inputs, octokit, repo, pr, report, view));
  } catch (err) {
    if (err instanceof GitHubPermissionError) {
      throw new GateError(
        `cannot comment on pull request #${pr}: ${err.message}`,
        'give the workflow "permissions: pull-requests: write" (and run it on workflow_run, not pull_request)',
      );
    }
    throw err;
  }
}

/** PR numbers we can vouch for: the pr-number input, else what the triggering event says. */
async function trustedPullRequests(
  inputs: ActionInputs,
  event: EventInfo,
  octokit: Octokit,
  repo: RepoRef,
): Promise<number[]> {
  if (inputs.prNumber) return [inputs.prNumber];
  const head = event.name === 'workflow_run' ? workflowRunHead(event.payload) : undefined;
  if (head) return pullRequestsForRun(octokit, repo, head);
  const pr = pullRequestFromEvent(event.name, event.payload);
  if (pr) return [pr];
  throw new GateError(
    'cannot tell which pull request the report belongs to',
    'run command "comment" from a workflow_run workflow, or set input "pr-number"',
  );
}

/** Default: $RUNNER_TEMP (outside the checkout, so later steps never commit it); relative paths: the workspace. */
function reportPaths(inputs: ActionInputs): { json: string; markdown: string } {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const json = inputs.reportFile
    ? resolve(workspace, inputs.reportFile)
    : join(process.env.RUNNER_TEMP || tmpdir(), 'repro-gate-report.json');
  return { json, markdown: `${json.replace(/\.json$/i, '')}.md` };
}

/** Biggest config file searched for a key's line; past that the annotation goes on line 1. */
const ANNOTATED_FILE_MAX_BYTES = 1024 * 1024;

/** Drifted config keys and data files as annotations on the pull request's diff. */
function annotateDrift(report: Report, workspace: string, configRoot: string): void {
  const prefix = relative(workspace, configRoot).split('\\').join('/');
  // Outside the checkout nothing can be shown on the diff.
  if (prefix.startsWith('..')) return;
  const textOf = (file: string) => {
    try {
      // Only a file inside the checkout, after links: a key's line is all that is wanted from it.
      const abs = realpathSync(resolve(configRoot, file));
      if (relative(realpathSync(workspace), abs).startsWith('..')) return undefined;
      return statSync(abs).size <= ANNOTATED_FILE_MAX_BYTES ? readFileSync(abs, 'utf8') : undefined;
    } catch {
      return undefined;
    }
  };
  for (const a of planAnnotations(report, prefix, textOf)) {
    const props = { title: a.title, file: a.file, startLine: a.line };
    if (a.level === 'error') core.error(a.message, props);
    else core.warning(a.message, props);
  }
}

/** How the Markdown reads in a pull request: accepting a change goes through the workflow and label. */
function viewOptions(inputs: ActionInputs, link: string | undefined, onPullRequest: boolean): MarkdownOptions {
  // The label only means something on a pull request (not in a nightly drift run).
  const accept = onPullRequest ? { via: 'action' as const, label: inputs.baselineLabel } : { via: 'action' as const };
  return { accept, ...(link ? { runUrl: link } : {}) };
}

async function writeReportFiles(
  inputs: ActionInputs,
  report: Report,
  view: MarkdownOptions,
): Promise<{ json: string; markdown: string }> {
  const files = reportPaths(inputs);
  await mkdir(dirname(files.json), { recursive: true });
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.markdown, renderMarkdown(report, view));
  core.setOutput('report-json', files.json);
  core.setOutput('report-markdown', files.markdown);
  // With a metrics history: its charts as a static page beside the report, for upload.
  const historyHtml = report.history?.length ? join(dirname(files.json), 'repro-gate-history.html') : '';
  if (historyHtml)
    await writeFile(historyHtml, renderHistoryHtml('The last runs of the metrics history', report.history ?? []));
  core.setOutput('history-html', historyHtml);
  return files;
}

/** The job summary always gets the report: it needs no token permission. */
async function writeSummary(report: Report, view: MarkdownOptions): Promise<void> {
  if (!process.env.GITHUB_STEP_SUMMARY) return;
  let md = renderMarkdown(report, view);
  if (Buffer.byteLength(md) > SUMMARY_MAX_BYTES) {
    // ≤ 3 bytes per UTF-16 unit, so this many characters always fit.
    md = renderMarkdown(report, {
      ...view,
      maxLength: Math.floor(SUMMARY_MAX_BYTES / 3),
      truncatedNote: 'Some details were left out to fit the job summary size limit; the JSON report has everything.',
    });
  }
  try {
    await core.summary.addRaw(md, true).write();
  } catch (err) {
    core.warning(`repro-gate: could not write the job summary: ${errorText(err)}`);
  }
}

/** The path the comment key is derived from: the config file, relative to the workspace. */
function configKeyPath(inputs: ActionInputs): string {
  const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
  const abs = resolve(workspace, inputs.workingDirectory, inputs.config);
  return relative(workspace, abs).split('\\').join('/');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
