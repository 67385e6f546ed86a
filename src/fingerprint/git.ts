/**
 * Git facts about the project. The commit and paths passed here come from the repository and the
 * baseline file, i.e. from whoever wrote the change under test, so each such value follows
 * `--end-of-options` (git ≥ 2.24): a "commit" like `--output=/tmp/x` is a bad revision, never an
 * option. The commit must also look like a full SHA (the baseline schema already insists).
 */
import { execFile } from 'node:child_process';

const FULL_SHA = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/;

function git(root: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('git', ['-C', root, ...args], { maxBuffer: 64 * 1024 * 1024 }, (err, stdout) =>
      resolve(err ? null : stdout),
    );
  });
}

/** HEAD of the repository holding `root`, or null outside git. */
export async function gitCommit(root: string): Promise<string | null> {
  const head = (await git(root, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']))?.trim();
  return head && FULL_SHA.test(head) ? head : null;
}

/**
 * Tracked files under `root` (relative to it) that differ from `commit`: committed, staged or
 * edited since. Untracked files are left out: in CI there are none, and locally they are mostly
 * scratch. null when the commit is not in this clone (e.g. a shallow checkout) or is not a full SHA.
 */
export async function changedFilesSince(root: string, commit: string): Promise<string[] | null> {
  if (!FULL_SHA.test(commit)) return null;
  if ((await git(root, ['cat-file', '-e', '--end-of-options', `${commit}^{commit}`])) === null) return null;
  const changed = await git(root, [
    'diff',
    '--name-only',
    '--relative',
    '--no-renames',
    '--end-of-options',
    commit,
    '--',
  ]);
  return changed === null ? null : changed.split('\n').filter(Boolean).sort();
}

/** The full SHA a ref names (a branch, tag or SHA), or null when this clone does not have it. */
export async function resolveCommit(root: string, ref: string): Promise<string | null> {
  return (await git(root, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]))?.trim() || null;
}

/** A file's content at `commit` (path relative to `root`), or null if it was not tracked there. */
export async function fileAtCommit(root: string, commit: string, rel: string): Promise<string | null> {
  if (!FULL_SHA.test(commit)) return null;
  // One argument after --end-of-options: `<commit>:./<rel>` is a blob name however rel is spelled.
  return git(root, ['show', '--end-of-options', `${commit}:./${rel}`]);
}

/**
 * Files under `root` (relative to it) that HEAD does not hold as they are: tracked ones modified
 * (staged or not) and untracked ones git does not ignore. null outside git.
 */
export async function uncommittedFiles(root: string): Promise<{ modified: string[]; untracked: string[] } | null> {
  const [modified, untracked] = await Promise.all([
    git(root, ['diff', '--name-only', '--relative', '--no-renames', 'HEAD', '--']),
    git(root, ['ls-files', '--others', '--exclude-standard', '--', '.']),
  ]);
  if (modified === null || untracked === null) return null;
  const lines = (text: string) => text.split('\n').filter(Boolean).sort();
  return { modified: lines(modified), untracked: lines(untracked) };
}
