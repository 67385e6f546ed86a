/**
 * The run cache as the verbs use it: a seed's result is looked up by a key over everything that
 * could change it (cache/key.ts), reused only after the same strict validation as a baseline, and
 * saved after training. Anything wrong with an entry is a warning and a retraining, never an error.
 */
import path from 'node:path';
import picomatch from 'picomatch';
import { runKey, runKeyParts, seedKey } from '../cache/key.js';
import type { RunCacheStore } from '../cache/types.js';
import { resultFacts } from '../drift/relevance.js';
import { codeTree } from '../fingerprint/git.js';
import type { Fingerprints, RunRecord } from '../schema/baseline.js';
import { RUN_CACHE_ENTRY_VERSION, type RunCacheEntry, runCacheEntrySchema } from '../schema/cache.js';
import type { CacheUse, ReportWarning } from '../schema/report.js';
import { shortHash } from '../util/format.js';
import { toPosix } from '../util/paths.js';
import { TOOL_VERSION } from '../util/version.js';
import type { Session } from './session.js';

export interface SeedCache {
  store: RunCacheStore;
  /** The run key (the report shows its first 12 digits); each seed's entry key derives from it. */
  key: string;
  /** check reuses entries; record always trains (a baseline must be a real run) but saves. */
  reuse: boolean;
  commit: string | null;
  reused: number[];
  trained: number[];
}

/** Files that are not code for the cache key: the gate's own, the data (hashed by content already) and `cache.ignore`. */
function notCode(s: Session): (rel: string) => boolean {
  const { config } = s;
  const own = [s.baselineName, toPosix(path.relative(config.root, config.path)), '.repro-gate/'];
  const data = config.data.map((d) => d.replace(/^\.\//, '').replace(/\/+$/, ''));
  const ignored = config.cache.ignore.length ? picomatch(config.cache.ignore, { dot: true }) : () => false;
  return (rel) =>
    own.some((p) => (p.endsWith('/') ? rel.startsWith(p) : rel === p)) ||
    data.some((d) => rel === d || rel.startsWith(`${d}/`)) ||
    ignored(rel);
}

/** The cache for this run's seeds, or undefined (off, or no git to tell the code by). */
export async function openSeedCache(
  s: Session,
  fingerprints: Fingerprints,
  commit: string | null,
  use: 'reuse' | 'save',
): Promise<SeedCache | undefined> {
  if ('off' in s.runCache) {
    s.log.info(`Training every seed: ${s.runCache.off}.`);
    return undefined;
  }
  const code = await codeTree(s.config.root, notCode(s));
  if (!code) {
    s.log.info('Training every seed: the run cache needs a git checkout to know the code by.');
    return undefined;
  }
  // Host noise (kernel build, CPU model name with equal ISA flags) is left out: it moves no result.
  const keyed = { ...fingerprints, environment: resultFacts(fingerprints.environment) };
  const key = runKey(
    runKeyParts({ config: s.config, code: code.sha256, fingerprints: keyed, toolVersion: TOOL_VERSION }),
  );
  return { store: s.runCache, key, reuse: use === 'reuse', commit, reused: [], trained: [] };
}

export interface CachedRun {
  run: RunRecord;
  notes: ReportWarning[];
  logTail: string[];
}

/** A seed's cached result, if there is a valid one; a bad entry is a warning and a miss. */
export async function cachedRun(c: SeedCache, s: Session, seed: number): Promise<CachedRun | undefined> {
  if (!c.reuse) return undefined;
  const key = seedKey(c.key, seed);
  const text = await c.store.get(key);
  if (text === undefined) return undefined;
  const problem = entryProblem(text, key, seed, s);
  if (typeof problem === 'string') {
    const message = `A cached result for seed ${seed} (entry ${shortHash(key)}) was ignored and the seed trained instead: ${problem}.`;
    s.log.warn(message);
    if (!s.notes.some((w) => w.message === message)) s.notes.push({ code: 'cache-entry-ignored', message });
    return undefined;
  }
  s.log.info(`seed ${seed}: reused from the ${c.store.kind} run cache (entry ${shortHash(key)})`);
  return problem;
}

function entryProblem(text: string, key: string, seed: number, s: Session): string | CachedRun {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return 'it is not valid JSON';
  }
  const parsed = runCacheEntrySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `it does not match the entry format (${issue?.path.join('.') || 'entry'}: ${issue?.message})`;
  }
  const entry = parsed.data;
  if (entry.key !== key) return 'it was stored under another key';
  if (entry.run.seed !== seed) return `it holds seed ${entry.run.seed}`;
  const missing = s.config.metrics.map((m) => m.name).find((n) => !Object.hasOwn(entry.run.metrics, n));
  if (missing !== undefined) return `it has no value for metric ${missing}`;
  const noArtifact = s.config.artifacts.find((a) => !Object.hasOwn(entry.run.artifacts, a));
  if (noArtifact !== undefined) return `it has no hash for artifact ${noArtifact}`;
  return { run: entry.run, notes: entry.notes, logTail: entry.logTail };
}

/** Stores a trained seed's result; a failed save is a warning. */
export async function saveRun(
  c: SeedCache,
  s: Session,
  run: RunRecord,
  notes: ReportWarning[],
  logTail: string[],
): Promise<void> {
  if (c.store.readOnlyReason) return;
  const key = seedKey(c.key, run.seed);
  const entry: RunCacheEntry = {
    schemaVersion: RUN_CACHE_ENTRY_VERSION,
    kind: 'repro-gate-run',
    tool: { name: 'repro-gate', version: TOOL_VERSION },
    key,
    createdAt: new Date().toISOString(),
    commit: c.commit,
    run,
    notes,
    logTail,
  };
  const warning = await c.store.put(key, JSON.stringify(entry));
  if (warning) s.log.warn(warning);
}

/** For the report: which seeds were reused and which trained, under which key. */
export function cacheUse(c: SeedCache | undefined): CacheUse | undefined {
  if (!c) return undefined;
  return { store: c.store.kind, key: c.key.slice(0, 12), reused: [...c.reused], trained: [...c.trained] };
}
