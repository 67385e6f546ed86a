/**
 * Gate settings as drift: what is measured and how (the command, seeds, metrics and their margins
 * and directions, alpha, mode) is configuration too. A change that drops a metric or loosens a
 * margin weakens the gate, so it must show with its before and after.
 */
import type { BaselineSettings } from '../schema/baseline.js';
import type { ConfigDrift } from '../schema/report.js';
import { compareBytes } from '../util/bytes.js';
import { commandShape } from '../util/command-line.js';
import { childKey } from '../util/dotted.js';

type Value = string | number | boolean | null;

/** Keys of the settings that change what the training does (the rest change only how it is judged). */
const TRAINING_SETTINGS = new Set(['command', 'seeds', 'train.parallel']);

export function changesTraining(drift: ConfigDrift): boolean {
  return drift.group !== 'gate settings' || TRAINING_SETTINGS.has(drift.key);
}

/** How one metric is judged, as a reader would say it: "±0.01", "≥ −2%", "exact". */
function judged(spec: { margin: string | null; direction: 'both' | 'higher' | 'lower' }): string {
  if (spec.margin === null) return 'exact';
  return spec.direction === 'higher'
    ? `≥ −${spec.margin}`
    : spec.direction === 'lower'
      ? `≤ +${spec.margin}`
      : `±${spec.margin}`;
}

/** The settings as flat keys, spelled as in repro-gate.yml. */
function flatSettings(s: BaselineSettings): Map<string, Value> {
  const out = new Map<string, Value>([
    // Option values are config (command-line.KEY); the command's shape is the setting.
    ['command', JSON.stringify(commandShape(s.command))],
    ['seeds', JSON.stringify(s.seeds)],
    ['mode', s.mode],
    ['metrics.file', s.metricsFile],
  ]);
  if (s.alpha !== undefined) out.set('alpha', s.alpha);
  if (s.paired !== undefined) out.set('paired', s.paired);
  if (s.robust !== undefined) out.set('robust', s.robust);
  if (s.parallel !== undefined) out.set('train.parallel', s.parallel);
  for (const name of s.metrics) {
    const spec = s.margins && Object.hasOwn(s.margins, name) ? s.margins[name] : undefined;
    out.set(childKey('metrics', name, false), spec ? judged(spec) : null);
  }
  return out;
}

/**
 * Settings `after` changes relative to `before`, as config drift of the gate's own file (`file`).
 * What only one side can know (a baseline recorded before margins and alpha were kept) is no change.
 */
export function diffSettings(before: BaselineSettings, after: BaselineSettings, file: string): ConfigDrift[] {
  const b = flatSettings(before);
  const a = flatSettings(after);
  const bothKnowMargins = before.margins !== undefined && after.margins !== undefined;
  const out: ConfigDrift[] = [];
  for (const key of [...new Set([...b.keys(), ...a.keys()])].sort(compareBytes)) {
    const hasB = b.has(key);
    const hasA = a.has(key);
    if (
      hasB &&
      hasA &&
      (b.get(key) === a.get(key) ||
        ((key.startsWith('metrics[') || key.startsWith('metrics.')) && key !== 'metrics.file' && !bothKnowMargins))
    )
      continue;
    // Kept since a later version: a baseline without it recorded one seed at a time.
    if (key === 'train.parallel' && (b.get(key) ?? 1) === (a.get(key) ?? 1)) continue;
    if (hasB !== hasA && ['alpha', 'paired', 'robust'].includes(key)) continue;
    out.push({
      group: 'gate settings',
      file,
      key,
      change: !hasB ? 'added' : !hasA ? 'removed' : 'modified',
      ...(hasB ? { before: b.get(key) } : {}),
      ...(hasA ? { after: a.get(key) } : {}),
    });
  }
  return out;
}
