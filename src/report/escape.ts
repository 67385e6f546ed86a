/**
 * Escaping shared by every Markdown renderer. Repository text goes through
 * `escapeText()`/`escapeCode()` (GitHub) or the terminal escaper, never straight into Markdown.
 */
const ENTITY: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '|': '&#124;',
  '`': '&#96;',
  // GitHub finds @mentions and #refs after decoding entities: a zero-width space breaks them.
  '@': '&#64;&#8203;',
  '\\': '&#92;',
  '*': '&#42;',
  _: '&#95;',
  '[': '&#91;',
  ']': '&#93;',
  '~': '&#126;',
  '#': '&#35;&#8203;',
};

/**
 * One line, bounded, with no control characters: line breaks become spaces, and the rest (ANSI
 * escape sequences that could repaint a terminal, NULs, bells) are dropped.
 */
function oneLine(value: unknown, max: number): string {
  let s = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters from repository text is the point
  return s.replace(/[\r\n\t]+/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '');
}

/**
 * Repository text as inert Markdown: entity-encoded, one line, bounded. GitHub autolinks bare
 * `http://…`, `https://…` and `www.…` after decoding entities, so a zero-width space splits them.
 */
export function escapeText(value: unknown, max = 200): string {
  return oneLine(value, max)
    .replace(/[&<>"'|`@\\*_[\]~#]/g, (c) => ENTITY[c] ?? c)
    .replace(/:\/\//g, ':&#8203;//')
    .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}&#8203;.`);
}

/** Repository text shown as code. */
export function escapeCode(value: unknown, max = 200): string {
  return value === undefined ? '—' : `<code>${escapeText(value, max)}</code>`;
}

export interface Escaper {
  text(value: unknown, max?: number): string;
  code(value: unknown, max?: number): string;
  small(line: string): string;
}

export const GITHUB: Escaper = { text: escapeText, code: escapeCode, small: (line) => `<sub>${line}</sub>` };

/** A terminal renders nothing, so only table structure needs protecting. */
export const TERMINAL: Escaper = {
  text: (value, max = 200) => oneLine(value, max).replaceAll('|', '\\|'),
  code: (value, max = 200) => (value === undefined ? '—' : `\`${oneLine(value, max).replaceAll('|', '\\|')}\``),
  small: (line) => line,
};
