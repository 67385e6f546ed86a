import path from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { parseCsv } from '../util/csv.js';
import { GateError } from '../util/errors.js';
import { readConfinedFile } from '../util/files.js';
import { jsonErrorWhere } from '../util/json-position.js';
import { parseLenientJson } from '../util/lenient-json.js';

const WRITE_HINT =
  'Make the training write its metrics as JSON into the {out} folder (also in $REPRO_GATE_OUT), or fix metrics.file in repro-gate.yml.';

/** A metrics file is a few numbers; anything near this size is a training writing the wrong thing. */
const METRICS_MAX_BYTES = 16 * 1024 * 1024;

/**
 * Value at a dotted path. A key that itself contains dots wins over nesting ("val.acc" as one key
 * before {"val": {"acc": …}}), so either layout works. Own keys only: `constructor` or `__proto__`
 * is a name like any other, never something inherited.
 */
export function lookupDotted(doc: unknown, dotted: string): unknown {
  if (doc === null || typeof doc !== 'object') return undefined;
  const obj = doc as Record<string, unknown>;
  if (Object.hasOwn(obj, dotted)) return obj[dotted];
  const segments = dotted.split('.');
  for (let i = segments.length - 1; i >= 1; i--) {
    const head = segments.slice(0, i).join('.');
    if (Object.hasOwn(obj, head)) {
      const found = lookupDotted(obj[head], segments.slice(i).join('.'));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/** A value from the metrics file in a message: short, so a training cannot fill a report with it. */
function brief(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 39)}…` : text;
}

/** Pure: metric values from a parsed metrics document, or a GateError naming the metric and why. */
export function extractMetrics(doc: unknown, names: string[], where: string): Record<string, number> {
  const values: Array<[string, number]> = [];
  for (const name of names) {
    const value = lookupDotted(doc, name);
    if (value === undefined) {
      const keys =
        doc && typeof doc === 'object'
          ? Object.keys(doc)
              .slice(0, 10)
              .map((k) => (k.length > 40 ? `${k.slice(0, 39)}…` : k))
              .join(', ')
          : '';
      throw new GateError(
        `Metric "${name}" is missing from ${where}${keys ? ` (top-level keys: ${keys})` : ''}.`,
        'Write it from the training, or fix the metric name under metrics: in repro-gate.yml (nested keys as dotted paths, e.g. eval.accuracy).',
      );
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const nonFinite = typeof value === 'number';
      throw new GateError(
        `Metric "${name}" in ${where} is ${nonFinite ? String(value) : brief(value)}, not a finite number.`,
        nonFinite
          ? 'The training diverged or divided by zero for this seed; fix the training (a NaN metric cannot be compared).'
          : 'Write the metric as a JSON number.',
      );
    }
    values.push([name, value]);
  }
  // fromEntries defines own keys: a metric named `__proto__` is a key, not the object's prototype.
  return Object.fromEntries(values);
}

/**
 * Reads the metrics the training wrote. `file` is the metrics file's absolute path and `outDir`
 * the run's output folder it must stay inside, through symlinks too (default: the file's own
 * folder, which is stricter). By extension: .json (Python's NaN/Infinity read as such), .yaml/.yml,
 * .jsonl (per metric, the record with the largest `step` holding it, else the last one) and .csv
 * (a header row; per metric, the last row with a value in its column). A missing file, a file
 * outside, one larger than 16 MiB, or an unreadable one is a GateError that names the position
 * but never quotes the content.
 */
export async function readMetrics(
  file: string,
  names: string[],
  where: string,
  outDir: string = path.dirname(file),
): Promise<Record<string, number>> {
  const rel = path.relative(outDir, file);
  let text = await readConfinedFile(outDir, rel, 'metrics.file', {
    folder: "the run's output folder",
    maxBytes: METRICS_MAX_BYTES,
    hint: WRITE_HINT,
  });
  if (text === null) throw new GateError(`The training did not write ${where}.`, WRITE_HINT);
  text = text.replace(/^\uFEFF/, ''); // a BOM (e.g. from PowerShell or utf-8-sig): parsers reject it
  const ext = path.extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson')
    return extractMetrics(latestRecords(parseJsonLines(text, where), names), names, where);
  if (ext === '.csv') return extractMetrics(lastCsvValues(text, names, where), names, where);
  if (ext === '.yaml' || ext === '.yml') return extractMetrics(parseYamlMetrics(text, where), names, where);
  let doc: unknown;
  try {
    doc = parseLenientJson(text);
  } catch {
    // Never the parser's message: it quotes the file around the error.
    const at = jsonErrorWhere(text, { lenient: true });
    throw new GateError(`${where} is not valid JSON${at ? ` ${at}` : ''}.`, WRITE_HINT);
  }
  return extractMetrics(doc, names, where);
}

function parseYamlMetrics(text: string, where: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 100, logLevel: 'error' });
  } catch (err) {
    const pos = err instanceof YAMLParseError ? err.linePos?.[0] : undefined;
    throw new GateError(
      `${where} is not valid YAML${pos ? ` at line ${pos.line}, column ${pos.col}` : ''}.`,
      WRITE_HINT,
    );
  }
}

function parseJsonLines(text: string, where: string): unknown[] {
  const records: unknown[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    try {
      records.push(parseLenientJson(line));
    } catch {
      const at = jsonErrorWhere(line, { lenient: true });
      throw new GateError(`${where} line ${i + 1} is not valid JSON${at ? ` ${at}` : ''}.`, WRITE_HINT);
    }
  }
  return records;
}

/** Per metric, the record that holds it with the largest numeric `step`, or else the last one holding it. */
function latestRecords(records: unknown[], names: string[]): Record<string, unknown> {
  const picked: Array<[string, unknown]> = [];
  for (const name of names) {
    let best: { step: number; value: unknown } | undefined;
    for (const [i, record] of records.entries()) {
      const value = lookupDotted(record, name);
      if (value === undefined) continue;
      const step = lookupDotted(record, 'step');
      const order = typeof step === 'number' && Number.isFinite(step) ? step : i - records.length;
      if (!best || order >= best.step) best = { step: order, value };
    }
    if (best) picked.push([name, best.value]);
  }
  return Object.fromEntries(picked);
}

/** Per metric, the value in its column on the last row that has one (CSV-logger style). */
function lastCsvValues(text: string, names: string[], where: string): Record<string, unknown> {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new GateError(`${where} is empty: a CSV metrics file needs a header row.`, WRITE_HINT);
  const picked: Array<[string, unknown]> = [];
  for (const name of names) {
    const col = header.indexOf(name);
    if (col < 0) {
      const columns = header.slice(0, 20).map((h) => (h.length > 40 ? `${h.slice(0, 39)}…` : h));
      throw new GateError(
        `Metric "${name}" is not a column of ${where} (columns: ${columns.join(', ')}${header.length > 20 ? ', …' : ''}).`,
        'Log it from the training, or fix the metric name under metrics: in repro-gate.yml.',
      );
    }
    const cell = rows
      .map((r) => r[col]?.trim() ?? '')
      .filter((v) => v !== '')
      .at(-1);
    if (cell !== undefined) picked.push([name, /^[-+]?(nan|inf(inity)?)$/i.test(cell) ? Number.NaN : Number(cell)]);
  }
  return Object.fromEntries(picked);
}

/** The named groups of a regular expression (an empty alternative matches, so every group is listed). */
function groupsOf(source: string): string[] {
  return Object.keys(new RegExp(`${source}|`).exec('')?.groups ?? {});
}

/**
 * metrics.pattern: regular expressions with named groups, run over every line of the training's
 * output as it arrives; the last match of each group is the metric.
 */
export class MetricPatterns {
  private readonly regexes: RegExp[];
  private readonly last = new Map<string, string>();

  constructor(readonly sources: readonly string[]) {
    this.regexes = sources.map((s) => new RegExp(s));
  }

  get groups(): Set<string> {
    return new Set(this.sources.flatMap(groupsOf));
  }

  feed(line: string): void {
    for (const re of this.regexes) {
      const groups = re.exec(line)?.groups;
      if (!groups) continue;
      for (const [name, value] of Object.entries(groups)) if (value !== undefined) this.last.set(name, value);
    }
  }

  /** The metrics among `names` that are groups of these patterns, or a GateError quoting the pattern of one that never matched. */
  values(names: string[], where: string): Record<string, number> {
    const groups = this.groups;
    const picked: Array<[string, number]> = [];
    for (const name of names.filter((n) => groups.has(n))) {
      const text = this.last.get(name);
      const source = this.sources.find((s) => groupsOf(s).includes(name));
      if (text === undefined) {
        throw new GateError(
          `Metric "${name}" never matched metrics.pattern ${JSON.stringify(source)} in ${where}.`,
          'Check that the training prints the line the pattern describes (its output is in the log), or fix the pattern in repro-gate.yml.',
        );
      }
      const value = /^[-+]?(nan|inf(inity)?)$/i.test(text.trim()) ? Number.NaN : Number(text);
      if (!Number.isFinite(value)) {
        throw new GateError(
          `Metric "${name}" matched ${brief(text)} in ${where}, not a finite number.`,
          'The training diverged for this seed, or the pattern captures more than the number: capture digits only, e.g. (?<loss>[-+0-9.eE]+).',
        );
      }
      picked.push([name, value]);
    }
    return Object.fromEntries(picked);
  }
}
