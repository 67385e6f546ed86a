/**
 * A report's terminal form (pure): the Markdown the renderer writes with its terminal escaping,
 * laid out for a fixed-width screen — tables as aligned columns under a rule, no `**`, code spans
 * or fences, headings as plain lines. Text inside code blocks (the CI strips) is kept as it is.
 */

/** Columns a string takes on a terminal: wide emoji count 2, joiners and variation selectors 0. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp === 0xfe0f || cp === 0x200d || (cp >= 0x300 && cp <= 0x36f)) continue;
    width += (cp >= 0x1f300 && cp <= 0x1faff) || (cp >= 0x2600 && cp <= 0x27bf) ? 2 : 1;
  }
  return width;
}

/** `**bold**`, `` `code` `` and `\|` as plain text. */
function inline(text: string): string {
  return text
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\\\|/g, '|');
}

/** The cells of a table row `| a | b \| c |`, split at unescaped pipes. */
function cells(row: string): string[] {
  const inner = row
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => inline(c.trim()));
}

const SEPARATOR = /^\|(\s*:?-+:?\s*\|)+\s*$/;

function table(rows: string[]): string[] {
  const parsed = rows.filter((r) => !SEPARATOR.test(r)).map(cells);
  const [head, ...body] = parsed;
  if (!head) return [];
  const columns = Math.max(...parsed.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...parsed.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - displayWidth(c))))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('  ');
  return [line(head), rule, ...body.map(line)];
}

/** The Markdown the renderers write (report, diagnosis, history), as plain lines for a terminal. */
export function markdownToTerminal(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  let inCode = false;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (l.startsWith('```')) {
      inCode = !inCode;
      continue;
    }
    if (inCode) {
      out.push(l);
      continue;
    }
    if (l.startsWith('|')) {
      const rows: string[] = [];
      while (i < lines.length && (lines[i] ?? '').startsWith('|')) rows.push(lines[i++] ?? '');
      i--;
      out.push(...table(rows));
      continue;
    }
    out.push(inline(l.replace(/^#{1,6}\s+/, '')));
  }
  return out.join('\n');
}
