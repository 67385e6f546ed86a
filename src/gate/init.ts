/**
 * `repro-gate init`: writes a starter repro-gate.yml for the project it is run in, from what the
 * folder shows (training script, metrics file, data and config files), and never overwrites one.
 */
import { type Dirent, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { metricNamesOf, type ProjectFacts, readScript, renderStarter } from '../config/starter.js';
import { GateError } from '../util/errors.js';

export interface InitResult {
  /** The config written, relative to the working directory. */
  config: string;
  facts: ProjectFacts;
  /** The next three commands to run. */
  next: string[];
}

const SCRIPTS = ['train.py', 'src/train.py', 'scripts/train.py', 'training/train.py'];
const DATA_DIRS = ['data', 'dataset', 'datasets'];
const CONFIG_FILE = /^(params|config|hparams|hyperparams|train)\.(ya?ml|json|toml|ini|cfg)$/;
const CONFIG_DIRS = ['config', 'configs', 'conf'];
/** Folders never searched for an earlier run's metrics file. */
const SKIP_DIR = /^(\.|node_modules$|__pycache__$|venv$|env$|site-packages$)/;
/** A script or metrics file larger than this is not read (init only guesses from them). */
const MAX_READ = 1 << 20;

function entries(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return [];
  }
}

function readSmall(file: string): string | undefined {
  try {
    return statSync(file).size <= MAX_READ ? readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

function findScript(root: string): string | undefined {
  const known = SCRIPTS.find((s) => statSync(path.join(root, s), { throwIfNoEntry: false })?.isFile());
  return known ?? entries(root).find((e) => e.isFile() && /^train.*\.py$/.test(e.name))?.name;
}

/** An earlier run's metrics file (JSON) within three levels, breadth first, visiting a bounded number of folders. */
function findMetricsFile(root: string, name: string): string | undefined {
  if (!name.endsWith('.json')) return undefined;
  let level = [root];
  let visited = 0;
  for (let depth = 0; depth < 4 && level.length; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      if (++visited > 500) return undefined;
      for (const e of entries(dir)) {
        if (e.isFile() && e.name === name) return path.join(dir, e.name);
        if (e.isDirectory() && !SKIP_DIR.test(e.name)) next.push(path.join(dir, e.name));
      }
    }
    level = next;
  }
  return undefined;
}

/** What the project folder shows; `configDir` is where the config will be written. */
function detectProject(configDir: string): ProjectFacts {
  const script = findScript(configDir);
  const scriptText = script ? readSmall(path.join(configDir, script)) : undefined;
  const fromScript = readScript(scriptText ?? '');
  let metricNames = fromScript.metricNames;
  let metricSource = metricNames.length && script ? script : undefined;
  const earlier = fromScript.metricPattern
    ? undefined
    : findMetricsFile(configDir, fromScript.metricsFile ?? 'metrics.json');
  if (earlier) {
    try {
      const names = metricNamesOf(JSON.parse(readSmall(earlier) ?? ''));
      if (names.length) {
        metricNames = names;
        metricSource = path.relative(configDir, earlier);
      }
    } catch {
      // Not JSON after all: keep what the script showed.
    }
  }
  const top = entries(configDir);
  const schema = path.join('node_modules', 'repro-gate', 'schema', 'repro-gate.schema.json');
  return {
    ...(script ? { script } : {}),
    seedArgs: fromScript.seedArgs,
    outArgs: fromScript.outArgs,
    flagsFound: script !== undefined && fromScript.flagsFound,
    ...(fromScript.metricsFile ? { metricsFile: fromScript.metricsFile } : {}),
    ...(fromScript.metricPattern ? { metricPattern: fromScript.metricPattern } : {}),
    metricNames,
    ...(metricSource ? { metricSource } : {}),
    data: top.filter((e) => e.isDirectory() && DATA_DIRS.includes(e.name)).map((e) => `${e.name}/`),
    config: [
      ...top.filter((e) => e.isFile() && CONFIG_FILE.test(e.name)).map((e) => e.name),
      ...top
        .filter((e) => e.isDirectory() && CONFIG_DIRS.includes(e.name))
        .flatMap((d) =>
          entries(path.join(configDir, d.name))
            .filter((e) => e.isFile() && /\.(ya?ml|json|toml|py|ini|cfg)$/.test(e.name))
            .map((e) => `${d.name}/${e.name}`),
        ),
    ].slice(0, 8),
    ...(statSync(path.join(configDir, schema), { throwIfNoEntry: false })?.isFile() ? { schemaPath: schema } : {}),
  };
}

export function init(opts: { configPath: string; cwd: string }): InitResult {
  const file = path.resolve(opts.cwd, opts.configPath);
  const dir = path.dirname(file);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new GateError(`Cannot write ${opts.configPath}: the folder ${dir} does not exist.`, 'Create it first.');
  const facts = detectProject(dir);
  try {
    writeFileSync(file, renderStarter(facts), { flag: 'wx' }); // wx: never overwrite
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new GateError(
        `${opts.configPath} already exists; repro-gate init never overwrites a config.`,
        'Edit it, or write a new one elsewhere with `repro-gate init --config other.yml`.',
      );
    throw err;
  }
  const config = path.relative(opts.cwd, file) || path.basename(file);
  /** A path as one shell word, for commands a person copies. */
  const word = (p: string) => (/^[\w./-]+$/.test(p) ? p : `'${p.replaceAll("'", `'\\''`)}'`);
  const flag = config === 'repro-gate.yml' ? '' : ` --config ${word(config)}`;
  const baseline = word(path.join(path.relative(opts.cwd, dir), '.repro-gate', 'baseline.json'));
  return {
    config,
    facts,
    next: [
      `repro-gate record${flag}`,
      `git add ${word(config)} ${baseline} && git commit -m "repro-gate baseline"`,
      `repro-gate check${flag}`,
    ],
  };
}
