/**
 * `diagnose`: is the training deterministic on its own, and if not, which setting makes it so?
 * Reruns one seed twice in the same environment, then twice more per factor, one factor changed
 * at a time. A factor that restores determinism names the cause (threads → parallelism, hash seed
 * → randomness, one process instead of many or pinned NCCL collectives → distributed); when none
 * does, something is unseeded (randomness).
 */
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { CHECKPOINT_FILE, type CheckpointDiff, diffCheckpoints } from '../fingerprint/checkpoint.js';
import type { Runtime } from '../runtime/types.js';
import type { RunRecord } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import type { ArrayDiff, ArtifactDiff, Diagnosis, Difference, Factor } from '../schema/diagnosis.js';
import { runSeed, seedOutDir } from '../train/run-seed.js';
import { listSome, plural, signed } from '../util/format.js';
import type { Logger } from '../util/logger.js';
import { diffArtifactDirs } from './artifact-diff.js';
import { curvePlot as curvePlotOf, diffCurveFiles } from './curves.js';
import { jsonNumber } from './types.js';

interface FactorSpec {
  name: string;
  env: Record<string, string>;
  cause: 'randomness' | 'distributed' | 'parallelism';
  /** Reruns as one process (world size 1), with the same global batch where the training keeps it. */
  singleProcess?: true;
}

/** Threads first (cheapest to act on), then the hash seed: randomness before distributed. */
const BEFORE_DISTRIBUTED: FactorSpec[] = [
  {
    name: 'single-threaded BLAS/OpenMP',
    env: {
      OMP_NUM_THREADS: '1',
      MKL_NUM_THREADS: '1',
      OPENBLAS_NUM_THREADS: '1',
      NUMEXPR_NUM_THREADS: '1',
      VECLIB_MAXIMUM_THREADS: '1',
    },
    cause: 'parallelism',
  },
  { name: 'PYTHONHASHSEED=0', env: { PYTHONHASHSEED: '0' }, cause: 'randomness' },
];

/**
 * Only for a training with train.distributed: one process instead of many (no reduction across
 * ranks, no sharding by world size), then NCCL's collectives pinned to one algorithm and protocol.
 */
const WORLD_SIZE_ONE = 'world size 1 (one process)';
const NCCL_PINNED = 'NCCL_ALGO=Ring, NCCL_PROTO=Simple';
const DISTRIBUTED: FactorSpec[] = [
  { name: WORLD_SIZE_ONE, env: {}, cause: 'distributed', singleProcess: true },
  { name: NCCL_PINNED, env: { NCCL_ALGO: 'Ring', NCCL_PROTO: 'Simple' }, cause: 'distributed' },
];

const AFTER_DISTRIBUTED: FactorSpec[] = [
  { name: 'CUBLAS_WORKSPACE_CONFIG=:4096:8', env: { CUBLAS_WORKSPACE_CONFIG: ':4096:8' }, cause: 'parallelism' },
  // Documented in the README: trainings opt in by calling e.g. torch.use_deterministic_algorithms(True).
  {
    name: 'framework deterministic mode (REPRO_GATE_DETERMINISTIC=1)',
    env: { REPRO_GATE_DETERMINISTIC: '1' },
    cause: 'parallelism',
  },
];

export interface DiagnoseContext {
  config: GateConfig;
  runtime: Runtime;
  env: Record<string, string>;
  log: Logger;
  /** Where the seed's output folder lives (the same {out} path as record and check, see run-seed.ts). */
  outRoot: string;
  /** Folder for the diagnosis runs: one sub-folder per run, with its log and its output moved there. */
  runRoot: string;
}

/** Keys of a checkpoint's leaves that differ, tensors or other values. */
function changedLeaves(a: Record<string, string>, b: Record<string, string>, tensors: boolean): string[] {
  const isTensor = (v: string | undefined) => v !== undefined && /^\w+\[[\d,]*\] [0-9a-f]{64}$/.test(v);
  const get = (l: Record<string, string>, k: string) => (Object.hasOwn(l, k) ? l[k] : undefined);
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => get(a, k) !== get(b, k) && (isTensor(get(a, k)) || isTensor(get(b, k))) === tensors)
    .sort();
}

/** Every difference is checkpoint metadata (a time, a host name): the model itself reproduced. */
function onlyMetadata(differences: Difference[]): boolean {
  return (
    differences.length > 0 && differences.every((d) => d.kind === 'artifact' && d.detail.startsWith('metadata only:'))
  );
}

/** Pure: what differs between two runs of the same seed. */
function runDifferences(a: RunRecord, b: RunRecord): Difference[] {
  const out: Difference[] = [];
  for (const [name, before] of Object.entries(a.metrics)) {
    const after = b.metrics[name];
    if (after === undefined) {
      // Both runs come from the same config, which requires every metric; kept readable all the same.
      out.push({ kind: 'metric', name, before, after: null, detail: 'missing in the second run' });
      continue;
    }
    if (before !== after)
      out.push({
        kind: 'metric',
        name,
        before,
        after,
        detail: `${signed(after - before)} (|Δ| ${Math.abs(after - before).toExponential(2)})`,
      });
  }
  for (const [name, entry] of Object.entries(a.artifacts)) {
    const other = Object.hasOwn(b.artifacts, name) ? b.artifacts[name] : undefined;
    // A checkpoint read on both sides is compared by what it holds, not by its bytes.
    if (entry.content && other?.content) {
      const tensors = changedLeaves(entry.content.leaves, other.content.leaves, true);
      const values = changedLeaves(entry.content.leaves, other.content.leaves, false);
      if (tensors.length + values.length === 0) continue;
      out.push({
        kind: 'artifact',
        name,
        before: entry.sha256,
        after: other.sha256,
        detail: tensors.length
          ? `${plural(tensors.length, 'tensor')} differ (${listSome(tensors)})`
          : `metadata only: ${listSome(values)} (every tensor bit-identical)`,
      });
      continue;
    }
    if (entry.sha256 !== other?.sha256) {
      out.push({
        kind: 'artifact',
        name,
        before: entry.sha256,
        after: other?.sha256 ?? null,
        detail:
          entry.size === other?.size
            ? 'same size, different bytes'
            : `size ${entry.size} → ${other?.size ?? 'missing'}`,
      });
    }
  }
  return out;
}

export async function diagnose(ctx: DiagnoseContext, seed: number): Promise<Diagnosis> {
  const { config, log } = ctx;
  let runs = 0;
  // Each run writes to the same {out} (checkpoints embed it); its output is moved aside to compare later.
  const once = async (dir: string, env: Record<string, string>, runConfig: GateConfig) => {
    await rm(dir, { recursive: true, force: true });
    const record = await runSeed({ ...ctx, config: runConfig, env, logDir: dir }, seed);
    const kept = path.join(dir, 'out');
    await rename(seedOutDir(ctx.outRoot, seed), kept);
    return { record, kept };
  };
  const twice = async (label: string, extraEnv: Record<string, string>, runConfig: GateConfig = config) => {
    const env = { ...ctx.env, ...extraEnv };
    const a = await once(path.join(ctx.runRoot, `${label}-1`), env, runConfig);
    const b = await once(path.join(ctx.runRoot, `${label}-2`), env, runConfig);
    runs += 2;
    return { a: a.record, b: b.record, outA: a.kept, outB: b.kept };
  };

  log.info(`diagnose: running seed ${seed} twice in the same environment`);
  const same = await twice('same', {});
  const differences = runDifferences(same.a, same.b);
  const artifacts = differences.some((d) => d.kind === 'artifact')
    ? await diffArtifacts(ctx, same.outA, same.outB, differences)
    : [];
  let curves: Diagnosis['curves'] = [];
  let curvePlot: Diagnosis['curvePlot'] = null;
  if (config.curves) {
    const { file, step, atol, rtol } = config.curves;
    const diffed = await diffCurveFiles(same.outA, same.outB, file, {
      stepKey: step,
      atol,
      rtol,
    });
    curves = diffed.divergences;
    const first = curves.find((c) => c.firstDivergentStep !== null) ?? curves[0];
    if (first) curvePlot = curvePlotOf(diffed.a, diffed.b, first.metric, { atol, rtol });
  }

  if (onlyMetadata(differences)) {
    const which = differences.map(
      (d) => `${d.name} (${d.detail.replace(/^metadata only: /, '').replace(/ \(every tensor bit-identical\)$/, '')})`,
    );
    return {
      seed,
      deterministic: true,
      cause: 'none',
      runs,
      differences,
      factors: [],
      artifacts,
      curves,
      curvePlot,
      evidence: `seed ${seed} run twice gave bit-identical metrics and tensors; only checkpoint metadata differs: ${which.join('; ')}. The training stores something that changes on every run (a time, a host name, a path outside {out}) beside its weights: leave it out of the checkpoint so exact mode can compare the file.`,
    };
  }

  if (differences.length === 0) {
    return {
      seed,
      deterministic: true,
      cause: 'none',
      runs,
      differences,
      factors: [],
      artifacts,
      curves,
      curvePlot,
      evidence: `seed ${seed} run twice in the same environment gave bit-identical metrics${config.artifacts.length ? ' and artifacts' : ''}.`,
    };
  }

  const factors: Factor[] = [];
  let fixedBy: FactorSpec | undefined;
  const distributed = config.train.distributed;
  const specs = [...BEFORE_DISTRIBUTED, ...(distributed ? DISTRIBUTED : []), ...AFTER_DISTRIBUTED];
  for (const spec of specs) {
    const skip = notApplicable(spec, config, ctx.env);
    if (skip) {
      factors.push({ name: spec.name, env: spec.env, deterministic: null, note: skip });
      continue;
    }
    log.info(`diagnose: seed ${seed} twice with ${spec.name}`);
    const runConfig = spec.singleProcess ? singleProcess(config) : config;
    const r = await twice(spec.name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, ''), spec.env, runConfig);
    const deterministic = runDifferences(r.a, r.b).length === 0;
    factors.push({ name: spec.name, env: spec.env, deterministic });
    fixedBy ??= deterministic ? spec : undefined;
  }
  const what = `${plural(differences.length, 'value')} (${differences
    .slice(0, 3)
    .map((d) => d.name)
    .join(', ')}${differences.length > 3 ? ', …' : ''})`;
  const evidence = fixedBy?.singleProcess
    ? `seed ${seed} run twice differs in ${what}; as one process (world size 1 instead of ${worldSize(config)}) it is deterministic: the ranks combine their results in an order that changes from run to run (gradients or metrics added in arrival order, a reduction whose algorithm depends on timing, data sharded by arrival). Combine in a fixed order (DistributedDataParallel or all_reduce rather than point-to-point sums as messages arrive; gather, then sum by rank)${config.train.distributed?.backend === 'nccl' ? ', and pin NCCL_ALGO and NCCL_PROTO in train.env' : ''}.`
    : fixedBy
      ? `seed ${seed} run twice differs in ${what}; with ${fixedBy.name} it is deterministic: add ${Object.entries(
          fixedBy.env,
        )
          .map(([k, v]) => `${k}: "${v}"`)
          .join(
            ', ',
          )} to train.env in repro-gate.yml${fixedBy.name.includes('REPRO_GATE_DETERMINISTIC') ? " (the training reads it to enable its framework's deterministic mode)" : ''}.`
      : `seed ${seed} run twice differs in ${what}, and no single setting made it deterministic: something is unseeded or order-dependent (seed every RNG from --seed: random, numpy, torch, data loader workers; never iterate over a set of objects, whose order follows memory addresses).`;
  return {
    seed,
    deterministic: false,
    cause: fixedBy?.cause ?? 'randomness',
    runs,
    differences,
    factors,
    artifacts,
    curves,
    curvePlot,
    evidence,
  };
}

/** Why a factor is not tried for this training, or undefined when it is. */
function notApplicable(spec: FactorSpec, config: GateConfig, env: Record<string, string>): string | undefined {
  if (spec.singleProcess) return worldSize(config) === 1 ? 'already one process (world size 1)' : undefined;
  if (spec.name === NCCL_PINNED && config.train.distributed?.backend !== 'nccl')
    return `backend ${config.train.distributed?.backend}: NCCL settings do not apply`;
  if (Object.entries(spec.env).every(([k, v]) => env[k] === v)) return 'already set in train.env';
  return undefined;
}

function worldSize(config: GateConfig): number {
  const d = config.train.distributed;
  return d ? d['nproc-per-node'] * d.nnodes : 1;
}

/** The same training as one process: the launcher starts a single rank. */
function singleProcess(config: GateConfig): GateConfig {
  const d = config.train.distributed;
  if (!d) return config;
  return { ...config, train: { ...config.train, distributed: { ...d, 'nproc-per-node': 1, nnodes: 1 } } };
}

/**
 * Tensor-level diffs of the artifacts that differ: checkpoints with the training's own Python and
 * torch, everything else with the format readers (npy, npz, safetensors, JSON, CSV, bytes).
 */
async function diffArtifacts(
  ctx: DiagnoseContext,
  outA: string,
  outB: string,
  differences: Difference[],
): Promise<ArtifactDiff[]> {
  const names = ctx.config.artifacts.filter(
    (n) => differences.some((d) => d.kind === 'artifact' && d.name === n) || !CHECKPOINT_FILE.test(n),
  );
  const python = {
    runtime: ctx.runtime,
    command: ctx.config.train.command,
    cwd: ctx.config.root,
    env: ctx.env,
    timeoutMs: 600_000,
  };
  const out: ArtifactDiff[] = [];
  for (const name of names) {
    if (!CHECKPOINT_FILE.test(name)) {
      out.push(...(await diffArtifactDirs(outA, outB, [name])));
      continue;
    }
    // Both runs wrote to the same {out} (run-seed.ts): a path to it is the same on both sides.
    const r = await diffCheckpoints(
      python,
      { file: path.join(outA, name), out: '' },
      { file: path.join(outB, name), out: '' },
    );
    out.push(checkpointArtifactDiff(name, r, await diffArtifactDirs(outA, outB, [name])));
  }
  return out;
}

type TorchArray = CheckpointDiff['arrays'][number];

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function shape(v: unknown): number[] | null {
  return Array.isArray(v) && v.every((d) => Number.isInteger(d) && d >= 0) ? (v as number[]) : null;
}

/** A flat (C-order) index as one index per dimension. */
function unflatten(i: number, dims: number[]): number[] {
  const out: number[] = [];
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k] ?? 1;
    out.unshift(d ? i % d : 0);
    i = d ? Math.floor(i / d) : 0;
  }
  return out;
}

function torchArray(a: TorchArray): ArrayDiff {
  const status = a.status === 'identical' || a.status === 'added' || a.status === 'removed' ? a.status : 'modified';
  const first = a.firstDifference as { flatIndex?: number; before?: unknown; after?: unknown } | undefined;
  const dims = shape(a.shapeBefore) ?? [];
  return {
    name: a.name,
    status,
    dtypeBefore: typeof a.dtypeBefore === 'string' ? a.dtypeBefore : null,
    dtypeAfter: typeof a.dtypeAfter === 'string' ? a.dtypeAfter : null,
    shapeBefore: shape(a.shapeBefore),
    shapeAfter: shape(a.shapeAfter),
    elementsBefore: num(a.elementsBefore),
    elementsAfter: num(a.elementsAfter),
    compared: num(a.compared) ?? 0,
    differing: num(a.differing),
    maxAbsDiff: num(a.maxAbsDiff),
    maxRelDiff: num(a.maxRelDiff),
    maxUlp: null,
    nonFiniteDiffering: num(a.nonFiniteDiffering) ?? 0,
    nanBefore: num(a.nanBefore),
    nanAfter: num(a.nanAfter),
    bitIdentical: a.bitIdentical === true,
    ...(first && typeof first.flatIndex === 'number'
      ? {
          firstDifference: {
            index: unflatten(first.flatIndex, dims),
            before: jsonNumber(Number(first.before)),
            after: jsonNumber(Number(first.after)),
          },
        }
      : {}),
  };
}

/** A checkpoint's diff as the report shows artifacts: changed tensors as arrays, changed metadata as notes. */
function checkpointArtifactDiff(
  name: string,
  r: Awaited<ReturnType<typeof diffCheckpoints>>,
  bytes: ArtifactDiff[],
): ArtifactDiff {
  const [byBytes] = bytes;
  const base: ArtifactDiff = byBytes ?? {
    name,
    format: 'binary',
    status: 'modified',
    sizeBefore: null,
    sizeAfter: null,
    sha256Before: null,
    sha256After: null,
    arrays: [],
    arraysOmitted: 0,
    notes: [],
  };
  if ('problem' in r) return { ...base, notes: [...base.notes, `compared by bytes: ${r.problem}`] };
  const arrays = r.diff.arrays.map(torchArray);
  const changed = arrays.filter((a) => a.status !== 'identical');
  const notes = r.diff.metadata
    .slice(0, 20)
    .map((m) => `${m.path}: ${JSON.stringify(m.before)} → ${JSON.stringify(m.after)}`);
  if (r.diff.metadata.length > 20) notes.push(`… ${r.diff.metadata.length - 20} more values differ`);
  return { ...base, format: 'torch', arrays: changed, arraysOmitted: arrays.length - changed.length, notes };
}
