/**
 * CLI entry: argv → gate → stdout, exit code. Exit 0 pass, 1 fail, 2 error. With --json, stdout
 * carries one JSON document and nothing else (training output and logs go to stderr).
 */

import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { diagnose, handleCancellation, isGateCommand, runEquivalence, runGate, showHistory } from './gate/index.js';
import { renderDiagnosis } from './report/diagnosis.js';
import { renderHistory } from './report/history.js';
import { renderHistoryHtml } from './report/history-html.js';
import { escaperFor, renderMarkdown } from './report/markdown.js';
import { CancelledError, formatGateError, GateError } from './util/errors.js';
import { stderrLogger } from './util/logger.js';
import { TOOL_VERSION } from './util/version.js';

const USAGE = `repro-gate ${TOOL_VERSION} — does this ML training still reproduce its baseline?

Usage: repro-gate <command> [--config repro-gate.yml] [--json] [--verbose]

Commands:
  record       run every seed and write the baseline file            exit 0 ok, 2 error
  check        run every seed and compare with the baseline          exit 0 pass, 1 fail, 2 error
               [--base REF]: also judge by REF's baseline and gate settings, and follow REF's
               verdict when this change alters them, unless --accept-baseline-change
  drift        diff data, config and environment with the baseline   exit 0 none, 1 drift, 2 error
  equivalence  TOST on two samples: --candidate 1,2,3 --baseline 4,5,6 --lower L --upper U
               [--alpha 0.05] [--paired]                              exit 0 equivalent, 1 not, 2 error
  diagnose     rerun one seed (--seed N) twice, then with one factor changed at a time,
               and name the cause of nondeterminism                  exit 0 deterministic, 1 not, 2 error
  history      the metrics history (history: {file}) [--metric M]    exit 0 ok, 2 error
               [--html FILE]: also write it as a static page of SVG charts

Options:
  --config FILE   the config file (default: repro-gate.yml)
  --json          print one JSON document on stdout
  --markdown      print the report as GitHub Markdown, escaped like the PR comment
  --verbose       show stack traces for errors
  --help, --version`;

const OPTIONS = {
  config: { type: 'string', default: 'repro-gate.yml' },
  json: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
  version: { type: 'boolean', default: false },
  candidate: { type: 'string' },
  baseline: { type: 'string' },
  lower: { type: 'string' },
  upper: { type: 'string' },
  alpha: { type: 'string' },
  paired: { type: 'boolean', default: false },
  seed: { type: 'string' },
  markdown: { type: 'boolean', default: false },
  metric: { type: 'string' },
  html: { type: 'string' },
  base: { type: 'string' },
  'accept-baseline-change': { type: 'boolean', default: false },
} as const;

/** "--lower -0.01": parseArgs refuses option values that start with a dash; join them as "--lower=-0.01". */
function joinNegativeValues(argv: string[]): string[] {
  const out: string[] = [];
  let joined = false; // the previous option took this argument as its value
  for (const [i, arg] of argv.entries()) {
    if (joined) {
      joined = false;
      continue;
    }
    const next = argv[i + 1];
    if (/^--(lower|upper|candidate|baseline|alpha)$/.test(arg) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${arg}=${next}`);
      joined = true;
    } else out.push(arg);
  }
  return out;
}

function parseCommandLine(argv: string[]) {
  try {
    return parseArgs({ args: joinNegativeValues(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    throw new GateError((err as Error).message, 'Run `repro-gate --help` for usage.');
  }
}

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
}

/** Prints an error once (one JSON document with --json) and gives its exit code. */
function errorReporter(argv: string[], io: CliIo): { verbose: boolean; fail: (err: unknown) => number } {
  let reported: number | undefined;
  const state = {
    verbose: argv.includes('--verbose'),
    fail(err: unknown): number {
      if (reported !== undefined) return reported;
      const code = err instanceof CancelledError ? err.exitCode : 2;
      reported = code;
      // --json promises one document on stdout, errors included, so scripts never parse an empty string.
      if (argv.includes('--json')) {
        const error =
          err instanceof GateError
            ? {
                message: err.message,
                hint: err.hint ?? null,
                ...(err instanceof CancelledError ? { signal: err.signal } : {}),
              }
            : { message: (err as Error)?.message ?? String(err), hint: null };
        io.stdout(`${JSON.stringify({ error }, null, 2)}\n`);
      }
      if (err instanceof GateError) {
        io.stderr(`repro-gate: ${formatGateError(err)}\n`);
        if (state.verbose && err.stack) io.stderr(`${err.stack}\n`);
      } else {
        io.stderr(`repro-gate: unexpected error: ${(err as Error)?.message ?? String(err)}\n`);
        io.stderr(
          state.verbose
            ? `${(err as Error)?.stack}\n`
            : 'Run again with --verbose for the stack trace, and please report it.\n',
        );
      }
      return code;
    },
  };
  return state;
}

/**
 * Runs one command. `onCancel` (set by the real entry point) receives the function that reports a
 * cancellation, so SIGINT/SIGTERM still end in one error document and exit 130/143.
 */
export async function main(
  argv: string[],
  io: CliIo,
  onCancel?: (report: (signal: NodeJS.Signals) => number) => void,
): Promise<number> {
  const reporter = errorReporter(argv, io);
  onCancel?.((signal) => reporter.fail(new CancelledError(signal)));
  try {
    const { values, positionals } = parseCommandLine(argv);
    reporter.verbose = values.verbose;
    if (values.version) {
      io.stdout(`${TOOL_VERSION}\n`);
      return 0;
    }
    const command = positionals[0];
    if (values.help || !command) {
      io.stdout(`${USAGE}\n`);
      return values.help ? 0 : 2;
    }
    if (positionals.length > 1)
      throw new GateError(`Unexpected argument "${positionals[1]}".`, 'Run `repro-gate --help` for usage.');

    if (command === 'equivalence') {
      const result = runEquivalence(values);
      io.stdout(values.json ? `${JSON.stringify(result.json, null, 2)}\n` : `${result.text}\n`);
      return result.exitCode;
    }
    if (command === 'diagnose') {
      const seed = values.seed === undefined ? undefined : Number(values.seed);
      if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0))
        throw new GateError(
          `--seed must be a non-negative integer (got "${values.seed}").`,
          'For example: repro-gate diagnose --seed 0',
        );
      const { diagnosis, exitCode } = await diagnose({
        configPath: values.config,
        cwd: io.cwd,
        log: stderrLogger,
        seed,
      });
      io.stdout(
        values.json
          ? `${JSON.stringify(diagnosis, null, 2)}\n`
          : `${renderDiagnosis(diagnosis, escaperFor('terminal'), '##')}\n`,
      );
      return exitCode;
    }
    if (command === 'history') {
      const view = await showHistory({
        configPath: values.config,
        cwd: io.cwd,
        ...(values.metric !== undefined ? { metric: values.metric } : {}),
      });
      for (const line of view.skipped) stderrLogger.warn(line);
      if (values.html !== undefined) await writeFile(values.html, renderHistoryHtml(view.file, view.runs));
      io.stdout(values.json ? `${JSON.stringify(view, null, 2)}\n` : renderHistory(view));
      return 0;
    }
    if (!isGateCommand(command)) {
      throw new GateError(
        `Unknown command "${command}".`,
        'Use one of: record, check, drift, equivalence, diagnose, history (see `repro-gate --help`).',
      );
    }
    if ((values.base !== undefined || values['accept-baseline-change']) && command !== 'check') {
      throw new GateError(
        `--base and --accept-baseline-change are options of check, not ${command}.`,
        'Run `repro-gate check --base REF`.',
      );
    }
    const outcome = await runGate(command, {
      configPath: values.config,
      cwd: io.cwd,
      log: stderrLogger,
      ...(values.base !== undefined ? { base: values.base } : {}),
      ...(values['accept-baseline-change']
        ? { acceptBaselineChange: true, acceptedBy: '--accept-baseline-change' }
        : {}),
    });
    io.stdout(
      values.json
        ? `${JSON.stringify(outcome.report, null, 2)}\n`
        : renderMarkdown(outcome.report, { format: values.markdown ? 'github' : 'terminal' }),
    );
    return outcome.exitCode;
  } catch (err) {
    return reporter.fail(err);
  }
}

function isEntryPoint(): boolean {
  try {
    return realpathSync(process.argv[1] ?? '') === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const io: CliIo = {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    cwd: process.cwd(),
  };
  const code = await main(process.argv.slice(2), io, (report) =>
    // Every training is stopped by now; if the command has not ended on its own, end it here.
    handleCancellation((signal) => process.exit(report(signal))),
  );
  process.exitCode = code;
}
