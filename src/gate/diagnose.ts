/** `diagnose`: rerun one seed and name the cause of nondeterminism; exit 0 when deterministic, 1 when not. */
import { loadConfig } from '../config/load.js';
import { diagnose as rerunAndDiagnose } from '../diagnose/run.js';
import type { Diagnosis } from '../schema/diagnosis.js';
import { diagnoseContext, preflight } from './seed-runs.js';
import { type GateRequest, withSession } from './session.js';

export interface DiagnoseRequest extends GateRequest {
  seed?: number;
}

export async function diagnose(req: DiagnoseRequest): Promise<{ diagnosis: Diagnosis; exitCode: 0 | 1 }> {
  const config = await loadConfig(req.configPath, req.cwd);
  const seed = req.seed ?? config.diagnose.seed ?? config.seeds[0] ?? 0;
  return withSession(req, config, 'diagnose', async (s) => {
    await preflight(s);
    const diagnosis = await rerunAndDiagnose(diagnoseContext(s), seed);
    return { diagnosis, exitCode: diagnosis.deterministic ? 0 : 1 };
  });
}
