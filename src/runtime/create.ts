import path from 'node:path';
import type { GateConfig } from '../schema/config.js';
import type { Logger } from '../util/logger.js';
import { ContainerRuntime } from './container.js';
import { HostRuntime } from './host.js';
import type { Runtime } from './types.js';

/** The gate's own files for a project: baseline by default, {out} folders, logs, lock, process records. */
export function stateDir(config: GateConfig): string {
  return path.join(config.root, '.repro-gate');
}

/** The container runtime when the config names an image; the runner itself ("host") otherwise. */
export function createRuntime(config: GateConfig, log: Logger): Runtime {
  const groupsDir = path.join(stateDir(config), 'groups');
  return config.train.image
    ? new ContainerRuntime(config, config.train.image, log, { groupsDir })
    : new HostRuntime(groupsDir);
}
