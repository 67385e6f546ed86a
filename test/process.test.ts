import { readFileSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { trainingEnv } from '../src/runtime/env.js';
import { runProcess } from '../src/runtime/process.js';

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
    expect(r.tail.join('\n')).toMatch(/could not start definitely-not-a-program-xyz: .*ENOENT/);
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
