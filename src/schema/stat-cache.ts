/**
 * `.repro-gate/cache/stat`: what the data fingerprint remembers of each file it hashed, so an
 * unchanged file is not read again. A file the gate owns, validated on read like any other.
 *
 * Plain text, a header line then one line per file with fixed fields first:
 *   `<sha256> <size> <mtimeMs> <inode> <ctimeMs>\t<absolute path>`
 * Times are node's millisecond doubles (written as JavaScript prints them, which reads back as the
 * same double), so a re-check compares numbers from a plain `stat` with no BigInt and no string
 * per file. A warm re-check of 10⁵ files should cost about what `git status` does, so each line's
 * fields are cut with indexOf and checked for what matters (a SHA-256 in hex, numbers, an absolute
 * path with no tab); a schema library or a whole-line pattern per line costs more than the stats.
 */

const HEADER = 'repro-gate stat cache 2\n';

/** The SHA-256 and its space at the start of a line; `y`: matched exactly where a line starts. */
const SHA = /[0-9a-f]{64} /y;

/** The entries of a cache, by entry number k, in the order they were written. */
export interface StatCacheEntries {
  /** The absolute path of entry k. */
  paths: string[];
  /** size, mtimeMs, inode, ctimeMs of entry k at [4k, 4k + 4); size NaN: entry not to be used. */
  stats: Float64Array;
  /** The file's text, and where each entry's line (its SHA-256) starts in it. */
  text: string;
  lineStart: Int32Array;
}

const badLine = (k: number) => `line ${k + 2} is not "<sha256> <size> <mtimeMs> <inode> <ctimeMs>\\t<absolute path>"`;

/** Parses the cache's text; a string says what is wrong with it (never quoting it). */
export function parseStatCache(text: string): StatCacheEntries | string {
  if (!text.startsWith(HEADER)) return 'does not start with the expected header line';
  let lines = 0;
  for (let at = text.indexOf('\n', HEADER.length); at !== -1; at = text.indexOf('\n', at + 1)) lines++;
  const paths = new Array<string>(lines);
  const stats = new Float64Array(4 * lines);
  const lineStart = new Int32Array(lines);
  let at = HEADER.length;
  for (let k = 0; k < lines; k++) {
    const end = text.indexOf('\n', at);
    SHA.lastIndex = at;
    if (!SHA.test(text)) return badLine(k);
    lineStart[k] = at;
    let from = at + 65;
    for (let f = 0; f < 4; f++) {
      const to = text.indexOf(f < 3 ? ' ' : '\t', from);
      // Number() reads any number; one in another spelling only fails to match a stat.
      const value = to > from && to < end ? Number(text.slice(from, to)) : Number.NaN;
      if (!(value >= 0)) return badLine(k);
      stats[4 * k + f] = value;
      from = to + 1;
    }
    const abs = text.slice(from, end);
    if (abs[0] !== '/' || abs.includes('\t')) return badLine(k);
    paths[k] = abs;
    at = end + 1;
  }
  if (at !== text.length) return `line ${lines + 2} does not end with a newline`;
  return { paths, stats, text, lineStart };
}

/** The SHA-256 of entry k. */
export function entrySha256(entries: StatCacheEntries, k: number): string {
  const at = entries.lineStart[k] as number;
  return entries.text.slice(at, at + 64);
}

/** One entry's line: `stat` is "size mtimeMs inode ctimeMs" as the hashing threads write it. */
export function statCacheLine(abs: string, stat: string, sha256: string): string {
  return `${sha256} ${stat}\t${abs}\n`;
}

/** The whole file for entry lines made by `statCacheLine`. */
export function statCacheText(lines: readonly string[]): string {
  return HEADER + lines.join('');
}
