import { readFile } from 'node:fs/promises';
import { GateError } from '../util/errors.js';
import { jsonErrorWhere } from '../util/json-position.js';
import { parseLenientJson } from '../util/lenient-json.js';

const WRITE_HINT =
  'Make the training write its metrics as JSON into the {out} folder (also in $REPRO_GATE_OUT), or fix metrics.file in repro-gate.yml.';

/**
 * Value at a dotted path. A key that itself contains dots wins over nesting ("val.acc" as one key
 * before {"val": {"acc": …}}), so either layout works.
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

/** Pure: metric values from a parsed metrics document, or a GateError naming the metric and why. */
export function extractMetrics(doc: unknown, names: string[], where: string): Record<string, number> {
  const values: Record<string, number> = {};
  for (const name of names) {
    const value = lookupDotted(doc, name);
    if (value === undefined) {
      const keys = doc && typeof doc === 'object' ? Object.keys(doc).slice(0, 10).join(', ') : '';
      throw new GateError(
        `Metric "${name}" is missing from ${where}${keys ? ` (top-level keys: ${keys})` : ''}.`,
        'Write it from the training, or fix the metric name under metrics: in repro-gate.yml (nested keys as dotted paths, e.g. eval.accuracy).',
      );
    }
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      const nonFinite = typeof value === 'number';
      throw new GateError(
        `Metric "${name}" in ${where} is ${nonFinite ? String(value) : JSON.stringify(value)}, not a finite number.`,
        nonFinite
          ? 'The training diverged or divided by zero for this seed; fix the training (a NaN metric cannot be compared).'
          : 'Write the metric as a JSON number.',
      );
    }
    values[name] = value;
  }
  return values;
}

export async function readMetrics(file: string, names: string[], where: string): Promise<Record<string, number>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new GateError(`The training did not write ${where}.`, WRITE_HINT);
    throw new GateError(`Cannot read ${where}: ${(err as Error).message}`, WRITE_HINT);
  }
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
