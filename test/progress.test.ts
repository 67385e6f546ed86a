import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { record } from '../src/gate/index.js';
import { streamLogger } from '../src/util/logger.js';
import { clock, estimate, SeedProgress } from '../src/util/progress.js';
import { captureLogger } from './helpers/logger.js';
import { metrics, ScriptedRuntime } from './helpers/scripted-runtime.js';

const S = 1000;
const M = 60 * S;

describe('SeedProgress', () => {
  it('shows the seed being trained, the time so far and, once a seed is done, the time left', () => {
    const p = new SeedProgress(10, 0);
    p.start(0, 0);
    expect(p.line(5 * S)).toBe('seed 1/10 · 5s elapsed');
    p.finish(0, 40 * S);
    p.start(1, 40 * S);
    p.finish(1, 80 * S);
    p.start(2, 80 * S);
    // Two seeds of 40s each; the third has run 54s of its 40s estimate: 8 × 40s − 38s (capped at 95%).
    expect(p.line(2 * M + 14 * S)).toBe('seed 3/10 · 2m14s elapsed · ~5m left');
    expect(p.remainingMs(2 * M + 14 * S)).toBe(8 * 40 * S - 38 * S);
  });

  it('counts seeds that run at once and finish out of order by seed, not by position', () => {
    const p = new SeedProgress(4, 0, 2);
    p.start(7, 0);
    p.start(3, 0);
    p.finish(3, 10 * S); // the second one started finishes first
    p.start(5, 10 * S);
    expect(p.finished).toBe(1);
    expect(p.line(10 * S)).toBe('seed 3/4 · 10s elapsed · ~10s left');
    // Finishing a seed twice or one never started changes nothing.
    p.finish(3, 11 * S);
    p.finish(99, 11 * S);
    expect(p.finished).toBe(1);
    for (const seed of [5, 7]) p.finish(seed, 20 * S);
    p.start(9, 20 * S);
    p.finish(9, 30 * S);
    expect(p.line(30 * S)).toBe('4/4 seeds done · 30s elapsed');
  });

  it('counts an earlier stage of a sequential plan in "seed k/total" but not in the estimate', () => {
    // Look 2 of a plan that may train 10: 4 seeds are done already, this stage trains 3.
    const p = new SeedProgress(10, 0, 1, 4);
    p.start(4, 0);
    expect(p.line(1 * S)).toBe('seed 5/10 · 1s elapsed');
    p.finish(4, 20 * S);
    p.start(5, 20 * S);
    expect(p.line(20 * S)).toBe('seed 6/10 · 20s elapsed · ~2m left');
    expect(p.remainingMs(20 * S)).toBe(5 * 20 * S);
  });

  it('formats elapsed time to the second and estimates as coarsely as they deserve', () => {
    expect([clock(0), clock(9_999), clock(2 * M + 14 * S), clock(65 * M)]).toEqual(['0s', '9s', '2m14s', '1h05m']);
    expect([estimate(0), estimate(4 * S), estimate(44 * S), estimate(5 * M + 20 * S), estimate(80 * M)]).toEqual([
      '1s',
      '4s',
      '40s',
      '5m',
      '1h20m',
    ]);
  });
});

/** A stream that keeps what was written, as a terminal or a CI log would receive it. */
function stream(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, isTTY, write: (t: string) => chunks.push(t) };
}

describe('terminal progress', () => {
  it('on a TTY redraws one line in place and lifts it out of the way of log lines', () => {
    const tty = stream(true);
    const log = streamLogger(tty);
    expect(log.liveProgress).toBe(true);
    log.progress?.('seed 1/2 · 0s elapsed', false);
    log.info('[seed 0] epoch 1');
    log.progress?.('2/2 seeds done · 3s elapsed', true);
    log.info('after');
    expect(tty.chunks.join('')).toBe(
      '\r\x1b[2Kseed 1/2 · 0s elapsed' +
        '\r\x1b[2K[seed 0] epoch 1\nseed 1/2 · 0s elapsed' +
        '\r\x1b[2K2/2 seeds done · 3s elapsed\n' +
        'after\n',
    );
  });

  it('elsewhere writes each update as a plain line, with no control characters', () => {
    const ci = stream(false);
    const log = streamLogger(ci);
    expect(log.liveProgress).toBe(false);
    log.progress?.('seed 1/2 · 0s elapsed', false);
    log.info('line');
    log.progress?.('2/2 seeds done · 3s elapsed', true);
    expect(ci.chunks.join('')).toBe('seed 1/2 · 0s elapsed\nline\n2/2 seeds done · 3s elapsed\n');
  });
});

describe('progress through a verb', () => {
  it('reports every seed and groups each seed’s output when the logger can', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-progress-'));
    await writeFile(
      path.join(dir, 'repro-gate.yml'),
      'version: 1\ntrain:\n  command: [train, "{seed}", "{out}"]\nseeds: 3\nmetrics:\n  accuracy: {margin: 0.01}\n',
    );
    const log = captureLogger();
    const progress: Array<[string, boolean]> = [];
    const groups: string[] = [];
    const out = await record({
      configPath: 'repro-gate.yml',
      cwd: dir,
      runnerEnv: { PATH: '/usr/bin' },
      createRuntime: () => new ScriptedRuntime(({ seed }) => ({ files: metrics({ accuracy: 0.9 + seed / 1000 }) })),
      log: {
        ...log,
        info: (l) => {
          log.info(l);
          groups.push(l);
        },
        progress: (line, final) => progress.push([line, final]),
        group: async (title, fn) => {
          groups.push(`start ${title}`);
          const r = await fn();
          groups.push(`end ${title}`);
          return r;
        },
      },
    });
    expect(out.verdict).toBe('recorded');
    expect(progress.map(([l]) => l.split(' · ')[0])).toEqual(['seed 1/3', 'seed 2/3', 'seed 3/3', '3/3 seeds done']);
    expect(progress.map(([, final]) => final)).toEqual([false, false, false, true]);
    expect(progress[1]![0]).toMatch(/^seed 2\/3 · \d+s elapsed · ~\d+s left$/);
    const marks = groups.filter((l) => /^(start|end) /.test(l));
    expect(marks).toEqual(
      [0, 1, 2].flatMap((s) => [`start repro-gate record: seed ${s}`, `end repro-gate record: seed ${s}`]),
    );
    // Each seed's output went out inside its own group.
    for (const s of [0, 1, 2]) {
      const done = groups.findIndex((l) => l.startsWith(`seed ${s}: done in`));
      expect(done).toBeGreaterThan(groups.indexOf(`start repro-gate record: seed ${s}`));
      expect(done).toBeLessThan(groups.indexOf(`end repro-gate record: seed ${s}`));
    }
  });

  it('ends the line where a failing seed stopped', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-progress-'));
    await writeFile(
      path.join(dir, 'repro-gate.yml'),
      'version: 1\ntrain:\n  command: [train, "{seed}", "{out}"]\nseeds: 3\nmetrics:\n  accuracy: {margin: 0.01}\n',
    );
    const progress: Array<[string, boolean]> = [];
    const failing = record({
      configPath: 'repro-gate.yml',
      cwd: dir,
      runnerEnv: { PATH: '/usr/bin' },
      createRuntime: () =>
        new ScriptedRuntime(({ seed }) => (seed === 1 ? { exitCode: 3 } : { files: metrics({ accuracy: 0.9 }) })),
      log: { ...captureLogger(), progress: (line, final) => progress.push([line, final]) },
    });
    await expect(failing).rejects.toThrow(/Seed 1: training exited with code 3/);
    expect(progress.at(-1)?.[0]).toMatch(/^seed 2\/3 · /);
    expect(progress.at(-1)?.[1]).toBe(true);
  });
});
