import path from 'node:path';
import type { RunRecord } from '../schema/baseline.js';
import { runSeed, type SeedRunContext } from '../train/run-seed.js';
import type { Session } from './session.js';

/** Each verb's seed folders and logs, replaced on every run (add .repro-gate/runs/ to .gitignore). */
export function runsDir(s: Session, verb: string): string {
  return path.join(s.config.root, '.repro-gate', 'runs', verb);
}

function seedContext(s: Session, verb: string): SeedRunContext {
  return { config: s.config, runtime: s.runtime, env: s.env, log: s.log, runDir: runsDir(s, verb) };
}

/** Trains the seeds one at a time: concurrent trainings would compete for the GPU/cores and perturb each other. */
export async function seedRuns(s: Session, verb: string, seeds: readonly number[]): Promise<RunRecord[]> {
  const ctx = seedContext(s, verb);
  const records: RunRecord[] = [];
  for (const seed of seeds) records.push(await runSeed(ctx, seed));
  return records;
}
