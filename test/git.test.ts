/** The git helpers with values a hostile change controls: a baseline's commit and a data path. */
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { changedFilesSince, fileAtCommit, gitCommit } from '../src/fingerprint/git.js';
import { git } from './helpers/project.js';

let repo: string;
let head: string;
let scratch: string;

beforeAll(async () => {
  repo = await mkdtemp(path.join(os.tmpdir(), 'rg-git-'));
  scratch = await mkdtemp(path.join(os.tmpdir(), 'rg-git-scratch-'));
  await writeFile(path.join(repo, 'a.txt'), 'one\n');
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '-A');
  git(repo, 'commit', '-qm', 'one');
  head = git(repo, 'rev-parse', 'HEAD').trim();
  await writeFile(path.join(repo, 'a.txt'), 'two\n');
});

const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

describe('git helpers', () => {
  it('read HEAD, the files changed since a commit, and a file at a commit', async () => {
    expect(await gitCommit(repo)).toBe(head);
    expect(await changedFilesSince(repo, head)).toEqual(['a.txt']);
    expect(await fileAtCommit(repo, head, 'a.txt')).toBe('one\n');
    expect(await gitCommit(scratch)).toBeNull();
  });

  it('never let a hostile commit or path become a git option', async () => {
    const pwned = path.join(scratch, 'pwned');
    for (const commit of [
      `--output=${pwned}`,
      `-o${pwned}`,
      'HEAD',
      `${head.slice(0, 12)}`,
      `${head}\n--output=${pwned}`,
    ]) {
      expect(await changedFilesSince(repo, commit), commit).toBeNull();
      expect(await fileAtCommit(repo, commit, 'a.txt'), commit).toBeNull();
    }
    expect(await fileAtCommit(repo, head, `--output=${pwned}`)).toBeNull(); // not a tracked file, and no option
    await expect(readFile(pwned)).rejects.toThrow(/ENOENT/);
  });

  it('put --end-of-options before every value taken from the repository or baseline', async () => {
    // A `git` first on PATH that logs its arguments and runs the real one.
    const bin = await mkdtemp(path.join(os.tmpdir(), 'rg-git-bin-'));
    const log = path.join(bin, 'argv.log');
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    await writeFile(path.join(bin, 'git'), `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\nexec '${realGit}' "$@"\n`);
    await chmod(path.join(bin, 'git'), 0o755);
    process.env.PATH = `${bin}${path.delimiter}${PATH}`;
    await changedFilesSince(repo, head);
    await fileAtCommit(repo, head, 'a.txt');
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    expect(calls).toEqual([
      `-C ${repo} cat-file -e --end-of-options ${head}^{commit}`,
      `-C ${repo} diff --name-only --relative --no-renames --end-of-options ${head} --`,
      `-C ${repo} show --end-of-options ${head}:./a.txt`,
    ]);
  });
});
