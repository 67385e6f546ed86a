/**
 * A run-cache entry: one seed's result as another run stored it. It is data from outside this run
 * (another job, another branch's cache), so it is validated as strictly as a baseline and used only
 * when it names the key and seed it was looked up under.
 */
import { z } from 'zod';
import { runRecordSchema } from './baseline.js';
import { warningSchema } from './report.js';

export const RUN_CACHE_ENTRY_VERSION = 1;

export const runCacheEntrySchema = z
  .object({
    schemaVersion: z.literal(RUN_CACHE_ENTRY_VERSION),
    kind: z.literal('repro-gate-run'),
    tool: z.object({ name: z.literal('repro-gate'), version: z.string() }).strict(),
    /** The seed's key (64 hex digits) it was stored under. */
    key: z.string().regex(/^[0-9a-f]{64}$/),
    createdAt: z.string(),
    /** The commit the run was trained at (null outside git), for the report. */
    commit: z.string().nullable(),
    run: runRecordSchema,
    /** What the run found that a report should say (a checkpoint compared by bytes, …). */
    notes: z.array(warningSchema),
    /** The run's last lines of output, written to the seed's log when the entry is reused. */
    logTail: z.array(z.string()).max(200),
  })
  .strict();
export type RunCacheEntry = z.infer<typeof runCacheEntrySchema>;
