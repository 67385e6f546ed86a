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

const INTEGER = /-?\d+/y;

/**
 * JSON.parse, except that integer literals beyond 2^53 come back as exact BigInts instead of
 * rounded numbers (`12345678901234567891` stays itself, as Python's json reads it). Floats and
 * integers written with an exponent are numbers as usual. Throws as JSON.parse does.
 */
export function parseJsonExactIntegers(text: string): unknown {
  const doc: unknown = JSON.parse(text);
  if (!/\d{16}/.test(text)) return doc; // no literal long enough to lose digits
  let out = '';
  let last = 0;
  let replaced = false;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      continue;
    }
    if (c !== '-' && (c < '0' || c > '9')) continue;
    INTEGER.lastIndex = i;
    INTEGER.test(text);
    let end = INTEGER.lastIndex;
    const next = text.charAt(end);
    if (next === '.' || next === 'e' || next === 'E') {
      // A float: skip the rest of the number.
      while (end < text.length && /[\d.eE+-]/.test(text.charAt(end))) end++;
    } else if (!Number.isSafeInteger(Number(text.slice(i, end)))) {
      out += `${text.slice(last, i)}${JSON.stringify(`${SENTINEL}int:${text.slice(i, end)}`)}`;
      last = end;
      replaced = true;
    }
    i = end - 1;
  }
  if (!replaced) return doc;
  const exact: unknown = JSON.parse(out + text.slice(last));
  // Put the integers back as BigInts, without recursion (any nesting depth).
  const prefix = `${SENTINEL}int:`;
  const revive = (v: unknown) => (typeof v === 'string' && v.startsWith(prefix) ? BigInt(v.slice(prefix.length)) : v);
  const stack: unknown[] = [exact];
  for (let v = stack.pop(); v !== undefined; v = stack.pop()) {
    if (v === null || typeof v !== 'object') continue;
    const container = v as Record<string, unknown>;
    for (const [k, item] of Object.entries(container)) {
      if (typeof item === 'object' && item !== null) stack.push(item);
      else container[k] = revive(item); // k is an own key already, so assignment redefines it even for __proto__
    }
  }
  return revive(exact);
}
