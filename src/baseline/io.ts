import { mkdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BASELINE_SCHEMA_VERSION, type Baseline, baselineSchema } from '../schema/baseline.js';
import { GateError } from '../util/errors.js';
import { MIB, readLimitedText } from '../util/files.js';
import { jsonErrorWhere } from '../util/json-position.js';
import { isWithin } from '../util/paths.js';

/** Far beyond any recording (a manifest of a million data files is ~150 MiB), far below a string's limit. */
const BASELINE_MAX_BYTES = 256 * MIB;

/** How to (re)create the baseline, naming the config when it is not the default one. */
function recordHint(configFile: string): string {
  const flag = configFile === 'repro-gate.yml' ? '' : ` --config ${configFile}`;
  return `Run \`repro-gate record${flag}\` (or the action with \`command: record\`) and commit the baseline file.`;
}

/**
 * Reads and validates the baseline. With `root` (the project), a baseline that resolves outside it
 * through a symlink is refused: it is the change under test's file, and could name anything.
 */
export async function readBaseline(file: string, configFile = 'repro-gate.yml', root?: string): Promise<Baseline> {
  const RECORD_HINT = recordHint(configFile);
  if (root !== undefined) {
    const [realRoot, real] = await Promise.all([realpath(root), realpath(file).catch(() => undefined)]);
    if (real !== undefined && !isWithin(realRoot, real)) {
      throw new GateError(
        `The baseline ${file} resolves through a symlink to ${real}, outside the project (${realRoot}); it is not read.`,
        'Commit the baseline file itself inside the project (baseline: in repro-gate.yml).',
      );
    }
  }
  let text: string;
  try {
    // A symlink to /dev/zero or a FIFO in the change under test must not hang the gate.
    text = await readLimitedText(file, {
      name: `The baseline ${file}`,
      maxBytes: BASELINE_MAX_BYTES,
      what: 'a baseline',
      hint: RECORD_HINT,
    });
  } catch (err) {
    if (err instanceof GateError) throw err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new GateError(`No baseline at ${file}.`, RECORD_HINT);
    throw new GateError(`Cannot read the baseline ${file}: ${(err as Error).message}`, RECORD_HINT);
  }
  return parseBaseline(text, file, configFile);
}

/** Pure: a baseline file's text → a valid baseline, or a GateError naming what is wrong (`file` names it). */
export function parseBaseline(text: string, file: string, configFile = 'repro-gate.yml'): Baseline {
  const RECORD_HINT = recordHint(configFile);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    // Never V8's message: it quotes the text around the error.
    const where = jsonErrorWhere(text);
    throw new GateError(
      `The baseline ${file} is not valid JSON${where ? ` ${where}` : ''}; it may be truncated or hand-edited.`,
      RECORD_HINT,
    );
  }
  const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'number' && version > BASELINE_SCHEMA_VERSION) {
    throw new GateError(
      `The baseline ${file} has schemaVersion ${version}, newer than this repro-gate understands (${BASELINE_SCHEMA_VERSION}).`,
      'Upgrade repro-gate to the version that recorded it.',
    );
  }
  const parsed = baselineSchema.safeParse(raw);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const what = issue ? `${issue.path.join('.') || '(top level)'}: ${issue.message}` : 'not a baseline';
    throw new GateError(`The baseline ${file} is corrupt: ${what}.`, RECORD_HINT);
  }
  const inconsistency = baselineInconsistency(parsed.data);
  if (inconsistency) throw new GateError(`The baseline ${file} is corrupt: ${inconsistency}.`, RECORD_HINT);
  return parsed.data;
}

/**
 * Pure: what a well-formed baseline file says that no recording could have written, or undefined:
 * a run without a value for one of its metrics, a seed recorded twice, or a statistical baseline
 * with fewer than 2 runs (no spread to compare with).
 */
export function baselineInconsistency(baseline: Baseline): string | undefined {
  const { settings, runs } = baseline;
  const seen = new Set<number>();
  for (const run of runs) {
    if (seen.has(run.seed)) return `runs: seed ${run.seed} is recorded twice`;
    seen.add(run.seed);
    const missing = settings.metrics.find((name) => !Object.hasOwn(run.metrics, name));
    if (missing !== undefined)
      return `runs: the run for seed ${run.seed} has no value for metric "${missing}" (listed in settings.metrics)`;
  }
  if (settings.mode === 'statistical' && runs.length < 2)
    return `runs: a statistical baseline needs at least 2 runs to measure seed-to-seed spread, this one has ${runs.length}`;
  return undefined;
}

/** Write to a temp file beside the target, then rename: a crash never leaves a half-written baseline. */
export async function writeBaseline(file: string, baseline: Baseline): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, `${JSON.stringify(baseline, null, 2)}\n`, 'utf8');
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new GateError(
      `Cannot write the baseline ${file}: ${(err as Error).message}`,
      'Check that the folder is writable.',
    );
  }
}
