/**
 * Git facts about the project. The commit and paths passed here come from the repository and the
 * baseline file, i.e. from whoever wrote the change under test, so each such value follows
 * `--end-of-options` (git ≥ 2.24): a "commit" like `--output=/tmp/x` is a bad revision, never an
 * option. The commit must also look like a full SHA (the baseline schema already insists).
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { compareBytes } from '../util/bytes.js';

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

/** The code a run could depend on: one hash over every file under `root`, by content. */
export interface CodeTree {
  sha256: string;
  files: number;
}

/**
 * Hashes the files git would commit under `root` (tracked, plus untracked files that are not
 * ignored), minus those `skip` names (relative POSIX paths). Clean tracked files count by their
 * index blob id, so nothing is read; edited and untracked files by the blob id git gives their
 * current bytes (`git hash-object`, filters applied), so an uncommitted edit is never mistaken for
 * the committed code and a file merely touched is no change. null outside git.
 */
export async function codeTree(root: string, skip: (rel: string) => boolean): Promise<CodeTree | null> {
  const [staged, edited, untracked] = await Promise.all([
    git(root, ['ls-files', '-s', '-z', '--', '.']),
    git(root, ['diff-files', '-z', '--name-only', '--relative', '--']),
    git(root, ['ls-files', '-o', '--exclude-standard', '-z', '--', '.']),
  ]);
  if (staged === null || edited === null || untracked === null) return null;
  const entries = new Map<string, string>();
  for (const rec of staged.split('\0')) {
    const m = /^(\d+) ([0-9a-f]+) \d\t(.*)$/s.exec(rec);
    if (m?.[3] !== undefined) entries.set(m[3], `${m[1]} ${m[2]}`);
  }
  const reread: string[] = [];
  for (const rel of [...edited.split('\0'), ...untracked.split('\0')]) {
    if (!rel || skip(rel)) continue;
    const info = await lstat(path.join(root, rel)).catch(() => undefined);
    if (info?.isFile()) reread.push(rel);
    else if (!info) entries.set(rel, 'deleted');
  }
  if (reread.length) {
    const ids = await hashObjects(root, reread);
    if (ids === null) return null;
    reread.forEach((rel, i) => {
      const mode = entries.get(rel)?.split(' ')[0] ?? '100644';
      entries.set(rel, `${mode} ${ids[i]}`);
    });
  }
  const hash = createHash('sha256');
  let files = 0;
  for (const rel of [...entries.keys()].sort(compareBytes)) {
    if (skip(rel)) continue;
    hash.update(`${rel}\0${entries.get(rel)}\n`);
    files++;
  }
  return { sha256: hash.digest('hex'), files };
}

/** Blob ids of files (relative to root) as git would store them, in one git process. */
function hashObjects(root: string, rels: string[]): Promise<string[] | null> {
  return new Promise((resolve) => {
    const child = execFile(
      'git',
      ['-C', root, 'hash-object', '--stdin-paths'],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => {
        const ids = err ? [] : stdout.split('\n').filter(Boolean);
        resolve(ids.length === rels.length ? ids : null);
      },
    );
    // Paths are read one per line: a name with a line break cannot be passed, so it is not cached.
    if (rels.some((r) => r.includes('\n'))) {
      child.kill();
      return;
    }
    child.stdin?.end(`${rels.join('\n')}\n`);
  });
}

/**
 * Which of `paths` (relative to `root`) git-LFS manages: `filter=lfs` in .gitattributes. Empty
 * outside git. Paths go through stdin, NUL-separated, so any name is a name and never an option.
 */
export function lfsTracked(root: string, paths: readonly string[]): Promise<Set<string>> {
  return new Promise((resolve) => {
    if (!paths.length) return resolve(new Set());
    const child = execFile(
      'git',
      ['-C', root, 'check-attr', '-z', '--stdin', 'filter'],
      { maxBuffer: 64 * 1024 * 1024 },
      (err, stdout) => {
        if (err) return resolve(new Set());
        const parts = stdout.split('\0');
        const out = new Set<string>();
        for (let i = 0; i + 2 < parts.length; i += 3) if (parts[i + 2] === 'lfs') out.add(parts[i] as string);
        resolve(out);
      },
    );
    child.stdin?.on('error', () => {}); // git gone before reading: the callback reports it
    child.stdin?.end(paths.map((p) => `${p}\0`).join(''));
  });
}

/** The repository's git-LFS object store (`<git dir>/lfs/objects`), or null outside git. */
export async function lfsObjectStore(root: string): Promise<string | null> {
  const dir = (await git(root, ['rev-parse', '--path-format=absolute', '--git-common-dir']))?.trim();
  return dir ? `${dir}/lfs/objects` : null;
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
