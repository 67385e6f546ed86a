/**
 * JSON as Python writes it: `json.dumps(float('nan'))` is the bare token `NaN` (likewise `Infinity`,
 * `-Infinity`), which JSON.parse rejects. Training logs and metric files hit that exactly when a
 * loss blows up, so those three tokens are accepted outside strings; everything else is strict JSON.
 */

const SENTINEL = '\u0000repro-gate:';
const TOKENS: Array<[string, number]> = [
  ['-Infinity', -Infinity],
  ['Infinity', Infinity],
  ['NaN', NaN],
];

export function parseLenientJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) throw err;
  }
  let out = '';
  let inString = false;
  let i = 0;
  let replaced = false;
  while (i < text.length) {
    const c = text.charAt(i);
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i += 2;
        continue;
      }
      if (c === '"') inString = false;
      i++;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      i++;
      continue;
    }
    const tok = TOKENS.find(([t]) => text.startsWith(t, i));
    if (tok) {
      out += JSON.stringify(SENTINEL + tok[0]);
      i += tok[0].length;
      replaced = true;
      continue;
    }
    out += c;
    i++;
  }
  if (!replaced) return JSON.parse(text);
  return JSON.parse(out, (_k, v: unknown) => {
    if (typeof v === 'string' && v.startsWith(SENTINEL)) {
      const t = TOKENS.find(([name]) => SENTINEL + name === v);
      if (t) return t[1];
    }
    return v;
  });
}
