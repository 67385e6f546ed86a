/** Plain-text formatting of numbers, counts and hashes, shared by every message and renderer. */

/** A number for people: 4 significant digits, exponent outside [1e-3, 1e6), a real minus sign, ∞. */
export function num(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '—';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : '−∞';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  const s =
    abs >= 1e-3 && abs < 1e6
      ? String(Number(abs.toPrecision(digits)))
      : abs.toExponential(Math.max(1, digits - 2)).replace('e-', 'e−');
  return x < 0 ? `−${s}` : s;
}

/** A change with its sign always shown: "+0.0031", "−2.5e−07". */
export function signed(x: number): string {
  const text =
    Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6
      ? Math.abs(x)
          .toPrecision(4)
          .replace(/\.?0+$/, '')
      : Math.abs(x).toExponential(3);
  return `${x < 0 ? '−' : '+'}${text}`;
}

/** "1 seed", "3 seeds"; `pluralForm` for words that do not just take an s. */
export function plural(n: number, word: string, pluralForm = `${word}s`): string {
  return `${n} ${n === 1 ? word : pluralForm}`;
}

/** The first 12 hex digits of a SHA (commit or content hash), or "—" when there is none. */
export function shortHash(hash: string | null | undefined): string {
  return hash ? hash.slice(0, 12) : '—';
}

/** "a, b, c and 4 more". */
export function listSome(items: readonly string[], max = 3): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/** A config or fingerprint value in a sentence: strings bare, anything else as JSON, absent as "(none)". */
export function showValue(v: unknown): string {
  return v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** `digits` significant digits without trailing zeros or an exponent's padding: 0.0123, 1.5, ∞. */
export function significant(x: number, digits: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '∞' : '−∞';
  return String(Number(x.toPrecision(digits)));
}

/** The text before the first line break (all of it when there is none). */
export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}
