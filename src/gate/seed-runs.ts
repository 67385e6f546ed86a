import path from 'node:path';
import type { DiagnoseContext } from '../diagnose/run.js';
import type { RunRecord } from '../schema/baseline.js';
import { runSeed, type SeedRunContext } from '../train/run-seed.js';
import { SeedProgress } from '../util/progress.js';
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

/**
 * Trains the seeds one at a time: concurrent trainings would compete for the GPU/cores and perturb
 * each other. Progress is counted per seed (SeedProgress), not by position; the action's collapsed
 * group per seed assumes one seed at a time, since a runner's groups cannot interleave.
 */
export async function seedRuns(
  s: Session,
  verb: string,
  seeds: readonly number[],
  /** A stage of a sequential plan: seeds trained before it, and the most the plan may train. */
  stage: { before: number; total: number } = { before: 0, total: seeds.length },
): Promise<RunRecord[]> {
  const ctx = seedContext(s, verb);
  const progress = new SeedProgress(stage.total, Date.now(), 1, stage.before);
  const show = () => s.log.progress?.(progress.line(Date.now()), progress.finished === seeds.length);
  // A live terminal line keeps its elapsed time current between seeds' log lines.
  const ticker = s.log.liveProgress ? setInterval(show, 1000) : undefined;
  ticker?.unref();
  const records: RunRecord[] = [];
  try {
    for (const seed of seeds) {
      progress.start(seed, Date.now());
      show();
      const run = () => runSeed(ctx, seed);
      records.push(await (s.log.group ? s.log.group(`repro-gate ${verb}: seed ${seed}`, run) : run()));
      progress.finish(seed, Date.now());
    }
    show();
  } finally {
    clearInterval(ticker);
    // A failed seed ends the line where it stopped, so the error is printed below it, not over it.
    if (progress.finished < seeds.length) s.log.progress?.(progress.line(Date.now()), true);
  }
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
