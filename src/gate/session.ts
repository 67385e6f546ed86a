/**
 * What every verb shares: the loaded config, the project lock, the runtime training runs in (started
 * once, always disposed), and the training's environment. The runtime is injected so gate-level tests
 * can run without Python or Docker; by default it follows the config (container when train.image is set).
 */
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { localManifestStore, type ManifestStore } from '../baseline/manifest-store.js';
import { LocalRunCache } from '../cache/local.js';
import type { RunCacheStore } from '../cache/types.js';
import { checkIgnore } from '../drift/relevance.js';
import { createRuntime, stateDir } from '../runtime/create.js';
import { trainingEnv } from '../runtime/env.js';
import { acquireLock } from '../runtime/lock.js';
import { reapGroups } from '../runtime/process-table.js';
import type { Runtime } from '../runtime/types.js';
import type { GateConfig } from '../schema/config.js';
import type { ReportWarning } from '../schema/report.js';
import { GateError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { toPosix } from '../util/paths.js';

const MANIFESTS_GITIGNORE = `# Per-file manifests of large data entries, by root. To commit them instead: # manifests/
manifests/
`;

/** The gate's working files in .repro-gate/ never belong in git; the baseline does. */
const STATE_GITIGNORE = `# Written by repro-gate: its working files. Commit the baseline file, not these.
out/
runs/
groups/
cache/
shards/
lock
${MANIFESTS_GITIGNORE}`;

/**
 * Writes the state .gitignore once; one written by an earlier version gets the manifests line it
 * lacked. A file that mentions manifests at all (`# manifests/`: the team commits them) is left as is.
 */
async function writeStateGitignore(file: string): Promise<void> {
  const written = await writeFile(file, STATE_GITIGNORE, { flag: 'wx' }).then(
    () => true,
    () => false,
  );
  if (written) return;
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined || !text.startsWith('# Written by repro-gate') || text.includes('manifests')) return;
  await appendFile(file, `${text.endsWith('\n') ? '' : '\n'}${MANIFESTS_GITIGNORE}`);
}

export interface GateRequest {
  /** Path to repro-gate.yml (relative to cwd or absolute). Paths inside it resolve against its folder. */
  configPath: string;
  cwd: string;
  log: Logger;
  /** The runner's environment; only allowlisted variables reach training. Defaults to process.env. */
  runnerEnv?: NodeJS.ProcessEnv;
  /** Where training runs; default: the config's (a container when train.image is set, else the runner). */
  createRuntime?: (config: GateConfig, log: Logger) => Runtime;
  /**
   * Set when training code on the runner itself would be untrusted (the action sets it for a pull
   * request's head under pull_request_target): the host runtime is then refused, naming this reason.
   */
  untrustedHost?: string;
  /** Where seed results are cached (the action: @actions/cache); default: .repro-gate/cache/runs/. */
  runCache?: RunCacheStore;
  /** Train every seed and store nothing: true (the CLI's --no-cache) or the reason to log. */
  noCache?: boolean | string;
  /** false (`--no-stat-cache`): read every data file, and neither read nor write `.repro-gate/cache/stat`. */
  statCache?: boolean;
  /**
   * With history: {file}: append this run's line (default), or only read the history for the report
   * (the action off the default branch: a pull request's run is no point of the trend).
   */
  history?: 'append' | 'read';
  /**
   * Where per-file manifests of large data entries are kept, given the state folder; default: the
   * folder `.repro-gate/manifests/`. The action can pass a store backed by the CI cache.
   */
  manifestStore?: (stateDir: string) => ManifestStore;
}

export interface Session {
  config: GateConfig;
  runtime: Runtime;
  /** The training's complete environment (REPRO_GATE_SEED/OUT are added per seed). */
  env: Record<string, string>;
  log: Logger;
  /** The gate's own folder in the project (.repro-gate/): {out} folders, logs, lock, process records. */
  stateDir: string;
  /** Absolute path of the baseline file, and as the report shows it (relative to the config's folder). */
  baselinePath: string;
  baselineName: string;
  /** What the runs found that the report should say (a checkpoint compared by bytes, …), once each. */
  notes: ReportWarning[];
  /** The run cache, or why there is none ("disabled in repro-gate.yml", "--no-cache"). */
  runCache: RunCacheStore | { off: string };
  /** The data stat cache file (`.repro-gate/cache/stat`), or undefined with `--no-stat-cache`. */
  statCache: string | undefined;
  /** Per-file manifests of large data entries, by root. */
  manifests: ManifestStore;
}

export function baselineLocation(config: GateConfig): Pick<Session, 'baselinePath' | 'baselineName'> {
  const baselinePath = path.resolve(config.root, config.baseline);
  return { baselinePath, baselineName: toPosix(path.relative(config.root, baselinePath)) };
}

/**
 * Takes the project lock (one gate at a time per folder: every run trains into the same {out}
 * folders), stops what a killed gate left running, starts the runtime, builds the training
 * environment, runs `fn`, and always cleans up.
 */
export async function withSession<T>(
  req: GateRequest,
  config: GateConfig,
  verb: string,
  fn: (session: Session) => Promise<T>,
): Promise<T> {
  // A typo in drift.ignore is refused before anything runs.
  checkIgnore(config.drift.ignore, path.basename(config.path));
  const dir = stateDir(config);
  await mkdir(dir, { recursive: true });
  await writeStateGitignore(path.join(dir, '.gitignore'));
  const lock = await acquireLock(dir, verb, (l) => req.log.warn(l));
  try {
    const reaped = await reapGroups(path.join(dir, 'groups'));
    if (reaped.length) {
      req.log.warn(
        `Stopped ${reaped.length} process group(s) left running by an earlier repro-gate run that was killed: ${reaped.join(', ')}.`,
      );
    }
    const runtime = (req.createRuntime ?? createRuntime)(config, req.log);
    if (runtime.kind === 'host' && req.untrustedHost) {
      throw new GateError(
        `Refusing to train on the runner itself: ${req.untrustedHost}. Its code could read the job's tokens from other processes.`,
        'Set train.image in repro-gate.yml (a digest-pinned image) so the training runs in a container, or run this check on pull_request instead of pull_request_target.',
      );
    }
    try {
      await runtime.prepare();
      // A container has its own PATH and HOME: it gets the config's env alone, never the runner's.
      // Unbuffered Python output streams live and leaves the last lines in a timed-out seed's log;
      // it changes no numbers, and train.env can still override it.
      const own = { PYTHONUNBUFFERED: '1', ...config.train.env };
      const env = runtime.kind === 'host' ? trainingEnv(req.runnerEnv ?? process.env, own) : own;
      const runCache = chooseRunCache(req, config, dir);
      const statCache = req.statCache === false ? undefined : path.join(dir, 'cache', 'stat');
      return await fn({
        config,
        runtime,
        env,
        log: req.log,
        stateDir: dir,
        notes: [],
        runCache,
        statCache,
        manifests: manifestStoreFor(req, dir),
        ...baselineLocation(config),
      });
    } finally {
      await runtime.dispose();
    }
  } finally {
    await lock.release();
  }
}

function chooseRunCache(req: GateRequest, config: GateConfig, dir: string): Session['runCache'] {
  if (req.noCache)
    return { off: typeof req.noCache === 'string' ? req.noCache : 'the run cache is off for this run (--no-cache)' };
  if (!config.cache.enabled) return { off: 'the run cache is disabled in repro-gate.yml (cache.enabled: false)' };
  return req.runCache ?? new LocalRunCache(path.join(dir, 'cache', 'runs'));
}

/** The request's manifest store for this state folder; default the local `.repro-gate/manifests/`. */
export function manifestStoreFor(req: GateRequest, dir: string): ManifestStore {
  return (req.manifestStore ?? ((d) => localManifestStore(path.join(d, 'manifests'))))(dir);
}
