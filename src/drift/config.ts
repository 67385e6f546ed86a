import type { FlatConfig, RunRecord } from '../schema/baseline.js';
import type { ConfigDrift } from '../schema/report.js';
import { compareBytes } from '../util/bytes.js';

/** Key-by-key differences, sorted by file then key; a whole file added/removed lists every key. */
export function diffConfig(before: Record<string, FlatConfig>, after: Record<string, FlatConfig>): ConfigDrift[] {
  const out: ConfigDrift[] = [];
  // Own keys only (a file may be called "constructor"): Object.entries, then Map look-ups.
  const filesBefore = new Map(Object.entries(before));
  const filesAfter = new Map(Object.entries(after));
  const files = [...new Set([...filesBefore.keys(), ...filesAfter.keys()])].sort(compareBytes);
  for (const file of files) {
    const b = filesBefore.get(file) ?? {};
    const a = filesAfter.get(file) ?? {};
    const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort(compareBytes);
    for (const key of keys) {
      const hasB = Object.hasOwn(b, key);
      const hasA = Object.hasOwn(a, key);
      if (hasB && hasA && b[key] === a[key]) continue;
      out.push({
        file,
        key,
        change: !hasB ? 'added' : !hasA ? 'removed' : 'modified',
        before: hasB ? b[key] : undefined,
        after: hasA ? a[key] : undefined,
      });
    }
  }
  return out;
}

/**
 * config: {resolved: PATH} drift: each seed's resolved config against the same seed's in the
 * baseline (a resolved config often holds the seed itself), each changed key listed once, filed
 * under `{out}/PATH`.
 */
export function diffResolvedConfigs(baseline: readonly RunRecord[], candidate: readonly RunRecord[]): ConfigDrift[] {
  const bySeed = new Map(baseline.map((r) => [r.seed, r]));
  const seen = new Set<string>();
  const out: ConfigDrift[] = [];
  for (const run of candidate) {
    const base = bySeed.get(run.seed);
    if (!base?.config || !run.config) continue;
    const prefix = (files: Record<string, FlatConfig>) =>
      Object.fromEntries(Object.entries(files).map(([file, flat]) => [`{out}/${file}`, flat]));
    for (const d of diffConfig(prefix(base.config), prefix(run.config))) {
      const id = JSON.stringify([d.file, d.key]);
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(d);
    }
  }
  return out;
}
