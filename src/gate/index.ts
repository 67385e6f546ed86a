/** The gate's verbs, one function each over shared steps; the CLI and the action call only these. */
import { type CheckRequest, check } from './check.js';
import { drift } from './drift.js';
import { record } from './record.js';
import type { GateOutcome } from './report.js';
import type { GateRequest } from './session.js';

export { localManifestStore, type ManifestStore } from '../baseline/manifest-store.js';
export { gitCommit } from '../fingerprint/git.js';
export { handleCancellation } from '../runtime/cancel.js';
export type { CheckRequest } from './check.js';
export { diagnose } from './diagnose.js';
export { runEquivalence } from './equivalence.js';
export { restoreHistory, showHistory } from './history.js';
export { init } from './init.js';
export type { GateOutcome } from './report.js';
export type { GateRequest } from './session.js';
export { aggregate, trainShard } from './shard.js';
export { parseShardSpec } from './shard-set.js';
export { check, drift, record };

const GATE_VERBS = { record, check, drift } as const;
export type GateCommand = keyof typeof GATE_VERBS;

export function isGateCommand(name: string): name is GateCommand {
  return Object.hasOwn(GATE_VERBS, name);
}

/** `req` may carry check's options (base, acceptBaselineChange); the other verbs ignore them. */
export function runGate(command: GateCommand, req: GateRequest & CheckRequest): Promise<GateOutcome> {
  return GATE_VERBS[command](req);
}
