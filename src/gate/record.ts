/** `record`: train every seed and write the baseline (a baseline is always a real run). */
import { writeBaseline } from '../baseline/io.js';
import { checkRecordable } from '../baseline/recordable.js';
import { loadConfig } from '../config/load.js';
import { uncommittedFiles } from '../fingerprint/git.js';
import { BASELINE_SCHEMA_VERSION, type Baseline, type Fingerprints, type RunRecord } from '../schema/baseline.js';
import type { CacheUse, ReportWarning } from '../schema/report.js';
import { listSome, shortHash } from '../util/format.js';
import { TOOL_VERSION } from '../util/version.js';
import { withHistory } from './history.js';
import { type ManifestView, summariseForBaseline } from './manifests.js';
import { inputsModified, observe, settingsOf, snapshotInputs } from './observe.js';
import { buildReport, type GateOutcome, outcome, type ReportContext } from './report.js';
import { cacheUse, openSeedCache } from './run-cache.js';
import { preflight, seedRuns } from './seed-runs.js';
import { baselineLocation, type GateRequest, type Session, withSession } from './session.js';

export async function record(req: GateRequest): Promise<GateOutcome> {
  const config = await loadConfig(req.configPath, req.cwd);
  return withSession(req, config, 'record', async (s) => {
    await preflight(s);
    const { fingerprints, context } = await observe(s, { training: true });
    const uncommitted = context.commit ? await uncommittedInputs(s, context.commit) : [];
    const inputsBefore = await snapshotInputs(s);
    // A baseline is always a real run; its runs are saved for later checks to reuse.
    const cache = await openSeedCache(s, fingerprints, context.commit, 'save');
    const runs = await seedRuns(s, 'record', config.seeds, { cache });
    const warnings = [...uncommitted, ...(await inputsModified(s, inputsBefore)), ...s.notes];
    return writeRecorded(s, context, { runs, fingerprints, warnings, cache: cacheUse(cache) }, req.history);
  });
}

export interface RecordedRuns {
  runs: RunRecord[];
  fingerprints: Fingerprints;
  warnings: ReportWarning[];
  cache?: CacheUse;
}

/** Writes the baseline from trained runs (here, or by shards) and reports it. */
export async function writeRecorded(
  view: ManifestView,
  context: ReportContext,
  found: RecordedRuns,
  history: GateRequest['history'],
): Promise<GateOutcome> {
  const { config } = context;
  const { log } = view;
  // Values no comparison could use (a mean that overflows) are refused now, not at the next check.
  checkRecordable(
    found.runs,
    config.metrics.map((m) => m.name),
  );
  const recorded: Baseline = {
    schemaVersion: BASELINE_SCHEMA_VERSION,
    tool: { name: 'repro-gate', version: TOOL_VERSION },
    recordedAt: new Date().toISOString(),
    commit: context.commit,
    settings: settingsOf(config),
    runs: found.runs,
    // Large data entries as roots; their per-file manifests go to the manifest store.
    fingerprints: { ...found.fingerprints, data: await summariseForBaseline(view, found.fingerprints.data) },
  };
  const { baselinePath } = baselineLocation(config);
  await writeBaseline(baselinePath, recorded);
  log.info(`Baseline written to ${baselinePath}: commit it.`);
  const report = buildReport(context, {
    command: 'record',
    verdict: 'recorded',
    baseline: recorded,
    candidate: found.runs,
    warnings: found.warnings,
    cache: found.cache,
  });
  return outcome(await withHistory(config, report, found.fingerprints.environment, history !== 'read', log));
}

async function uncommittedInputs(s: Session, commit: string): Promise<ReportWarning[]> {
  const found = await uncommittedFiles(s.config.root);
  if (!found) return [];
  const history = s.config.history?.file.replace(/^\.\//, '');
  const own = (f: string) => f === s.baselineName || f === history || f.startsWith('.repro-gate/');
  const files = [
    ...found.modified.filter((f) => !own(f)).map((f) => `${f} (modified)`),
    ...found.untracked.filter((f) => !own(f)).map((f) => `${f} (untracked)`),
  ];
  if (!files.length) return [];
  const message = `The baseline will name commit ${shortHash(commit)}, but ${files.length === 1 ? 'a file' : `${files.length} files`} of the project differ from it: ${listSome(files, 5)}. Commit them, then record again, so the baseline's commit holds what it was recorded from.`;
  s.log.warn(message);
  return [{ code: 'uncommitted-inputs', message }];
}
