/**
 * Data manifests through the real `@actions/cache` against the fake cache service and Azurite: the
 * run that records saves a manifest; another run (a pull request, a fresh runner) restores it by
 * its root into its local folder; a restore-only run saves nothing.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { actionsManifestStore, MANIFEST_KEY_PREFIX } from '../src/action/manifest-cache.js';
import { localManifestStore } from '../src/baseline/manifest-store.js';
import { FakeActionsCache } from './helpers/fake-actions-cache.js';

const ROOT_A = 'a'.repeat(64);
const ROOT_B = 'b'.repeat(64);
const bytes = (s: string) => new TextEncoder().encode(s);

describe('manifests in the Actions cache', () => {
  let fake: FakeActionsCache;
  let base = '';
  const savedEnv = { ...process.env };
  /** A runner's own folder store, as a fresh checkout has it (empty). */
  const folder = (name: string) => localManifestStore(join(base, name, '.repro-gate', 'manifests'));

  beforeAll(async () => {
    fake = await FakeActionsCache.start();
  });
  afterAll(async () => {
    await fake?.close();
  });
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'rg-manifest-cache-'));
    mkdirSync(join(base, 'temp'));
    Object.assign(process.env, fake.env(), {
      RUNNER_TEMP: join(base, 'temp'),
      GITHUB_SERVER_URL: 'https://github.com',
    });
    delete process.env.ACTIONS_CACHE_MODE;
    fake.calls.length = 0;
    fake.entries.length = 0;
  });
  afterEach(() => {
    process.env = { ...savedEnv };
  });

  it('saves a manifest under its root and restores it on another runner', async () => {
    const recorder = actionsManifestStore(folder('main'));
    await recorder.put(ROOT_A, bytes('manifest A'));
    expect(fake.entries).toEqual([expect.objectContaining({ key: MANIFEST_KEY_PREFIX + ROOT_A, committed: true })]);

    const prLocal = folder('pr');
    const pr = actionsManifestStore(prLocal);
    expect(await prLocal.has(ROOT_A)).toBe(false);
    expect(await pr.has(ROOT_A)).toBe(true);
    expect(new TextDecoder().decode(await pr.get(ROOT_A))).toBe('manifest A');
    // Restored into the local folder: read from there from now on.
    expect(await prLocal.has(ROOT_A)).toBe(true);
    expect(await pr.has(ROOT_B)).toBe(false);
    expect(await pr.get(ROOT_B)).toBeUndefined();
  });

  it('saves a root only once, and nothing from a restore-only run', async () => {
    await actionsManifestStore(folder('one')).put(ROOT_A, bytes('A'));
    await actionsManifestStore(folder('two')).put(ROOT_A, bytes('A'));
    expect(fake.callsTo('CreateCacheEntry')).toHaveLength(1);
    await actionsManifestStore(folder('three'), { readOnly: true }).put(ROOT_B, bytes('B'));
    expect(fake.entries.map((e) => e.key)).toEqual([MANIFEST_KEY_PREFIX + ROOT_A]);
    // The restore-only run still keeps it locally.
    expect(await folder('three').has(ROOT_B)).toBe(true);
  });
});
