/**
 * The run cache in the action: one GitHub Actions cache entry per seed result, through
 * `@actions/cache`. Entries are immutable on GitHub's side (a second save of a key fails), scoped
 * to the ref that saved them, and restored by exact key only: `restoreCache` also matches keys
 * that merely start with the one asked for, so a hit under another key is treated as a miss.
 * Whether to cache at all, and whether to save, is decided by `runCachePlan` (pure).
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cache from '@actions/cache';
import * as core from '@actions/core';
import type { RunCacheStore } from '../cache/types.js';

/** Bump when the entry's layout on the cache service changes, so old entries are never read. */
export const ACTIONS_KEY_PREFIX = 'repro-gate-run-v1-';
const ENTRY_FILE = 'entry.json';
const KEY = /^[0-9a-f]{64}$/;

/**
 * Events whose cache entries are scoped to the code they train: a push or schedule writes its own
 * branch's scope, a pull_request its merge ref's. Other events (pull_request_target, workflow_run,
 * issue_comment, …) run in the default branch's scope, often on code from a pull request, so an
 * entry they saved would be served to every branch: they only restore.
 */
const WRITING_EVENTS = new Set(['push', 'pull_request', 'merge_group', 'schedule', 'workflow_dispatch']);

export interface RunCacheEnv {
  /** `cache.isFeatureAvailable()`: the runner gave this job a cache service. */
  available: boolean;
  /** The runner's ACTIONS_CACHE_MODE (none, read, write, write-only; unset = write). */
  cacheMode?: string;
}

export type RunCachePlan =
  | { use: false; reason: string; notice: boolean }
  | { use: true; readOnlyReason?: string; restore: boolean };

/** Pure: whether this run uses the Actions cache, and whether it may save to it. */
export function runCachePlan(event: string, inputs: { cache: boolean }, env: RunCacheEnv): RunCachePlan {
  if (!inputs.cache) return { use: false, reason: 'input "cache" is false, so every seed trains', notice: false };
  if (!env.available) {
    return {
      use: false,
      reason:
        'the GitHub Actions cache service is not available to this run (no ACTIONS_RESULTS_URL or ACTIONS_CACHE_URL), so every seed trains',
      notice: true,
    };
  }
  // The same lattice @actions/cache applies; unknown values are permissive like there.
  const mode = (env.cacheMode ?? '').trim().toLowerCase();
  if (mode === 'none') {
    return { use: false, reason: 'ACTIONS_CACHE_MODE is "none", so every seed trains', notice: true };
  }
  const restore = mode !== 'write-only';
  if (mode === 'read') return { use: true, restore, readOnlyReason: 'ACTIONS_CACHE_MODE is "read"' };
  if (!WRITING_EVENTS.has(event)) {
    return {
      use: true,
      restore,
      readOnlyReason: `a ${event} run uses the default branch's cache scope, and saving there could poison it for every branch`,
    };
  }
  return { use: true, restore };
}

export class ActionsRunCache implements RunCacheStore {
  readonly kind = 'actions';
  readonly readOnlyReason?: string;
  private readonly root: string;
  private readonly restore: boolean;

  /** root: where entries are staged; default `$RUNNER_TEMP/repro-gate-cache`. */
  constructor(opts: { readOnlyReason?: string; restore?: boolean; root?: string } = {}) {
    if (opts.readOnlyReason) this.readOnlyReason = opts.readOnlyReason;
    this.restore = opts.restore ?? true;
    this.root = opts.root ?? join(process.env.RUNNER_TEMP || tmpdir(), 'repro-gate-cache');
  }

  async get(key: string): Promise<string | undefined> {
    if (!this.restore || !KEY.test(key)) return undefined;
    // The folder is part of the entry's version, so it is the same path on save and restore;
    // emptied first so nothing but the restored archive can be read from it.
    const dir = join(this.root, key);
    try {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const full = ACTIONS_KEY_PREFIX + key;
      const matched = await cache.restoreCache([dir], full);
      if (matched !== full) return undefined;
      return await readFile(join(dir, ENTRY_FILE), 'utf8');
    } catch (err) {
      // restoreCache reports service failures itself and returns undefined; this is the rest.
      core.warning(`repro-gate: run cache entry ${key.slice(0, 12)} could not be restored: ${errorText(err)}`);
      return undefined;
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  }

  async put(key: string, text: string): Promise<string | undefined> {
    if (this.readOnlyReason) return undefined;
    if (!KEY.test(key)) return `run cache: not saved: key ${JSON.stringify(key)} is not 64 hex digits`;
    const dir = join(this.root, key);
    try {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, ENTRY_FILE), text);
      const full = ACTIONS_KEY_PREFIX + key;
      // Entries are immutable: when this key is already stored (a check ran these seeds before a
      // record did), there is nothing to save and no reason to warn.
      if ((await cache.restoreCache([dir], full, [], { lookupOnly: true })) === full) return undefined;
      // saveCache logs why it failed and returns -1; it throws only for invalid arguments.
      if ((await cache.saveCache([dir], full)) === -1) {
        return (
          `run cache: entry ${key.slice(0, 12)} was not saved: another job may be saving the same key ` +
          '(then nothing is lost), or the cache service refused it (see the messages above)'
        );
      }
      return undefined;
    } catch (err) {
      return `run cache: entry ${key.slice(0, 12)} was not saved: ${errorText(err)}`;
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  }
}

/** The store the plan asks for, or undefined (after saying why) when the run trains every seed. */
export function actionsRunCache(event: string, inputs: { cache: boolean }): RunCacheStore | undefined {
  const plan = runCachePlan(event, inputs, {
    available: cache.isFeatureAvailable(),
    cacheMode: process.env.ACTIONS_CACHE_MODE,
  });
  if (!plan.use) {
    (plan.notice ? core.notice : core.info)(`repro-gate: run cache off: ${plan.reason}.`);
    return undefined;
  }
  if (plan.readOnlyReason) core.info(`repro-gate: run cache is restore-only: ${plan.readOnlyReason}.`);
  return new ActionsRunCache({ readOnlyReason: plan.readOnlyReason, restore: plan.restore });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
