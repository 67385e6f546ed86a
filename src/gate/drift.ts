/** `drift`: fingerprint data, config and environment and diff them with the baseline; no training. */
import { readBaseline } from '../baseline/io.js';
import { loadConfig } from '../config/load.js';
import { driftSince, observe } from './observe.js';
import { buildReport, type GateOutcome, outcome } from './report.js';
import { baselineLocation, type GateRequest, withSession } from './session.js';

export async function drift(req: GateRequest): Promise<GateOutcome> {
  const config = await loadConfig(req.configPath, req.cwd);
  const baseline = await readBaseline(baselineLocation(config).baselinePath, req.configPath, config.root);
  return withSession(req, config, 'drift', async (s) => {
    const { fingerprints, context } = await observe(s, { training: false });
    const found = await driftSince(s, baseline, fingerprints);
    const verdict = found.data.length + found.config.length + found.environment.length ? 'drift' : 'no-drift';
    return outcome(
      buildReport(context, {
        command: 'drift',
        verdict,
        baseline,
        drift: found,
        warnings: s.notes,
      }),
    );
  });
}
