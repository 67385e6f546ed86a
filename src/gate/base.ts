/**
 * What the pull request's base commit says the gate compares against: its baseline and its gate
 * settings. A change that rewrites the baseline (or loosens a margin, or drops a metric) together
 * with a regression would otherwise pass against itself; with `--base`, the step follows the base
 * commit unless the change is accepted (the action: a label on the pull request).
 */
import path from 'node:path';
import { parseBaseline } from '../baseline/io.js';
import { compareExact } from '../compare/exact.js';
import { compareStatistical } from '../compare/statistical.js';
import { parseConfig } from '../config/load.js';
import { diffSettings } from '../drift/settings.js';
import { fileAtCommit, resolveCommit } from '../fingerprint/git.js';
import type { Baseline, RunRecord } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import type { ConfigDrift, MetricResult, Mismatch, ReportWarning, Verdict } from '../schema/report.js';
import { GateError } from '../util/errors.js';
import { shortHash } from '../util/format.js';
import { toPosix } from '../util/paths.js';
import { settingsOf } from './observe.js';

export interface BaseReference {
  /** Full SHA of the base commit. */
  commit: string;
  /** The gate's config at the base commit, or null when the base has no gate yet. */
  config: GateConfig | null;
  /** The baseline at the base commit, or null when the base has none (this change adds it). */
  baseline: Baseline | null;
  /** What this change alters in what the gate compares against. */
  changed: Array<'baseline' | 'gate settings'>;
  /** Gate-settings drift from the base commit's config to this change's. */
  settings: ConfigDrift[];
}

/**
 * Reads the base commit's config and baseline. Throws a GateError when `ref` is not in this clone
 * (the caller decides whether that is fatal); a base commit whose config does not parse compares
 * the baseline alone.
 */
export async function readBase(
  config: GateConfig,
  baselinePath: string,
  headBaselineText: string,
  ref: string,
): Promise<BaseReference> {
  const commit = await resolveCommit(config.root, ref);
  if (!commit) {
    throw new GateError(
      `The base commit ${ref} is not in this clone, so the baseline cannot be compared with the base commit's.`,
      'Check out with full history (actions/checkout with fetch-depth: 0).',
    );
  }
  const configRel = toPosix(path.relative(config.root, config.path));
  const configText = await fileAtCommit(config.root, commit, configRel);
  let baseConfig: GateConfig | null = null;
  if (configText !== null) {
    try {
      baseConfig = parseConfig(configText, config.path);
    } catch {
      baseConfig = null; // an older or broken config at base: its baseline is still compared below
    }
  }
  const baselineRel = toPosix(
    path.relative(config.root, baseConfig ? path.resolve(config.root, baseConfig.baseline) : baselinePath),
  );
  const baselineText = await fileAtCommit(config.root, commit, baselineRel);
  const baseline = baselineText === null ? null : parseBaseline(baselineText, `${baselineRel} at ${shortHash(commit)}`);
  const settings = baseConfig ? diffSettings(settingsOf(baseConfig), settingsOf(config), configRel) : [];
  const changed: BaseReference['changed'] = [];
  if (baselineText !== null && baselineText !== headBaselineText) changed.push('baseline');
  if (settings.length) changed.push('gate settings');
  return { commit, config: baseConfig, baseline, changed, settings };
}

export interface BaseComparison {
  verdict: Verdict;
  metrics: MetricResult[];
  mismatches: Mismatch[];
  warnings: ReportWarning[];
  /** Why the candidate could not be judged by the base commit's rules, if it could not. */
  problem?: string;
}

/**
 * The candidate's runs judged by the base commit's baseline and gate settings (no extra training).
 * What the base checks but this change no longer measures cannot pass.
 */
export function compareWithBase(base: BaseReference, head: GateConfig, candidate: RunRecord[]): BaseComparison {
  const baseline = base.baseline;
  const rules = base.config ?? head;
  const inconclusive = (problem: string): BaseComparison => ({
    verdict: 'inconclusive',
    metrics: [],
    mismatches: [],
    warnings: [],
    problem,
  });
  if (!baseline) return inconclusive('the base commit has no baseline');
  const dropped = rules.metrics
    .map((m) => m.name)
    .filter((name) => candidate.some((r) => !Object.hasOwn(r.metrics, name)));
  if (dropped.length)
    return inconclusive(`this change no longer measures ${dropped.join(', ')}, which the base commit's gate checks`);
  try {
    if (rules.mode === 'exact') {
      const bySeed = new Set(baseline.runs.map((r) => r.seed));
      const common = candidate.filter((r) => bySeed.has(r.seed));
      if (!common.length) return inconclusive("no seed of this run is in the base commit's baseline");
      const r = compareExact(
        baseline.runs,
        common,
        rules.metrics.map((m) => m.name),
        rules.artifacts,
      );
      return { verdict: r.verdict, metrics: r.metrics, mismatches: r.mismatches, warnings: [] };
    }
    const r = compareStatistical(baseline.runs, candidate, rules.metrics, {
      alpha: rules.alpha,
      paired: rules.paired,
      robust: rules.robust,
    });
    return { verdict: r.verdict, metrics: r.metrics, mismatches: [], warnings: r.warnings };
  } catch (err) {
    if (err instanceof GateError) return inconclusive(err.message);
    throw err;
  }
}
