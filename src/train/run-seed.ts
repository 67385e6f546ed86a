import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fingerprintData } from '../fingerprint/data.js';
import type { Runtime } from '../runtime/types.js';
import type { RunRecord } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import { formatDuration } from '../util/duration.js';
import { GateError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { readMetrics } from './metrics.js';

export interface SeedRunContext {
  config: GateConfig;
  runtime: Runtime;
  /** Folder for this gate run: seed-N/ output folders and seed-N.log files. */
  runDir: string;
  /** Environment shared by every seed; REPRO_GATE_SEED/OUT are added per seed. */
  env: Record<string, string>;
  log: Logger;
}

/** {seed} and {out} anywhere inside an argument (e.g. "--out={out}"). */
function substitute(argv: string[], seed: number, out: string): string[] {
  return argv.map((arg) => arg.replaceAll('{seed}', String(seed)).replaceAll('{out}', out));
}

export function seedOutDir(runDir: string, seed: number): string {
  return path.join(runDir, `seed-${seed}`);
}

/** Trains one seed in a fresh output folder and collects its metrics and artifact hashes. */
export async function runSeed(ctx: SeedRunContext, seed: number): Promise<RunRecord> {
  const { config, runtime, log } = ctx;
  const outDir = seedOutDir(ctx.runDir, seed);
  const logFile = path.join(ctx.runDir, `seed-${seed}.log`);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  const out = runtime.pathFor(outDir);
  const argv = substitute(config.train.command, seed, out);

  log.info(`seed ${seed}: ${argv.join(' ')}`);
  const result = await runtime.run({
    argv,
    cwd: config.root,
    env: { ...ctx.env, REPRO_GATE_SEED: String(seed), REPRO_GATE_OUT: out },
    timeoutMs: config.train.timeout,
    outDir,
    logFile,
    onLine: (line) => log.info(`[seed ${seed}] ${line}`),
  });
  const lastLines = result.tail
    .slice(-10)
    .map((l) => `    ${l}`)
    .join('\n');
  if (result.timedOut) {
    throw new GateError(
      `Seed ${seed}: training timed out after ${formatDuration(config.train.timeout)} and was stopped. Last output:\n${lastLines}\n  Full log: ${logFile}`,
      'Raise train.timeout in repro-gate.yml, or make the training faster.',
    );
  }
  if (result.exitCode !== 0) {
    const how =
      result.exitCode === null
        ? `was killed (${result.signal ?? 'could not start'})`
        : `exited with code ${result.exitCode}`;
    throw new GateError(
      `Seed ${seed}: training ${how}. Last output:\n${lastLines || '    (none)'}\n  Full log: ${logFile}`,
      `Fix the training so it succeeds when run as: ${argv.join(' ')}`,
    );
  }

  const metrics = await readMetrics(
    path.join(outDir, config.metricsFile),
    config.metrics.map((m) => m.name),
    `seed ${seed}'s ${config.metricsFile}`,
  );
  for (const artifact of config.artifacts) {
    const found = await stat(path.join(outDir, artifact)).catch(() => undefined);
    if (!found) {
      throw new GateError(
        `Seed ${seed}: the training did not write the artifact "${artifact}" into its output folder ${outDir}.`,
        'Write it into {out}, or remove it from artifacts: in repro-gate.yml.',
      );
    }
  }
  const artifacts = (await fingerprintData(config.artifacts, outDir)).files;
  log.info(`seed ${seed}: done in ${formatDuration(result.durationMs)}`);
  return { seed, metrics, artifacts, durationMs: result.durationMs };
}
