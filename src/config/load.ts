import path from 'node:path';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import type { z } from 'zod';
import { configSchema, type GateConfig } from '../schema/config.js';
import { valueAt } from '../util/dotted.js';
import { GateError } from '../util/errors.js';
import { MIB, readLimitedText } from '../util/files.js';
import { insideFolder } from '../util/paths.js';

/** repro-gate.yml is refused unread beyond this: it holds settings, not data. */
const CONFIG_MAX_BYTES = MIB;

const fixHint = (name: string) => `Fix ${name}; the format is documented in the README ("Configuration").`;

/** Reads, parses and validates a config file; every problem is a GateError naming file, line and key path. */
export async function loadConfig(configPath: string, cwd: string): Promise<GateConfig> {
  const abs = path.resolve(cwd, configPath);
  let text: string;
  try {
    text = await readLimitedText(abs, {
      name: path.basename(abs),
      maxBytes: CONFIG_MAX_BYTES,
      what: 'a config file',
      hint: `Keep ${path.basename(abs)} to the gate's settings (the format is in the README, "Configuration").`,
      specialHint: 'Pass --config the path of a regular YAML file.',
    });
  } catch (err) {
    if (err instanceof GateError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new GateError(
      code === 'ENOENT' ? `Config file not found: ${abs}` : `Cannot read config file ${abs}: ${(err as Error).message}`,
      'Create repro-gate.yml in the project (see the README) or pass --config PATH.',
    );
  }
  return parseConfig(text, abs);
}

/** Pure: YAML text → validated config. `file` is used for messages and to resolve relative paths. */
export function parseConfig(text: string, file: string): GateConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const name = path.basename(file);
  const [e] = doc.errors;
  if (e) {
    const pos = lines.linePos(e.pos[0]);
    throw new GateError(`${name}:${pos.line}:${pos.col}: invalid YAML: ${e.message.split('\n')[0]}`, fixHint(name));
  }
  refuseProtoKeys(doc, lines, name);
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new GateError(`${name}: expected a YAML mapping with "version: 1" and a "train:" section`, fixHint(name));
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues;
    // A typo'd key also makes the real key "required": report the typo alone.
    const suggested = new Set(
      issues.flatMap((i) =>
        i.code === 'unrecognized_keys'
          ? i.keys.map((k) => [...i.path, closest(k, knownKeys(i.path.map(String)))].join('.'))
          : [],
      ),
    );
    const messages = issues
      .filter((i) => !(valueAt(raw, i.path) === undefined && suggested.has(i.path.join('.'))))
      .map((issue) => describeIssue(issue, raw, doc, lines, name));
    const [only, ...more] = messages;
    const head =
      only !== undefined && more.length === 0
        ? only
        : `${name} has ${messages.length} problems:\n  ${messages.join('\n  ')}`;
    throw new GateError(head, fixHint(name));
  }
  const config = { ...parsed.data, path: file, root: path.dirname(file) };
  checkConfinement(config, doc, lines, name);
  return config;
}

/**
 * A key named `__proto__` is refused wherever it is: a JavaScript object cannot hold it as an
 * ordinary key through the validation, so it would be dropped without a word.
 */
function refuseProtoKeys(doc: Document, lines: LineCounter, name: string): void {
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (!isScalar(pair.key) || pair.key.value !== '__proto__') return;
      const keyPath: string[] = [];
      [...ancestors, pair].forEach((node, i) => {
        if (isPair(node) && isScalar(node.key)) keyPath.push(String(node.key.value));
        const next = ancestors[i + 1];
        if (isSeq(node) && next !== undefined) keyPath.push(String(node.items.indexOf(next as never)));
      });
      const pos = lines.linePos(pair.key.range?.[0] ?? 0);
      throw new GateError(
        `${name}:${pos.line}:${pos.col}: the key "${keyPath.join('.')}" cannot be used: "__proto__" is not allowed as a name.`,
        `Rename the key "__proto__" in ${name} (JavaScript reserves it for an object's prototype, so it would be lost).`,
      );
    },
  });
}

const OUT = "the run's output folder";

/**
 * Pure, lexical: every path stays inside the folder it belongs to. metrics.file, curves.file and
 * artifacts: inside the run's output folder ({out}); baseline:, data: and config: inside the
 * project. Reading checks symlinks again (util/files.ts, fingerprint/).
 */
function checkConfinement(config: GateConfig, doc: Document, lines: LineCounter, name: string): void {
  const root = path.resolve(config.root);
  const entries: Array<{
    keyPath: Array<string | number>;
    setting: string;
    value: string;
    out: boolean;
    file: boolean;
  }> = [
    { keyPath: ['metrics', 'file'], setting: 'metrics.file', value: config.metricsFile, out: true, file: true },
    ...(config.curves
      ? [{ keyPath: ['curves', 'file'], setting: 'curves.file', value: config.curves.file, out: true, file: true }]
      : []),
    ...config.artifacts.map((value, i) => ({
      keyPath: ['artifacts', i],
      setting: 'artifacts:',
      value,
      out: true,
      file: false,
    })),
    { keyPath: ['baseline'], setting: 'baseline:', value: config.baseline, out: false, file: true },
    ...config.data.map((value, i) => ({ keyPath: ['data', i], setting: 'data:', value, out: false, file: false })),
    ...config.config.map((value, i) => ({ keyPath: ['config', i], setting: 'config:', value, out: false, file: true })),
  ];
  for (const e of entries) {
    const rel = insideFolder(e.value, e.out ? undefined : root);
    const folder = e.out ? `${OUT} ({out})` : `the project root (${root})`;
    const where = `${name}${locate(doc, lines, e.keyPath.map(String))}`;
    const key = e.setting.replace(/:$/, '');
    if (rel === undefined) {
      throw new GateError(
        `${where}: The ${e.setting} entry "${e.value}" points outside ${folder}.`,
        e.out
          ? `Give ${key} as a path inside the folder the training writes to, relative to it (e.g. ${key === 'metrics.file' ? 'metrics.json' : 'model.bin'}).`
          : `List paths inside the repository, relative to ${root}, in ${key}: in ${name}.`,
      );
    }
    if (rel === '' && e.file) {
      throw new GateError(
        `${where}: The ${e.setting} entry "${e.value}" names ${e.out ? OUT : 'the project root'} itself, not a file in it.`,
        `Give ${key} as the path of a file, relative to ${e.out ? '{out}' : root}.`,
      );
    }
  }
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown, doc: Document, lines: LineCounter, file: string): string {
  const keyPath = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => {
        const where = locate(doc, lines, keyPath, key);
        const full = [...keyPath, key].join('.');
        const suggestion = closest(key, knownKeys(keyPath));
        return `${file}${where}: unknown key "${full}"${suggestion ? ` — did you mean "${suggestion}"?` : ''}`;
      })
      .join('\n  ');
  }
  const where = locate(doc, lines, keyPath);
  const label = keyPath.length ? keyPath.join('.') : '(top level)';
  let message = issue.message;
  if (valueAt(raw, issue.path) === undefined && issue.code !== 'custom') message = 'is required';
  else if (issue.code === 'invalid_value' && 'values' in issue)
    message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${file}${where}: ${label}: ${message}`;
}

/** ":line:col" of a key path (or of `key` inside the mapping at that path), or "" if unknown. */
function locate(doc: Document, lines: LineCounter, keyPath: string[], key?: string): string {
  const segs = keyPath.map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  let offset: number | undefined;
  if (key !== undefined) {
    const node = segs.length ? doc.getIn(segs, true) : doc.contents;
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === key);
      offset = (pair?.key as { range?: [number, number, number] } | undefined)?.range?.[0];
    }
  } else {
    const node = doc.getIn(segs, true) as { range?: [number, number, number] } | undefined;
    offset = node?.range?.[0];
    if (offset === undefined && segs.length > 1) return locate(doc, lines, keyPath.slice(0, -1));
  }
  if (offset === undefined) return '';
  const pos = lines.linePos(offset);
  return `:${pos.line}:${pos.col}`;
}

const KNOWN = {
  '': [
    'version',
    'train',
    'seeds',
    'mode',
    'alpha',
    'paired',
    'robust',
    'metrics',
    'artifacts',
    'data',
    'config',
    'baseline',
    'curves',
    'diagnose',
  ],
  train: ['command', 'image', 'allow-unpinned', 'network', 'gpus', 'env', 'timeout'],
  metric: ['margin', 'direction'],
  seeds: ['min', 'max', 'step', 'boundary', 'calibration', 'futility'],
} satisfies Record<string, string[]>;

function knownKeys(keyPath: string[]): string[] {
  if (keyPath.length === 0) return KNOWN[''];
  if (keyPath.length === 1 && keyPath[0] === 'train') return KNOWN.train;
  if (keyPath.length === 2 && keyPath[0] === 'metrics') return KNOWN.metric;
  if (keyPath.length === 1 && keyPath[0] === 'seeds') return KNOWN.seeds;
  return [];
}

/** The known key within edit distance 2, for "did you mean". */
function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Levenshtein distance over UTF-16 code units, one row of the table at a time. */
function editDistance(a: string, b: string): number {
  // prev[j]: the distance from the first i characters of a to the first j of b.
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  let distance = b.length;
  for (const [i, ca] of a.split('').entries()) {
    let diag = i; // prev[j − 1]
    let left = i + 1; // cur[j − 1]
    const cur = [left];
    for (const [k, up] of prev.slice(1).entries()) {
      left = Math.min(up + 1, left + 1, diag + (ca === b[k] ? 0 : 1));
      diag = up;
      cur.push(left);
    }
    prev = cur;
    distance = left;
  }
  return distance;
}
