import type { FlatConfig } from '../schema/baseline.js';
import type { ConfigDrift } from '../schema/report.js';
import { compareBytes } from '../util/bytes.js';

/** Key-by-key differences, sorted by file then key; a whole file added/removed lists every key. */
export function diffConfig(before: Record<string, FlatConfig>, after: Record<string, FlatConfig>): ConfigDrift[] {
  const out: ConfigDrift[] = [];
  const files = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort(compareBytes);
  for (const file of files) {
    const b = Object.hasOwn(before, file) ? before[file]! : {};
    const a = Object.hasOwn(after, file) ? after[file]! : {};
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
