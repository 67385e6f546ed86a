/**
 * `.repro-gate/cache/stat`: what the data fingerprint remembers of each file it hashed, so an
 * unchanged file is not read again. A file the gate owns, validated on read like any other.
 *
 * A warm re-check of 10⁵ files should cost about what `git status` does, so the file is laid out
 * to be read in a few block operations rather than parsed line by line:
 *   `repro-gate stat cache 3\n`                      the format line
 *   `{"entries":N,"pathBytes":P,"endian":"LE"}\n`   the header (JSON)
 *   N × 64 ASCII hex digits                          the SHA-256 of entry k at [64k, 64k + 64)
 *   P bytes of UTF-8                                 the absolute path of each entry, each followed by NUL
 *   zero bytes up to a multiple of 8
 *   N × 4 float64 (in `endian` byte order)           size, mtimeMs, inode, ctimeMs of entry k
 * Times are node's millisecond doubles, compared with a plain `stat` with no BigInt and no string
 * per file. The header and each block are validated with zod: the layout adds up to the file's
 * size, the digests are hex, every path is absolute, every number is a non-negative stat.
 */
import os from 'node:os';
import { z } from 'zod';

const FORMAT = 'repro-gate stat cache 3\n';

const Header = z
  .object({
    entries: z.number().int().nonnegative(),
    pathBytes: z.number().int().nonnegative(),
    endian: z.enum(['LE', 'BE']),
  })
  .strict();

/** The blocks as read; checked together, since they must agree on the number of entries. */
const Blocks = z
  .object({
    entries: z.number().int().nonnegative(),
    sha256: z.string().regex(/^[0-9a-f]*$/, 'the digests are not hex'),
    // Every path starts with "/" and ends with NUL: the block starts with "/" and every NUL but the last is followed by one.
    paths: z.string().refine((s) => s === '' || (s.startsWith('/') && s.endsWith('\0') && !/\0(?!\/|$)/.test(s)), {
      message: 'a path is not absolute',
    }),
    stats: z
      .instanceof(Float64Array)
      .refine((a) => a.every((v) => v >= 0), { message: 'a stat is not a non-negative number' }),
  })
  .refine((b) => b.sha256.length === 64 * b.entries, { message: 'the digests do not match the entry count' })
  .refine((b) => b.stats.length === 4 * b.entries, { message: 'the stats do not match the entry count' });

/** The entries of a cache, by entry number k, in the order they were written. */
export interface StatCacheEntries {
  /** The absolute path of entry k. */
  paths: string[];
  /** size, mtimeMs, inode, ctimeMs of entry k at [4k, 4k + 4); size NaN: entry not to be used. */
  stats: Float64Array;
  /** The SHA-256 of entry k at [64k, 64k + 64). */
  sha256: string;
}

const firstIssue = (e: z.ZodError) => e.issues[0]?.message ?? 'invalid';

/** Parses the cache's bytes; a string says what is wrong with it (never quoting it). */
export function parseStatCache(bytes: Buffer): StatCacheEntries | string {
  if (bytes.toString('latin1', 0, FORMAT.length) !== FORMAT) return 'does not start with the expected format line';
  const headerEnd = bytes.indexOf(0x0a, FORMAT.length);
  if (headerEnd < 0) return 'has no header line';
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8', FORMAT.length, headerEnd));
  } catch {
    return 'has a header that is not JSON';
  }
  const header = Header.safeParse(json);
  if (!header.success) return `has a header that is not valid (${firstIssue(header.error)})`;
  const { entries, pathBytes, endian } = header.data;
  if (endian !== (os.endianness() === 'LE' ? 'LE' : 'BE')) return `was written on a machine of the other byte order`;
  const shaAt = headerEnd + 1;
  const pathsAt = shaAt + 64 * entries;
  const statsAt = Math.ceil((pathsAt + pathBytes) / 8) * 8;
  const end = statsAt + 32 * entries;
  if (bytes.length !== end) return `is ${bytes.length} bytes where its header says ${end}`;
  // Copied out: the buffer's offset need not be a multiple of 8, as a Float64Array view needs.
  const stats = new Float64Array(entries * 4);
  new Uint8Array(stats.buffer).set(bytes.subarray(statsAt, end));
  const blocks = Blocks.safeParse({
    entries,
    sha256: bytes.toString('latin1', shaAt, pathsAt),
    paths: bytes.toString('utf8', pathsAt, pathsAt + pathBytes),
    stats,
  });
  if (!blocks.success) return `has entries that are not valid (${firstIssue(blocks.error)})`;
  const paths = entries ? blocks.data.paths.split('\0') : [''];
  paths.pop(); // after the last NUL
  if (paths.length !== entries) return `holds ${paths.length} paths where its header says ${entries}`;
  return { paths, stats, sha256: blocks.data.sha256 };
}

/** The SHA-256 of entry k. */
export function entrySha256(entries: StatCacheEntries, k: number): string {
  return entries.sha256.slice(64 * k, 64 * k + 64);
}

/** The file for `entries` (NaN stats are the caller's to leave out: they do not validate). */
export function statCacheBytes(entries: StatCacheEntries): Buffer {
  const n = entries.paths.length;
  const paths = Buffer.from(n ? `${entries.paths.join('\0')}\0` : '', 'utf8');
  const header = JSON.stringify({ entries: n, pathBytes: paths.length, endian: os.endianness() });
  const head = Buffer.from(`${FORMAT}${header}\n${entries.sha256}`, 'latin1');
  const statsAt = Math.ceil((head.length + paths.length) / 8) * 8;
  const out = Buffer.alloc(statsAt + 32 * n);
  head.copy(out, 0);
  paths.copy(out, head.length);
  Buffer.from(entries.stats.buffer, entries.stats.byteOffset, 32 * n).copy(out, statsAt);
  return out;
}
