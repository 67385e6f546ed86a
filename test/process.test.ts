import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainingEnv } from '../src/runtime/env.js';
import { runProcess } from '../src/runtime/process.js';
import { reapGroups, recordGroup, recordMembers } from '../src/runtime/process-table.js';
import { ProcessTree } from '../src/runtime/process-tree.js';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** Running (a zombie nobody reaped counts as gone: PID 1 in a container may never reap it). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('process runner', () => {
  it('streams lines to the callback and the log file, and returns the exit code', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-proc-'));
    const lines: string[] = [];
    const logFile = path.join(dir, 'run.log');
    const r = await runProcess({
      argv: ['sh', '-c', 'echo one; echo two >&2; printf three; exit 3'],
      cwd: dir,
      env,
      timeoutMs: 10_000,
      logFile,
      onLine: (l) => lines.push(l),
    });
    expect(r.exitCode).toBe(3);
    expect(r.timedOut).toBe(false);
    expect(lines.sort()).toEqual(['one', 'three', 'two']);
    // The log interleaves both streams as they arrived; every byte is there.
    const log = await readFile(logFile, 'utf8');
    expect(log.length).toBe('one\ntwo\nthree'.length);
    for (const word of ['one\n', 'two\n', 'three']) expect(log).toContain(word);
    expect(r.tail).toContain('three');
  });

  it('passes arguments verbatim: no shell ever sees them', async () => {
    const lines: string[] = [];
    const tricky = '$(touch /tmp/rg-pwned); `id` && echo "; rm -rf /"';
    const r = await runProcess({
      argv: ['printf', '%s\\n', tricky],
      cwd: os.tmpdir(),
      env,
      timeoutMs: 10_000,
      onLine: (l) => lines.push(l),
    });
    expect(r.exitCode).toBe(0);
    expect(lines).toEqual([tricky]);
  });

  it('gives the process only the environment it is handed', async () => {
    const lines: string[] = [];
    await runProcess({
      argv: ['env'],
      cwd: os.tmpdir(),
      env: { PATH: env.PATH, ONLY: 'this' },
      timeoutMs: 10_000,
      onLine: (l) => lines.push(l),
    });
    expect(lines.sort()).toEqual([`PATH=${env.PATH}`, 'ONLY=this'].sort());
  });

  it('kills the whole process group on timeout', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-proc-'));
    const pidFile = path.join(dir, 'child.pid');
    const r = await runProcess({
      // The grandchild ignores nothing special; it would outlive a plain kill of the parent.
      argv: ['sh', '-c', `sleep 60 & echo $! > ${pidFile}; wait`],
      cwd: dir,
      env,
      timeoutMs: 500,
    });
    expect(r.timedOut).toBe(true);
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(grandchild)).toBe(false);
  });

  it('reports a program that cannot start', async () => {
    const r = await runProcess({ argv: ['definitely-not-a-program-xyz'], cwd: os.tmpdir(), env, timeoutMs: 5_000 });
    expect(r.exitCode).toBeNull();
    expect(r.startError).toMatch(/ENOENT/);
    expect(r.tail.join('\n')).toMatch(/could not start definitely-not-a-program-xyz: .*ENOENT/);
  });

  it('ends when the process exits, even if a background child still holds its output', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-proc-'));
    const pidFile = path.join(dir, 'bg.pid');
    const t0 = Date.now();
    const r = await runProcess({
      // The background sleep inherits stdout and stderr: waiting for the pipes to close would hang.
      argv: ['sh', '-c', `sleep 60 & echo $! > ${pidFile}; echo trained`],
      cwd: dir,
      env,
      timeoutMs: 30_000,
    });
    expect(r).toMatchObject({ exitCode: 0, timedOut: false });
    expect(r.tail).toEqual(['trained']);
    expect(Date.now() - t0).toBeLessThan(10_000); // the pipe grace, not the 60 s sleep
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('kills what the training left running in its group, even with its pipes closed', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-proc-'));
    const pidFile = path.join(dir, 'bg.pid');
    const r = await runProcess({
      argv: ['sh', '-c', `sleep 60 >/dev/null 2>&1 & echo $! > ${pidFile}`],
      cwd: dir,
      env,
      timeoutMs: 30_000,
    });
    expect(r.exitCode).toBe(0);
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('on timeout, SIGKILLs after the grace what ignores SIGTERM, also after the leader exited', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-proc-'));
    const pidFile = path.join(dir, 'stubborn.pid');
    const t0 = Date.now();
    const r = await runProcess({
      // The leader exits on SIGTERM; its child ignores SIGTERM and keeps the pipes open.
      argv: ['sh', '-c', `sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 1; done' & wait`],
      cwd: dir,
      env,
      timeoutMs: 1_000,
    });
    expect(r.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(15_000);
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(Number(await readFile(pidFile, 'utf8')))).toBe(false);
  });

  it('on timeout, kills a descendant that left the group for a session of its own (torchrun ≥ 2 ranks)', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-proc-'));
    const pidFile = path.join(dir, 'rank.pid');
    // Like torchrun's ranks: start_new_session=True, and this one ignores SIGTERM (a hung rank).
    const rank = `import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); open(${JSON.stringify(pidFile)}, "w").write(str(os.getpid())); time.sleep(60)`;
    const launcher = `import subprocess, sys, time; subprocess.Popen([sys.executable, "-c", ${JSON.stringify(rank)}], start_new_session=True); time.sleep(60)`;
    const r = await runProcess({ argv: ['python3', '-c', launcher], cwd: dir, env, timeoutMs: 1_500 });
    expect(r.timedOut).toBe(true);
    const pid = Number(await readFile(pidFile, 'utf8'));
    // In a session of its own: a signal to the launcher's group never reached it.
    expect(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[3]).toBe(String(pid));
    await new Promise((res) => setTimeout(res, 300));
    expect(alive(pid)).toBe(false);
  });

  it('treats a lone carriage return as a line end (progress bars)', async () => {
    const lines: string[] = [];
    await runProcess({
      argv: ['printf', 'epoch 1:  10%%\\r epoch 1: 100%%\\r\\ndone\\n'],
      cwd: os.tmpdir(),
      env,
      timeoutMs: 10_000,
      onLine: (l) => lines.push(l),
    });
    expect(lines).toEqual(['epoch 1:  10%', ' epoch 1: 100%', 'done']);
  });

  it('records its process group while running and forgets it after', async () => {
    const groups = await mkdtemp(path.join(os.tmpdir(), 'rg-groups-'));
    const seen: string[] = [];
    const r = await runProcess({
      argv: ['sh', '-c', `sleep 0.2; ls ${groups}`],
      cwd: os.tmpdir(),
      env,
      timeoutMs: 10_000,
      groupsDir: groups,
      onLine: (l) => seen.push(l),
    });
    expect(r.exitCode).toBe(0);
    expect(seen).toEqual([expect.stringMatching(/^\d+\.json$/)]);
    expect(await readdir(groups)).toEqual([]);
  });
});

describe('reaping what a killed gate left running', () => {
  it('stops a recorded group that is still alive, and never a reused pid', async () => {
    const groups = await mkdtemp(path.join(os.tmpdir(), 'rg-groups-'));
    const orphan = spawn('sh', ['-c', 'sleep 60 & wait'], { detached: true, stdio: 'ignore' });
    const pgid = orphan.pid ?? 0;
    recordGroup(groups, pgid, 'sh');
    // A record whose start time does not match a live process (a reused pid) is left alone.
    await writeFile(
      path.join(groups, `${process.pid}.json`),
      JSON.stringify({ pgid: process.pid, started: '1', program: 'x' }),
    );
    const stopped = await reapGroups(groups);
    expect(stopped).toEqual([`sh (process group ${pgid})`]);
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(pgid)).toBe(false);
    expect(alive(process.pid)).toBe(true);
    expect(await readdir(groups)).toEqual([]);
  });
});

describe('reaping what a killed gate left running, in sessions of its own', () => {
  it('stops the recorded descendants outside the group (start time matched), and the group', async () => {
    const groups = await mkdtemp(path.join(os.tmpdir(), 'rg-groups-'));
    const launcher = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    // A rank torchrun ≥ 2 would start: a session (and group) of its own.
    const rank = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const pgid = launcher.pid ?? 0;
    const file = recordGroup(groups, pgid, 'torchrun');
    const started = readFileSync(`/proc/${rank.pid}/stat`, 'utf8').split(') ')[1]?.split(' ')[19] ?? '';
    // A member whose start time does not match (a reused pid: here, this test's own process) is left alone.
    recordMembers(file, [
      { pid: rank.pid ?? 0, started },
      { pid: process.pid, started: '1' },
    ]);
    const stopped = await reapGroups(groups);
    expect(stopped).toEqual([
      `torchrun (process group ${pgid})`,
      '1 process(es) it had started in sessions of their own',
    ]);
    await new Promise((res) => setTimeout(res, 200));
    expect(alive(pgid)).toBe(false);
    expect(alive(rank.pid ?? 0)).toBe(false);
    expect(alive(process.pid)).toBe(true);
  });
});

describe('process tree', () => {
  it('keeps the descendants alive now (and orphans it has seen), forgets those that exited', async () => {
    const leader = spawn('sh', ['-c', 'sleep 0.3 & sleep 30 & wait'], { detached: true, stdio: 'ignore' });
    const tree = new ProcessTree(leader.pid ?? 0);
    for (let i = 0; i < 50 && tree.members().length < 2; i++) {
      tree.refresh();
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(tree.members()).toHaveLength(2);
    await new Promise((res) => setTimeout(res, 600));
    expect(tree.refresh()).toBe(true);
    expect(tree.members()).toHaveLength(1);
    tree.signal('SIGKILL');
    process.kill(-(leader.pid ?? 0), 'SIGKILL');
  });
});

describe('training environment', () => {
  it('passes allowlisted runner variables and the config env, never tokens', () => {
    const runner = {
      PATH: '/usr/bin',
      HOME: '/home/runner',
      GITHUB_TOKEN: 'ghs_secret',
      ACTIONS_RUNTIME_TOKEN: 'x',
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'y',
      INPUT_GITHUB_TOKEN: 'z',
      AWS_SECRET_ACCESS_KEY: 'k',
      RANDOM_VAR: 'r',
      CUDA_VISIBLE_DEVICES: '0',
    };
    const env = trainingEnv(runner, { PYTHONHASHSEED: '0', REPRO_GATE_SEED: '1' });
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/runner',
      CUDA_VISIBLE_DEVICES: '0',
      PYTHONHASHSEED: '0',
      REPRO_GATE_SEED: '1',
    });
    expect(JSON.stringify(env)).not.toMatch(/secret|ghs_/);
  });
});
