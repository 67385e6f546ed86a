/**
 * Config fingerprints: YAML / JSON / TOML files parsed and flattened to dotted keys
 * (drift/config.ts diffs them).
 *
 * Key syntax (`flatten`): dotted paths as in util/dotted.ts (`optimizer.lr`, `layers.0.units`, `a["b.c"]`).
 * - A root that is not an object or array (e.g. a JSON file holding `5`) is stored under the key ``.
 * - Empty objects / arrays are kept as the string markers `{}` / `[]`, so emptying a list is a diff.
 * - Dates become ISO strings (TOML local dates/times keep their local form, e.g. `1979-05-27`),
 *   NaN / ±Infinity become `NaN` / `Infinity` / `-Infinity` strings (JSON has no such numbers, and
 *   the baseline is JSON), and TOML integers beyond 2^53 become decimal strings (kept exact).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { FlatConfig, Scalar } from '../schema/baseline.js';
import { compareBytes } from '../util/bytes.js';
import { childKey } from '../util/dotted.js';
import { GateError } from '../util/errors.js';
import { firstLine } from '../util/format.js';
import { resolveEntry } from './paths.js';

function scalar(v: unknown): Scalar {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? String(v) : v.toISOString();
  return String(v);
}

/** Flattens a parsed document to dotted keys, sorted so the baseline file is stable. */
export function flatten(doc: unknown): FlatConfig {
  // A Map + Object.fromEntries, so a key named `__proto__` is stored rather than swallowed.
  const out = new Map<string, Scalar>();
  const visit = (v: unknown, key: string): void => {
    if (Array.isArray(v)) {
      if (v.length === 0) out.set(key, '[]');
      v.forEach((item, i) => {
        visit(item, childKey(key, String(i), true));
      });
    } else if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
      const entries = Object.entries(v);
      if (entries.length === 0) out.set(key, '{}');
      for (const [k, item] of entries) visit(item, childKey(key, k, false));
    } else {
      out.set(key, scalar(v));
    }
  };
  visit(doc, '');
  return Object.fromEntries([...out].sort((x, y) => compareBytes(x[0], y[0])));
}

const SUPPORTED = '.yaml, .yml, .json, .toml';

function parseError(kind: string, file: string, detail: string, line?: number, col?: number): GateError {
  const where = line !== undefined ? ` at line ${line}, column ${col ?? 1}` : '';
  return new GateError(
    `Invalid ${kind} in ${file}${where}: ${detail}`,
    `Fix the syntax in ${file} (listed in config: in repro-gate.yml).`,
  );
}

/**
 * Offset of the first syntax error in invalid JSON. V8's JSON.parse messages only sometimes carry
 * a position ("Unexpected token '}', ... is not valid JSON" doesn't), so failures are re-scanned.
 */
function jsonErrorOffset(s: string): number | undefined {
  let i = 0;
  const fail = (): never => {
    throw i;
  };
  const ws = () => {
    while (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r') i++;
  };
  const str = () => {
    i++; // opening quote
    for (;;) {
      const c = s[i];
      if (c === undefined || c < ' ') fail();
      if (c === '"') return void i++;
      if (c === '\\') {
        i++;
        if (s[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) fail();
          i += 4;
        } else if (!'"\\/bfnrt'.includes(s[i] ?? 'x')) fail();
      }
      i++;
    }
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      ws();
      if (s[i] === close) return void i++;
      for (;;) {
        if (c === '{') {
          ws();
          if (s[i] !== '"') fail();
          str();
          ws();
          if (s[i] !== ':') fail();
          i++;
        }
        value();
        ws();
        if (s[i] === close) return void i++;
        if (s[i] !== ',') fail();
        i++;
      }
    }
    if (c === '"') {
      str();
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
      if (s.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    const num = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    num.lastIndex = i;
    if (!num.test(s)) fail();
    i = num.lastIndex;
  };
  try {
    value();
    ws();
    if (i < s.length) fail();
    return undefined;
  } catch (e) {
    if (typeof e === 'number') return e;
    return undefined; // e.g. stack overflow on absurd nesting: fall back to V8's message
  }
}

function lineCol(text: string, offset: number): [number, number] {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return [line, offset - before.lastIndexOf('\n')];
}

/** Parses a config file's text by its extension. `file` is used for the format and in messages. */
export function parseConfigText(text: string, file: string): unknown {
  const ext = path.extname(file).toLowerCase();
  text = text.replace(/^\uFEFF/, ''); // editors on Windows add a BOM; JSON.parse rejects it
  if (ext === '.yaml' || ext === '.yml') {
    try {
      // merge: `<<: *defaults` is common in ML configs (PyYAML supports it); uniqueKeys is the default.
      return parseYaml(text, { uniqueKeys: true, merge: true, logLevel: 'error' });
    } catch (err) {
      if (err instanceof YAMLParseError) {
        const detail = firstLine(err.message).replace(/ at line \d+, column \d+:?$/, '');
        const pos = err.linePos?.[0];
        throw parseError('YAML', file, detail, pos?.line, pos?.col);
      }
      throw parseError('YAML', file, (err as Error).message);
    }
  }
  if (ext === '.json') {
    try {
      return JSON.parse(text);
    } catch (err) {
      const offset = jsonErrorOffset(text);
      const detail = (err as Error).message
        .replace(/, ".*" is not valid JSON$/s, '')
        .replace(/ in JSON at position \d+.*$/s, '');
      if (offset === undefined) throw parseError('JSON', file, detail);
      const [line, col] = lineCol(text, offset);
      throw parseError('JSON', file, detail, line, col);
    }
  }
  if (ext === '.toml') {
    try {
      return parseToml(text, { integersAsBigInt: 'asNeeded' });
    } catch (err) {
      if (err instanceof TomlError) {
        const detail = firstLine(err.message).replace(/^Invalid TOML document: /, '');
        throw parseError('TOML', file, detail, err.line, err.column);
      }
      throw parseError('TOML', file, (err as Error).message);
    }
  }
  throw new GateError(
    `Unsupported config file type "${ext || '(no extension)'}" for ${file}.`,
    `config: in repro-gate.yml accepts ${SUPPORTED} files.`,
  );
}

/** Reads, parses and flattens each `config:` file, keyed by POSIX path relative to `root`. */
export async function fingerprintConfigFiles(files: string[], root: string): Promise<Record<string, FlatConfig>> {
  const parsed = new Map<string, FlatConfig>();
  for (const file of files) {
    const { abs, rel } = resolveEntry(root, file, 'config');
    let text: string;
    try {
      text = await readFile(abs, 'utf8');
    } catch (err) {
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
    parsed.set(rel, flatten(parseConfigText(text, rel)));
  }
  return Object.fromEntries([...parsed].sort((x, y) => compareBytes(x[0], y[0])));
}
