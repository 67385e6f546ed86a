/**
 * Runs one of the gate's own Python scripts (the environment probe, the config reader, the
 * checkpoint reader) with the training's interpreter, in the training's runtime (host or
 * container), so it sees what the training sees. A script prints one line `MARK {json}`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Runtime } from '../runtime/types.js';
import { CancelledError } from '../util/errors.js';

/** The interpreter the training itself uses when its command starts with one, else python3. */
function pythonOf(command: readonly string[]): string {
  const first = command[0] ?? '';
  return /^python[\d.]*$/.test(path.basename(first)) ? first : 'python3';
}

export interface PythonContext {
  runtime: Runtime;
  /** The training's command, whose interpreter is used. */
  command: readonly string[];
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
}

export type PythonResult = { ok: true; doc: unknown } | { ok: false; problem: string };

export async function runPythonScript(
  ctx: PythonContext,
  script: string,
  args: string[],
  mark: string,
): Promise<PythonResult> {
  const lines: string[] = [];
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'repro-gate-py-'));
  const python = pythonOf(ctx.command);
  try {
    const resultFile = path.join(scratch, 'result.json');
    const result = await ctx.runtime.run({
      argv: [python, '-c', script, ...args],
      cwd: ctx.cwd,
      env: { ...ctx.env, REPRO_GATE_RESULT: ctx.runtime.pathFor(resultFile) },
      timeoutMs: ctx.timeoutMs,
      outDir: scratch,
      logFile: path.join(scratch, 'script.log'),
      onLine: (l) => lines.push(l),
    });
    if (result.cancelled) throw new CancelledError(result.cancelled);
    // The result file; a script run some other way prints `MARK {json}` instead.
    const text =
      (await readFile(resultFile, 'utf8').catch(() => undefined)) ??
      lines.find((l) => l.startsWith(mark))?.slice(mark.length);
    if (result.exitCode !== 0 || text === undefined) {
      const why =
        result.startError ?? result.tail.slice(-1)[0] ?? (result.timedOut ? 'timed out' : `exit ${result.exitCode}`);
      return { ok: false, problem: `"${python}" ${result.startError ? 'could not start' : 'failed'}: ${why}` };
    }
    try {
      return { ok: true, doc: JSON.parse(text) as unknown };
    } catch {
      return { ok: false, problem: `"${python}" wrote a result that is not JSON` };
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
