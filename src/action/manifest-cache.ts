/**
 * Data manifests in the GitHub Actions cache: a pull request's run finds the base branch's manifest
 * (saved by the run that recorded the baseline) without anyone committing it. Layered over the
 * local folder store: a manifest restored once is read from `.repro-gate/manifests/` after that.
 * Entries are keyed by the manifest's root and verified against it by the reader, so a restored
 * entry is never trusted for more than its hash says.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as cache from '@actions/cache';
import * as core from '@actions/core';
import { localManifestStore, type ManifestStore } from '../gate/index.js';
import { runCachePlan } from './run-cache.js';

export const MANIFEST_KEY_PREFIX = 'repro-gate-manifest-v1-';
const ROOT = /^[0-9a-f]{64}$/;

export interface ActionsManifestOptions {
  /** Set when this run may only restore (see runCachePlan): saves are skipped. */
  readOnly?: boolean;
  /** Where entries are staged; default `$RUNNER_TEMP/repro-gate-manifests`. */
  staging?: string;
}

/** `local` first; a miss is restored from the Actions cache into it; a new manifest is saved to both. */
export function actionsManifestStore(local: ManifestStore, opts: ActionsManifestOptions = {}): ManifestStore {
  const staging = opts.staging ?? join(process.env.RUNNER_TEMP || tmpdir(), 'repro-gate-manifests');
  const fileName = (root: string) => `${root}.json.gz`;

  async function restore(root: string): Promise<boolean> {
    if (!ROOT.test(root)) return false;
    const dir = join(staging, root);
    try {
      await rm(dir, { recursive: true, force: true });
      await mkdir(dir, { recursive: true });
      const key = MANIFEST_KEY_PREFIX + root;
      // Exact key only: the service also matches keys that merely start with this one.
      if ((await cache.restoreCache([dir], key)) !== key) return false;
      await local.put(root, await readFile(join(dir, fileName(root))));
      return true;
    } catch (err) {
      core.info(
        `repro-gate: manifest ${root.slice(0, 12)} could not be restored from the cache: ${(err as Error).message}`,
      );
      return false;
    } finally {
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  }

  return {
    where: (root) => `${local.where(root)} (or the Actions cache entry ${MANIFEST_KEY_PREFIX}${root.slice(0, 12)}…)`,
    async has(root) {
      return (await local.has(root)) || (await restore(root));
    },
    async get(root) {
      return (await local.get(root)) ?? ((await restore(root)) ? local.get(root) : undefined);
    },
    async put(root, bytes) {
      await local.put(root, bytes);
      if (opts.readOnly || !ROOT.test(root)) return;
      const dir = join(staging, root);
      const key = MANIFEST_KEY_PREFIX + root;
      try {
        await rm(dir, { recursive: true, force: true });
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, fileName(root)), bytes);
        // Content-addressed: a key already stored holds the same bytes.
        if ((await cache.restoreCache([dir], key, [], { lookupOnly: true })) === key) return;
        if ((await cache.saveCache([dir], key)) === -1)
          core.warning(`repro-gate: manifest ${root.slice(0, 12)} was not saved to the Actions cache (see above).`);
      } catch (err) {
        core.warning(
          `repro-gate: manifest ${root.slice(0, 12)} was not saved to the Actions cache: ${(err as Error).message}`,
        );
      } finally {
        await rm(dir, { recursive: true, force: true }).catch(() => {});
      }
    },
  };
}

/**
 * The manifest store for this run: through the Actions cache when the run cache's plan allows it
 * (the same scoping rules: restore-only outside push/pull_request/… events), else the local folder.
 */
export function actionsManifestRequest(
  event: string,
  inputs: { cache: boolean },
): { manifestStore?: (stateDir: string) => ManifestStore } {
  const plan = runCachePlan(event, inputs, {
    available: cache.isFeatureAvailable(),
    cacheMode: process.env.ACTIONS_CACHE_MODE,
  });
  if (!plan.use) return {};
  const readOnly = plan.readOnlyReason !== undefined;
  return { manifestStore: (dir) => actionsManifestStore(localManifestStore(join(dir, 'manifests')), { readOnly }) };
}
