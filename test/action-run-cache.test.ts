/**
 * The action's run cache against real parts: the real `@actions/cache` (service v2) talking to a
 * local fake of GitHub's cache service, which stores the archives in Azurite. Plus the pure plan:
 * when the action caches, and when it only restores.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cache from '@actions/cache';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACTIONS_KEY_PREFIX, ActionsRunCache, actionsRunCache, runCachePlan } from '../src/action/run-cache.js';
import { FakeActionsCache } from './helpers/fake-actions-cache.js';

const on = { cache: true };
const available = { available: true };

describe('runCachePlan', () => {
  it('reads and writes on push and pull_request runs', () => {
    for (const event of ['push', 'pull_request', 'schedule', 'workflow_dispatch', 'merge_group']) {
      expect(runCachePlan(event, on, available)).toEqual({ use: true, restore: true });
    }
  });

  it('only restores where the run writes the default branch scope for other code', () => {
    for (const event of ['pull_request_target', 'workflow_run', 'issue_comment']) {
      const plan = runCachePlan(event, on, available);
      expect(plan).toMatchObject({ use: true, restore: true });
      expect(plan.use && plan.readOnlyReason).toMatch(new RegExp(`${event} run .*poison`));
    }
  });

  it('follows the runner ACTIONS_CACHE_MODE', () => {
    expect(runCachePlan('push', on, { ...available, cacheMode: 'read' })).toEqual({
      use: true,
      restore: true,
      readOnlyReason: 'ACTIONS_CACHE_MODE is "read"',
    });
    expect(runCachePlan('push', on, { ...available, cacheMode: 'write-only' })).toEqual({ use: true, restore: false });
    expect(runCachePlan('push', on, { ...available, cacheMode: ' None ' })).toMatchObject({ use: false, notice: true });
    // Unknown modes are permissive, as in @actions/cache.
    expect(runCachePlan('push', on, { ...available, cacheMode: 'bogus' })).toEqual({ use: true, restore: true });
  });

  it('is off when disabled by input (quietly) or when there is no cache service (with a notice)', () => {
    expect(runCachePlan('push', { cache: false }, available)).toMatchObject({ use: false, notice: false });
    const plan = runCachePlan('push', on, { available: false });
    expect(plan).toMatchObject({ use: false, notice: true });
    expect(!plan.use && plan.reason).toMatch(/ACTIONS_RESULTS_URL/);
  });
});

const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);
const entryText = (seed: number) => JSON.stringify({ seed, metrics: { accuracy: 0.9 + seed / 100 } });

describe('ActionsRunCache through @actions/cache, a fake cache service and Azurite', () => {
  let fake: FakeActionsCache;
  let root: string;
  const savedEnv = { ...process.env };

  beforeAll(async () => {
    fake = await FakeActionsCache.start();
  });
  afterAll(async () => {
    await fake?.close();
  });

  beforeEach(() => {
    const base = mkdtempSync(join(tmpdir(), 'rg-run-cache-'));
    root = join(base, 'temp', 'repro-gate-cache');
    mkdirSync(join(base, 'workspace'));
    mkdirSync(join(base, 'temp'));
    Object.assign(process.env, fake.env(), {
      GITHUB_WORKSPACE: join(base, 'workspace'),
      RUNNER_TEMP: join(base, 'temp'),
      GITHUB_SERVER_URL: 'https://github.com',
    });
    delete process.env.ACTIONS_CACHE_MODE;
    fake.calls.length = 0;
    fake.entries.length = 0;
    fake.breakUploads = false;
  });
  afterEach(() => {
    process.env = { ...savedEnv };
  });

  it('round-trips an entry under its exact key', async () => {
    const store = new ActionsRunCache({ root });
    expect(store.kind).toBe('actions');
    expect(store.readOnlyReason).toBeUndefined();
    expect(await store.put(KEY_A, entryText(1))).toBeUndefined();
    expect(fake.entries).toEqual([expect.objectContaining({ key: ACTIONS_KEY_PREFIX + KEY_A, committed: true })]);
    expect(fake.callsTo('FinalizeCacheEntryUpload')).toHaveLength(1);

    // A fresh store (the next run) reads it back through the service and Azurite.
    expect(await new ActionsRunCache({ root }).get(KEY_A)).toBe(entryText(1));
    const lookups = fake.callsTo('GetCacheEntryDownloadURL');
    expect(lookups.at(-1)?.body).toMatchObject({ key: ACTIONS_KEY_PREFIX + KEY_A });
    expect(lookups.at(-1)?.body.restore_keys).toBeUndefined();
  });

  it('misses with undefined for a key never saved', async () => {
    const store = new ActionsRunCache({ root });
    await store.put(KEY_A, entryText(1));
    expect(await store.get(KEY_B)).toBeUndefined();
    expect(fake.callsTo('GetCacheEntryDownloadURL').at(-1)?.response).toEqual({ ok: false });
  });

  it('treats a prefix match (another key) as a miss', async () => {
    // An entry under a longer key saved from the same folder: the service matches it by prefix.
    const dir = join(root, KEY_A);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'entry.json'), entryText(9));
    expect(await cache.saveCache([dir], `${ACTIONS_KEY_PREFIX}${KEY_A}-other`)).toBeGreaterThan(0);

    expect(await new ActionsRunCache({ root }).get(KEY_A)).toBeUndefined();
    expect(fake.callsTo('GetCacheEntryDownloadURL').at(-1)?.response).toMatchObject({
      ok: true,
      matched_key: `${ACTIONS_KEY_PREFIX}${KEY_A}-other`,
    });
  });

  it('misses an entry staged under another folder (the folder is part of the entry version)', async () => {
    await new ActionsRunCache({ root }).put(KEY_A, entryText(1));
    expect(await new ActionsRunCache({ root: `${root}-elsewhere` }).get(KEY_A)).toBeUndefined();
    expect(fake.callsTo('GetCacheEntryDownloadURL').at(-1)?.response).toEqual({ ok: false });
  });

  it('does not save a key that is already stored (entries are immutable)', async () => {
    const store = new ActionsRunCache({ root });
    expect(await store.put(KEY_A, entryText(1))).toBeUndefined();
    expect(await store.put(KEY_A, entryText(2))).toBeUndefined();
    expect(fake.callsTo('CreateCacheEntry')).toHaveLength(1);
    expect(await store.get(KEY_A)).toBe(entryText(1));
  });

  it('restore-only never writes, but still reads', async () => {
    await new ActionsRunCache({ root }).put(KEY_A, entryText(1));
    const calls = fake.calls.length;
    const readOnly = new ActionsRunCache({ root, readOnlyReason: 'a pull_request_target run' });
    expect(readOnly.readOnlyReason).toBe('a pull_request_target run');
    expect(await readOnly.put(KEY_B, entryText(2))).toBeUndefined();
    expect(fake.calls.slice(calls)).toEqual([]);
    expect(await readOnly.get(KEY_A)).toBe(entryText(1));
    expect(fake.callsTo('CreateCacheEntry')).toHaveLength(1);
  });

  it('with restore off (ACTIONS_CACHE_MODE=write-only) asks the service nothing on get', async () => {
    const store = new ActionsRunCache({ root, restore: false });
    expect(await store.put(KEY_A, entryText(1))).toBeUndefined();
    const calls = fake.calls.length;
    expect(await store.get(KEY_A)).toBeUndefined();
    expect(fake.calls.length).toBe(calls);
  });

  it('turns a failed save into a warning, and a save colliding with a reservation too', async () => {
    const store = new ActionsRunCache({ root });
    fake.breakUploads = true;
    const failed = await store.put(KEY_A, entryText(1));
    expect(failed).toMatch(/^run cache: entry a{12} was not saved/);
    expect(fake.entries).toEqual([expect.objectContaining({ committed: false })]);
    expect(await store.get(KEY_A)).toBeUndefined();

    // The key is still reserved (as when another job is uploading it): the service refuses.
    fake.breakUploads = false;
    expect(await store.put(KEY_A, entryText(1))).toMatch(/another job may be saving the same key/);
    expect(fake.callsTo('CreateCacheEntry').at(-1)).toMatchObject({ status: 409 });
  });

  it('ignores an entry whose stored archive was overwritten with garbage', async () => {
    const store = new ActionsRunCache({ root });
    await store.put(KEY_A, entryText(1));
    await fake.overwrite(ACTIONS_KEY_PREFIX + KEY_A, Buffer.from('not an archive'));
    expect(await store.get(KEY_A)).toBeUndefined();
  });

  it("hands back what the stored archive holds: judging an entry is the gate's job", async () => {
    const store = new ActionsRunCache({ root });
    await store.put(KEY_A, entryText(1));
    await fake.editEntry(ACTIONS_KEY_PREFIX + KEY_A, 'entry.json', (text) => text.replace('"seed":1', '"seed":7'));
    expect(await store.get(KEY_A)).toBe(entryText(1).replace('"seed":1', '"seed":7'));
  });

  it('never throws on a malformed key', async () => {
    const store = new ActionsRunCache({ root });
    expect(await store.get('nothex,')).toBeUndefined();
    expect(await store.put('nothex,', 'x')).toMatch(/not 64 hex digits/);
    expect(fake.calls).toEqual([]);
  });

  it('actionsRunCache: a store when the service is there, a notice and none when not', async () => {
    expect(actionsRunCache('pull_request_target', on)).toMatchObject({
      kind: 'actions',
      readOnlyReason: expect.stringMatching(/poison/),
    });
    delete process.env.ACTIONS_RESULTS_URL;
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(actionsRunCache('push', on)).toBeUndefined();
      expect(write.mock.calls.map((c) => String(c[0])).join('')).toMatch(
        /^::notice::repro-gate: run cache off: the GitHub Actions cache service is not available/m,
      );
    } finally {
      write.mockRestore();
    }
  });
});
