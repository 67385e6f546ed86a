/**
 * What changed in a text data file, in words a reviewer can act on ("line 2 of 570 changed"),
 * from the baseline commit's copy and the current one. Pure; positional, not a full diff.
 */
export function describeTextChange(before: string, after: string): string | undefined {
  if (before.includes('\0') || after.includes('\0')) return undefined; // binary
  const lines = (t: string) => t.replace(/\r?\n$/, '').split(/\r?\n/);
  const a = lines(before);
  const b = lines(after);
  const changed: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) changed.push(i + 1);
  const parts: string[] = [];
  if (changed.length) {
    const where =
      changed.length <= 3
        ? `line${changed.length > 1 ? 's' : ''} ${changed.join(', ')}`
        : `${changed.length} lines (first at line ${changed[0]})`;
    parts.push(`${where} changed`);
  }
  if (b.length > a.length)
    parts.push(`${b.length - a.length} line${b.length - a.length > 1 ? 's' : ''} added at the end`);
  if (a.length > b.length)
    parts.push(`${a.length - b.length} line${a.length - b.length > 1 ? 's' : ''} removed from the end`);
  if (!parts.length) return before === after ? undefined : 'line endings or whitespace changed';
  return `${parts.join(', ')} (of ${a.length})`;
}
