/**
 * An in-memory stand-in for where training runs, for gate-level unit tests: each "training" is a
 * function of the seed and environment that returns the files it writes into {out}. The gate
 * around it (config, fingerprints, comparison, report) is the real one; no Python, no Docker.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HostRuntime } from '../../src/runtime/host.js';
import type { RunResult, RunSpec, Runtime } from '../../src/runtime/types.js';
import type { EnvironmentFingerprint } from '../../src/schema/baseline.js';

interface TrainingRun {
  seed: number;
  env: Record<string, string>;
  /** 1 for the first training run of this runtime, 2 for the next, … */
  call: number;
}

interface TrainingResult {
  /** Files written into {out}, by name; `metrics()` builds the usual metrics.json. */
  files?: Record<string, string | Uint8Array>;
  lines?: string[];
  exitCode?: number;
}

export type Training = (run: TrainingRun) => TrainingResult;

/** What the probe would find on a plain Linux host with Python and NumPy. */
export const HOST_FACTS: EnvironmentFingerprint = {
  os: 'Debian GNU/Linux 12 (bookworm)',
  kernel: '6.1.0-test',
  arch: 'x86_64',
  'cpu.model': 'Test CPU',
  'cpu.count': 2,
  'python.version': '3.11.2',
  'python.implementation': 'CPython',
  'package.numpy': '1.24.2',
};

export function metrics(values: Record<string, number>, file = 'metrics.json'): Record<string, string> {
  return { [file]: JSON.stringify(values) };
}

export class ScriptedRuntime implements Runtime {
  readonly kind = 'host' as const;
  /** Every training run, in order (the environment probe is not counted). */
  readonly runs: RunSpec[] = [];
  facts: EnvironmentFingerprint;

  constructor(
    private readonly training: Training,
    facts: EnvironmentFingerprint = HOST_FACTS,
  ) {
    this.facts = facts;
  }

  async prepare(): Promise<void> {}

  pathFor(hostPath: string): string {
    return hostPath;
  }

  async run(spec: RunSpec): Promise<RunResult> {
    const emit = (line: string) => spec.onLine?.(line);
    if (spec.argv[1] === '-c' && spec.argv[2]?.includes('REPRO_GATE_ENV')) {
      emit(`REPRO_GATE_ENV ${JSON.stringify(this.facts)}`);
      return { exitCode: 0, signal: null, timedOut: false, durationMs: 1, tail: [] };
    }
    // The gate's other Python helpers (reading a .py config, a checkpoint) run for real.
    if (spec.argv[1] === '-c') return new HostRuntime().run({ ...spec, argv: ['python3', ...spec.argv.slice(1)] });
    this.runs.push(spec);
    const seed = Number(spec.env.REPRO_GATE_SEED);
    const result = this.training({ seed, env: spec.env, call: this.runs.length });
    await mkdir(spec.outDir, { recursive: true });
    for (const [name, content] of Object.entries(result.files ?? {})) {
      await mkdir(path.dirname(path.join(spec.outDir, name)), { recursive: true });
      await writeFile(path.join(spec.outDir, name), content);
    }
    const lines = result.lines ?? [];
    for (const line of lines) emit(line);
    await writeFile(spec.logFile, lines.map((l) => `${l}\n`).join(''));
    return { exitCode: result.exitCode ?? 0, signal: null, timedOut: false, durationMs: 5, tail: lines.slice(-20) };
  }

  async dispose(): Promise<void> {}

  describe(): Record<string, string> {
    return { runtime: 'host' };
  }
}
