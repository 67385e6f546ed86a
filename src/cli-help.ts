/** The CLI's help: the overview (`--help`) and one page per command (`help CMD`, `CMD --help`). */
import { TOOL_VERSION } from './util/version.js';

interface CommandHelp {
  /** One line for the overview. */
  short: string;
  usage: string;
  summary: string;
  /** Options of this command beyond the common ones. */
  options?: string[];
  examples: string[];
  exit: string;
}

const COMMANDS: Record<string, CommandHelp> = {
  record: {
    short: 'run every seed and write the baseline file',
    usage: 'repro-gate record [--config FILE] [--no-cache] [--shard I/N [--result FILE]] [--json | --markdown]',
    summary:
      "Run every seed and write the baseline file (commit it). Prints each metric's mean ± sd, to choose\nmargins from. Always trains; the runs are saved to the run cache for later checks.",
    options: [
      '--no-cache                  save nothing to the run cache',
      "--shard I/N                 train only shard I of N's seeds and write a partial result (then aggregate)",
      '--result FILE               where the shard writes it (default .repro-gate/shards/shard-I-of-N.json)',
    ],
    examples: ['repro-gate record', 'repro-gate record --config examples/breast-cancer-logreg/repro-gate.yml'],
    exit: '0 recorded, 2 error',
  },
  check: {
    short: 'run every seed and compare with the baseline',
    usage:
      'repro-gate check [--config FILE] [--base REF [--accept-baseline-change]] [--no-cache] [--shard I/N [--result FILE]] [--json | --markdown]',
    summary:
      'Run every seed and compare with the baseline: exactly, or by TOST equivalence per metric. A seed\nwhose inputs are unchanged is reused from the run cache (the report says which).',
    options: [
      "--base REF                  also judge by REF's baseline and gate settings, and follow REF's",
      '                            verdict when this change alters them',
      '--accept-baseline-change    the change to the baseline or gate settings is intended',
      '--no-cache                  train every seed instead of reusing cached results',
      "--shard I/N                 train only shard I of N's seeds and write a partial result (then aggregate)",
      '--result FILE               where the shard writes it (default .repro-gate/shards/shard-I-of-N.json)',
    ],
    examples: [
      'repro-gate check',
      'repro-gate check --json > report.json',
      'repro-gate check --base origin/main',
      'repro-gate check --shard 2/4',
    ],
    exit: '0 pass, 1 fail, 2 error',
  },
  aggregate: {
    short: "compare (or record) the shards' results as one run",
    usage:
      'repro-gate aggregate --results DIR [--config FILE] [--base REF [--accept-baseline-change]] [--json | --markdown]',
    summary:
      'Read every shard result (*.json) under DIR, refuse a missing, duplicated or mismatching shard, then\ncompare and report exactly as one unsharded check (or write the baseline, for record shards).',
    options: ['--results DIR               the folder the shard results were downloaded to'],
    examples: ['repro-gate aggregate --results shards/', 'repro-gate aggregate --results shards/ --json'],
    exit: '0 pass (record shards: recorded), 1 fail, 2 error',
  },
  drift: {
    short: 'diff data, config and environment with the baseline (no training)',
    usage: 'repro-gate drift [--config FILE] [--json | --markdown]',
    summary: 'Diff data, config and environment with the baseline, without training (seconds).',
    examples: ['repro-gate drift', 'repro-gate drift --json | jq .drift'],
    exit: '0 no drift, 1 drift, 2 error',
  },
  history: {
    short: 'the metrics history (history: {file} in the config) and its trend',
    usage: 'repro-gate history [--config FILE] [--metric M] [--html FILE] [--json]',
    summary:
      'Print the metrics history each check and record appends to (history: {file}), per metric, with the\nslow-decay warning; --html also writes it as a static page of SVG charts.',
    options: [
      '--metric M                  one metric only',
      '--html FILE                 also write a static page of charts',
    ],
    examples: ['repro-gate history', 'repro-gate history --metric accuracy --html history.html'],
    exit: '0 ok, 2 error',
  },
  equivalence: {
    short: 'TOST on two samples given on the command line',
    usage: 'repro-gate equivalence --candidate X,… --baseline Y,… --lower L --upper U [--alpha 0.05] [--paired]',
    summary: 'TOST on two samples given on the command line: is candidate − baseline within [L, U]?',
    options: [
      '--candidate, --baseline    comma-separated numbers',
      '--lower, --upper           the equivalence margin (negative values are fine: --lower -0.01)',
      '--alpha A                  significance level (default 0.05)',
      '--paired                   paired t test (equal lengths, value i with value i)',
    ],
    examples: ['repro-gate equivalence --candidate 0.91,0.92,0.9 --baseline 0.9,0.91,0.92 --lower -0.02 --upper 0.02'],
    exit: '0 equivalent, 1 not, 2 error',
  },
  diagnose: {
    short: 'rerun one seed and name the cause of nondeterminism',
    usage: 'repro-gate diagnose [--seed N] [--config FILE] [--json]',
    summary:
      'Rerun one seed twice, then with one factor changed at a time, and name the cause of\nnondeterminism (parallelism, randomness).',
    options: ['--seed N    the seed to rerun (default: diagnose.seed, else the first configured seed)'],
    examples: ['repro-gate diagnose', 'repro-gate diagnose --seed 3 --json'],
    exit: '0 deterministic, 1 not, 2 error',
  },
  init: {
    short: 'write a commented starter repro-gate.yml for this project',
    usage: 'repro-gate init [--config repro-gate.yml] [--json]',
    summary:
      'Write a commented starter config for the project in this folder: the training script and its\n' +
      '--seed/--out flags, the metrics file and names, data and config files, where they can be found.\n' +
      'Never overwrites an existing file; prints the next three commands.',
    examples: ['repro-gate init', 'repro-gate init --config ci/repro-gate.yml'],
    exit: '0 written, 2 error (e.g. the file exists)',
  },
  help: {
    short: 'show the overview, or one command’s help',
    usage: 'repro-gate help [command]',
    summary: 'Show the overview, or one command’s help.',
    examples: ['repro-gate help check'],
    exit: '0, 2 for an unknown command',
  },
};

export const COMMAND_NAMES = Object.keys(COMMANDS);

export function isHelpTopic(name: string): boolean {
  return Object.hasOwn(COMMANDS, name);
}

const COMMON = [
  '--config FILE   the config file (default: repro-gate.yml)',
  '--json          print exactly one JSON document on stdout, errors included: {"error": {message, hint}}',
  '--markdown      print the report as GitHub Markdown, escaped like the PR comment',
  '-q, --quiet     print only the verdict line (record, check, drift); warnings still go to stderr',
  '--no-stat-cache hash every data file again instead of trusting .repro-gate/cache/stat',
  '--verbose       show stack traces for errors',
  '-h, --help      show help;  --version  print the version',
];

export function overview(): string {
  const width = Math.max(...COMMAND_NAMES.map((n) => n.length)) + 2;
  const rows = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.short}`);
  return [
    `repro-gate ${TOOL_VERSION} — does this ML training still reproduce its baseline?`,
    '',
    'Usage: repro-gate <command> [options]',
    '',
    'Commands:',
    ...rows,
    '',
    'Options:',
    ...COMMON.map((o) => `  ${o}`),
    '',
    'Start with `repro-gate init`, then `repro-gate record` and `repro-gate check`.',
    'Run `repro-gate help <command>` for a command’s options and examples.',
  ].join('\n');
}

export function commandHelp(name: string): string {
  const c = COMMANDS[name];
  if (!c) return overview();
  return [
    `Usage: ${c.usage}`,
    '',
    c.summary,
    ...(c.options ? ['', 'Options:', ...c.options.map((o) => `  ${o}`)] : []),
    ...(name === 'help' || name === 'equivalence' ? [] : ['', 'Common options:', ...COMMON.map((o) => `  ${o}`)]),
    '',
    'Examples:',
    ...c.examples.map((e) => `  ${e}`),
    '',
    `Exit: ${c.exit}`,
  ].join('\n');
}
