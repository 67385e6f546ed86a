import path from 'node:path';
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
 * folder, which is stricter). A missing file, a file outside, one larger than 16 MiB, or invalid
 * JSON is a GateError that names the position but never quotes the content.
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
  text = text.replace(/^\uFEFF/, ''); // a BOM (e.g. from PowerShell or utf-8-sig): JSON.parse rejects it
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
