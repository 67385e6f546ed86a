import path from 'node:path';
import type { DiagnoseContext } from '../diagnose/run.js';
import type { RunRecord } from '../schema/baseline.js';
import { checkLaunch } from '../train/launch.js';
import { runSeed, type SeedRunContext } from '../train/run-seed.js';
import type { Session } from './session.js';

/** Each verb's logs (and diagnose's kept outputs), replaced on every run. */
function runsDir(s: Session, verb: string): string {
  return path.join(s.stateDir, 'runs', verb);
}

/** The one {out} folder per seed that every verb's training writes to (see run-seed.ts). */
function outRoot(s: Session): string {
  return path.join(s.stateDir, 'out');
}

function seedContext(s: Session, verb: string): SeedRunContext {
  return {
    config: s.config,
    runtime: s.runtime,
    env: s.env,
    log: s.log,
    outRoot: outRoot(s),
    logDir: runsDir(s, verb),
    warnings: s.notes,
  };
}

/** Trains the seeds one at a time: concurrent trainings would compete for the GPU/cores and perturb each other. */
export async function seedRuns(s: Session, verb: string, seeds: readonly number[]): Promise<RunRecord[]> {
  const ctx = seedContext(s, verb);
  const records: RunRecord[] = [];
  for (const seed of seeds) records.push(await runSeed(ctx, seed));
  return records;
}

/** What a diagnosis of one seed needs: the session's training setup, with its own run folder. */
export function diagnoseContext(s: Session): DiagnoseContext {
  return {
    config: s.config,
    runtime: s.runtime,
    env: s.env,
    log: s.log,
    outRoot: outRoot(s),
    runRoot: runsDir(s, 'diagnose'),
  };
}

/** What must hold before anything trains (the launcher exists, a core per rank): fail in seconds, not after the probe. */
export function preflight(s: Session): Promise<void> {
  return checkLaunch(s.config, s.runtime, s.env);
}
