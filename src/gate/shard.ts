/**
 * Seeds sharded over a job matrix: `--shard i/N` trains one shard's seeds and writes a partial
 * result; `aggregate` reads every shard's result and compares, reports and records exactly as one
 * unsharded run would (same JSON, same comment). Nothing is trained by `aggregate`, so a failing
 * exact check is not diagnosed there: run `repro-gate diagnose` on one machine for that.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { lintDeterminism } from '../diagnose/lint.js';
import { gitCommit } from '../fingerprint/git.js';
import { stateDir } from '../runtime/create.js';
import type { GateConfig } from '../schema/config.js';
import { SHARD_SCHEMA_VERSION, type ShardResult, shardResultSchema } from '../schema/shard.js';
import { sha256Hex } from '../util/canonical-json.js';
import { GateError } from '../util/errors.js';
import { plural } from '../util/format.js';
import { TOOL_VERSION } from '../util/version.js';
import { type CheckRequest, compareCandidate, judge, powerWarnings, readCheckInputs } from './check.js';
import { inputsModified, observe, snapshotInputs } from './observe.js';
import { writeRecorded } from './record.js';
import type { GateOutcome } from './report.js';
import { cacheUse, openSeedCache } from './run-cache.js';
import { preflight, seedRuns } from './seed-runs.js';
import { baselineLocation, manifestStoreFor, withSession } from './session.js';
import { assembleShards, type ShardFile, type ShardSpec, shardSeeds } from './shard-set.js';

export interface ShardRequest extends CheckRequest {
  shard: ShardSpec;
  /** Where to write the partial result; default .repro-gate/shards/shard-I-of-N.json. */
  resultPath?: string;
}

export interface ShardOutcome {
  result: ShardResult;
  /** Absolute path of the written result file. */
  file: string;
}

const SEQUENTIAL_WITH_SHARDS =
  'seeds: {min, max} decides after each look which seeds to train next, while shards train fixed seed sets at the same time: a look would have to wait for a whole matrix round. Use fixed seeds (e.g. seeds: 8) with shards, or run the sequential plan without --shard.';

function fileSha(file: string): Promise<string> {
  return readFile(file).then((b) => sha256Hex(b));
}

/** `check|record --shard i/N`: train this shard's seeds and write them for `aggregate`. */
export async function trainShard(command: 'check' | 'record', req: ShardRequest): Promise<ShardOutcome> {
  let config: GateConfig;
  let baselineSha256: string | null = null;
  if (command === 'check') {
    // The baseline is read (and checked) now, so a shard fails in a second when it is missing.
    ({ config } = await readCheckInputs({ ...req, base: undefined }));
    if (config.sequential)
      throw new GateError('A sequential plan cannot be split into shards.', SEQUENTIAL_WITH_SHARDS);
    baselineSha256 = await fileSha(baselineLocation(config).baselinePath);
  } else {
    config = await loadConfig(req.configPath, req.cwd);
  }
  const seeds = shardSeeds(config.seeds, req.shard);
  const { index, count } = req.shard;
  if (!seeds.length)
    throw new GateError(
      `Shard ${index} of ${count} has no seeds: the config trains ${plural(config.seeds.length, 'seed')}.`,
      `Use at most ${config.seeds.length} shards.`,
    );
  const file = req.resultPath
    ? path.resolve(req.cwd, req.resultPath)
    : path.join(stateDir(config), 'shards', `shard-${index}-of-${count}.json`);
  const configSha256 = await fileSha(config.path);

  return withSession(req, config, command, async (s) => {
    await preflight(s);
    const { fingerprints, context } = await observe(s, { training: true });
    const before = await snapshotInputs(s);
    const cache = await openSeedCache(s, fingerprints, context.commit, command === 'check' ? 'reuse' : 'save');
    const runs = await seedRuns(s, command, seeds, { cache });
    const notes = [...(await inputsModified(s, before)), ...s.notes];
    const result: ShardResult = {
      schemaVersion: SHARD_SCHEMA_VERSION,
      kind: 'repro-gate-shard',
      tool: { name: 'repro-gate', version: TOOL_VERSION },
      command,
      configSha256,
      baselineSha256,
      commit: context.commit,
      shard: { index, count },
      seeds,
      runs,
      fingerprints,
      notes,
      cache: cacheUse(cache) ?? null,
      finishedAt: new Date().toISOString(),
    };
    await writeAtomically(file, `${JSON.stringify(result, null, 2)}\n`);
    s.log.info(
      `Shard ${index} of ${count}: trained ${plural(seeds.length, 'seed')} (${seeds.join(', ')}); result written to ${file}. Run \`repro-gate aggregate\` on every shard's result.`,
    );
    return { result, file };
  });
}

async function writeAtomically(file: string, text: string): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new GateError(
      `Cannot write the shard result ${file}: ${(err as Error).message}.`,
      'Check that the folder is writable.',
    );
  }
}

/** Limits on what `aggregate` reads: shard files come from downloaded artifacts. */
const MAX_SHARD_FILES = 1000;
const MAX_SHARD_BYTES = 64 * 1024 * 1024;

/** Every *.json under `dir` (artifacts download into one folder each), as parsed shard results. */
async function readShardFiles(dir: string): Promise<ShardFile[]> {
  const info = await lstat(dir).catch(() => undefined);
  if (!info?.isDirectory())
    throw new GateError(
      `The shard results folder ${dir} does not exist.`,
      'Pass the folder the shard artifacts were downloaded to: --results DIR (action input "results").',
    );
  const out: ShardFile[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile() && entry.name.endsWith('.json')) {
        if (out.length >= MAX_SHARD_FILES)
          throw new GateError(
            `More than ${MAX_SHARD_FILES} JSON files under ${dir}.`,
            'Download only the shard artifacts into it.',
          );
        if ((await lstat(full)).size > MAX_SHARD_BYTES)
          throw new GateError(
            `${full} is larger than 64 MiB: it is not a shard result.`,
            'Download only the shard artifacts into the folder.',
          );
        out.push({
          file: path.relative(dir, full) || entry.name,
          result: parseShardResult(await readFile(full, 'utf8'), full),
        });
      }
    }
  };
  await walk(dir);
  return out;
}

function parseShardResult(text: string, file: string): ShardResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new GateError(
      `${file} is not valid JSON, so it is not a shard result.`,
      'Download only the shard artifacts into the results folder.',
    );
  }
  const parsed = shardResultSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new GateError(
      `${file} is not a repro-gate shard result (${issue?.path.join('.') || 'file'}: ${issue?.message}).`,
      'Download only the "repro-gate-shard-*" artifacts, written by the same repro-gate version.',
    );
  }
  return parsed.data;
}

export interface AggregateRequest extends CheckRequest {
  resultsDir: string;
}

/** `aggregate`: one report (or baseline) from every shard's result, as an unsharded run would give. */
export async function aggregate(req: AggregateRequest): Promise<GateOutcome> {
  const files = await readShardFiles(path.resolve(req.cwd, req.resultsDir));
  const command = files[0]?.result.command ?? 'check';
  const config = await loadConfig(req.configPath, req.cwd);
  const want = {
    command,
    toolVersion: TOOL_VERSION,
    configSha256: await fileSha(config.path),
    seeds: config.seeds,
  };
  const log = req.log;
  const { baselineName } = baselineLocation(config);
  const commit = await gitCommit(config.root);
  const manifests = manifestStoreFor(req, stateDir(config));

  if (command === 'record') {
    const shards = assembleShards(files, { ...want, baselineSha256: null });
    const context = {
      config,
      baselineName,
      commit: shards.commit,
      lint: lintOf(config, shards.fingerprints.environment),
    };
    return writeRecorded(
      { config, log, manifests },
      context,
      { runs: shards.runs, fingerprints: shards.fingerprints, warnings: shards.notes, cache: shards.cache },
      req.history,
    );
  }
  const inputs = await readCheckInputs(req);
  if (config.sequential) throw new GateError('A sequential plan cannot be split into shards.', SEQUENTIAL_WITH_SHARDS);
  const shards = assembleShards(files, {
    ...want,
    baselineSha256: await fileSha(baselineLocation(config).baselinePath),
  });
  const before = powerWarnings(config, inputs.baseline);
  for (const w of before) log.warn(w.message);
  const own = compareCandidate(config, inputs.baseline, shards.runs, before);
  const context = { config, baselineName, commit, lint: lintOf(config, shards.fingerprints.environment) };
  return judge({ config, baselineName, log, notes: [], manifests }, req, inputs, {
    fingerprints: shards.fingerprints,
    context,
    own,
    notes: shards.notes,
    cache: shards.cache,
  });
}

function lintOf(config: GateConfig, environment: Parameters<typeof lintDeterminism>[0]): string[] {
  return lintDeterminism(environment, config.train.env, config.train.gpus);
}
