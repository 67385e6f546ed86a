/** Copies of the bundled example in temp git repositories, and the built CLI run on them as a user would. */
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const EXAMPLE = path.join(REPO_ROOT, 'examples', 'breast-cancer-logreg');
export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
    cwd,
    encoding: 'utf8',
  });
}

/** A fresh copy of the example (without its committed baselines) as its own git repository. */
export function copyExample(opts: { keepBaselines?: boolean } = {}): Promise<string> {
  return copyProject(EXAMPLE, opts);
}

/**
 * A fresh copy of any project folder (e.g. examples/torch-mlp) as its own git repository: symlinks
 * are copied as the files they point to (so the copy stands alone), `.repro-gate/runs` is left out,
 * and so are committed baselines unless `keepBaselines`.
 */
export async function copyProject(src: string, opts: { keepBaselines?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-project-'));
  const runs = path.join(src, '.repro-gate', 'runs');
  await cp(src, dir, {
    recursive: true,
    dereference: true,
    filter: (p) => p !== runs && !p.startsWith(runs + path.sep),
  });
  if (!opts.keepBaselines) await rm(path.join(dir, '.repro-gate'), { recursive: true, force: true });
  await writeFile(path.join(dir, '.gitignore'), '.repro-gate/runs/\n');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'project');
  return dir;
}

export async function editFile(file: string, edit: (text: string) => string): Promise<() => Promise<void>> {
  const before = await readFile(file, 'utf8');
  const after = edit(before);
  if (after === before) throw new Error(`edit of ${file} changed nothing`);
  await writeFile(file, after);
  return () => writeFile(file, before);
}

/** Runs `body` with `file` edited, and puts the file back however `body` ends. */
export async function withEdit<T>(file: string, edit: (text: string) => string, body: () => Promise<T>): Promise<T> {
  const restore = await editFile(file, edit);
  try {
    return await body();
  } finally {
    await restore();
  }
}

export function parseJson(result: CliResult): Record<string, any> {
  try {
    return JSON.parse(result.stdout) as Record<string, any>;
  } catch {
    throw new Error(
      `stdout is not one JSON document (exit ${result.code}):\n${result.stdout.slice(0, 2000)}\nstderr:\n${result.stderr.slice(-2000)}`,
    );
  }
}

/**
 * A config whose training only writes one metric: for tests about data, where the training is
 * beside the point. `data` is the YAML value of `data:`.
 */
export function dataOnlyConfig(data = '[data/]'): string {
  return `version: 1
train:
  command: [python3, -c, "import json, sys; json.dump({'acc': 1.0}, open(sys.argv[1] + '/metrics.json', 'w'))", "{out}"]
seeds: 1
mode: exact
metrics:
  acc: {}
data: ${data}
`;
}
