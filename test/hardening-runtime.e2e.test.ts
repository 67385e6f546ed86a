/**
 * A misbehaving training against the built CLI (test/fixtures/misbehaving/train.sh): it can neither
 * hang the gate nor outlive it, two gates never share a folder, and the training sees one stable
 * {out} path in every verb.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, git, parseJson, REPO_ROOT, runCli } from './helpers/project.js';

let dir: string;
let pids: string;

function config(mode: string, extra = ''): string {
  return `version: 1
train:
  command: [sh, train.sh, "{seed}", "{out}", ${mode}]
  env: {REPRO_GATE_TEST_PIDS: ${JSON.stringify(pids)}}
  timeout: 60s
seeds: [0, 1]
mode: exact
metrics:
  loss: {}
artifacts: [where.txt]
baseline: .repro-gate/${mode}.json
${extra}`;
}

async function useConfig(mode: string, extra = ''): Promise<string> {
  const name = `${mode}.yml`;
  await writeFile(path.join(dir, name), config(mode, extra));
  return name;
}

/** Running (a zombie nobody reaped counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function pidFrom(file: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    if (/^\d+\s*$/.test(text)) return Number(text);
    if (Date.now() > deadline) throw new Error(`no pid in ${file}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Starts the gate on the stubborn training and waits until seed 0 is really running. */
async function startStubborn(args: string[]) {
  await rm(path.join(pids, 'stubborn-0.pid'), { force: true });
  const run = startCli(args);
  const pid = await pidFrom(path.join(pids, 'stubborn-0.pid'));
  return { ...run, pid };
}

function startCli(args: string[]) {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const exited = new Promise<number | null>((res) => child.on('close', (code) => res(code)));
  return { child, out, exited };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rg-harden-'));
  pids = path.join(dir, 'pids');
  await mkdir(pids);
  await cp(path.join(REPO_ROOT, 'test', 'fixtures', 'misbehaving', 'train.sh'), path.join(dir, 'train.sh'));
  for (const mode of ['good', 'background', 'stubborn', 'progress']) await useConfig(mode);
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'trainings');
});

describe('a training that misbehaves', () => {
  it('cannot hang record or check by leaving a child that holds its output', async () => {
    const t0 = Date.now();
    const rec = await runCli(['record', '--config', 'background.yml'], dir);
    expect(rec.code, rec.stderr).toBe(0);
    const chk = await runCli(['check', '--json', '--config', 'background.yml'], dir);
    expect(chk.code, chk.stderr).toBe(0);
    expect(parseJson(chk).verdict).toBe('reproducible');
    // Four trainings, each with a 300 s child: the gate waits only a short grace after each exit.
    expect(Date.now() - t0).toBeLessThan(45_000);
    const leftovers = (await readdir(pids)).filter((f) => f.startsWith('bg-'));
    expect(leftovers.length).toBeGreaterThan(0);
    for (const f of leftovers) expect(alive(await pidFrom(path.join(pids, f))), f).toBe(false);
  });

  it('is stopped with the gate on SIGTERM, even when it ignores SIGTERM; --json still prints one error', async () => {
    const run = await startStubborn(['record', '--json', '--config', 'stubborn.yml']);
    const { pid } = run;
    expect(alive(pid)).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(143);
    expect(alive(pid)).toBe(false);
    expect(JSON.parse(run.out.stdout)).toEqual({
      error: { message: expect.stringMatching(/^Cancelled by SIGTERM/), hint: null, signal: 'SIGTERM' },
    });
    expect(run.out.stderr).toContain('SIGTERM received; stopping the training');
    expect(await readdir(path.join(dir, '.repro-gate', 'groups'))).toEqual([]);
  });

  it('exits 130 on SIGINT (Ctrl-C)', async () => {
    const run = await startStubborn(['record', '--config', 'stubborn.yml']);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    expect(alive(run.pid)).toBe(false);
  });

  it('left running by a gate that was SIGKILLed, is stopped by the next gate in that folder', async () => {
    const run = await startStubborn(['record', '--config', 'stubborn.yml']);
    const { pid } = run;
    run.child.kill('SIGKILL');
    await run.exited;
    expect(alive(pid)).toBe(true); // a killed gate cannot clean up…
    const next = await runCli(['record', '--config', 'good.yml'], dir);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/Taking over .*lock, left by a repro-gate run that is no longer running/);
    expect(next.stderr).toMatch(
      /Stopped 1 process group\(s\) left running by an earlier repro-gate run that was killed: sh \(process group \d+\)/,
    );
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(pid)).toBe(false); // …the next one does
  });

  it('quotes a progress bar as lines, not one ever-growing line', async () => {
    const r = await runCli(['record', '--config', 'progress.yml'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('[seed 1] epoch 1: 50%\n[seed 1] epoch 1: 75%\n');
  });
});

describe('what the gate prints', () => {
  it('says a program that cannot start could not start (not that it was killed)', async () => {
    await writeFile(
      path.join(dir, 'missing.yml'),
      config('good').replace('command: [sh, train.sh', 'command: [no-such-trainer-xyz, train.sh'),
    );
    const r = await runCli(['record', '--config', 'missing.yml'], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^repro-gate: Seed 0: could not start the training: spawn no-such-trainer-xyz ENOENT\./m);
    expect(r.stderr).toMatch(/"no-such-trainer-xyz" must be a program on PATH/);
    expect(r.stderr).not.toMatch(/was killed/);
  });

  it('prints --markdown escaped like the PR comment, and the terminal report without control characters', async () => {
    const rec = await runCli(['record', '--config', 'good.yml'], dir);
    expect(rec.code, rec.stderr).toBe(0);
    const md = await runCli(['check', '--markdown', '--config', 'good.yml'], dir);
    expect(md.code, md.stderr).toBe(0);
    expect(md.stdout).toMatch(/^## ✅ repro-gate: reproducible/);
    expect(md.stdout).toContain('<code>loss</code>');
    expect(md.stdout).toMatch(/<sub>repro-gate .*<\/sub>\n$/);
    // The terminal: aligned columns, no HTML and no Markdown syntax.
    const plain = await runCli(['check', '--config', 'good.yml'], dir);
    expect(plain.stdout).toMatch(/^loss\s+/m);
    expect(plain.stdout).not.toContain('<code>');
    expect(plain.stdout).not.toContain('`loss`');
  });
});

describe('one gate per folder, one {out} per seed', () => {
  it('refuses a second gate while one is running, naming it', async () => {
    const first = await startStubborn(['record', '--config', 'stubborn.yml']);
    const second = await runCli(['record', '--config', 'good.yml'], dir);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(
      /^repro-gate: Another repro-gate run \(record, process \d+, started .*\) is using .*\.repro-gate\./,
    );
    expect(second.stderr).toMatch(/Wait for it to finish/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(143);
  });

  it('gives the training the same output path in record, check and diagnose, so an embedded path is no drift', async () => {
    const rec = await runCli(['record', '--config', 'good.yml'], dir);
    expect(rec.code, rec.stderr).toBe(0);
    const baseline = JSON.parse(await readFile(path.join(dir, '.repro-gate', 'good.json'), 'utf8'));
    const check = await runCli(['check', '--json', '--config', 'good.yml'], dir);
    expect(parseJson(check)).toMatchObject({ verdict: 'reproducible', mismatches: [] });
    const diagnosis = parseJson(await runCli(['diagnose', '--json', '--config', 'good.yml'], dir));
    expect(diagnosis).toMatchObject({ deterministic: true, differences: [] });
    const where = await readFile(path.join(dir, '.repro-gate', 'out', 'seed-1', 'where.txt'), 'utf8');
    expect(where).toBe(path.join(dir, '.repro-gate', 'out', 'seed-1'));
    expect(baseline.runs[1].artifacts['where.txt'].sha256).toBeTruthy();
  });
});
