import type { GateConfig } from '../schema/config.js';
import type { Logger } from '../util/logger.js';
import { ContainerRuntime } from './container.js';
import { HostRuntime } from './host.js';
import type { Runtime } from './types.js';

/** The container runtime when the config names an image; the runner itself ("host") otherwise. */
export function createRuntime(config: GateConfig, log: Logger): Runtime {
  return config.train.image ? new ContainerRuntime(config, config.train.image, log) : new HostRuntime();
}
