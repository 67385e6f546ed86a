/**
 * The steps that look before (or instead of) training: fingerprint data, config and environment,
 * diff them with a baseline, and find the code changed since it was recorded.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { lintDeterminism } from '../diagnose/lint.js';
import { diffConfig } from '../drift/config.js';
import { changedSince, diffData } from '../drift/data.js';
import { diffEnvironment } from '../drift/environment.js';
import { classifyEnvironment, importedPackages } from '../drift/relevance.js';
import { diffSettings } from '../drift/settings.js';
import { describeTextChange } from '../drift/text-change.js';
import { fingerprintConfigFiles } from '../fingerprint/config.js';
import { fingerprintData, statSnapshot } from '../fingerprint/data.js';
import { probeEnvironment } from '../fingerprint/environment.js';
import { changedFilesSince, fileAtCommit, gitCommit } from '../fingerprint/git.js';
import { fingerprintLineage } from '../fingerprint/lineage.js';
import type { Baseline, BaselineSettings, Fingerprints, FlatConfig, RunRecord } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import type { Drift, ReportWarning } from '../schema/report.js';
import { compareBytes } from '../util/bytes.js';
import { COMMAND_LINE, commandLineOptions } from '../util/command-line.js';
import { listSome } from '../util/format.js';
import { toPosix } from '../util/paths.js';
import { TOOL_VERSION } from '../util/version.js';
import { expandBaselineData } from './manifests.js';
import type { ReportContext } from './report.js';
import type { Session } from './session.js';

export interface Observation {
  fingerprints: Fingerprints;
  /** HEAD of the project's repository (null outside git) and the determinism lint, for the report. */
  context: ReportContext;
}

/**
 * `training`: the verb trains next, so its data must be there in full (a git-LFS pointer that is not
 * checked out is an error); drift only fingerprints, and takes a pointer for its content.
 */
export async function observe(s: Session, opts: { training: boolean }): Promise<Observation> {
  const { config } = s;
  const [files, lineage, configFiles, probed, commit] = await Promise.all([
    fingerprintData(config.data, config.root, {
      warn: (m) => s.log.warn(m),
      statCache: s.statCache,
      external: externalData(config),
      lfs: opts.training ? 'require-content' : 'pointer',
    }),
    fingerprintLineage(config.dataEntries, config.root, (m) => s.log.warn(m)),
    fingerprintConfigFiles(config.config, config.root, {
      python: { runtime: s.runtime, command: config.train.command, cwd: config.root, env: s.env, timeoutMs: 120_000 },
    }),
    probeEnvironment(s.runtime, {
      command: config.train.command,
      cwd: config.root,
      env: s.env,
      timeoutMs: config.train.timeout,
      toolVersion: TOOL_VERSION,
      train: config.train,
    }),
    gitCommit(config.root),
  ]);
  if (probed.warning) s.log.warn(probed.warning);
  const data = lineage ? { ...files, lineage } : files;
  const fingerprints = { data, config: withCommandLine(configFiles, config), environment: probed.facts };
  const lint = lintDeterminism(probed.facts, config.train.env, config.train.gpus);
  return { fingerprints, context: { config, baselineName: s.baselineName, commit, lint } };
}

/** The data: entries declared `external: true` (absolute paths outside the project). */
function externalData(config: GateConfig): Set<string> {
  return new Set(config.dataEntries.filter((d) => d.external).map((d) => d.path));
}

/**
 * The `--key=value` options of train.command as one more config source, `command-line`: a changed
 * override is config drift naming its key (command-line.learning_rate 1e-3 → 2e-3).
 */
function withCommandLine(files: Record<string, FlatConfig>, config: GateConfig): Record<string, FlatConfig> {
  const options = [...commandLineOptions(config.train.command)];
  if (!options.length) return files;
  const entries: Array<[string, FlatConfig]> = [...Object.entries(files), [COMMAND_LINE, Object.fromEntries(options)]];
  return Object.fromEntries(entries.sort((a, b) => compareBytes(a[0], b[0])));
}

/** The recorded settings that change what a run means, keyed as in repro-gate.yml. */
export function settingsOf(config: GateConfig): BaselineSettings {
  return {
    mode: config.mode,
    command: config.train.command,
    image: config.train.image ?? null,
    seeds: config.seeds,
    metricsFile: config.metricsFile,
    metrics: config.metrics.map((m) => m.name),
    artifacts: config.artifacts,
    alpha: config.alpha,
    paired: config.paired,
    robust: config.robust,
    // Only kept when set, so baselines recorded one seed at a time stay byte-for-byte as before.
    ...(config.train.parallel > 1 ? { parallel: config.train.parallel } : {}),
    margins: Object.fromEntries(
      config.metrics.map((m) => [
        m.name,
        { margin: config.mode === 'exact' ? null : (m.margin?.text ?? null), direction: m.direction },
      ]),
    ),
  };
}

/**
 * What drift and code changes need of a session: the config, the baseline's name, and where notes for
 * the report go (aggregate has no session, only these).
 */
export type DriftView = Pick<Session, 'config' | 'baselineName' | 'notes' | 'manifests' | 'log'>;

/**
 * Everything that changed since the baseline, in the order to suspect it: data, config, environment.
 * Environment changes that cannot move the numbers (host noise, packages neither the baseline's nor
 * the candidate's runs imported, keys in drift.ignore) go to `noise`: shown, never counted.
 */
export async function driftSince(
  s: DriftView,
  baseline: Baseline,
  now: Fingerprints,
  candidate: readonly RunRecord[] = [],
): Promise<Drift> {
  const { config } = s;
  const expanded = await expandBaselineData(s, baseline.fingerprints.data, now.data);
  const before = baseline.fingerprints.environment;
  const after = now.environment;
  const imported = importedPackages([...baseline.runs, ...candidate]);
  const environment = classifyEnvironment({
    changes: diffEnvironment(before, after),
    before,
    after,
    policy: config.drift,
    imported,
  });
  if (imported === null && environment.relevant.some((e) => e.key.startsWith('package.'))) {
    s.notes.push({
      code: 'imports-unknown',
      message:
        "Every package change counts: which packages the training imports is not recorded (it is not Python, its Python is older than 3.10, or repro-gate's import hook did not run for every seed). Re-record the baseline with this version of repro-gate to count only the packages it imports.",
    });
  }
  const drift: Drift = {
    data: [...expanded.folders, ...diffData(expanded.before, expanded.now)],
    config: diffConfig(baseline.fingerprints.config, now.config),
    environment: environment.relevant,
    ...(environment.noise.length ? { noise: environment.noise } : {}),
  };
  if (baseline.commit) await describeDataChanges(config, baseline.commit, drift.data);
  // What is measured, and how, is configuration too: a changed command or seed list must show.
  const configName = toPosix(path.relative(config.root, config.path));
  drift.config.unshift(...diffSettings(baseline.settings, settingsOf(config), configName));
  return drift;
}

/** Training code changes: files changed since the baseline commit that are not data, config or repro-gate's own. */
export async function codeChangesSince(s: DriftView, commit: string): Promise<string[] | null> {
  const { config } = s;
  const changed = await changedFilesSince(config.root, commit);
  if (changed === null) return null;
  const ownConfig = toPosix(path.relative(config.root, config.path));
  const lineageFiles = config.dataEntries.flatMap((d) => [
    ...d.preprocess,
    ...(typeof d.query === 'object' ? [d.query.file] : []),
  ]);
  const owned = [...config.data, ...lineageFiles, ...config.config, s.baselineName, ownConfig, '.repro-gate/'].map(
    (p) => p.replace(/^\.\//, ''),
  );
  return changed.filter((f) => !owned.some((p) => f === p || f.startsWith(p.endsWith('/') ? p : `${p}/`)));
}

/** Up to this size, a modified data file is compared line by line with its copy at the baseline commit. */
const TEXT_DIFF_MAX_BYTES = 5 * 1024 * 1024;

/** Adds "line 2 of 570 changed" to modified text data files that git still has at the baseline commit. */
async function describeDataChanges(config: GateConfig, commit: string, data: Drift['data']): Promise<void> {
  for (const entry of data
    .filter((d) => d.change === 'modified' && !d.lineage && !d.folder && !path.isAbsolute(d.path))
    .slice(0, 20)) {
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

/** What the training could change that the gate read before it: the data and the baseline file. */
export interface InputsSnapshot {
  data: Map<string, string>;
  baseline: string | null;
}

export async function snapshotInputs(s: Session): Promise<InputsSnapshot> {
  const baselineText = await readFile(s.baselinePath).catch(() => null);
  return {
    data: await statSnapshot(s.config.data, s.config.root, externalData(s.config)),
    baseline: baselineText && createHash('sha256').update(baselineText).digest('hex'),
  };
}

/** Warnings when the training wrote to its own data or to the baseline file while it ran. */
export async function inputsModified(s: Session, before: InputsSnapshot): Promise<ReportWarning[]> {
  const after = await snapshotInputs(s);
  const out: ReportWarning[] = [];
  const changed = changedSince(before.data, after.data);
  if (changed.length) {
    const list = listSome(changed.map((c) => `${c.path} (${c.change})`));
    out.push({
      code: 'inputs-modified',
      message: `The training modified its data while it ran: ${list}. The fingerprint and drift describe the data as it was before training; make the training leave data: read-only.`,
    });
  }
  if (before.baseline !== after.baseline) {
    out.push({
      code: 'inputs-modified',
      message: `The training modified the baseline file ${s.baselineName} while it ran; the comparison used the copy read before training.`,
    });
  }
  for (const w of out) s.log.warn(w.message);
  return out;
}
