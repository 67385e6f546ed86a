import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type { DiagnoseContext } from '../diagnose/run.js';
import { countGpus } from '../fingerprint/gpus.js';
import { planSlots, slotThreads, THREAD_VARIABLES } from '../runtime/slots.js';
import type { Slot } from '../runtime/types.js';
import type { RunRecord } from '../schema/baseline.js';
import type { ReportWarning } from '../schema/report.js';
import { installImportHook } from '../train/import-hook.js';
import { checkLaunch } from '../train/launch.js';
import { runSeed, type SeedRunContext } from '../train/run-seed.js';
import { SeedProgress } from '../util/progress.js';
import { cachedRun, type SeedCache, saveRun } from './run-cache.js';
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

function seedContext(
  s: Session,
  verb: string,
  warnings: ReportWarning[],
  importHook: string | undefined,
  slot?: Slot,
): SeedRunContext {
  let env = s.env;
  if (slot) {
    // A slot's share of cores, unless the training sets its own thread counts.
    const threads = String(slotThreads(slot));
    const own = s.config.train.env;
    env = { ...env, ...Object.fromEntries(THREAD_VARIABLES.filter((v) => !(v in own)).map((v) => [v, threads])) };
  }
  return {
    config: s.config,
    runtime: s.runtime,
    env,
    log: s.log,
    outRoot: outRoot(s),
    logDir: runsDir(s, verb),
    warnings,
    slot,
    ...(importHook ? { importHook } : {}),
  };
}

const REUSED_LOG_HEADER =
  "# repro-gate: this seed was reused from the run cache, not trained; the original run's last lines:";
const LOG_TAIL_LINES = 50;

async function logTail(file: string): Promise<string[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .slice(-LOG_TAIL_LINES)
    .map((l) => l.slice(0, 2000));
}

/** Adds what one seed found to the session's notes, once each. */
function keepNotes(s: Session, found: readonly ReportWarning[]): void {
  for (const w of found) if (!s.notes.some((n) => n.message === w.message)) s.notes.push(w);
}

/** One seed: from the run cache when a valid entry exists, else trained (and saved to the cache). */
async function oneSeed(
  s: Session,
  verb: string,
  seed: number,
  cache: SeedCache | undefined,
  importHook: string | undefined,
  slot?: Slot,
) {
  const logFile = path.join(runsDir(s, verb), `seed-${seed}.log`);
  const hit = cache && (await cachedRun(cache, s, seed));
  if (hit) {
    cache.reused.push(seed);
    keepNotes(s, hit.notes);
    // The log still answers "what did seed N print?", and says where the answer came from.
    await mkdir(path.dirname(logFile), { recursive: true });
    await writeFile(logFile, [REUSED_LOG_HEADER, ...hit.logTail, ''].join('\n'));
    return hit.run;
  }
  const notes: ReportWarning[] = [];
  const run = await runSeed(seedContext(s, verb, notes, importHook, slot), seed);
  keepNotes(s, notes);
  if (cache) {
    cache.trained.push(seed);
    await saveRun(cache, s, run, notes, await logTail(logFile));
  }
  return run;
}

/**
 * Trains the seeds, `train.parallel` at a time (default one: concurrent trainings compete for the
 * GPU and cores). After a failure no further seed starts; the running ones finish, then it throws.
 * Progress is counted per seed (SeedProgress), not by position; the action's collapsed group per
 * seed is used only one seed at a time, since a runner's groups cannot interleave.
 */
export async function seedRuns(
  s: Session,
  verb: string,
  seeds: readonly number[],
  opts: {
    cache?: SeedCache;
    /** A stage of a sequential plan: seeds trained before it, and the most the plan may train. */
    stage?: { before: number; total: number };
  } = {},
): Promise<RunRecord[]> {
  const { cache } = opts;
  const importHook = await installImportHook(importHookDir(s));
  const stage = opts.stage ?? { before: 0, total: seeds.length };
  const parallel = Math.min(s.config.train.parallel, seeds.length);
  const progress = new SeedProgress(stage.total, Date.now(), Math.max(parallel, 1), stage.before);
  const show = () => s.log.progress?.(progress.line(Date.now()), progress.finished === seeds.length);
  // A live terminal line keeps its elapsed time current between seeds' log lines.
  const ticker = s.log.liveProgress ? setInterval(show, 1000) : undefined;
  ticker?.unref();
  const one = async (seed: number, slot?: Slot): Promise<RunRecord> => {
    progress.start(seed, Date.now());
    show();
    const run = () => oneSeed(s, verb, seed, cache, importHook, slot);
    const record = await (s.log.group && parallel < 2 ? s.log.group(`repro-gate ${verb}: seed ${seed}`, run) : run());
    progress.finish(seed, Date.now());
    // The next seed's start shows the count; the last one's finish closes the line.
    if (progress.finished === seeds.length) show();
    return record;
  };
  try {
    if (parallel < 2) {
      const records: RunRecord[] = [];
      for (const seed of seeds) records.push(await one(seed));
      return records;
    }
    const gpus = s.config.train.gpus;
    const gpuCount = gpus === 'none' ? undefined : gpus === 'all' ? await countGpus() : gpus;
    const slots = planSlots(parallel, availableParallelism(), gpuCount);
    const records = new Array<RunRecord>(seeds.length);
    let next = 0;
    let failure: { err: unknown } | undefined;
    await Promise.all(
      slots.map(async (slot) => {
        while (!failure && next < seeds.length) {
          const i = next++;
          try {
            records[i] = await one(seeds[i] as number, slot);
          } catch (err) {
            failure ??= { err };
          }
        }
      }),
    );
    if (failure) throw failure.err;
    return records;
  } finally {
    clearInterval(ticker);
    // A failed seed ends the line where it stopped, so the error is printed below it, not over it.
    if (progress.finished < seeds.length) s.log.progress?.(progress.line(Date.now()), true);
  }
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
