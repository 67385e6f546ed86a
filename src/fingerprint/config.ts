/**
 * Config fingerprints: YAML / JSON / TOML files parsed and flattened to dotted keys
 * (drift/config.ts diffs them).
 *
 * Key syntax (`flatten`): dotted paths as in util/dotted.ts (`optimizer.lr`, `layers.0.units`, `a["b.c"]`).
 * - A root that is not an object or array (e.g. a JSON file holding `5`) is stored under the key ``.
 * - Empty objects / arrays are kept as the string markers `{}` / `[]`, so emptying a list is a diff.
 * - Dates become ISO strings (TOML local dates/times keep their local form, e.g. `1979-05-27`),
 *   NaN / ±Infinity become `NaN` / `Infinity` / `-Infinity` strings (JSON has no such numbers, and
 *   the baseline is JSON; YAML reads 1e309 as infinity too), and integers beyond 2^53 in YAML, JSON
 *   or TOML become decimal strings (kept exact, as Python reads them).
 * - A document nested deeper than 1,000 levels is refused ("nested too deeply"), whatever its format.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { parse as parseIni } from 'ini';
import { parse as parseToml, TomlError } from 'smol-toml';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { FlatConfig, Scalar } from '../schema/baseline.js';
import { compareBytes } from '../util/bytes.js';
import { childKey } from '../util/dotted.js';
import { GateError } from '../util/errors.js';
import { MIB, readLimitedText } from '../util/files.js';
import { firstLine } from '../util/format.js';
import { jsonErrorOffset } from '../util/json-position.js';
import { parseJsonExactIntegers } from '../util/lenient-json.js';
import { isWithin } from '../util/paths.js';
import { resolveEntry } from './paths.js';
import { PYCONFIG_MARK, PYCONFIG_PY } from './pyconfig-script.js';
import { type PythonContext, runPythonScript } from './python.js';

function scalar(v: unknown): Scalar {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  // Parsers give integers as BigInts where a number could lose digits: exact ones stay numbers.
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  return String(v);
}

function isContainer(v: unknown): v is object {
  return v !== null && typeof v === 'object' && !(v instanceof Date);
}

/** Flattens a parsed document to dotted keys, sorted so the baseline file is stable. No recursion. */
export function flatten(doc: unknown): FlatConfig {
  // A Map + Object.fromEntries, so a key named `__proto__` is stored rather than swallowed.
  const out = new Map<string, Scalar>();
  const todo: Array<[unknown, string]> = [[doc, '']];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [v, key] = next;
    if (Array.isArray(v)) {
      if (v.length === 0) out.set(key, '[]');
      v.forEach((item, i) => {
        todo.push([item, childKey(key, String(i), true)]);
      });
    } else if (isContainer(v)) {
      const entries = Object.entries(v);
      if (entries.length === 0) out.set(key, '{}');
      for (const [k, item] of entries) todo.push([item, childKey(key, k, false)]);
    } else {
      out.set(key, scalar(v));
    }
  }
  return Object.fromEntries([...out].sort((x, y) => compareBytes(x[0], y[0])));
}

/** Deeper than this, a config is not a config (and recursive readers of it would overflow their stack). */
const MAX_DEPTH = 1000;

/** Whether a parsed document nests objects and lists deeper than `limit` (no recursion). */
function nestedDeeperThan(doc: unknown, limit: number): boolean {
  const todo: Array<[unknown, number]> = [[doc, 0]];
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [v, depth] = next;
    if (!isContainer(v)) continue;
    if (depth >= limit) return true;
    for (const item of Object.values(v)) if (isContainer(item)) todo.push([item, depth + 1]);
  }
  return false;
}

const NESTED_TOO_DEEPLY = 'nested too deeply (more than 1,000 levels of mappings and lists)';
/** When the parser itself runs out of stack first (YAML does at several hundred levels). */
const NESTED_TOO_DEEPLY_TO_PARSE = 'nested too deeply to parse (hundreds of levels of mappings and lists)';

/** A config: file is parsed and every key kept in the baseline: beyond this it is data, not config. */
const CONFIG_FILE_MAX_BYTES = MIB;

const SUPPORTED = '.yaml, .yml, .json, .toml, .py, .ini, .cfg and .env';

function parseError(kind: string, file: string, detail: string, line?: number, col?: number): GateError {
  const where = line !== undefined ? ` at line ${line}, column ${col ?? 1}` : '';
  return new GateError(
    `Invalid ${kind} in ${file}${where}: ${detail}`,
    `Fix the syntax in ${file} (listed in config: in repro-gate.yml).`,
  );
}

/** Parses a config file's text by its extension. `file` is used for the format and in messages. */
export function parseConfigText(text: string, file: string): unknown {
  const doc = parseByExtension(text, file);
  if (nestedDeeperThan(doc, MAX_DEPTH)) {
    const kind = { '.json': 'JSON', '.toml': 'TOML' }[path.extname(file).toLowerCase()] ?? 'YAML';
    throw parseError(kind, file, NESTED_TOO_DEEPLY);
  }
  return doc;
}

function parseByExtension(text: string, file: string): unknown {
  const ext = path.extname(file).toLowerCase();
  text = text.replace(/^\uFEFF/, ''); // editors on Windows add a BOM; JSON.parse rejects it
  if (ext === '.yaml' || ext === '.yml') {
    try {
      // merge: `<<: *defaults` is common in ML configs (PyYAML supports it); uniqueKeys is the default.
      // intAsBigInt: integers beyond 2^53 stay exact (scalar() turns the others back into numbers).
      // maxAliasCount (default 100) stops a "billion laughs" expansion of *aliases.
      return parseYaml(text, { uniqueKeys: true, merge: true, logLevel: 'error', intAsBigInt: true });
    } catch (err) {
      if (err instanceof YAMLParseError) {
        let detail = firstLine(err.message).replace(/ at line \d+, column \d+:?$/, '');
        if (/call stack/i.test(detail)) detail = NESTED_TOO_DEEPLY_TO_PARSE;
        const pos = err.linePos?.[0];
        throw parseError('YAML', file, detail, pos?.line, pos?.col);
      }
      const message = (err as Error).message;
      if (err instanceof RangeError && /call stack/i.test(message))
        throw parseError('YAML', file, NESTED_TOO_DEEPLY_TO_PARSE);
      if (/alias/i.test(message))
        throw parseError(
          'YAML',
          file,
          'too many aliases: *references expand into more values than a config holds, as in a "billion laughs" attack',
        );
      throw parseError('YAML', file, firstLine(message));
    }
  }
  if (ext === '.json') {
    try {
      return parseJsonExactIntegers(text);
    } catch {
      // V8's message quotes the text around the error; the scanner says where and why in its own words.
      const pos = jsonErrorOffset(text);
      if (pos === undefined) throw parseError('JSON', file, 'not valid JSON');
      throw parseError('JSON', file, pos.reason, pos.line, pos.column);
    }
  }
  if (ext === '.toml') {
    try {
      return parseToml(text, { integersAsBigInt: 'asNeeded' });
    } catch (err) {
      if (err instanceof TomlError) {
        let detail = firstLine(err.message).replace(/^Invalid TOML document: /, '');
        if (/excessively nested/i.test(detail)) detail = NESTED_TOO_DEEPLY;
        throw parseError('TOML', file, detail, err.line, err.column);
      }
      const message = (err as Error).message;
      if (err instanceof RangeError && /call stack/i.test(message))
        throw parseError('TOML', file, NESTED_TOO_DEEPLY_TO_PARSE);
      throw parseError('TOML', file, firstLine(message));
    }
  }
  if (ext === '.ini' || ext === '.cfg') {
    // Sections become key prefixes ([model] lr = 0.1 → model.lr); values stay strings, as configparser reads them.
    return parseIni(text);
  }
  if (ext === '.env' || path.basename(file).toLowerCase().startsWith('.env')) {
    return parseDotenv(text);
  }
  throw new GateError(
    `Unsupported config file type "${ext || '(no extension)'}" for ${file}.`,
    `config: in repro-gate.yml accepts ${SUPPORTED} files.`,
  );
}

/**
 * A config file's values end up in the baseline and in reports (a PR comment), so it must really
 * be the project's: a symlink out of the project (to ~/.docker/config.json, say) or into a .git
 * folder (which may hold a token) is refused, not followed. Missing files are left to the reader.
 */
async function refuseOutsideProject(root: string, abs: string, file: string): Promise<void> {
  const real = await realpath(abs).catch(() => undefined);
  if (real === undefined) return;
  const realRoot = await realpath(root);
  const hint =
    'Config files are parsed and their values shown in reports: list files of the repository itself in config: in repro-gate.yml (a symlink to a file elsewhere is not followed).';
  if (!isWithin(realRoot, real)) {
    throw new GateError(
      `The config: file "${file}" resolves through a symlink to ${real}, outside the project root (${realRoot}); it is not read.`,
      hint,
    );
  }
  if (path.relative(realRoot, real).split(path.sep).includes('.git')) {
    throw new GateError(`The config: file "${file}" resolves to ${real}, inside a .git folder; it is not read.`, hint);
  }
}

/**
 * A Python config file's top-level assignments and class attributes, read with the training's own
 * interpreter and Python's `ast` (pyconfig-script.ts): literals as values, anything else as its
 * source text; nothing in the file runs.
 */
async function readPythonConfig(python: PythonContext, abs: string, rel: string): Promise<unknown> {
  const r = await runPythonScript(python, PYCONFIG_PY, [python.runtime.pathFor(abs)], PYCONFIG_MARK);
  if (!r.ok) {
    throw new GateError(
      `Cannot read the Python config file ${rel}: it is parsed with the training's Python (never run), and ${r.problem}.`,
      'Make the interpreter of train.command available (python3 on PATH, or in train.image).',
    );
  }
  const doc = r.doc as { values?: Record<string, unknown>; error?: string; line?: number; column?: number };
  if (doc.error !== undefined) {
    const where = doc.line ? `:${doc.line}${doc.column ? `:${doc.column}` : ''}` : '';
    throw new GateError(
      `${rel}${where}: invalid Python: ${doc.error}.`,
      `Fix the syntax in ${rel} (listed in config: in repro-gate.yml).`,
    );
  }
  return doc.values ?? {};
}

export interface ConfigReadOptions {
  /** How to run the training's Python, for .py config files. */
  python?: PythonContext;
}

/** Reads, parses and flattens each `config:` file, keyed by POSIX path relative to `root`. */
export async function fingerprintConfigFiles(
  files: string[],
  root: string,
  opts: ConfigReadOptions = {},
): Promise<Record<string, FlatConfig>> {
  const parsed = new Map<string, FlatConfig>();
  for (const file of files) {
    const { abs, rel } = resolveEntry(root, file, 'config');
    await refuseOutsideProject(root, abs, file);
    let text: string;
    try {
      text = await readLimitedText(abs, {
        name: `The config: file "${file}"`,
        maxBytes: CONFIG_FILE_MAX_BYTES,
        what: 'a config: file',
        hint: 'config: is for YAML/JSON/TOML parameter files; fingerprint large files through data: in repro-gate.yml instead.',
        specialHint: 'List regular YAML/JSON/TOML files of the project in config: in repro-gate.yml.',
      });
    } catch (err) {
      if (err instanceof GateError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new GateError(
          `Config file "${file}" listed in config: does not exist (looked for ${abs}).`,
          `Fix the config: list in repro-gate.yml (paths are relative to ${path.resolve(root)}), or create the file.`,
        );
      }
      if (code === 'EISDIR') {
        throw new GateError(
          `Config entry "${file}" is a folder.`,
          'List individual YAML/JSON/TOML files in config: in repro-gate.yml.',
        );
      }
      throw new GateError(
        `Cannot read config file ${file} (${code ?? err}).`,
        'Check that it is readable by the runner.',
      );
    }
    if (path.extname(rel).toLowerCase() === '.py') {
      if (!opts.python)
        throw new GateError(`Cannot read the Python config file ${rel} here.`, 'It needs the training runtime.');
      parsed.set(rel, flatten(await readPythonConfig(opts.python, abs, rel)));
    } else {
      parsed.set(rel, flatten(parseConfigText(text, rel)));
    }
  }
  return Object.fromEntries([...parsed].sort((x, y) => compareBytes(x[0], y[0])));
}
