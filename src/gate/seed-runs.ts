import path from 'node:path';
import type { DiagnoseContext } from '../diagnose/run.js';
import type { RunRecord } from '../schema/baseline.js';
import { installImportHook } from '../train/import-hook.js';
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

/** The import hook's folder: under out/, which the gate owns and git already ignores. */
function importHookDir(s: Session): string {
  return path.join(outRoot(s), 'import-hook');
}

function seedContext(s: Session, verb: string, importHook?: string): SeedRunContext {
  return {
    config: s.config,
    runtime: s.runtime,
    env: s.env,
    log: s.log,
    outRoot: outRoot(s),
    logDir: runsDir(s, verb),
    warnings: s.notes,
    ...(importHook ? { importHook } : {}),
  };
}

/** Trains the seeds one at a time: concurrent trainings would compete for the GPU/cores and perturb each other. */
export async function seedRuns(s: Session, verb: string, seeds: readonly number[]): Promise<RunRecord[]> {
  const ctx = seedContext(s, verb, await installImportHook(importHookDir(s)));
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
