/**
 * Text and number formatting shared by every Markdown renderer. Repository text goes through
 * `text()`/`code()` (GitHub) or the terminal escaper, never straight into Markdown.
 */
const ENTITY: Record<string, string> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '|': '&#124;', '`': '&#96;',
  // GitHub finds @mentions and #refs after decoding entities: a zero-width space breaks them.
  '@': '&#64;&#8203;', '\\': '&#92;', '*': '&#42;', _: '&#95;', '[': '&#91;', ']': '&#93;', '~': '&#126;',
  '#': '&#35;&#8203;',
};

/** One line, bounded. */
function oneLine(value: unknown, max: number): string {
  let s = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  return s.replace(/[\r\n\t]+/g, ' ');
}

/** Repository text as inert Markdown: entity-encoded, one line, bounded. */
export function text(value: unknown, max = 200): string {
  return oneLine(value, max).replace(/[&<>"'|`@\\*_[\]~#]/g, (c) => ENTITY[c]!);
}

/** Repository text shown as code. */
export function code(value: unknown, max = 200): string {
  return value === undefined ? '—' : `<code>${text(value, max)}</code>`;
}

export interface Escaper {
  text(value: unknown, max?: number): string;
  code(value: unknown, max?: number): string;
  small(line: string): string;
}

export const GITHUB: Escaper = { text, code, small: (line) => `<sub>${line}</sub>` };

/** A terminal renders nothing, so only table structure needs protecting. */
export const TERMINAL: Escaper = {
  text: (value, max = 200) => oneLine(value, max).replaceAll('|', '\\|'),
  code: (value, max = 200) => (value === undefined ? '—' : `\`${oneLine(value, max).replaceAll('|', '\\|')}\``),
  small: (line) => line,
};

export function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  const s = abs >= 1e-3 && abs < 1e6 ? String(Number(abs.toPrecision(digits))) : abs.toExponential(Math.max(1, digits - 2)).replace('e-', 'e−');
  return x < 0 ? `−${s}` : s;
}

