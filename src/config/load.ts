import path from 'node:path';
import { type Document, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, visit } from 'yaml';
import { safeParse, type z } from 'zod';
import { configSchema, type GateConfig } from '../schema/config.js';
import { valueAt } from '../util/dotted.js';
import { GateError } from '../util/errors.js';
import { MIB, readLimitedText } from '../util/files.js';
import { firstLine } from '../util/format.js';
import { insideFolder } from '../util/paths.js';
import { closest, keysAt } from './keys.js';

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
  const name = path.basename(file);
  try {
    return parseConfigDocument(text, file, name);
  } catch (err) {
    // The YAML parser and the walks over its tree recurse: absurd nesting must not crash the gate.
    if (err instanceof RangeError && /call stack/i.test(err.message)) throw nestedTooDeeply(name);
    throw err;
  }
}

function nestedTooDeeply(name: string, where = ''): GateError {
  return new GateError(
    `${name}${where}: nested too deeply to read (collections inside collections, hundreds of levels).`,
    fixHint(name),
  );
}

function parseConfigDocument(text: string, file: string, name: string): GateConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const [e] = doc.errors;
  if (e) {
    const pos = lines.linePos(e.pos[0]);
    const where = `:${pos.line}:${pos.col}`;
    if (/call stack/i.test(e.message)) throw nestedTooDeeply(name, where);
    throw new GateError(`${name}${where}: invalid YAML: ${firstLine(e.message)}`, fixHint(name));
  }
  refuseProtoKeys(doc, lines, name);
  let raw: unknown;
  try {
    raw = doc.toJS(); // maxAliasCount (100) stops a "billion laughs" expansion
  } catch (err) {
    if (err instanceof RangeError) throw err;
    const message = (err as Error).message;
    if (/alias/i.test(message)) {
      throw new GateError(
        `${name}: too many YAML aliases: *references expand into more values than a config holds, as in a "billion laughs" attack; it is not read.`,
        `Write the values out in ${name} instead of through nested *aliases.`,
      );
    }
    throw new GateError(`${name}: cannot be read as YAML: ${firstLine(message)}`, fixHint(name));
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new GateError(`${name}: expected a YAML mapping with "version: 1" and a "train:" section`, fixHint(name));
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap(expandUnion).map((issue) => classify(issue, raw));
    // A typo'd key also makes the real key "required": report the typo alone.
    const suggested = new Set(
      problems.flatMap((p) => p.typos.flatMap((t) => (t.suggestion ? [[...p.path, t.suggestion].join('.')] : []))),
    );
    const messages = problems
      .filter((p) => !(p.typos.length === 0 && valueAt(raw, p.path) === undefined && suggested.has(p.path.join('.'))))
      .map((p) => describe(p, raw, doc, lines, name));
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

type Issue = z.core.$ZodIssue;

/** A failed union whose other options failed on the value's type alone: the issues of the option that fits. */
function expandUnion(issue: Issue): Issue[] {
  if (issue.code !== 'invalid_union') return [issue];
  const wrongType = (i: Issue): boolean =>
    i.path.length === 0 &&
    (i.code === 'invalid_type' || (i.code === 'invalid_union' && i.errors.every((b) => b.every(wrongType))));
  const fitting = issue.errors.filter((branch) => !branch.every(wrongType));
  const [only, ...others] = fitting;
  if (only === undefined || others.length > 0) return [issue];
  return only.flatMap((i) => expandUnion({ ...i, path: [...issue.path, ...i.path] } as Issue));
}

interface Problem {
  issue: Issue;
  path: string[];
  /** Keys that are not settings at this place, each with the one probably meant. */
  typos: Array<{ key: string; suggestion: string | undefined }>;
}

function classify(issue: Issue, raw: unknown): Problem {
  const keyPath = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const { known } = keysAt(configSchema, keyPath);
    return { issue, path: keyPath, typos: issue.keys.map((key) => ({ key, suggestion: closest(key, known) })) };
  }
  // Under metrics: any key is a metric's name, so `fiel: m.json` reads as a metric that is not a
  // mapping. When the key is near a setting there and the value would do for that setting, it is a typo.
  const key = keyPath.at(-1);
  const parent = keyPath.slice(0, -1);
  if (key !== undefined && keyPath.length > 0) {
    const here = keysAt(configSchema, parent);
    const suggestion = here.open && !here.known.includes(key) ? closest(key, here.known) : undefined;
    const schema = suggestion === undefined ? undefined : here.schemaOf(suggestion);
    if (suggestion && schema && safeParse(schema, valueAt(raw, issue.path)).success) {
      return { issue, path: parent, typos: [{ key, suggestion }] };
    }
  }
  return { issue, path: keyPath, typos: [] };
}

function describe(p: Problem, raw: unknown, doc: Document, lines: LineCounter, file: string): string {
  const { issue } = p;
  if (p.typos.length > 0) {
    return p.typos
      .map(({ key, suggestion }) => {
        const where = locate(doc, lines, p.path, key);
        const full = [...p.path, key].join('.');
        return `${file}${where}: unknown key "${full}"${suggestion ? ` — did you mean "${suggestion}"?` : ''}`;
      })
      .join('\n  ');
  }
  const where = locate(doc, lines, p.path);
  const label = p.path.length ? p.path.join('.') : '(top level)';
  const value = valueAt(raw, issue.path);
  let message = issue.message;
  if (typeof value === 'number' && !Number.isFinite(value))
    message = `expected a finite number, got ${value} (YAML reads 1e309, .inf and the like as infinity)`;
  else if (value === undefined && issue.code !== 'custom') message = 'is required';
  else if (issue.code === 'invalid_value' && 'values' in issue)
    message = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${file}${where}: ${label}: ${message}`;
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

/** Where a config: entry (a path, or {resolved: path}) sits in the file, for messages. */
function configEntryPath(doc: Document, value: string): Array<string | number> {
  const list = doc.get('config');
  const items = isSeq(list) ? list.items : [];
  const i = items.findIndex((item) => {
    const v = isScalar(item) ? item.value : isMap(item) ? item.get('resolved') : undefined;
    return v === value;
  });
  return i < 0 ? ['config'] : ['config', i];
}

/** The i-th data: item as written: a plain path (string) or an object. */
function rawData(doc: Document, i: number): unknown {
  const list = doc.get('data');
  const item = isSeq(list) ? list.items[i] : undefined;
  return isScalar(item) ? item.value : item;
}

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
    ...(config.metricsFile
      ? [{ keyPath: ['metrics', 'file'], setting: 'metrics.file', value: config.metricsFile, out: true, file: true }]
      : []),
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
    // External entries (a mounted volume) are outside the project by declaration; lineage files are inside it.
    ...config.dataEntries.flatMap((d, i) => [
      ...(d.external
        ? []
        : [
            {
              keyPath: typeof rawData(doc, i) === 'string' ? ['data', i] : ['data', i, 'path'],
              setting: 'data:',
              value: d.path,
              out: false,
              file: false,
            },
          ]),
      ...d.preprocess.map((value, j) => ({
        keyPath: ['data', i, 'preprocess', j],
        setting: 'data: preprocess',
        value,
        out: false,
        file: true,
      })),
      ...(typeof d.query === 'object'
        ? [
            {
              keyPath: ['data', i, 'query', 'file'],
              setting: 'data: query.file',
              value: d.query.file,
              out: false,
              file: true,
            },
          ]
        : []),
    ]),
    ...config.config.map((value) => ({
      keyPath: configEntryPath(doc, value),
      setting: 'config:',
      value,
      out: false,
      file: true,
    })),
    ...config.resolvedConfig.map((value) => ({
      keyPath: [...configEntryPath(doc, value), 'resolved'],
      setting: 'config: resolved',
      value,
      out: true,
      file: true,
    })),
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
          : `List paths inside the repository, relative to ${root}, in ${key}: in ${name}.${e.setting === 'data:' ? ` Data on a mounted volume is listed as {path: ${JSON.stringify(e.value)}, external: true}.` : ''}`,
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
