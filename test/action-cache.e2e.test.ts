/**
 * End to end: the built bundle with its run cache on GitHub's cache service, here a local fake of
 * the service (test/helpers/fake-actions-cache.ts) storing archives in Azurite, pointed at by the
 * variables a runner sets. Real gate, real Python training of the bundled example (exact mode, 2
 * seeds), a git repository as actions/checkout leaves it. Needs no Docker.
 *
 * One project goes through the life of a pull request: the first check trains and saves, a
 * README-only commit reuses every seed, a data change retrains, and a tampered entry is ignored.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTIONS_KEY_PREFIX } from '../src/action/run-cache.js';
import type { Report } from '../src/schema/report.js';
import { FakeActionsCache } from './helpers/fake-actions-cache.js';
import { FakeGitHub, TOKENS } from './helpers/fake-github.js';
import { copyExample, git } from './helpers/project.js';
import { buildBundle, pullRequestEvent, type RunActionOptions, runAction } from './helpers/run-action.js';

const CONFIG = 'repro-gate.exact.yml';

let bundle: string;
let gh: FakeGitHub;
let cache: FakeActionsCache;
let workspace: string;
/** The same folder for every run, as on a hosted runner: the cache version includes this path. */
let runnerTemp: string;

beforeAll(async () => {
  bundle = buildBundle();
  [gh, cache] = await Promise.all([FakeGitHub.start(), FakeActionsCache.start()]);
  workspace = await copyExample();
  runnerTemp = join(mkdtempSync(join(tmpdir(), 'rg-cache-e2e-')), 'runner-temp');
  // The base branch: a baseline recorded by the action (without the cache), committed.
  const rec = await action(
    { event: { name: 'push', payload: { ref: 'refs/heads/main' } } },
    { command: 'record', cache: 'false' },
  );
  expect(rec.exitCode, rec.stdout).toBe(0);
  git(workspace, 'add', '-A');
  git(workspace, 'commit', '-qm', 'baseline');
}, 180_000);

afterAll(async () => {
  await Promise.all([gh?.close(), cache?.close()]);
});

function action(over: RunActionOptions, inputs: Record<string, string> = {}) {
  return runAction({
    bundle,
    apiUrl: gh.url,
    workspace,
    event: pullRequestEvent(7),
    timeoutMs: 120_000,
    ...over,
    env: { ...cache.env(), RUNNER_TEMP: runnerTemp, ...over.env },
    inputs: { 'github-token': TOKENS.installation, config: CONFIG, ...inputs },
  });
}

function reportOf(r: { outputs: Record<string, string> }): Report {
  return JSON.parse(readFileSync(r.outputs['report-json']!, 'utf8')) as Report;
}

function commit(file: string, edit: (text: string) => string, message: string): void {
  const path = join(workspace, file);
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  expect(after).not.toBe(before);
  writeFileSync(path, after);
  git(workspace, 'commit', '-qam', message);
}

function changed(before: string, after: string): string {
  expect(after).not.toBe(before);
  return after;
}

const created = () => cache.callsTo('CreateCacheEntry').length;
const hits = () => cache.callsTo('GetCacheEntryDownloadURL').filter((c) => (c.response as { ok: boolean }).ok).length;

describe('the run cache in the action (built bundle, fake cache service, Azurite)', () => {
  let first: Report;

  it('first check: trains every seed and saves one entry per seed', { timeout: 120_000 }, async () => {
    const r = await action({});
    expect(r.errors).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.outputs.verdict).toBe('reproducible');
    first = reportOf(r);
    expect(first.cache).toMatchObject({ store: 'actions', reused: [] });
    expect(first.cache?.trained).toHaveLength(2);
    expect(created()).toBe(2);
    const entryKey = expect.stringMatching(new RegExp(`^${ACTIONS_KEY_PREFIX}[0-9a-f]{64}$`));
    expect(cache.entries.filter((e) => e.committed).map((e) => e.key)).toEqual([entryKey, entryKey]);
    expect(hits()).toBe(0);
  });

  it('README-only commit: trains no seed, reuses both, same verdict, and says so', { timeout: 120_000 }, async () => {
    commit('README.md', (t) => `${t}\nA line about nothing that affects training.\n`, 'docs');
    const before = created();
    const r = await action({});
    expect(r.errors).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.outputs.verdict).toBe(first.verdict);
    const report = reportOf(r);
    expect(report.cache).toEqual({ ...first.cache, trained: [], reused: first.cache?.trained });
    expect(report.metrics).toEqual(first.metrics);
    expect(report.summary).toMatch(/All 2 seeds reused from the run cache \(key [0-9a-f]{12}\)/);
    expect(r.summary).toMatch(/Run cache \(actions, key `[0-9a-f]{12}`\): trained /);
    expect(r.stdout).toMatch(/seed \d+: reused from the actions run cache/);
    expect(hits()).toBe(2);
    expect(created()).toBe(before);
  });

  it('data change: retrains and saves new entries under a new key', { timeout: 120_000 }, async () => {
    commit('data/wdbc.csv', (t) => t.replace(/\n[^\n]+\n?$/, '\n'), 'drop the last row');
    const before = created();
    const hitsBefore = hits();
    const r = await action({});
    expect(r.outputs.verdict).toBe('mismatch');
    const report = reportOf(r);
    expect(report.cache?.key).not.toBe(first.cache?.key);
    expect(report.cache).toMatchObject({ reused: [], trained: first.cache?.trained });
    expect(hits()).toBe(hitsBefore);
    expect(created()).toBe(before + 2);
    git(workspace, 'revert', '--no-edit', 'HEAD');
  });

  it('a pull_request_target run restores but never saves', { timeout: 120_000 }, async () => {
    commit('params.json', (t) => t.replace('"l2": 0.01,', '"l2": 0.02,'), 'more weight decay');
    const before = created();
    // The base branch's own commit checked out, so training on the runner is allowed.
    const head = git(workspace, 'rev-parse', 'HEAD').trim();
    const r = await action({
      event: { ...pullRequestEvent(7), name: 'pull_request_target' },
      env: { GITHUB_SHA: head },
    });
    expect(r.outputs.verdict).toBe('mismatch');
    expect(reportOf(r).cache).toMatchObject({ store: 'actions', reused: [], trained: first.cache?.trained });
    expect(r.stdout).toMatch(/run cache is restore-only: a pull_request_target run/);
    expect(cache.callsTo('GetCacheEntryDownloadURL').length).toBeGreaterThan(0);
    expect(created()).toBe(before);
    git(workspace, 'revert', '--no-edit', 'HEAD');
  });

  it('tampered entries are ignored with a warning, and those seeds train again', { timeout: 120_000 }, async () => {
    // The first check's entries (the data change is reverted, so its keys are current again).
    const [forged, moved] = cache.entries.filter((e) => e.committed);
    await cache.editEntry(forged!.key, 'entry.json', (t) =>
      changed(t, t.replace(/"accuracy":[-0-9.e]+/, '"accuracy":"0.99"')),
    );
    // Well-formed, but naming another key: an entry must not stand in for another one.
    await cache.editEntry(moved!.key, 'entry.json', (t) =>
      t.replace(/"key":"[0-9a-f]{64}"/, `"key":"${'0'.repeat(64)}"`),
    );

    const r = await action({});
    expect(r.outputs.verdict).toBe('reproducible');
    const report = reportOf(r);
    expect(report.cache).toMatchObject({ key: first.cache?.key, reused: [] });
    expect(report.cache?.trained).toHaveLength(2);
    const ignored = r.warnings.filter((w) => /was ignored and the seed trained instead/.test(w));
    expect(ignored).toHaveLength(2);
    // Retrained seeds find their keys already stored: nothing to save, nothing more to say.
    expect(r.warnings).toEqual(ignored);
    expect(ignored.join('\n')).toMatch(/does not match the entry format/);
    expect(ignored.join('\n')).toMatch(/stored under another key/);
    expect(report.warnings.map((w) => w.code)).toContain('cache-entry-ignored');
  });
});
