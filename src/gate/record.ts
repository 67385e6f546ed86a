/** `record`: train every seed and write the baseline (a baseline is always a real run). */
import { writeBaseline } from '../baseline/io.js';
import { checkRecordable } from '../baseline/recordable.js';
import { loadConfig } from '../config/load.js';
import { BASELINE_SCHEMA_VERSION, type Baseline } from '../schema/baseline.js';
import { TOOL_VERSION } from '../util/version.js';
import { summariseForBaseline } from './manifests.js';
import { inputsModified, observe, settingsOf, snapshotInputs } from './observe.js';
import { buildReport, type GateOutcome, outcome } from './report.js';
import { seedRuns } from './seed-runs.js';
import { type GateRequest, withSession } from './session.js';

export async function record(req: GateRequest): Promise<GateOutcome> {
  const config = await loadConfig(req.configPath, req.cwd);
  return withSession(req, config, 'record', async (s) => {
    const { fingerprints, context } = await observe(s, { training: true });
    const inputsBefore = await snapshotInputs(s);
    const runs = await seedRuns(s, 'record', config.seeds);
    const warnings = [...(await inputsModified(s, inputsBefore)), ...s.notes];
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
      // Large data entries as roots; their per-file manifests go to .repro-gate/manifests/.
      fingerprints: { ...fingerprints, data: await summariseForBaseline(s, fingerprints.data) },
    };
    await writeBaseline(s.baselinePath, recorded);
    s.log.info(`Baseline written to ${s.baselinePath}: commit it.`);
    return outcome(
      buildReport(context, {
        command: 'record',
        verdict: 'recorded',
        baseline: recorded,
        candidate: runs,
        warnings,
      }),
    );
  });
}
