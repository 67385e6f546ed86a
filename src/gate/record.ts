/** `record`: train every seed and write the baseline (a baseline is always a real run). */
import { writeBaseline } from '../baseline/io.js';
import { checkRecordable } from '../baseline/recordable.js';
import { loadConfig } from '../config/load.js';
import { uncommittedFiles } from '../fingerprint/git.js';
import { BASELINE_SCHEMA_VERSION, type Baseline } from '../schema/baseline.js';
import type { ReportWarning } from '../schema/report.js';
import { listSome, shortHash } from '../util/format.js';
import { TOOL_VERSION } from '../util/version.js';
import { withHistory } from './history.js';
import { inputsModified, observe, settingsOf, snapshotInputs } from './observe.js';
import { buildReport, type GateOutcome, outcome } from './report.js';
import { seedRuns } from './seed-runs.js';
import { type GateRequest, type Session, withSession } from './session.js';

export async function record(req: GateRequest): Promise<GateOutcome> {
  const config = await loadConfig(req.configPath, req.cwd);
  return withSession(req, config, 'record', async (s) => {
    const { fingerprints, context } = await observe(s);
    const uncommitted = context.commit ? await uncommittedInputs(s, context.commit) : [];
    const inputsBefore = await snapshotInputs(s);
    const runs = await seedRuns(s, 'record', config.seeds);
    const warnings = [...uncommitted, ...(await inputsModified(s, inputsBefore)), ...s.notes];
    // Values no comparison could use (a mean that overflows) are refused now, not at the next check.
    checkRecordable(
      runs,
      config.metrics.map((m) => m.name),
    );
    const recorded: Baseline = {
      schemaVersion: BASELINE_SCHEMA_VERSION,
      tool: { name: 'repro-gate', version: TOOL_VERSION },
      recordedAt: new Date().toISOString(),
      commit: context.commit,
      settings: settingsOf(config),
      runs,
      fingerprints,
    };
    await writeBaseline(s.baselinePath, recorded);
    s.log.info(`Baseline written to ${s.baselinePath}: commit it.`);
    const report = buildReport(context, {
      command: 'record',
      verdict: 'recorded',
      baseline: recorded,
      candidate: runs,
      warnings,
    });
    return outcome(await withHistory(config, report, fingerprints.environment, req.history !== 'read', s.log));
  });
}

/**
 * The baseline names HEAD as the commit it was recorded from; files of the project that differ from
 * HEAD (modified, or untracked) make that untrue, and later line-level data diffs and code-change
 * detection compare against the wrong thing. Warned before training, so an interrupted record can be fixed.
 */
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
