/**
 * `.repro-gate/cache/stat`: what the data fingerprint remembers of each file it hashed, so an
 * unchanged file is not read again. A file the gate owns, validated on read like any other.
 */
import { z } from 'zod';

export const STAT_CACHE_VERSION = 1;

const digits = z.string().regex(/^\d{1,30}$/);
const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const statCacheSchema = z
  .object({
    version: z.literal(STAT_CACHE_VERSION),
    /** Absolute path → [size, mtime ns, inode, ctime ns, sha256]. */
    files: z.record(z.string().startsWith('/'), z.tuple([digits, digits, digits, digits, sha256])),
  })
  .strict();
type StatCacheFile = z.infer<typeof statCacheSchema>;
export type StatCacheEntry = StatCacheFile['files'][string];
