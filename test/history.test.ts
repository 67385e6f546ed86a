/**
 * The metrics history: lines that survive appends and bad lines, the trend charts, slow-decay
 * warnings, and `repro-gate history`. The gate runs with the in-memory runtime (no Python).
 */
import { appendFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check, record, showHistory } from '../src/gate/index.js';
import { slowDecay } from '../src/history/decay.js';
import { parseHistory } from '../src/history/lines.js';
import { renderHistoryHtml } from '../src/report/history-html.js';
import { renderMarkdown } from '../src/report/markdown.js';
import type { HistoryLine } from '../src/schema/history.js';
import { captureLogger } from './helpers/logger.js';
import { runCli } from './helpers/project.js';
import { metrics, ScriptedRuntime, type Training } from './helpers/scripted-runtime.js';

const CONFIG = `version: 1
train:
  command: [train, --seed, "{seed}", --out, "{out}"]
seeds: 3
metrics:
  accuracy: {margin: 0.01, direction: higher}
history: {file: .repro-gate/history.jsonl, decay: 3}
`;

const at =
  (mean: number): Training =>
  ({ seed }) => ({ files: metrics({ accuracy: mean + 0.0004 * (seed - 1) }) });

async function project(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-history-'));
  await writeFile(path.join(dir, 'repro-gate.yml'), CONFIG);
  return dir;
}

function req(dir: string, training: Training, history: 'append' | 'read' = 'append') {
  return {
    configPath: 'repro-gate.yml',
    cwd: dir,
    log: captureLogger(),
    runnerEnv: {},
    createRuntime: () => new ScriptedRuntime(training),
    history,
  };
}

const file = (dir: string) => path.join(dir, '.repro-gate', 'history.jsonl');

describe('the history file', () => {
  it('gets one line per record and check, survives bad lines, charts the trend and warns of slow decay', async () => {
    const dir = await project();
    await record(req(dir, at(0.98)));
    // A killed job left half a line, and another version wrote one: both skipped, never fatal.
    await appendFile(file(dir), '{"v":1,"time":"2026-');
    const first = await check(req(dir, at(0.9795)));
    expect(first.report.warnings.map((w) => w.code)).toEqual(['history-skipped']);
    await appendFile(file(dir), `${JSON.stringify({ v: 2, time: 'x' })}\n`);
    await check(req(dir, at(0.979)));
    const third = await check(req(dir, at(0.9785)));
    expect(third.verdict).toBe('equivalent');

    const text = await readFile(file(dir), 'utf8');
    const parsed = parseHistory(text, 'history.jsonl');
    expect(parsed.lines.map((l) => [l.command, l.verdict])).toEqual([
      ['record', 'recorded'],
      ['check', 'equivalent'],
      ['check', 'equivalent'],
      ['check', 'equivalent'],
    ]);
    expect(parsed.skipped).toEqual([
      'history.jsonl line 2 skipped: not valid JSON (cut short?)',
      'history.jsonl line 4 skipped: history line version 2, this repro-gate reads 1',
    ]);
    const last = parsed.lines[3]!;
    expect(last.metrics.accuracy).toMatchObject({ n: 3, lower: expect.closeTo(0.97, 9), upper: null });
    expect(last.metrics.accuracy!.mean).toBeCloseTo(0.9785, 9);
    expect(last.environment).toMatch(/^[0-9a-f]{64}$/);

    // Each check passed, yet accuracy fell three times in a row toward the margin's lower edge.
    expect(third.report.warnings).toContainEqual({
      code: 'slow-decay',
      message: 'accuracy fell in each of the last 3 runs: 0.9795 → 0.9785, margin edge 0.97.',
    });
    expect(third.report.history).toHaveLength(4);
    const md = renderMarkdown(third.report);
    expect(md).toContain('### Trend (last 4 runs)');
    expect(md).toMatch(
      /```mermaid\nxychart-beta\n {2}title "accuracy: mean per run"\n {2}x-axis \["\d\d-\d\d", "\d\d-\d\d \(2\)", "\d\d-\d\d \(3\)", "\d\d-\d\d \(4\)"\]\n {2}y-axis "accuracy" [\d.]+ --> [\d.]+\n {2}line \[0\.98, 0\.9795, 0\.979, 0\.9785\]\n```/,
    );
  });

  it('is only read, never appended, when the caller says so (the action off the default branch)', async () => {
    const dir = await project();
    await record(req(dir, at(0.98)));
    const before = await readFile(file(dir), 'utf8');
    const out = await check(req(dir, at(0.98), 'read'));
    expect(await readFile(file(dir), 'utf8')).toBe(before);
    expect(out.report.history?.map((l) => l.command)).toEqual(['record', 'check']);
  });
});

describe('slow decay', () => {
  const line = (mean: number, lower: number | null, upper: number | null): HistoryLine => ({
    v: 1,
    time: '2026-12-01T00:00:00.000Z',
    commit: null,
    command: 'check',
    verdict: 'equivalent',
    metrics: { loss: { mean, sd: 0, n: 5, lower, upper } },
    environment: '0'.repeat(64),
  });

  it('warns on a monotone rise toward an upper edge, not on a wobble or toward an unbounded side', () => {
    expect(
      slowDecay(
        [0.3, 0.31, 0.32].map((m) => line(m, 0.28, 0.33)),
        3,
      ),
    ).toEqual(['loss rose in each of the last 3 runs: 0.3 → 0.32, margin edge 0.33.']);
    expect(
      slowDecay(
        [0.3, 0.32, 0.31].map((m) => line(m, 0.28, 0.33)),
        3,
      ),
    ).toEqual([]);
    expect(
      slowDecay(
        [0.3, 0.31, 0.32].map((m) => line(m, 0.28, null)),
        3,
      ),
    ).toEqual([]);
    expect(
      slowDecay(
        [0.31, 0.32].map((m) => line(m, 0.28, 0.33)),
        3,
      ),
    ).toEqual([]);
  });
});

describe('repro-gate history', () => {
  it('shows the runs for one metric, and refuses an unknown one naming the known', async () => {
    const dir = await project();
    await record(req(dir, at(0.98)));
    await check(req(dir, at(0.979)));
    const view = await showHistory({ configPath: 'repro-gate.yml', cwd: dir, metric: 'accuracy' });
    expect(view.runs.map((r) => r.command)).toEqual(['record', 'check']);
    await expect(showHistory({ configPath: 'repro-gate.yml', cwd: dir, metric: 'acc' })).rejects.toThrow(
      'No run in .repro-gate/history.jsonl has a metric "acc".',
    );
  });

  it('prints a table per metric, or one JSON document (the built CLI)', async () => {
    const dir = await project();
    await record(req(dir, at(0.98)));
    await check(req(dir, at(0.979)));
    const text = await runCli(['history'], dir);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Metrics history: .repro-gate/history.jsonl (2 runs)');
    // Aligned columns in the terminal.
    expect(text.stdout).toMatch(/^\S+ {2}— {7}check {4}equivalent {2}0\.979 ± 4\.0e−4 \(3\) {2}\[0\.97, ∞\]$/m);
    const json = await runCli(['history', '--json', '--metric', 'accuracy'], dir);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ file: '.repro-gate/history.jsonl', skipped: [], warnings: [] });
  });

  it('says how to turn it on when the config keeps no history', async () => {
    const dir = await project();
    await writeFile(path.join(dir, 'repro-gate.yml'), CONFIG.replace(/history:.*\n/, ''));
    await expect(showHistory({ configPath: 'repro-gate.yml', cwd: dir })).rejects.toThrow(
      'repro-gate.yml keeps no metrics history.',
    );
  });
});

describe('history.html', () => {
  it('draws one SVG per metric with the margin edges, escaping names, with no script or link', () => {
    const line = (mean: number, i: number): HistoryLine => ({
      v: 1,
      time: `2026-11-2${i}T03:17:00.000Z`,
      commit: null,
      command: 'check',
      verdict: 'equivalent',
      metrics: { '<b>acc</b>': { mean, sd: 0.001, n: 5, lower: 0.97, upper: null }, loss: { mean: 0.3, sd: 0, n: 5 } },
      environment: '0'.repeat(64),
    });
    const page = renderHistoryHtml('.repro-gate/history.jsonl', [0.98, 0.979, 0.978].map(line));
    expect(page.match(/<svg /g)).toHaveLength(2);
    expect(page).toContain('<figcaption>&#60;b&#62;acc&#60;/b&#62;</figcaption>');
    expect(page).not.toContain('<b>');
    expect(page.match(/<polyline class="edge"/g)).toHaveLength(1); // only acc has an edge, and only the lower one
    expect(page.match(/<circle class="pass"/g)).toHaveLength(6);
    expect(page).not.toMatch(/<script|https?:\/\//);
  });
});
