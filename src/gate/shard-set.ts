/**
 * Seeds split over a job matrix (pure): which seeds shard i of N trains, and whether a set of shard
 * results adds up to one run of the config — every shard once, the same config, baseline, commit
 * and data — before `aggregate` treats them as one.
 */
import { diffEnvironment } from '../drift/environment.js';
import type { Fingerprints, RunRecord } from '../schema/baseline.js';
import type { CacheUse, ReportWarning } from '../schema/report.js';
import type { ShardResult } from '../schema/shard.js';
import { canonicalJson } from '../util/canonical-json.js';
import { GateError } from '../util/errors.js';
import { listSome, shortHash } from '../util/format.js';

export interface ShardSpec {
  index: number;
  count: number;
}

const SHARD_HINT = 'Pass it as INDEX/COUNT with 1 ≤ INDEX ≤ COUNT, e.g. --shard 2/4 for the second of four jobs.';

export function parseShardSpec(text: string): ShardSpec {
  const m = /^(\d{1,4})\/(\d{1,4})$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || index < 1 || count < 1 || index > count)
    throw new GateError(`"${text}" is not a shard: expected INDEX/COUNT.`, SHARD_HINT);
  return { index, count };
}

/** Round-robin, so every shard gets a similar share of the seeds (and of a slow seed range). */
export function shardSeeds(seeds: readonly number[], spec: ShardSpec): number[] {
  return seeds.filter((_, i) => i % spec.count === spec.index - 1);
}

export interface ShardFile {
  file: string;
  result: ShardResult;
}

export interface ShardExpectations {
  command: 'check' | 'record';
  toolVersion: string;
  configSha256: string;
  baselineSha256: string | null;
  seeds: readonly number[];
}

export interface AssembledShards {
  runs: RunRecord[];
  fingerprints: Fingerprints;
  commit: string | null;
  notes: ReportWarning[];
  cache?: CacheUse;
}

const AGGREGATE_HINT =
  'Aggregate the shards of one workflow run, on the commit they trained (download only that run\'s "repro-gate-shard-*" artifacts).';

/** Checks that the shard files are one complete run of this config, and joins them. */
export function assembleShards(files: ShardFile[], want: ShardExpectations): AssembledShards {
  const [first] = files;
  if (!first) throw new GateError('No shard results were found.', AGGREGATE_HINT);
  const name = (f: ShardFile) => `${f.file} (shard ${f.result.shard.index} of ${f.result.shard.count})`;
  for (const f of files) {
    const r = f.result;
    if (r.command !== want.command)
      throw new GateError(`${name(f)} was written by \`${r.command}\`, not \`${want.command}\`.`, AGGREGATE_HINT);
    if (r.tool.version !== want.toolVersion)
      throw new GateError(
        `${name(f)} was written by repro-gate ${r.tool.version}; this is ${want.toolVersion}.`,
        'Use the same repro-gate version in the shard jobs and the aggregate job (pin the same action ref).',
      );
    if (r.configSha256 !== want.configSha256)
      throw new GateError(
        `${name(f)} was trained with a different repro-gate.yml (sha256 ${shortHash(r.configSha256)}) than this checkout's (${shortHash(want.configSha256)}).`,
        AGGREGATE_HINT,
      );
    if (r.baselineSha256 !== want.baselineSha256)
      throw new GateError(
        `${name(f)} was trained against a different baseline file (sha256 ${shortHash(r.baselineSha256)}) than this checkout's (${shortHash(want.baselineSha256)}).`,
        AGGREGATE_HINT,
      );
    if (r.commit !== first.result.commit)
      throw new GateError(
        `The shards were trained at different commits: ${shortHash(first.result.commit)} (${first.file}) and ${shortHash(r.commit)} (${f.file}).`,
        AGGREGATE_HINT,
      );
    if (r.shard.count !== first.result.shard.count)
      throw new GateError(
        `${first.file} is one of ${first.result.shard.count} shards, ${f.file} one of ${r.shard.count}.`,
        AGGREGATE_HINT,
      );
  }
  const count = first.result.shard.count;
  const byIndex = new Map<number, ShardFile>();
  for (const f of files) {
    const other = byIndex.get(f.result.shard.index);
    if (other)
      throw new GateError(
        `Shard ${f.result.shard.index} of ${count} appears twice: ${other.file} and ${f.file}.`,
        AGGREGATE_HINT,
      );
    byIndex.set(f.result.shard.index, f);
  }
  const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !byIndex.has(i));
  if (missing.length)
    throw new GateError(
      `${missing.length === 1 ? 'Shard' : 'Shards'} ${missing.join(', ')} of ${count} ${missing.length === 1 ? 'is' : 'are'} missing (found ${[...byIndex.keys()].sort((a, b) => a - b).join(', ')}).`,
      'Every shard job must finish and upload its result before the aggregate job runs (needs: the shard job); re-run the failed shard.',
    );

  const shards = [...byIndex.values()].sort((a, b) => a.result.shard.index - b.result.shard.index);
  const runs = new Map<number, RunRecord>();
  for (const f of shards) {
    const expected = shardSeeds(want.seeds, f.result.shard);
    const trained = f.result.runs.map((r) => r.seed);
    if (canonicalJson(f.result.seeds) !== canonicalJson(expected) || canonicalJson(trained) !== canonicalJson(expected))
      throw new GateError(
        `${name(f)} trained seeds ${trained.join(', ') || 'none'}, but this config gives it seeds ${expected.join(', ') || 'none'}.`,
        AGGREGATE_HINT,
      );
    for (const run of f.result.runs) runs.set(run.seed, run);
  }

  // Every shard must have trained on the same inputs; only the machines may differ.
  const base = first.result.fingerprints;
  const notes: ReportWarning[] = [];
  for (const f of shards.slice(1)) {
    const fp = f.result.fingerprints;
    for (const part of ['data', 'config'] as const) {
      if (canonicalJson(fp[part]) !== canonicalJson(base[part]))
        throw new GateError(
          `${name(f)} saw different ${part} than ${first.file}: shards must train on the same ${part}.`,
          AGGREGATE_HINT,
        );
    }
    const env = diffEnvironment(base.environment, fp.environment);
    if (env.length) {
      notes.push({
        code: 'shard-environments-differ',
        message: `Shard ${f.result.shard.index} ran in a different environment than shard ${first.result.shard.index} (${listSome(env.map((e) => e.key))}); the report's environment is shard ${first.result.shard.index}'s.`,
      });
    }
  }
  for (const f of shards)
    for (const n of f.result.notes) if (!notes.some((x) => x.message === n.message)) notes.push(n);

  return {
    runs: want.seeds.map((seed) => runs.get(seed) as RunRecord),
    fingerprints: base,
    commit: first.result.commit,
    notes,
    ...joinCacheUse(shards, want.seeds),
  };
}

/** One cache account for the whole run: seeds reused by any shard, the rest trained. */
function joinCacheUse(shards: ShardFile[], seeds: readonly number[]): { cache?: CacheUse } {
  const used = shards.map((f) => f.result.cache).filter((c): c is CacheUse => c !== null);
  const [one] = used;
  if (!one) return {};
  const reused = new Set(used.flatMap((c) => c.reused));
  return {
    cache: {
      store: one.store,
      key: one.key,
      reused: seeds.filter((s) => reused.has(s)),
      trained: seeds.filter((s) => !reused.has(s)),
    },
  };
}
