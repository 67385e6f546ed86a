/**
 * The one pipeline behind the CLI and the action:
 * load config → fingerprint → train every seed → compare with the baseline → report.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Baseline, RunRecord } from './baseline/schema.js';
import { BASELINE_SCHEMA_VERSION } from './baseline/schema.js';
import { readBaseline, writeBaseline } from './baseline/io.js';
import { compareExact } from './compare/exact.js';
import { diffEnvironment, diffSettings, rankCause, type CauseFinding } from './compare/drift.js';
import { compareStatistical } from './compare/statistical.js';
import { compareSequentialLook, planForGate, type SequentialSummary } from './compare/sequential-gate.js';
import { seedWarnings } from './compare/power-warnings.js';
import { checkRobustSeeds } from './compare/robust.js';
import { loadConfig } from './config/load.js';
import type { GateConfig } from './config/schema.js';
import { GateError } from './errors.js';
import { diffConfig, fingerprintConfigFiles } from './fingerprint/config.js';
import { diffData, fingerprintData } from './fingerprint/data.js';
import { probeEnvironment } from './fingerprint/environment.js';
import { changedFilesSince, fileAtCommit, gitCommit } from './fingerprint/git.js';
import { describeTextChange } from './compare/text-change.js';
import type { Logger } from './logger.js';
import { buildReport } from './report/build.js';
import type { Drift, Report, Verdict } from './report/schema.js';
import { FAILING_VERDICTS } from './report/schema.js';
import { trainingEnv } from './runtime/env.js';
import { createRuntime } from './runtime/create.js';
import type { Runtime } from './runtime/types.js';
import { runSeeds, type SeedRunContext } from './train/run-seeds.js';
import { diagnose } from './diagnose/run.js';
import { lintDeterminism } from './diagnose/lint.js';
import type { Diagnosis } from './diagnose/schema.js';
import { TOOL_VERSION } from './version.js';

export type { Logger } from './logger.js';
export type GateCommand = 'record' | 'check' | 'drift';

export interface GateRequest {
  command: GateCommand;
  /** Path to repro-gate.yml (relative to cwd or absolute). Paths inside it resolve against its folder. */
  configPath: string;
  cwd: string;
  log: Logger;
  /** The runner's environment; only allowlisted variables reach training. Defaults to process.env. */
  runnerEnv?: NodeJS.ProcessEnv;
}

export interface GateOutcome {
  report: Report;
  verdict: Verdict;
  /** 0 pass, 1 fail (errors throw GateError → exit 2). */
  exitCode: 0 | 1;
}

interface Fingerprints {
  data: Baseline['fingerprints']['data'];
  config: Baseline['fingerprints']['config'];
  environment: Baseline['fingerprints']['environment'];
}

export async function runGate(req: GateRequest): Promise<GateOutcome> {
  const config = await loadConfig(req.configPath, req.cwd);
  const baselinePath = path.resolve(config.root, config.baseline);
  // Read the baseline before any training: a missing one should fail in a second, not after an hour.
  const baseline = req.command === 'record' ? undefined : await readBaseline(baselinePath, req.configPath);
  if (baseline && req.command === 'check') checkBaselineFits(config, baseline, baselinePath);

  return withRuntime(config, req, async (runtime, env) => {
    const [fingerprints, commit] = await Promise.all([fingerprint(config, runtime, env, req.log), gitCommit(config.root)]);
    const lint = lintDeterminism(fingerprints.environment, config.train.env, config.train.gpus);
    const runDir = runsDir(config, req.command);
    const ctx = { config, runtime, runDir, env, log: req.log };
    const relBaseline = path.relative(config.root, baselinePath).split(path.sep).join('/');
    const base = { config, baselinePath: relBaseline, commit, lint };

    if (req.command === 'record') {
      const runs = await runSeeds(ctx, config.seeds);
      const recorded = newBaseline(config, runs, fingerprints, commit);
      await writeBaseline(baselinePath, recorded);
      req.log.info(`Baseline written to ${baselinePath}: commit it.`);
      return outcome(
        buildReport({ ...base, command: 'record', verdict: 'recorded', baseline: recorded, candidate: runs }),
      );
    }

    const drift = diffFingerprints(baseline!.fingerprints, fingerprints);
    if (baseline!.commit) await describeDataChanges(config, baseline!.commit, drift.data);
    // What is measured, and how, is configuration too: a changed command or seed list must show.
    drift.config.unshift(
      ...diffSettings(comparedSettings(baseline!.settings), comparedSettings(settingsOf(config)), path.relative(config.root, config.path).split(path.sep).join('/')),
    );
    if (req.command === 'drift') {
      const verdict = drift.data.length + drift.config.length + drift.environment.length ? 'drift' : 'no-drift';
      return outcome(buildReport({ ...base, command: 'drift', verdict, baseline, drift }));
    }

    const { candidate, verdict, metrics, mismatches, warnings, sequential } = await trainAndCompare(ctx, baseline!);
    const compared = { metrics, mismatches };

    let cause: CauseFinding | undefined;
    let diagnosis: Diagnosis | undefined;
    if (FAILING_VERDICTS.includes(verdict)) {
      const codeChanges = baseline!.commit ? await codeChangesSince(config, baseline!.commit, relBaseline) : null;
      if (baseline!.commit && codeChanges === null) {
        warnings.push(
          commit === null
            ? 'This folder is not a git checkout, so changes to the training code since the baseline cannot be told apart.'
            : `The baseline's commit ${baseline!.commit.slice(0, 12)} is not in this clone, so code changes cannot be told apart (check out with fetch-depth: 0).`,
        );
      }
      cause = rankCause({ drift, codeChanges, ...compared });
      // Nothing drifted and no code changed: only a rerun can tell randomness from parallelism.
      if (cause.cause === 'unknown' && config.mode === 'exact' && config.diagnose.auto) {
        const seed = compared.mismatches[0]?.seed ?? config.seeds[0]!;
        diagnosis = await diagnose({ config, runtime, env, log: req.log, runRoot: runsDir(config, 'diagnose') }, seed);
        cause = diagnosisCause(diagnosis);
      }
    }
    return outcome(buildReport({ ...base, command: 'check', verdict, baseline, drift, candidate, ...compared, cause, warnings, diagnosis, sequential }));
  });
}

/** Each command's seed folders and logs, replaced on every run (add .repro-gate/runs/ to .gitignore). */
function runsDir(config: GateConfig, name: string): string {
  return path.join(config.root, '.repro-gate', 'runs', name);
}

interface Comparison extends Pick<Report, 'metrics' | 'mismatches' | 'warnings'> {
  candidate: RunRecord[];
  verdict: Verdict;
  sequential?: SequentialSummary;
}

/** Trains the candidate seeds (in stages for a sequential plan) and compares them with the baseline. */
async function trainAndCompare(ctx: SeedRunContext, baseline: Baseline): Promise<Comparison> {
  const { config, log } = ctx;
  const warnings: string[] = [];
  const warnNow = (lines: string[]) => {
    for (const line of lines) log.warn(line);
    warnings.push(...lines);
  };

  if (config.mode === 'exact') {
    const candidate = await runSeeds(ctx, config.seeds);
    const r = compareExact(baseline.runs, candidate, config.metrics.map((m) => m.name), config.artifacts);
    return { candidate, verdict: r.verdict, metrics: r.metrics, mismatches: r.mismatches, warnings };
  }

  if (config.sequential) {
    const plan = planForGate(config.sequential, { alpha: config.alpha, paired: config.paired, nBaseline: baseline.runs.length });
    // Before any training: say so if even the largest stage cannot show equivalence.
    warnNow(seedWarnings(baseline.runs, config.metrics, { alpha: plan.alphaPerLook.at(-1)!, nCandidate: plan.looks.at(-1)!, bothSides: false, paired: config.paired }));
    const candidate: RunRecord[] = [];
    for (let look = 0; ; look++) {
      candidate.push(...(await runSeeds(ctx, config.seeds.slice(candidate.length, plan.looks[look]))));
      const r = compareSequentialLook(plan, look, baseline.runs, candidate, config.metrics);
      log.info(r.summary.reason);
      // The last look always decides (equivalent, not-equivalent or inconclusive).
      if (r.decision !== 'continue' || look === plan.looks.length - 1) {
        return { candidate, verdict: r.decision === 'continue' ? 'inconclusive' : r.decision, metrics: r.metrics, mismatches: [], warnings: [...warnings, ...r.warnings], sequential: r.summary };
      }
    }
  }

  // The power model is Welch's; the rank-based test explains its own seed needs when it refuses.
  if (!config.robust) warnNow(seedWarnings(baseline.runs, config.metrics, { alpha: config.alpha, nCandidate: config.seeds.length, paired: config.paired }));
  const candidate = await runSeeds(ctx, config.seeds);
  const r = compareStatistical(baseline.runs, candidate, config.metrics, { alpha: config.alpha, paired: config.paired, robust: config.robust });
  return { candidate, verdict: r.verdict, metrics: r.metrics, mismatches: [], warnings: [...warnings, ...r.warnings] };
}

/** The cause a diagnosis points to, phrased for a failing check. */
function diagnosisCause(d: Diagnosis): CauseFinding {
  if (!d.deterministic) return { cause: d.cause, evidence: `nothing drifted, but the training is nondeterministic on its own: ${d.evidence}` };
  return {
    cause: 'unknown',
    evidence: `nothing repro-gate fingerprints drifted and the training is deterministic here (${d.evidence.replace(/\.$/, '')}): the difference comes from something outside the fingerprint, such as the hardware, an input not listed under data:, or code outside this folder.`,
  };
}

export interface DiagnoseRequest extends Omit<GateRequest, 'command'> {
  seed?: number;
}

/** `diagnose`: exit 0 when the training is deterministic, 1 when not. */
export async function runDiagnose(req: DiagnoseRequest): Promise<{ diagnosis: Diagnosis; exitCode: 0 | 1 }> {
  const config = await loadConfig(req.configPath, req.cwd);
  const seed = req.seed ?? config.diagnose.seed ?? config.seeds[0]!;
  return withRuntime(config, req, async (runtime, env) => {
    const diagnosis = await diagnose({ config, runtime, env, log: req.log, runRoot: runsDir(config, 'diagnose') }, seed);
    return { diagnosis, exitCode: diagnosis.deterministic ? 0 : 1 };
  });
}

/** Starts the runtime the config asks for, builds the training environment, and always cleans up. */
async function withRuntime<T>(
  config: GateConfig,
  req: Pick<GateRequest, 'log' | 'runnerEnv'>,
  fn: (runtime: Runtime, env: Record<string, string>) => Promise<T>,
): Promise<T> {
  const runtime = createRuntime(config, req.log);
  try {
    await runtime.prepare();
    // A container has its own PATH and HOME: it gets the config's env alone, never the runner's.
    // Unbuffered Python output streams live and leaves the last lines in a timed-out seed's log;
    // it changes no numbers, and train.env can still override it.
    const own = { PYTHONUNBUFFERED: '1', ...config.train.env };
    const env = runtime.kind === 'host' ? trainingEnv(req.runnerEnv ?? process.env, own) : own;
    return await fn(runtime, env);
  } finally {
    await runtime.dispose();
  }
}

function outcome(report: Report): GateOutcome {
  return { report, verdict: report.verdict, exitCode: FAILING_VERDICTS.includes(report.verdict) ? 1 : 0 };
}

async function fingerprint(config: GateConfig, runtime: Runtime, env: Record<string, string>, log: Logger): Promise<Fingerprints> {
  const [data, configFiles, probed] = await Promise.all([
    fingerprintData(config.data, config.root),
    fingerprintConfigFiles(config.config, config.root),
    probeEnvironment(runtime, { command: config.train.command, cwd: config.root, env, timeoutMs: config.train.timeout, toolVersion: TOOL_VERSION }),
  ]);
  if (probed.warning) log.warn(probed.warning);
  return { data, config: configFiles, environment: probed.facts };
}

function diffFingerprints(before: Fingerprints, after: Fingerprints): Drift {
  return {
    data: diffData(before.data, after.data),
    config: diffConfig(before.config, after.config),
    environment: diffEnvironment(before.environment, after.environment),
  };
}

/** Settings a check cannot be compared under without re-recording. */
function checkBaselineFits(config: GateConfig, baseline: Baseline, file: string): void {
  const rerecord = 'Re-record the baseline with `repro-gate record` (and commit it) after changing what is measured.';
  const missing = config.metrics.map((m) => m.name).filter((n) => !baseline.settings.metrics.includes(n));
  if (missing.length) throw new GateError(`The baseline ${file} has no values for metric(s) ${missing.join(', ')}.`, rerecord);
  const recordedSeeds = new Set(baseline.runs.map((r) => r.seed));
  if (config.mode === 'exact' || config.paired) {
    const absent = config.seeds.filter((s) => !recordedSeeds.has(s));
    if (absent.length) {
      throw new GateError(`${config.mode === 'exact' ? 'Exact mode' : 'A paired comparison'} needs the baseline to hold every seed, but it has no run for seed(s) ${absent.join(', ')}.`, rerecord);
    }
  }
  if (config.robust) checkRobustSeeds(config.seeds.length, baseline.runs.length, config.alpha);
  if (config.paired && config.seeds.length !== baseline.runs.length) {
    throw new GateError(`A paired comparison needs the same seeds on both sides: the config lists ${config.seeds.length}, the baseline holds ${baseline.runs.length}.`, rerecord);
  }
  if (config.mode === 'exact') {
    const missingArtifacts = config.artifacts.filter((a) => !baseline.settings.artifacts.includes(a));
    if (missingArtifacts.length) throw new GateError(`The baseline ${file} has no hashes for artifact(s) ${missingArtifacts.join(', ')}.`, rerecord);
  }
}

/** Training code changes: files changed since the baseline commit that are not data, config or repro-gate's own. */
async function codeChangesSince(config: GateConfig, commit: string, relBaseline: string): Promise<string[] | null> {
  const changed = await changedFilesSince(config.root, commit);
  if (changed === null) return null;
  const ownConfig = path.relative(config.root, config.path).split(path.sep).join('/');
  const owned = [...config.data, ...config.config, relBaseline, ownConfig, '.repro-gate/'].map((p) => p.replace(/^\.\//, ''));
  return changed.filter((f) => !owned.some((p) => f === p || f.startsWith(p.endsWith('/') ? p : `${p}/`)));
}

/** Up to this size, a modified data file is compared line by line with its copy at the baseline commit. */
const TEXT_DIFF_MAX_BYTES = 5 * 1024 * 1024;

/** Adds "line 2 of 570 changed" to modified text data files that git still has at the baseline commit. */
async function describeDataChanges(config: GateConfig, commit: string, data: Drift['data']): Promise<void> {
  for (const entry of data.filter((d) => d.change === 'modified').slice(0, 20)) {
    const file = path.join(config.root, entry.path);
    const size = (await stat(file).catch(() => undefined))?.size ?? Infinity;
    if (size > TEXT_DIFF_MAX_BYTES) continue;
    const before = await fileAtCommit(config.root, commit, entry.path);
    // Only trust the old copy if it is exactly what the baseline hashed.
    if (before === null || createHash('sha256').update(before).digest('hex') !== entry.before) continue;
    const detail = describeTextChange(before, await readFile(file, 'utf8'));
    if (detail) entry.detail = detail;
  }
}

/** The recorded settings that change what a run means, keyed as in repro-gate.yml. */
function comparedSettings(s: Baseline['settings']): Record<string, unknown> {
  return { command: s.command, seeds: s.seeds, mode: s.mode, 'metrics.file': s.metricsFile };
}

function settingsOf(config: GateConfig): Baseline['settings'] {
  return {
    mode: config.mode,
    command: config.train.command,
    image: config.train.image ?? null,
    seeds: config.seeds,
    metricsFile: config.metricsFile,
    metrics: config.metrics.map((m) => m.name),
    artifacts: config.artifacts,
  };
}

function newBaseline(config: GateConfig, runs: RunRecord[], fingerprints: Fingerprints, commit: string | null): Baseline {
  return {
    schemaVersion: BASELINE_SCHEMA_VERSION,
    tool: { name: 'repro-gate', version: TOOL_VERSION },
    recordedAt: new Date().toISOString(),
    commit,
    settings: settingsOf(config),
    runs,
    fingerprints,
  };
}
