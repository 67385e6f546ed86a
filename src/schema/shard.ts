/**
 * A shard's partial result: the runs one job of a matrix trained (`--shard i/N`), for `aggregate`
 * to compare and report as one run. Shard files arrive as downloaded artifacts, so they are
 * validated strictly and must agree on what they were trained from before any is used.
 */
import { z } from 'zod';
import { fingerprintsSchema, runRecordSchema } from './baseline.js';
import { cacheUseSchema, warningSchema } from './report.js';

export const SHARD_SCHEMA_VERSION = 1;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

export const shardResultSchema = z
  .object({
    schemaVersion: z.literal(SHARD_SCHEMA_VERSION),
    kind: z.literal('repro-gate-shard'),
    tool: z.object({ name: z.literal('repro-gate'), version: z.string() }).strict(),
    command: z.enum(['check', 'record']),
    /** SHA-256 of repro-gate.yml's bytes: every shard and the aggregate read the same config. */
    configSha256: sha256,
    /** SHA-256 of the baseline file's bytes when the shard ran `check`; null for `record`. */
    baselineSha256: sha256.nullable(),
    /** The project's commit (null outside git). */
    commit: z.string().nullable(),
    shard: z
      .object({ index: z.number().int().positive(), count: z.number().int().positive() })
      .strict()
      .refine((s) => s.index <= s.count, 'index must be at most count'),
    /** The seeds this shard trained, in order. */
    seeds: z.array(z.number().int().nonnegative()),
    runs: z.array(runRecordSchema),
    fingerprints: fingerprintsSchema,
    /** What the runs found that the report should say. */
    notes: z.array(warningSchema),
    cache: cacheUseSchema.nullable(),
    finishedAt: z.string(),
  })
  .strict();
export type ShardResult = z.infer<typeof shardResultSchema>;
