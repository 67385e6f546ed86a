/**
 * `.repro-gate/cache/stat`: what the data fingerprint remembers of each file it hashed, so an
 * unchanged file is not read again. A file the gate owns, validated on read like any other.
 *
 * The entries are one string of lines, `<absolute path>\t<size>:<mtime ns>:<inode>:<ctime ns>:<sha256>`,
 * rather than a JSON object of 10⁵ tuples: parsing and checking it line by line is ten times faster,
 * and a warm re-check should cost about what `git status` does.
 */
import { z } from 'zod';

const STAT_CACHE_VERSION = 1;

const LINE = /^(\/[^\t\n]*)\t(\d{1,20}:\d{1,30}:\d{1,30}:\d{1,30}:[0-9a-f]{64})$/;

export const statCacheSchema = z
  .object({
    version: z.literal(STAT_CACHE_VERSION),
    files: z.string().transform((text, ctx) => {
      const entries = new Map<string, string>();
      if (text === '') return entries;
      const lines = text.split('\n');
      for (const [n, line] of lines.entries()) {
        const m = LINE.exec(line);
        if (!m) {
          ctx.addIssue({
            code: 'custom',
            message: `line ${n + 1} is not "<absolute path>\\t<size>:<mtime ns>:<inode>:<ctime ns>:<sha256>"`,
          });
          return z.NEVER;
        }
        entries.set(m[1] as string, m[2] as string);
      }
      return entries;
    }),
  })
  .strict();

/** The text of `files` for a map of path → "size:mtimeNs:ino:ctimeNs:sha256". */
export function statCacheText(entries: ReadonlyMap<string, string>): string {
  return JSON.stringify({
    version: STAT_CACHE_VERSION,
    files: Array.from(entries, ([abs, entry]) => `${abs}\t${entry}`).join('\n'),
  });
}
