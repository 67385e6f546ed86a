import { DETERMINISM_VARS } from '../runtime/env.js';
import type { Runtime } from '../runtime/types.js';
import type { GateConfig } from '../schema/config.js';
import { DISTRIBUTED_VARS, topologyFacts, withDistributedFacts } from './distributed.js';
import { PROBE_PY } from './probe-script.js';
import { runPythonScript } from './python.js';

type EnvValue = string | number | boolean;
export type EnvironmentFingerprint = Record<string, EnvValue>;

const MARK = 'REPRO_GATE_ENV ';

export interface ProbeOptions {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  toolVersion: string;
  /** A distributed training's launcher and topology (recorded as `distributed.*`). */
  train?: Pick<GateConfig['train'], 'launcher' | 'distributed'>;
}

/**
 * Facts about where training runs. Python-side facts come from the probe; if the runtime has no
 * python the fingerprint says so rather than failing the gate.
 */
export async function probeEnvironment(
  runtime: Runtime,
  opts: ProbeOptions,
): Promise<{ facts: EnvironmentFingerprint; warning?: string }> {
  const facts: EnvironmentFingerprint = { 'repro-gate.version': opts.toolVersion, ...runtime.describe() };
  const train = opts.train ?? {};
  const r = await runPythonScript(
    { runtime, command: opts.command, cwd: opts.cwd, env: opts.env, timeoutMs: Math.min(opts.timeoutMs, 120_000) },
    PROBE_PY,
    [JSON.stringify(DETERMINISM_VARS), JSON.stringify(train.distributed ? DISTRIBUTED_VARS : [])],
    MARK,
  );
  if (!r.ok) {
    return {
      facts: { ...facts, ...topologyFacts(train), python: 'unavailable' },
      warning: `Could not fingerprint the Python environment (${r.problem}); package versions are not compared.`,
    };
  }
  return { facts: withDistributedFacts({ ...facts, ...(r.doc as EnvironmentFingerprint) }, train) };
}
