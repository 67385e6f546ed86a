import type { GateConfig } from '../config/schema.js';
import { GateError } from '../errors.js';
import type { Logger } from '../logger.js';
import { HostRuntime } from './host.js';
import type { Runtime } from './types.js';

/** The host runtime when the config pins no image; the container runtime otherwise. */
export function createRuntime(config: GateConfig, _log: Logger): Runtime {
  if (config.train.image) {
    throw new GateError(
      `train.image is set (${config.train.image}), but this version of repro-gate cannot run containers yet.`,
      'Remove train.image to train on the runner itself.',
    );
  }
  return new HostRuntime();
}
