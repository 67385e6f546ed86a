/**
 * CLI entry: argv → gate → stdout, exit code. Exit 0 pass, 1 fail, 2 error. With --json, stdout
 * carries one JSON document and nothing else (training output and logs go to stderr).
 */

import { realpathSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { COMMAND_NAMES, commandHelp, isHelpTopic, overview } from './cli-help.js';
import { terminalReport, wantsColour } from './cli-style.js';
import {
  aggregate,
  diagnose,
  handleCancellation,
  init,
  isGateCommand,
  parseShardSpec,
  runEquivalence,
  runGate,
  showHistory,
  trainShard,
} from './gate/index.js';
import { renderDiagnosis } from './report/diagnosis.js';
import { renderHistory } from './report/history.js';
import { renderHistoryHtml } from './report/history-html.js';
import { escaperFor, renderMarkdown } from './report/markdown.js';
import { markdownToTerminal } from './report/terminal.js';
import { CancelledError, formatGateError, GateError } from './util/errors.js';
import { stderrLogger } from './util/logger.js';
import { TOOL_VERSION } from './util/version.js';

const OPTIONS = {
  config: { type: 'string', default: 'repro-gate.yml' },
  json: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
  candidate: { type: 'string' },
  baseline: { type: 'string' },
  lower: { type: 'string' },
  upper: { type: 'string' },
  alpha: { type: 'string' },
  paired: { type: 'boolean', default: false },
  seed: { type: 'string' },
  markdown: { type: 'boolean', default: false },
  quiet: { type: 'boolean', short: 'q', default: false },
  metric: { type: 'string' },
  html: { type: 'string' },
  base: { type: 'string' },
  'accept-baseline-change': { type: 'boolean', default: false },
  'no-cache': { type: 'boolean', default: false },
  shard: { type: 'string' },
  result: { type: 'string' },
  results: { type: 'string' },
  'no-stat-cache': { type: 'boolean', default: false },
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

type Values = ReturnType<typeof parseCommandLine>['values'];

/** Options that belong to another command are refused, not ignored. */
function checkOptionsFit(command: string, values: Values): void {
  const misplaced = (option: string, owners: string, example: string) =>
    new GateError(`${option} is an option of ${owners}, not ${command}.`, `For example: ${example}`);
  if ((values.base !== undefined || values['accept-baseline-change']) && command !== 'check' && command !== 'aggregate')
    throw misplaced('--base', 'check and aggregate', 'repro-gate check --base origin/main');
  if (values['no-cache'] && command !== 'check' && command !== 'record')
    throw misplaced('--no-cache', 'check and record', 'repro-gate check --no-cache');
  if (values.shard !== undefined && command !== 'check' && command !== 'record')
    throw misplaced('--shard', 'check and record', 'repro-gate check --shard 1/4');
  if (values.result !== undefined && values.shard === undefined)
    throw new GateError(
      '--result names the file a shard writes: it needs --shard.',
      'For example: repro-gate check --shard 1/4 --result shard-1.json',
    );
  if (values.shard !== undefined && values.base !== undefined)
    throw new GateError(
      '--base is judged when the shards are aggregated, not by each shard.',
      'Pass --base to `repro-gate aggregate` instead.',
    );
  if ((values.metric !== undefined || values.html !== undefined) && command !== 'history')
    throw misplaced(
      values.metric !== undefined ? '--metric' : '--html',
      'history',
      'repro-gate history --metric accuracy',
    );
  if (values.results !== undefined && command !== 'aggregate')
    throw misplaced('--results', 'aggregate', 'repro-gate aggregate --results shards/');
  if (command === 'aggregate' && values.results === undefined)
    throw new GateError(
      "aggregate needs the folder holding the shards' results.",
      'For example: repro-gate aggregate --results shards/',
    );
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
  /** Colour the verdicts in a terminal report (see wantsColour); off when unset. */
  colour?: boolean;
}

/** --quiet: warnings still reach stderr, training output and progress do not. */
const quietLogger = { info: () => {}, warn: stderrLogger.warn };

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
    // With --json, even help and the version are one JSON document.
    const print = (text: string, json: object) =>
      io.stdout(values.json ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
    if (values.version) {
      print(TOOL_VERSION, { version: TOOL_VERSION });
      return 0;
    }
    const command = positionals[0];
    if (values.help || command === 'help') {
      // `help --help` is help's own page.
      const topic = command === 'help' ? (positionals[1] ?? (values.help ? 'help' : undefined)) : command;
      if (topic !== undefined && !isHelpTopic(topic))
        throw new GateError(
          `No help for "${topic}": there is no such command.`,
          `Commands: ${COMMAND_NAMES.join(', ')}.`,
        );
      const text = topic === undefined ? overview() : commandHelp(topic);
      print(text, { help: text });
      return 0;
    }
    if (!command) {
      io.stderr(`${overview()}\n\n`);
      throw new GateError(
        'No command given.',
        'Run `repro-gate init` to start, or `repro-gate help` for every command.',
      );
    }
    if (positionals.length > 1)
      throw new GateError(`Unexpected argument "${positionals[1]}".`, 'Run `repro-gate --help` for usage.');

    if (command === 'init') {
      const result = init({ configPath: values.config, cwd: io.cwd });
      const steps = result.next.map((c, i) => `  ${i + 1}. ${c}`).join('\n');
      print(`Wrote ${result.config}. Review the lines marked "check", then:\n${steps}`, result);
      return 0;
    }
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
          : `${markdownToTerminal(renderDiagnosis(diagnosis, escaperFor('terminal'), '##'))}\n`,
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
      io.stdout(values.json ? `${JSON.stringify(view, null, 2)}\n` : markdownToTerminal(renderHistory(view)));
      return 0;
    }
    if (command !== 'aggregate' && !isGateCommand(command)) {
      throw new GateError(
        `Unknown command "${command}".`,
        `Use one of: ${COMMAND_NAMES.join(', ')} (see \`repro-gate --help\`).`,
      );
    }
    checkOptionsFit(command, values);
    const req = {
      configPath: values.config,
      cwd: io.cwd,
      log: values.quiet ? quietLogger : stderrLogger,
      ...(values['no-cache'] ? { noCache: true } : {}),
      statCache: !values['no-stat-cache'],
      ...(values.base !== undefined ? { base: values.base } : {}),
      ...(values['accept-baseline-change']
        ? { acceptBaselineChange: true, acceptedBy: '--accept-baseline-change' }
        : {}),
    };
    if (values.shard !== undefined && (command === 'check' || command === 'record')) {
      const shard = parseShardSpec(values.shard);
      const { result, file } = await trainShard(command, {
        ...req,
        shard,
        ...(values.result !== undefined ? { resultPath: values.result } : {}),
      });
      io.stdout(
        values.json
          ? `${JSON.stringify({ file, shard: result.shard, seeds: result.seeds }, null, 2)}\n`
          : `Shard ${shard.index} of ${shard.count}: seeds ${result.seeds.join(', ')} → ${file}\n`,
      );
      return 0;
    }
    const outcome =
      command === 'aggregate'
        ? await aggregate({ ...req, resultsDir: values.results as string })
        : await runGate(command, req);
    io.stdout(
      values.json
        ? `${JSON.stringify(outcome.report, null, 2)}\n`
        : values.markdown
          ? renderMarkdown(outcome.report, { format: 'github' })
          : terminalReport(outcome.report, { quiet: values.quiet, colour: io.colour ?? false }),
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
    colour: wantsColour(process.env, process.stdout.isTTY === true),
  };
  const code = await main(process.argv.slice(2), io, (report) =>
    // Every training is stopped by now; if the command has not ended on its own, end it here.
    handleCancellation((signal) => process.exit(report(signal))),
  );
  process.exitCode = code;
}
