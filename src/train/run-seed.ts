import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { CHECKPOINT_FILE, readCheckpoint } from '../fingerprint/checkpoint.js';
import { flatten, parseConfigText } from '../fingerprint/config.js';
import { fingerprintData } from '../fingerprint/data.js';
import type { Runtime, Slot } from '../runtime/types.js';
import type { FileEntry, FlatConfig, RunRecord } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import type { ReportWarning } from '../schema/report.js';
import { formatDuration } from '../util/duration.js';
import { CancelledError, GateError } from '../util/errors.js';
import { readConfinedFile } from '../util/files.js';
import type { Logger } from '../util/logger.js';
import { collectImports, IMPORTS_FOLDER } from './import-hook.js';
import { distributedEnv, launcherArgv } from './launch.js';
import { MetricPatterns, readMetrics } from './metrics.js';

export interface SeedRunContext {
  config: GateConfig;
  runtime: Runtime;
  /**
   * Where each seed's output folder lives: `<outRoot>/seed-N`, the same path in every run of every
   * verb, because real checkpoints embed their output path (a torch checkpoint's config dict).
   */
  outRoot: string;
  /** Folder for this verb's seed-N.log files. */
  logDir: string;
  /** Environment shared by every seed; REPRO_GATE_SEED/OUT are added per seed. */
  env: Record<string, string>;
  log: Logger;
  /** Collects what the report should say about the runs (a checkpoint compared by bytes, …). */
  warnings?: ReportWarning[];
  /** With train.parallel > 1: this seed's share of the cores and GPUs. */
  slot?: Slot;
  /** The folder holding the import hook (import-hook.ts), put first on the training's PYTHONPATH. */
  importHook?: string;
}

/** {seed} and {out} anywhere inside an argument (e.g. "--out={out}"). */
function substitute(argv: string[], seed: number, out: string): string[] {
  return argv.map((arg) => arg.replaceAll('{seed}', String(seed)).replaceAll('{out}', out));
}

export function seedOutDir(outRoot: string, seed: number): string {
  return path.join(outRoot, `seed-${seed}`);
}

/** Quoted output is bounded: a line of a few KiB is enough to recognise an error. */
const QUOTED_LINE_CHARS = 300;

function lastLines(tail: string[]): string {
  return tail
    .slice(-10)
    .map((l) => `    ${l.length > QUOTED_LINE_CHARS ? `${l.slice(0, QUOTED_LINE_CHARS)} …` : l}`)
    .join('\n');
}

/** Trains one seed in its (emptied) output folder and collects its metrics and artifact hashes. */
export async function runSeed(ctx: SeedRunContext, seed: number): Promise<RunRecord> {
  const { config, runtime, log } = ctx;
  const outDir = seedOutDir(ctx.outRoot, seed);
  const logFile = path.join(ctx.logDir, `seed-${seed}.log`);
  // Nothing of an earlier run may be mistaken for this one's output.
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await mkdir(ctx.logDir, { recursive: true });
  const out = runtime.pathFor(outDir);
  // A distributed training runs under its launcher (torchrun …), which starts the command per rank.
  const argv = [...launcherArgv(config.train), ...substitute(config.train.command, seed, out)];

  const patterns = config.metricPatterns.length ? new MetricPatterns(config.metricPatterns) : undefined;
  log.info(`seed ${seed}: ${argv.join(' ')}`);
  const hook = ctx.importHook
    ? {
        pythonPathFirst: ctx.importHook,
        imports: { REPRO_GATE_IMPORTS: runtime.pathFor(path.join(outDir, IMPORTS_FOLDER)) },
      }
    : undefined;
  const result = await runtime.run({
    argv,
    cwd: config.root,
    env: {
      ...ctx.env,
      ...distributedEnv(config.train),
      ...hook?.imports,
      REPRO_GATE_SEED: String(seed),
      REPRO_GATE_OUT: out,
    },
    ...(hook ? { pythonPathFirst: hook.pythonPathFirst } : {}),
    timeoutMs: config.train.timeout,
    outDir,
    logFile,
    ...(ctx.slot ? { slot: ctx.slot } : {}),
    onLine: (line) => {
      patterns?.feed(line);
      log.info(`[seed ${seed}] ${line}`);
    },
  });
  if (result.cancelled) throw new CancelledError(result.cancelled);
  const quoted = lastLines(result.tail);
  if (result.startError !== undefined && config.train.launcher) {
    throw new GateError(
      `Seed ${seed}: could not start the launcher "${argv[0]}" (train.launcher): ${result.startError}.`,
      `Check train.launcher in repro-gate.yml: "${argv[0]}" must be a program on PATH${runtime.kind === 'container' ? ' inside the image' : ''}, or a path relative to ${config.root}.`,
    );
  }
  if (result.startError !== undefined) {
    throw new GateError(
      `Seed ${seed}: could not start the training: ${result.startError}.`,
      `Check train.command in repro-gate.yml: "${argv[0]}" must be a program on PATH${runtime.kind === 'container' ? ' inside the image' : ''}, or a path relative to ${config.root}.`,
    );
  }
  if (result.timedOut) {
    throw new GateError(
      `Seed ${seed}: training timed out after ${formatDuration(config.train.timeout)} and was stopped. Last output:\n${quoted}\n  Full log: ${logFile}`,
      'Raise train.timeout in repro-gate.yml, or make the training faster.',
    );
  }
  if (result.exitCode !== 0) {
    const how =
      result.exitCode === null
        ? `was killed (${result.signal ?? 'by a signal'})`
        : `exited with code ${result.exitCode}`;
    throw new GateError(
      `Seed ${seed}: training ${how}. Last output:\n${quoted || '    (none)'}\n  Full log: ${logFile}`,
      `Fix the training so it succeeds when run as: ${argv.join(' ')}`,
    );
  }

  // Read and removed first: the hook's folder is no output of the training.
  const packages = ctx.importHook ? await collectImports(outDir, (m) => log.warn(m)) : undefined;
  const metrics = await collectMetrics(ctx, seed, outDir, patterns);
  for (const artifact of config.artifacts) {
    const found = await stat(path.join(outDir, artifact)).catch(() => undefined);
    if (!found) {
      throw new GateError(
        `Seed ${seed}: the training did not write the artifact "${artifact}" into its output folder ${outDir}.`,
        'Write it into {out}, or remove it from artifacts: in repro-gate.yml.',
      );
    }
  }
  const artifacts = (await fingerprintData(config.artifacts, outDir, { warn: (m) => log.warn(m) })).files;
  await readCheckpoints(ctx, artifacts, outDir, out);
  const resolved = await readResolvedConfigs(config, seed, outDir);
  log.info(`seed ${seed}: done in ${formatDuration(result.durationMs)}`);
  return {
    seed,
    metrics,
    artifacts,
    durationMs: result.durationMs,
    ...(resolved ? { config: resolved } : {}),
    ...(packages ? { packages } : {}),
  };
}

/** Metrics from the output (metrics.pattern) and from the metrics file, as the config says. */
async function collectMetrics(
  ctx: SeedRunContext,
  seed: number,
  outDir: string,
  patterns: MetricPatterns | undefined,
): Promise<Record<string, number>> {
  const { config } = ctx;
  const names = config.metrics.map((m) => m.name);
  const fromOutput = patterns ? patterns.values(names, `seed ${seed}'s output`) : {};
  const rest = names.filter((n) => !Object.hasOwn(fromOutput, n));
  const fromFile = rest.length
    ? await readMetrics(path.join(outDir, config.metricsFile), rest, `seed ${seed}'s ${config.metricsFile}`, outDir)
    : {};
  // fromEntries: a metric named `__proto__` stays an ordinary key.
  return Object.fromEntries([...Object.entries(fromOutput), ...Object.entries(fromFile)]);
}

/** Each checkpoint artifact's content, beside its bytes' hash (bytes alone when it cannot be read). */
async function readCheckpoints(
  ctx: SeedRunContext,
  artifacts: Record<string, FileEntry>,
  outDir: string,
  out: string,
): Promise<void> {
  const python = {
    runtime: ctx.runtime,
    command: ctx.config.train.command,
    cwd: ctx.config.root,
    env: ctx.env,
    timeoutMs: 600_000,
  };
  for (const [name, entry] of Object.entries(artifacts)) {
    if (!CHECKPOINT_FILE.test(name)) continue;
    const r = await readCheckpoint(python, path.join(outDir, name), out);
    if ('content' in r) {
      entry.content = r.content;
      if (r.content.embedsOut.length) {
        note(ctx, {
          code: 'embeds-output-path',
          message: `${name} embeds its output path (${r.content.embedsOut.join(', ')}); it is compared as "{out}", so the folder a run wrote to is no difference.`,
        });
      }
    } else {
      const message = `${name} is compared by its bytes, not by content: ${r.problem}.`;
      ctx.log.warn(message);
      note(ctx, { code: 'checkpoint-bytes', message });
    }
  }
}

/** config: {resolved: PATH} files the training wrote into {out}, flattened (what it really used). */
async function readResolvedConfigs(
  config: GateConfig,
  seed: number,
  outDir: string,
): Promise<Record<string, FlatConfig> | undefined> {
  if (!config.resolvedConfig.length) return undefined;
  const out: Array<[string, FlatConfig]> = [];
  for (const rel of config.resolvedConfig) {
    const text = await readConfinedFile(outDir, rel, 'config: resolved', {
      folder: "the run's output folder",
      maxBytes: 1024 * 1024,
      hint: 'Have the training write its resolved config into {out} (Hydra: .hydra/config.yaml), or fix config: in repro-gate.yml.',
    });
    if (text === null) {
      throw new GateError(
        `Seed ${seed}: the training did not write the resolved config "${rel}" into its output folder ${outDir}.`,
        'Write it into {out}, or remove {resolved: …} from config: in repro-gate.yml.',
      );
    }
    out.push([rel, flatten(parseConfigText(text, rel))]);
  }
  return Object.fromEntries(out);
}

/** Something the report should say about the runs, once however many seeds found it. */
function note(ctx: SeedRunContext, warning: ReportWarning): void {
  if (!ctx.warnings?.some((w) => w.message === warning.message)) ctx.warnings?.push(warning);
}
