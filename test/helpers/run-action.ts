/**
 * Runs the bundled action (`node dist/index.js`) as a child process the way the runner does:
 * inputs as INPUT_<NAME> variables (uppercased, spaces → `_`, hyphens kept: INPUT_GITHUB-TOKEN),
 * the event payload in a file, and GITHUB_OUTPUT / GITHUB_STEP_SUMMARY files to read back.
 * The environment is built from scratch (no process.env pass-through) so tests are hermetic.
 *
 * Async on purpose: a fake GitHub server in the test process must keep answering while the
 * action runs, so spawnSync would deadlock.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * A fresh bundle of the current sources, built into a temp dir (RG_ACTION_BUNDLE=dist/index.js
 * tests the committed bundle instead).
 */
export function buildBundle(): string {
  if (process.env.RG_ACTION_BUNDLE) return resolve(REPO_ROOT, process.env.RG_ACTION_BUNDLE);
  const outdir = mkdtempSync(join(tmpdir(), 'rg-bundle-'));
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), '--outdir', outdir], { stdio: 'pipe' });
  return join(outdir, 'index.js');
}

export interface RunActionOptions {
  inputs?: Record<string, string>;
  /** Written to GITHUB_EVENT_PATH; GITHUB_EVENT_NAME = name. Default: a pull_request event for PR #7. */
  event?: { name: string; payload: unknown };
  /** GITHUB_API_URL, e.g. a FakeGitHub's url. */
  apiUrl?: string;
  /** owner/repo */
  repository?: string;
  /** Reuse the workspace of an earlier run (e.g. record, then check); default: a fresh one. */
  workspace?: string;
  /** Files to create in the workspace before the run: relative path → content. */
  files?: Record<string, string>;
  /** Extra environment (wins over the defaults). */
  env?: Record<string, string>;
  /** The bundle to run; default dist/index.js of this checkout. */
  bundle?: string;
  timeoutMs?: number;
}

export interface ActionResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** name → value, parsed from the GITHUB_OUTPUT file. */
  outputs: Record<string, string>;
  /** Contents of the GITHUB_STEP_SUMMARY file. */
  summary: string;
  /** `::warning::` / `::error::` workflow commands from stdout, unescaped. */
  warnings: string[];
  /** The warnings that are not annotations on a file (the report's drift annotations are left out). */
  plainWarnings: string[];
  errors: string[];
  workspace: string;
  runnerTemp: string;
}

export function pullRequestEvent(number = 7, repository = 'acme/ml'): { name: string; payload: unknown } {
  const [owner, repo] = repository.split('/');
  return {
    name: 'pull_request',
    payload: {
      action: 'synchronize',
      number,
      pull_request: { number, head: { sha: 'b'.repeat(40), ref: 'feature' }, base: { ref: 'main' } },
      repository: { name: repo, full_name: repository, owner: { login: owner } },
    },
  };
}

export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`;
}

export async function runAction(opts: RunActionOptions = {}): Promise<ActionResult> {
  const root = mkdtempSync(join(tmpdir(), 'rg-action-'));
  const workspace = opts.workspace ?? join(root, 'workspace');
  const runnerTemp = join(root, 'runner-temp');
  mkdirSync(workspace, { recursive: true });
  mkdirSync(runnerTemp);
  for (const [rel, content] of Object.entries(opts.files ?? {})) {
    mkdirSync(dirname(join(workspace, rel)), { recursive: true });
    writeFileSync(join(workspace, rel), content);
  }
  const event = opts.event ?? pullRequestEvent();
  const eventPath = join(root, 'event.json');
  const outputPath = join(root, 'output.txt');
  const summaryPath = join(root, 'summary.md');
  writeFileSync(eventPath, JSON.stringify(event.payload));
  writeFileSync(outputPath, '');
  writeFileSync(summaryPath, '');

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: root,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: opts.repository ?? 'acme/ml',
    GITHUB_API_URL: opts.apiUrl ?? 'http://127.0.0.1:9',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_SHA: 'b'.repeat(40),
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    RUNNER_TEMP: runnerTemp,
    ...Object.fromEntries(Object.entries(opts.inputs ?? {}).map(([k, v]) => [inputEnvName(k), v])),
    ...opts.env,
  };

  const bundle = opts.bundle ?? join(REPO_ROOT, 'dist/index.js');
  const child = spawn(process.execPath, [bundle], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const exitCode = await new Promise<number | null>((res, rej) => {
    child.on('error', rej);
    child.on('close', (code) => res(code));
  }).finally(() => clearTimeout(timer));

  return {
    exitCode,
    stdout,
    stderr,
    outputs: parseOutputFile(readFileSync(outputPath, 'utf8')),
    summary: readFileSync(summaryPath, 'utf8'),
    warnings: commands(stdout, 'warning'),
    errors: commands(stdout, 'error'),
    plainWarnings: commands(stdout, 'warning', false),
    workspace,
    runnerTemp,
  };
}

/** GITHUB_OUTPUT holds `name<<DELIM\nvalue\nDELIM` blocks (and maybe `name=value` lines). */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delim] = heredoc as unknown as [string, string, string];
      const end = lines.indexOf(delim, i + 1);
      out[name] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (line.includes('=')) {
      out[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1);
    }
  }
  return out;
}

/** `withProperties: false` leaves out annotations on a file (`::warning file=…,line=…::`). */
function commands(stdout: string, kind: 'warning' | 'error', withProperties = true): string[] {
  const unescapeCommand = (s: string) => s.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
  const re = withProperties ? new RegExp(`^::${kind}(?: [^:]*)?::(.*)$`) : new RegExp(`^::${kind}::(.*)$`);
  return stdout
    .split('\n')
    .map((l) => re.exec(l)?.[1])
    .filter((m): m is string => m !== undefined)
    .map(unescapeCommand);
}
