/**
 * The starter repro-gate.yml `repro-gate init` writes: what can be read off a project (its training
 * script's flags and metrics file, its data and config files), rendered as a commented config that
 * the gate's loader accepts. Pure: the caller lists the folder and reads the script.
 */

export interface ProjectFacts {
  /** The training script, relative to the config's folder; undefined when none was found. */
  script?: string;
  /** How the script takes its seed and output folder, as argv items (e.g. ['--seed', '{seed}']). */
  seedArgs: string[];
  outArgs: string[];
  /** Whether the flags were found in the script (else they are a guess to check). */
  flagsFound: boolean;
  /** The metrics file named in the script, relative to {out}. */
  metricsFile?: string;
  /** Metric names, from an existing metrics file or the script's dict literal; empty when unknown. */
  metricNames: string[];
  /** Where the metric names came from, for the comment. */
  metricSource?: string;
  /** A metrics.pattern for a training that only prints its metrics (no metrics file in the script). */
  metricPattern?: string;
  data: string[];
  config: string[];
  /** The JSON Schema's path relative to the config's folder, when the package is installed there. */
  schemaPath?: string;
}

const OUT_FLAGS = ['--out', '--out_dir', '--out-dir', '--output_dir', '--output-dir', '--outdir', '--output'];
const METRICS_FILE = /["'`](?:[^"'`]*\/)?(metrics\.(?:jsonl|json|ya?ml|csv))["'`]/;
/** A dict key whose value is a number expression, not a nested dict or list. */
const DICT_KEY = /["'](\w+)["']\s*:\s*(?![\s{[])/g;

const quotedFlag = (text: string, flag: string) => text.includes(`"${flag}"`) || text.includes(`'${flag}'`);

/** The flags and metrics a Python training script shows in its source (argparse, or nanoGPT's configurator). */
export function readScript(text: string): Pick<
  ProjectFacts,
  'seedArgs' | 'outArgs' | 'flagsFound' | 'metricsFile' | 'metricPattern'
> & {
  metricNames: string[];
} {
  let seedArgs = ['--seed', '{seed}'];
  let outArgs = ['--out', '{out}'];
  let found = { seed: quotedFlag(text, '--seed'), out: false };
  const outFlag = OUT_FLAGS.find((f) => quotedFlag(text, f));
  if (outFlag) {
    outArgs = [outFlag, '{out}'];
    found.out = true;
  } else if (/configurator\.py/.test(text)) {
    // nanoGPT style: globals overridden by --key=value.
    const global = (name: string) => new RegExp(`^\\s*${name}\\s*=`, 'm').test(text);
    if (global('out_dir')) outArgs = ['--out_dir={out}'];
    if (global('seed')) seedArgs = ['--seed={seed}'];
    found = { seed: global('seed'), out: global('out_dir') };
  }
  const lines = text.split('\n');
  const at = lines.findIndex((l) => METRICS_FILE.test(l));
  const metricsFile = at < 0 ? undefined : METRICS_FILE.exec(lines[at] ?? '')?.[1];
  const flags = { seedArgs, outArgs, flagsFound: found.seed && found.out };
  if (metricsFile) {
    // The keys of the dict written next to the metrics file's name: the metrics, most likely.
    const end = lines.findIndex((l, i) => i > at && /^\s*\}/.test(l));
    const block = lines.slice(at, end < 0 ? at + 12 : Math.min(end, at + 12)).join('\n');
    const metricNames = [...new Set([...block.matchAll(DICT_KEY)].map((m) => m[1] as string))];
    return { ...flags, metricsFile, metricNames };
  }
  const printed = printedMetrics(lines);
  return { ...flags, metricNames: printed?.names ?? [], ...(printed ? { metricPattern: printed.pattern } : {}) };
}

/** `print(f"… train loss {x:.4f}, val loss {y:.4f}")`: a label ending in a metric word, then a value. */
const PRINTED = /((?:[A-Za-z]+[ _])?(?:loss|acc|accuracy|ppl|perplexity|f1))\s*[:=]?\s*\{[^{}]*\}/g;
const regexEscape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The print f-string with the most metric-looking values, as one pattern with a named group per value. */
function printedMetrics(lines: string[]): { pattern: string; names: string[] } | undefined {
  let best: { pattern: string; names: string[] } | undefined;
  for (const line of lines) {
    const fstring = /print\(\s*f(["'])(.*?)\1/.exec(line)?.[2];
    if (!fstring) continue;
    const found = [...fstring.matchAll(PRINTED)];
    if (!found.length || (best && best.names.length >= found.length)) continue;
    const names: string[] = [];
    let pattern = '';
    let last = -1;
    for (const m of found) {
      const label = m[1] as string;
      const name = label.replace(/\W+/g, '_').toLowerCase();
      if (names.includes(name)) continue;
      const between = last < 0 ? '' : fstring.slice(last, m.index);
      pattern += regexEscape(between).replace(/\\\{[^{}]*\\\}/g, '.*?');
      pattern += `${regexEscape(fstring.slice(m.index, m.index + label.length))}\\W*(?<${name}>[-+0-9.eE]+)`;
      names.push(name);
      last = m.index + m[0].length;
    }
    best = { pattern, names };
  }
  return best;
}

/** Numeric leaves of a parsed metrics document, as dotted names (the gate's own naming). */
export function metricNamesOf(doc: unknown, prefix = ''): string[] {
  if (typeof doc === 'number') return prefix ? [prefix] : [];
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return [];
  return Object.entries(doc).flatMap(([k, v]) => metricNamesOf(v, prefix ? `${prefix}.${k}` : k));
}

/** Plain when YAML reads it back as this string, else JSON-quoted (YAML accepts JSON strings). */
const yamlString = (s: string) => (/^[\w./-]+$/.test(s) && !/^[-+]?[\d.]/.test(s) ? s : JSON.stringify(s));
const flow = (items: string[]) => `[${items.map(yamlString).join(', ')}]`;

export function renderStarter(f: ProjectFacts): string {
  const check = (ok: boolean) => (ok ? '' : '   # check');
  const command = ['python3', f.script ?? 'train.py', ...f.seedArgs, ...f.outArgs];
  const names = f.metricNames.length ? f.metricNames.slice(0, 12) : ['accuracy', 'loss'];
  const lines = [
    ...(f.schemaPath ? [`# yaml-language-server: $schema=${f.schemaPath}`] : []),
    '# repro-gate config written by `repro-gate init`: review the lines marked "check".',
    "# Every key is described in the README's Configuration section. Paths are relative to this file.",
    'version: 1',
    'train:',
    '  # The training as an argv list, run without a shell. {seed} and {out} are replaced for each',
    '  # seed; the training writes its metrics into {out} (it also gets $REPRO_GATE_SEED/_OUT).',
    `  command: ${flow(command)}${check(f.script !== undefined && f.flagsFound)}`,
    '  # image: ghcr.io/acme/train@sha256:<64 hex>   # train in a container pinned by digest',
    '  env: {PYTHONHASHSEED: "0"}',
    '  timeout: 30m',
    'seeds: 5                 # seeds 0..4 (statistical mode needs at least 2)',
    'mode: statistical        # or exact: every metric and artifact bit-identical per seed',
    'metrics:',
    ...(f.metricPattern
      ? [
          '  # Read from the printed output: the last match of each named group is that metric.',
          `  pattern: ${f.metricPattern.includes("'") ? JSON.stringify(f.metricPattern) : `'${f.metricPattern}'`}   # check`,
        ]
      : [
          `  file: ${yamlString(f.metricsFile ?? 'metrics.json')}${f.metricsFile ? '' : '   # check: the file the training writes into {out}'}`,
          "  # pattern: 'val loss (?<val_loss>[0-9.]+)'   # or read metrics from the printed output",
        ]),
    `  # ${f.metricSource ? `Metric names found in ${f.metricSource}.` : 'Check: the metrics your training writes.'} Margins are placeholders: \`repro-gate record\``,
    "  # prints each metric's spread over the seeds; choose a margin a few times larger.",
    ...names.map((n) => `  ${yamlString(n)}: {margin: 1%}`),
    `data: ${flow(f.data)}${f.data.length ? '' : '                 # data files or folders to fingerprint'}`,
    `config: ${flow(f.config)}${f.config.length ? '' : '               # config files to diff key by key'}`,
    '# artifacts: [model.pt]  # files in {out} hashed and compared in exact mode',
    'baseline: .repro-gate/baseline.json',
  ];
  return `${lines.join('\n')}\n`;
}
