import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DETERMINISM_VARS } from '../runtime/env.js';
import type { Runtime } from '../runtime/types.js';
import { PROBE_PY } from './probe-script.js';

type EnvValue = string | number | boolean;
export type EnvironmentFingerprint = Record<string, EnvValue>;

const MARK = 'REPRO_GATE_ENV ';

/** The interpreter the training itself uses when its command starts with one, else python3. */
function pythonOf(command: string[]): string {
  const first = command[0] ?? '';
  return /^python[\d.]*$/.test(path.basename(first)) ? first : 'python3';
}

export interface ProbeOptions {
  command: string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  toolVersion: string;
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
  const lines: string[] = [];
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'repro-gate-probe-'));
  try {
    const python = pythonOf(opts.command);
    const result = await runtime.run({
      argv: [python, '-c', PROBE_PY, JSON.stringify(DETERMINISM_VARS)],
      cwd: opts.cwd,
      env: opts.env,
      timeoutMs: Math.min(opts.timeoutMs, 120_000),
      outDir: scratch,
      logFile: path.join(scratch, 'probe.log'),
      onLine: (l) => lines.push(l),
    });
    const line = lines.find((l) => l.startsWith(MARK));
    if (result.exitCode !== 0 || !line) {
      return {
        facts: { ...facts, python: 'unavailable' },
        warning: `Could not fingerprint the Python environment with "${python}" (${result.tail.slice(-1)[0] ?? `exit ${result.exitCode}`}); package versions are not compared.`,
      };
    }
    return { facts: { ...facts, ...(JSON.parse(line.slice(MARK.length)) as EnvironmentFingerprint) } };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
