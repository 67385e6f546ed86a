/**
 * The line a dotted config key (see dotted.ts) is written on, so an annotation lands on it in a
 * pull request's diff. YAML and JSON are walked through the `yaml` package's node ranges; other
 * formats (TOML, INI, Python, .env) by a line search for each segment in turn. Pure.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';

/** A plain segment, or a JSON string in brackets, each after an optional dot. */
const SEGMENT = /\.?(?:\[("(?:[^"\\]|\\.)*")\]|([^.[\]"]+))/y;

/** `a.b["c.d"].0` → ['a', 'b', 'c.d', '0']: the inverse of childKey (what cannot be read ends it). */
export function splitKey(key: string): string[] {
  const out: string[] = [];
  SEGMENT.lastIndex = 0;
  for (let m = SEGMENT.exec(key); m; m = SEGMENT.exec(key)) {
    out.push(m[1] === undefined ? (m[2] ?? '') : (JSON.parse(m[1]) as string));
    if (SEGMENT.lastIndex >= key.length) break;
  }
  return out;
}

/** 1-based line of the deepest segment of `key` found in `text`; undefined when not even the first is. */
export function keyLine(text: string, fileName: string, key: string): number | undefined {
  const segments = splitKey(key);
  if (!segments.length) return undefined;
  return /\.(ya?ml|json)$/i.test(fileName) ? yamlKeyLine(text, segments) : searchKeyLine(text, segments);
}

function yamlKeyLine(text: string, segments: string[]): number | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length) return searchKeyLine(text, segments);
  let node: unknown = doc.contents;
  let found: number | undefined;
  for (const seg of segments) {
    let start: number | undefined;
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === seg);
      start = isScalar(pair?.key) ? pair.key.range?.[0] : undefined;
      node = pair?.value;
    } else if (isSeq(node) && /^\d+$/.test(seg)) {
      const item = node.items[Number(seg)];
      start = (item as { range?: [number, number, number] } | undefined)?.range?.[0];
      node = item;
    } else break;
    if (start === undefined) break;
    found = lines.linePos(start).line;
  }
  return found;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Each segment as a key (`name =`, `name:`, `"name":`) or a section header (`[name]`, `[a.name]`)
 * at or after the previous segment's line; array indexes are skipped.
 */
function searchKeyLine(text: string, segments: string[]): number | undefined {
  const lines = text.split(/\r?\n/);
  let from = 0;
  let found: number | undefined;
  for (const seg of segments) {
    if (/^\d+$/.test(seg)) continue;
    const k = escapeRegExp(seg);
    const pattern = new RegExp(
      `^\\s*(?:export\\s+)?(?:["']?${k}["']?\\s*[:=]|\\[+[^\\]]*\\b${k}\\]+\\s*$|${k}\\s*=\\s*dict\\()`,
    );
    const at = lines.findIndex((l, i) => i >= from && pattern.test(l));
    if (at === -1) break;
    found = at + 1;
    from = at + 1;
  }
  return found;
}
