/**
 * The committed baseline file. Versioned so a later repro-gate can migrate old files instead of
 * misreading them; every field an auditor needs to regenerate the result is here.
 */
import { z } from 'zod';

export const BASELINE_SCHEMA_VERSION = 1;

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const fileEntry = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), size: z.number().int().nonnegative() }).strict();

export const runRecordSchema = z
  .object({
    seed: z.number().int().nonnegative(),
    metrics: z.record(z.string(), z.number()),
    artifacts: z.record(z.string(), fileEntry),
    durationMs: z.number().nonnegative(),
  })
  .strict();
export type RunRecord = z.infer<typeof runRecordSchema>;

export const baselineSchema = z
  .object({
    schemaVersion: z.literal(BASELINE_SCHEMA_VERSION),
    tool: z.object({ name: z.literal('repro-gate'), version: z.string() }).strict(),
    recordedAt: z.string(),
    /** Git commit of the project when recorded (null outside git); the reference for "code" drift. */
    commit: z.string().nullable(),
    settings: z
      .object({
        mode: z.enum(['exact', 'statistical']),
        command: z.array(z.string()),
        image: z.string().nullable(),
        seeds: z.array(z.number().int()),
        metricsFile: z.string(),
        metrics: z.array(z.string()),
        artifacts: z.array(z.string()),
      })
      .strict(),
    runs: z.array(runRecordSchema).min(1),
    fingerprints: z
      .object({
        data: z.object({ files: z.record(z.string(), fileEntry) }).strict(),
        config: z.record(z.string(), z.record(z.string(), scalar)),
        environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
      })
      .strict(),
  })
  .strict();
export type Baseline = z.infer<typeof baselineSchema>;
