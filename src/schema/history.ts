/**
 * One line of the metrics history (`history: {file}`, JSON lines): what one check or record saw,
 * small enough to keep thousands of runs. Versioned per line, so a line another version wrote is
 * skipped with a warning rather than misread.
 */
import { z } from 'zod';
import { ownRecord } from './own-record.js';

export const HISTORY_LINE_VERSION = 1;

const pointSchema = z
  .object({
    mean: z.number(),
    sd: z.number(),
    n: z.number().int().positive(),
    /** The margin's edges in the metric's own units (baseline mean + bound); null = unbounded side. Check only. */
    lower: z.number().nullable().optional(),
    upper: z.number().nullable().optional(),
  })
  .strict();

export const historyLineSchema = z
  .object({
    v: z.literal(HISTORY_LINE_VERSION),
    time: z.string(),
    commit: z.string().nullable(),
    command: z.enum(['check', 'record']),
    verdict: z.string(),
    metrics: ownRecord(pointSchema),
    /** SHA-256 of the environment fingerprint: a change of it marks a run on a different environment. */
    environment: z.string().regex(/^[0-9a-f]{64}$/),
  })
  .strict();
export type HistoryLine = z.infer<typeof historyLineSchema>;
