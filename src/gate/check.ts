/** `check`: train the candidate, compare it with the baseline, and say why when it fails. */
import { readFile } from 'node:fs/promises';
import { readBaseline } from '../baseline/io.js';
import { compareExact } from '../compare/exact.js';
import { seedWarnings } from '../compare/power-warnings.js';
import { compareSequentialLook, planForGate } from '../compare/sequential.js';
import { compareStatistical } from '../compare/statistical.js';
import { loadConfig } from '../config/load.js';
import { diagnose } from '../diagnose/run.js';
import { type CauseFinding, rankCause } from '../drift/cause.js';
import { diffResolvedConfigs } from '../drift/config.js';
import type { Baseline, Fingerprints, RunRecord } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import type { Diagnosis } from '../schema/diagnosis.js';
import {
  type BaselineChange,
  type CacheUse,
  FAILING_VERDICTS,
  type Report,
  type ReportWarning,
  type SequentialSummary,
  type Verdict,
} from '../schema/report.js';
import { checkRobustSeeds } from '../stats/robust.js';
import { GateError } from '../util/errors.js';
import { shortHash } from '../util/format.js';
import type { Logger } from '../util/logger.js';
import { type BaseComparison, type BaseReference, compareWithBase, readBase } from './base.js';
import { withHistory } from './history.js';
import { codeChangesSince, type DriftView, driftSince, inputsModified, observe, snapshotInputs } from './observe.js';
import { buildReport, type GateOutcome, outcome, type ReportContext } from './report.js';
import { cacheUse, openSeedCache, type SeedCache } from './run-cache.js';
import { diagnoseContext, preflight, seedRuns } from './seed-runs.js';
import { baselineLocation, type GateRequest, type Session, withSession } from './session.js';

export interface CheckRequest extends GateRequest {
  /** A git ref (the pull request's base): judge by its baseline and gate settings too. */
  base?: string;
  /** The change to the baseline or gate settings is intended (the action: the PR carries the label). */
  acceptBaselineChange?: boolean;
  /** How acceptance is granted, for the report (e.g. "the label baseline-update"). */
  acceptedBy?: string;
  /**
   * When `base` cannot be read (not in a shallow clone): false (the action) carries on with a
   * `base-unavailable` warning; true (the CLI's explicit --base, the default) is an error.
   */
  baseRequired?: boolean;
}

/** What a check reads before any training: the config, the baseline and, with --base, the base commit's. */
export interface CheckInputs {
  config: GateConfig;
  baseline: Baseline;
  base?: BaseReference;
  baseProblem?: ReportWarning;
}

export async function readCheckInputs(req: CheckRequest): Promise<CheckInputs> {
  const config = await loadConfig(req.configPath, req.cwd);
  const { baselinePath } = baselineLocation(config);
  // Read the baseline before any training: a missing one should fail in a second, not after an hour.
  const baseline = await readBaseline(baselinePath, req.configPath, config.root);
  checkBaselineFits(config, baseline, baselinePath);
  if (!req.base) return { config, baseline };
  try {
    return {
      config,
      baseline,
      base: await readBase(config, baselinePath, await readFile(baselinePath, 'utf8'), req.base),
    };
  } catch (err) {
    if (req.baseRequired !== false || !(err instanceof GateError)) throw err;
    return {
      config,
      baseline,
      baseProblem: { code: 'base-unavailable', message: `${err.message} ${err.hint ?? ''}`.trim() },
    };
  }
}

export async function check(req: CheckRequest): Promise<GateOutcome> {
  const inputs = await readCheckInputs(req);
  return withSession(req, inputs.config, 'check', async (s) => {
    await preflight(s);
    const { fingerprints, context } = await observe(s, { training: true });
    const inputsBefore = await snapshotInputs(s);
    const cache = await openSeedCache(s, fingerprints, context.commit, 'reuse');
    const own = await trainAndCompare(s, inputs.baseline, cache);
    const modified = await inputsModified(s, inputsBefore);
    return judge(
      s,
      req,
      inputs,
      { fingerprints, context, own, notes: [...modified, ...s.notes], cache: cacheUse(cache) },
      (seed) => diagnose(diagnoseContext(s), seed),
    );
  });
}

/** What was trained (here, or by shards) and found, for `judge`. */
export interface JudgeInput {
  fingerprints: Fingerprints;
  context: ReportContext;
  own: Comparison;
  /** What the runs found that the report should say (inputs modified, checkpoints compared by bytes, …). */
  notes: ReportWarning[];
  cache?: CacheUse;
}

/**
 * From a comparison with the baseline to the report: drift, the base commit's verdict when this
 * change alters what is compared, and the most likely cause of a failure. `rerun` diagnoses a seed
 * when nothing drifted (absent for aggregated shards: nothing is trained there).
 */
export async function judge(
  s: DriftView & { log: Logger },
  req: CheckRequest,
  inputs: CheckInputs,
  found: JudgeInput,
  rerun?: (seed: number) => Promise<Diagnosis>,
): Promise<GateOutcome> {
  const { config, baseline, base, baseProblem } = inputs;
  const { fingerprints, context, own } = found;
  const { candidate, sequential } = own;
  // After training: which packages the candidate imported decides which package changes count.
  const notesBefore = s.notes.length;
  const drift = await driftSince(s, baseline, fingerprints, candidate);
  // What the training really used (config: {resolved: …}) is known only now.
  drift.config.push(...diffResolvedConfigs(baseline.runs, candidate));
  // driftSince adds its own notes (imports-unknown) after `found.notes` was taken.
  const warnings = [
    ...(baseProblem ? [baseProblem] : []),
    ...own.warnings,
    ...found.notes,
    ...s.notes.slice(notesBefore),
  ];

  // Judged by the base commit when this change alters what it is judged against, unless accepted.
  let judged: Pick<BaseComparison, 'verdict' | 'metrics' | 'mismatches'> = own;
  let baselineChange: BaselineChange | undefined;
  if (base?.changed.length) {
    const againstBase = compareWithBase(base, config, candidate);
    const follows = req.acceptBaselineChange || !base.baseline ? 'change' : 'base';
    baselineChange = describeChange(base, own.verdict, againstBase, follows, req.acceptedBy);
    if (follows === 'base') {
      judged = againstBase;
      warnings.push(...againstBase.warnings);
    }
    const message = `This change updates the ${baselineChange.changed.join(' and the ')}. ${baselineChange.why}`;
    warnings.unshift({ code: 'baseline-changed', message });
    s.log.warn(message);
  }
  const { verdict, metrics, mismatches } = judged;

  let cause: CauseFinding | undefined;
  let diagnosis: Diagnosis | undefined;
  if (FAILING_VERDICTS.includes(verdict)) {
    const codeChanges = baseline.commit ? await codeChangesSince(s, baseline.commit) : null;
    if (baseline.commit && codeChanges === null) {
      warnings.push({
        code: 'code-changes-unknown',
        message:
          context.commit === null
            ? 'This folder is not a git checkout, so changes to the training code since the baseline cannot be told apart.'
            : `The baseline's commit ${shortHash(baseline.commit)} is not in this clone, so code changes cannot be told apart (check out with fetch-depth: 0).`,
      });
    }
    cause = rankCause({ drift, codeChanges, metrics, mismatches });
    // Nothing drifted and no code changed: only a rerun can tell randomness from parallelism.
    if (rerun && cause.cause === 'unknown' && config.mode === 'exact' && config.diagnose.auto && !baselineChange) {
      const seed = mismatches[0]?.seed ?? config.seeds[0] ?? 0;
      diagnosis = await rerun(seed);
      cause = diagnosisCause(diagnosis);
    }
  }
  const report = buildReport(context, {
    command: 'check',
    verdict,
    baseline,
    drift,
    candidate,
    metrics,
    mismatches,
    cause,
    warnings,
    diagnosis,
    sequential,
    baselineChange,
    cache: found.cache,
  });
  return outcome(await withHistory(config, report, fingerprints.environment, req.history !== 'read', s.log));
}

/** The report's account of a change to what the gate compares against. */
function describeChange(
  base: BaseReference,
  verdictAgainstChange: Verdict,
  againstBase: BaseComparison,
  follows: 'base' | 'change',
  acceptedBy: string | undefined,
): BaselineChange {
  const at = shortHash(base.commit);
  let why: string;
  if (!base.baseline) {
    why = `The base commit ${at} has no baseline, so there is nothing older to compare with.`;
  } else {
    const judged = `Against the base commit ${at}'s, the verdict is ${againstBase.verdict}${againstBase.problem ? ` (${againstBase.problem})` : ''}; against this change's, ${verdictAgainstChange}.`;
    why =
      follows === 'base'
        ? `${judged} The result follows the base commit until the change is accepted${acceptedBy ? ` (${acceptedBy})` : ''}.`
        : `${judged} The change is accepted${acceptedBy ? ` by ${acceptedBy}` : ''}, so the result follows it.`;
  }
  return {
    base: base.commit,
    changed: base.changed,
    settings: base.settings,
    verdictAgainstBase: base.baseline ? againstBase.verdict : null,
    verdictAgainstChange,
    follows,
    why,
  };
}

/** Settings a check cannot be compared under without re-recording: refused before any training. */
function checkBaselineFits(config: GateConfig, baseline: Baseline, file: string): void {
  const rerecord = 'Re-record the baseline with `repro-gate record` (and commit it) after changing what is measured.';
  const missing = config.metrics.map((m) => m.name).filter((n) => !baseline.settings.metrics.includes(n));
  if (missing.length)
    throw new GateError(`The baseline ${file} has no values for metric(s) ${missing.join(', ')}.`, rerecord);
  const recordedSeeds = new Set(baseline.runs.map((r) => r.seed));
  if (config.mode === 'exact' || config.paired) {
    const absent = config.seeds.filter((seed) => !recordedSeeds.has(seed));
    if (absent.length) {
      const who = config.mode === 'exact' ? 'Exact mode' : 'A paired comparison';
      throw new GateError(
        `${who} needs the baseline to hold every seed, but it has no run for seed(s) ${absent.join(', ')}.`,
        rerecord,
      );
    }
  }
  if (config.robust) checkRobustSeeds(config.seeds.length, baseline.runs.length, config.alpha);
  if (config.paired && config.seeds.length !== baseline.runs.length) {
    throw new GateError(
      `A paired comparison needs the same seeds on both sides: the config lists ${config.seeds.length}, the baseline holds ${baseline.runs.length}.`,
      rerecord,
    );
  }
  if (config.mode === 'exact') {
    const missingArtifacts = config.artifacts.filter((a) => !baseline.settings.artifacts.includes(a));
    if (missingArtifacts.length)
      throw new GateError(
        `The baseline ${file} has no hashes for artifact(s) ${missingArtifacts.join(', ')}.`,
        rerecord,
      );
  }
}

export interface Comparison extends Pick<Report, 'metrics' | 'mismatches' | 'warnings'> {
  candidate: RunRecord[];
  verdict: Verdict;
  sequential?: SequentialSummary;
}

/** Said before any training: whether the configured seeds can show equivalence at all. */
export function powerWarnings(config: GateConfig, baseline: Baseline): ReportWarning[] {
  // Exact mode compares bits; the rank-based test explains its own seed needs when it refuses.
  if (config.mode === 'exact' || config.robust) return [];
  return seedWarnings(baseline.runs, config.metrics, {
    alpha: config.alpha,
    nCandidate: config.seeds.length,
    paired: config.paired,
  });
}

/** Compares fixed-seed candidate runs with the baseline (exact, or one TOST per metric). */
export function compareCandidate(
  config: GateConfig,
  baseline: Baseline,
  candidate: RunRecord[],
  before: ReportWarning[],
): Comparison {
  if (config.mode === 'exact') {
    const r = compareExact(
      baseline.runs,
      candidate,
      config.metrics.map((m) => m.name),
      config.artifacts,
    );
    return { candidate, verdict: r.verdict, metrics: r.metrics, mismatches: r.mismatches, warnings: before };
  }
  const r = compareStatistical(baseline.runs, candidate, config.metrics, {
    alpha: config.alpha,
    paired: config.paired,
    robust: config.robust,
  });
  return { candidate, verdict: r.verdict, metrics: r.metrics, mismatches: [], warnings: [...before, ...r.warnings] };
}

/** Trains the candidate seeds (in stages for a sequential plan) and compares them with the baseline. */
async function trainAndCompare(s: Session, baseline: Baseline, cache: SeedCache | undefined): Promise<Comparison> {
  const { config, log } = s;
  if (config.mode === 'statistical' && config.sequential) return trainSequential(s, baseline, cache);
  const before = powerWarnings(config, baseline);
  for (const w of before) log.warn(w.message);
  const candidate = await seedRuns(s, 'check', config.seeds, { cache });
  return compareCandidate(config, baseline, candidate, before);
}

/** A sequential plan: train in stages and stop at the first look that decides. */
async function trainSequential(s: Session, baseline: Baseline, cache: SeedCache | undefined): Promise<Comparison> {
  const { config, log } = s;
  const sequential = config.sequential as NonNullable<GateConfig['sequential']>;
  const plan = planForGate(sequential, {
    alpha: config.alpha,
    paired: config.paired,
    nBaseline: baseline.runs.length,
  });
  const lastLook = plan.looks.length - 1;
  // Before any training: say so if even the largest stage cannot show equivalence.
  const warnings = seedWarnings(baseline.runs, config.metrics, {
    alpha: plan.alphaPerLook[lastLook] ?? config.alpha,
    nCandidate: plan.looks[lastLook] ?? config.seeds.length,
    bothSides: false,
    paired: config.paired,
  });
  for (const w of warnings) log.warn(w.message);
  const candidate: RunRecord[] = [];
  for (let look = 0; ; look++) {
    const stage = { before: candidate.length, total: plan.looks[lastLook] ?? config.seeds.length };
    const seeds = config.seeds.slice(candidate.length, plan.looks[look]);
    candidate.push(...(await seedRuns(s, 'check', seeds, { cache, stage })));
    const r = compareSequentialLook(plan, look, baseline.runs, candidate, config.metrics);
    log.info(r.summary.reason);
    // The last look always decides (equivalent, not-equivalent or inconclusive).
    if (r.decision !== 'continue' || look === lastLook) {
      const verdict = r.decision === 'continue' ? 'inconclusive' : r.decision;
      return {
        candidate,
        verdict,
        metrics: r.metrics,
        mismatches: [],
        warnings: [...warnings, ...r.warnings],
        sequential: r.summary,
      };
    }
  }
}

/** The cause a diagnosis points to, phrased for a failing check. */
function diagnosisCause(d: Diagnosis): CauseFinding {
  if (!d.deterministic)
    return {
      cause: d.cause,
      evidence: `nothing drifted, but the training is nondeterministic on its own: ${d.evidence}`,
    };
  return {
    cause: 'unknown',
    evidence: `nothing repro-gate fingerprints drifted and the training is deterministic here (${d.evidence.replace(/\.$/, '')}): the difference comes from something outside the fingerprint, such as the hardware, an input not listed under data:, or code outside this folder.`,
  };
}
