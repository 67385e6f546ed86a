/**
 * run() in-process with the gate mocked: what the action does around a verdict (report files,
 * outputs, summary, sticky comment, fork warning, step status). The built-bundle tests cover the
 * same wiring out of process; these pin the logic while the gate is developed separately.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GateOutcome, GateRequest } from '../src/gate/index.js';
import { GateError } from '../src/util/errors.js';
import { FakeGitHub, TOKENS } from './helpers/fake-github.js';
import { inputEnvName, parseOutputFile, pullRequestEvent } from './helpers/run-action.js';
import { sampleReport } from './helpers/sample-report.js';

const gate = vi.hoisted(() => ({
  runGate: vi.fn<(command: string, req: GateRequest) => Promise<GateOutcome>>(),
  handleCancellation: () => {},
}));
vi.mock('../src/gate/index.js', () => gate);

const { run } = await import('../src/action/main.js');

let gh: FakeGitHub;
let dir: string;
let stdout: string[];
const savedEnv = { ...process.env };
// core.summary caches the summary file's path after its first write, so keep it fixed across tests.
const SUMMARY = join(mkdtempSync(join(tmpdir(), 'rg-main-summary-')), 'summary.md');

function outcome(verdict: GateOutcome['verdict'], summary = `verdict ${verdict}`): GateOutcome {
  const report = sampleReport({ verdict, summary });
  return {
    report,
    verdict,
    exitCode: ['equivalent', 'reproducible', 'no-drift', 'recorded'].includes(verdict) ? 0 : 1,
  };
}

async function runWith(inputs: Record<string, string>, event = pullRequestEvent(7)) {
  writeFileSync(join(dir, 'event.json'), JSON.stringify(event.payload));
  process.env.GITHUB_EVENT_NAME = event.name;
  for (const [k, v] of Object.entries({ 'github-token': TOKENS.installation, ...inputs }))
    process.env[inputEnvName(k)] = v;
  await run();
  const out = stdout.join('');
  const cmds = (kind: string) =>
    out
      .split('\n')
      .filter((l) => l.startsWith(`::${kind}::`))
      .map((l) => l.slice(kind.length + 4));
  return {
    exitCode: process.exitCode,
    outputs: parseOutputFile(readFileSync(join(dir, 'output.txt'), 'utf8')),
    summary: readFileSync(SUMMARY, 'utf8'),
    warnings: cmds('warning'),
    errors: cmds('error'),
  };
}

beforeEach(async () => {
  gh = await FakeGitHub.start();
  dir = mkdtempSync(join(tmpdir(), 'rg-main-'));
  mkdirSync(join(dir, 'ws'));
  mkdirSync(join(dir, 'temp'));
  writeFileSync(join(dir, 'output.txt'), '');
  writeFileSync(SUMMARY, '');
  for (const k of Object.keys(process.env))
    if (k.startsWith('INPUT_') || k.startsWith('GITHUB_')) delete process.env[k];
  Object.assign(process.env, {
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_REPOSITORY: 'acme/ml',
    GITHUB_API_URL: gh.url,
    GITHUB_RUN_ID: '4242',
    GITHUB_WORKSPACE: join(dir, 'ws'),
    GITHUB_OUTPUT: join(dir, 'output.txt'),
    GITHUB_STEP_SUMMARY: SUMMARY,
    RUNNER_TEMP: join(dir, 'temp'),
  });
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    stdout.push(String(s));
    return true;
  });
  gate.runGate.mockReset();
  process.exitCode = undefined;
});

afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
  process.env = { ...savedEnv };
  await gh.close();
});

describe('run() for check / record / drift', () => {
  it('hands the gate the Actions run cache for check and record, none (not even the folder cache) for drift, cache: false or without a cache service', async () => {
    const cacheEnv = {
      ACTIONS_RESULTS_URL: 'http://127.0.0.1:9/',
      ACTIONS_RUNTIME_TOKEN: 't',
      ACTIONS_CACHE_SERVICE_V2: 'true',
    };
    Object.assign(process.env, cacheEnv);
    delete process.env.ACTIONS_CACHE_MODE;
    gate.runGate.mockResolvedValue(outcome('reproducible'));
    const requestOf = async (inputs: Record<string, string>, event = pullRequestEvent(7)) => {
      gate.runGate.mockClear();
      const r = await runWith(inputs, event);
      expect(r.errors).toEqual([]);
      return gate.runGate.mock.calls[0]![1];
    };

    const pr = await requestOf({ command: 'check' });
    expect(pr.runCache).toMatchObject({ kind: 'actions' });
    expect(pr.runCache?.readOnlyReason).toBeUndefined();
    const push = await requestOf({ command: 'record' }, { name: 'push', payload: { ref: 'refs/heads/main' } });
    expect(push.runCache).toMatchObject({ kind: 'actions' });
    expect(await requestOf({ command: 'check', cache: 'false' })).toMatchObject({
      noCache: expect.stringMatching(/run cache is off/),
    });
    expect((await requestOf({ command: 'drift', cache: 'true' })).runCache).toBeUndefined();

    delete process.env.ACTIONS_RESULTS_URL;
    stdout.length = 0;
    expect(await requestOf({ command: 'check', cache: 'true' })).toMatchObject({
      noCache: expect.stringMatching(/run cache is off/),
    });
    expect(stdout.join('')).toMatch(
      /^::notice::repro-gate: run cache off: the GitHub Actions cache service is not available/m,
    );
  });

  it('runs the gate in the working directory and reports a pass everywhere', async () => {
    gate.runGate.mockResolvedValue(outcome('equivalent'));
    const r = await runWith({ command: 'check', 'working-directory': 'ml', config: 'gate.yml' });

    const [command, req] = gate.runGate.mock.calls[0]!;
    expect(command).toBe('check');
    expect(req).toMatchObject({ configPath: 'gate.yml', cwd: join(dir, 'ws', 'ml') });
    expect(JSON.stringify(req)).not.toContain(TOKENS.installation);

    expect(r.exitCode).toBeUndefined();
    expect(r.errors).toEqual([]);
    expect(r.outputs.verdict).toBe('equivalent');
    expect(r.outputs['report-json']).toBe(join(dir, 'temp', 'repro-gate-report.json'));
    expect(r.outputs['report-markdown']).toBe(join(dir, 'temp', 'repro-gate-report.md'));
    const written = JSON.parse(readFileSync(r.outputs['report-json']!, 'utf8'));
    expect(written.pullRequest).toBe(7);
    expect(r.summary).toContain('accuracy');
    expect(gh.commentsOn('acme', 'ml', 7)).toHaveLength(1);
    expect(r.outputs['comment-url']).toMatch(/pull\/7#issuecomment-/);
  });

  it('fails the step in one line when the verdict is in fail-on', async () => {
    gate.runGate.mockResolvedValue(outcome('not-equivalent', 'accuracy dropped\nby 3 points'));
    const r = await runWith({});
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual(['repro-gate: not-equivalent — accuracy dropped by 3 points']);
    expect(gh.commentsOn('acme', 'ml', 7)).toHaveLength(1); // reported before failing
  });

  it('honours fail-on', async () => {
    gate.runGate.mockResolvedValue(outcome('inconclusive'));
    expect((await runWith({ 'fail-on': 'mismatch' })).exitCode).toBeUndefined();
    gate.runGate.mockResolvedValue(outcome('drift'));
    expect((await runWith({ command: 'drift', 'fail-on': 'none' })).exitCode).toBeUndefined();
  });

  it('with a fork read-only token: warns once, still writes summary and file, verdict decides', async () => {
    gate.runGate.mockResolvedValue(outcome('equivalent'));
    const r = await runWith({ 'github-token': TOKENS.fork });
    expect(r.exitCode).toBeUndefined();
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(/read-only.*forks.*command: comment/);
    expect(r.summary).toContain('accuracy');
    expect(JSON.parse(readFileSync(r.outputs['report-json']!, 'utf8')).pullRequest).toBe(7);
    expect(r.outputs['comment-url']).toBe('');

    gate.runGate.mockResolvedValue(outcome('mismatch'));
    const failing = await runWith({ 'github-token': TOKENS.fork });
    expect(failing.exitCode).toBe(1);
    expect(failing.errors).toEqual(['repro-gate: mismatch — verdict mismatch']);
  });

  it('does not comment outside pull requests or with comment: never', async () => {
    gate.runGate.mockResolvedValue(outcome('equivalent'));
    const push = await runWith({}, { name: 'push', payload: { ref: 'refs/heads/main' } });
    expect(push.exitCode).toBeUndefined();
    expect(JSON.parse(readFileSync(push.outputs['report-json']!, 'utf8')).pullRequest).toBeUndefined();
    await runWith({ comment: 'never' });
    expect(gh.requests).toHaveLength(0);
  });

  it('fits a huge report into one comment, pointing to the job summary for the rest', async () => {
    const big = outcome('drift');
    big.report.drift.environment = Array.from({ length: 3000 }, (_, i) => ({
      key: `pkg.package-${i}`,
      change: 'modified' as const,
      before: `1.${i}.0`,
      after: `2.${i}.0`,
    }));
    gate.runGate.mockResolvedValue(big);
    const r = await runWith({ command: 'drift' });
    const body = gh.commentsOn('acme', 'ml', 7)[0]!.body;
    expect(body.length).toBeLessThanOrEqual(65_536);
    expect(body).toContain('[job summary](https://github.com/acme/ml/actions/runs/4242)');
    expect(r.summary).toContain('package-2999');
    expect(r.summary.length).toBeGreaterThan(65_536);
  });

  it('writes the report where report-file says, relative to the workspace', async () => {
    gate.runGate.mockResolvedValue(outcome('equivalent'));
    const r = await runWith({ 'report-file': 'out/gate.json' });
    expect(r.outputs['report-json']).toBe(join(dir, 'ws', 'out', 'gate.json'));
    expect(r.outputs['report-markdown']).toBe(join(dir, 'ws', 'out', 'gate.md'));
  });

  it('turns a GateError into one failure message without a stack', async () => {
    gate.runGate.mockRejectedValue(
      new GateError('baseline not found: .repro-gate/baseline.json', 'run `repro-gate record` first'),
    );
    const r = await runWith({});
    expect(r.exitCode).toBe(1);
    expect(r.errors).toEqual([
      'repro-gate: baseline not found: .repro-gate/baseline.json%0A  → run `repro-gate record` first',
    ]);
    expect(stdout.join('')).not.toMatch(/at .*\.ts:\d+/);
  });

  it('reports unexpected errors as a failure too', async () => {
    gate.runGate.mockRejectedValue(new TypeError('boom'));
    const r = await runWith({});
    expect(r.errors).toEqual(['repro-gate: boom']);
  });

  it('rejects bad inputs before running anything', async () => {
    const r = await runWith({ 'fail-on': 'mismach' });
    expect(r.exitCode).toBe(1);
    expect(r.errors[0]).toMatch(/^repro-gate: Input "fail-on": unknown verdict "mismach"/);
    expect(gate.runGate).not.toHaveBeenCalled();
  });
});
