/**
 * What every verb shares: the loaded config, the runtime training runs in (started once, always
 * disposed), and the training's environment. The runtime is injected so gate-level tests can run
 * without Python or Docker; by default it follows the config (container when train.image is set).
 */
import path from 'node:path';
import { createRuntime } from '../runtime/create.js';
import { trainingEnv } from '../runtime/env.js';
import type { Runtime } from '../runtime/types.js';
import type { GateConfig } from '../schema/config.js';
import type { Logger } from '../util/logger.js';
import { toPosix } from '../util/paths.js';

export interface GateRequest {
  /** Path to repro-gate.yml (relative to cwd or absolute). Paths inside it resolve against its folder. */
  configPath: string;
  cwd: string;
  log: Logger;
  /** The runner's environment; only allowlisted variables reach training. Defaults to process.env. */
  runnerEnv?: NodeJS.ProcessEnv;
  /** Where training runs; default: the config's (a container when train.image is set, else the runner). */
  createRuntime?: (config: GateConfig, log: Logger) => Runtime;
}

export interface Session {
  config: GateConfig;
  runtime: Runtime;
  /** The training's complete environment (REPRO_GATE_SEED/OUT are added per seed). */
  env: Record<string, string>;
  log: Logger;
  /** Absolute path of the baseline file, and as the report shows it (relative to the config's folder). */
  baselinePath: string;
  baselineName: string;
}

export function baselineLocation(config: GateConfig): Pick<Session, 'baselinePath' | 'baselineName'> {
  const baselinePath = path.resolve(config.root, config.baseline);
  return { baselinePath, baselineName: toPosix(path.relative(config.root, baselinePath)) };
}

/** Starts the runtime, builds the training environment, runs `fn`, and always cleans up. */
export async function withSession<T>(
  req: GateRequest,
  config: GateConfig,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  const runtime = (req.createRuntime ?? createRuntime)(config, req.log);
  try {
    await runtime.prepare();
    // A container has its own PATH and HOME: it gets the config's env alone, never the runner's.
    // Unbuffered Python output streams live and leaves the last lines in a timed-out seed's log;
    // it changes no numbers, and train.env can still override it.
    const own = { PYTHONUNBUFFERED: '1', ...config.train.env };
    const env = runtime.kind === 'host' ? trainingEnv(req.runnerEnv ?? process.env, own) : own;
    return await fn({ config, runtime, env, log: req.log, ...baselineLocation(config) });
  } finally {
    await runtime.dispose();
  }
}
