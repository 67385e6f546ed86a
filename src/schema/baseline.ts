/**
 * The committed baseline file. Versioned so a later repro-gate can migrate old files instead of
 * misreading them; every field an auditor needs to regenerate the result is here.
 */
import { z } from 'zod';
import { GateError } from '../util/errors.js';
import { ownRecord } from './own-record.js';

export const BASELINE_SCHEMA_VERSION = 1;

/** A config value after flattening: YAML/JSON/TOML leaves, with NaN/∞/big integers as strings. */
export const scalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type Scalar = z.infer<typeof scalarSchema>;

const sha256 = z.string().regex(/^[0-9a-f]{64}$/);

/**
 * A checkpoint (.pt, .pth, .ckpt) as what it holds, read with the training's Python
 * (fingerprint/checkpoint.ts): compared instead of its bytes, so a path or timestamp stored in it
 * reads as metadata and the run's own output folder is no difference at all.
 */
const checkpointContentSchema = z
  .object({
    format: z.literal('torch'),
    /** SHA-256 over every tensor (key path, dtype, shape, bytes). */
    tensors: sha256,
    /** SHA-256 over every other leaf (key path and value). */
    values: sha256,
    /** Per key path: a tensor as `dtype[shape] sha256`, any other leaf as its JSON value. */
    leaves: ownRecord(z.string()),
    /** Leaves that held the run's own output folder (or a path in it), compared as "{out}…". */
    embedsOut: z.array(z.string()),
  })
  .strict();
export type CheckpointContent = z.infer<typeof checkpointContentSchema>;

const fileEntrySchema = z
  .object({ sha256, size: z.number().int().nonnegative(), content: checkpointContentSchema.optional() })
  .strict();
export type FileEntry = z.infer<typeof fileEntrySchema>;

/**
 * Every data file by POSIX path relative to the config's folder, sorted by bytes. Records keyed by
 * names from the outside world are ownRecords, so `__proto__` or `constructor` round-trips.
 */
/**
 * Where a data entry came from, as declared in repro-gate.yml: the snapshot (`source`), the
 * extraction query's text (inline, or read from `queryFile`), and the SHA-256 of each preprocessing
 * file. Kept as text so drift can show which line of a query changed.
 */
const lineageSchema = z
  .object({
    source: z.string().optional(),
    query: z.string().optional(),
    queryFile: z.string().optional(),
    preprocess: ownRecord(sha256),
  })
  .strict();
export type Lineage = z.infer<typeof lineageSchema>;

/**
 * A large data: entry summarised instead of listed (baseline/merkle.ts): the root over its sorted
 * (path, size, sha256) list, and the roots of its folders down to a bounded depth, so drift can name
 * the changed folders when the per-file manifest (stored by its root, outside the baseline) is gone.
 */
const folderSummarySchema = z
  .object({
    root: sha256,
    files: z.number().int().nonnegative(),
    /** The root over the files not in a folder listed here (files directly in it); absent when none. */
    own: sha256.optional(),
  })
  .strict();
const dataSummarySchema = z
  .object({
    root: sha256,
    files: z.number().int().nonnegative(),
    bytes: z.number().int().nonnegative(),
    /** How many folder levels below the entry have roots here (0–2: fewer when there are too many folders). */
    depth: z.number().int().min(0).max(2),
    /** The root over the files not in any folder listed here; absent when none. */
    own: sha256.optional(),
    /** By folder path (as in `files`, ending in "/"). */
    folders: ownRecord(folderSummarySchema),
  })
  .strict();
export type DataSummary = z.infer<typeof dataSummarySchema>;

const dataFingerprintSchema = z
  .object({
    /** Every file of the small entries (all of them, in memory and in baselines written before summaries). */
    files: ownRecord(fileEntrySchema),
    /** By data: entry path; absent when no entry declares its lineage. */
    lineage: ownRecord(lineageSchema).optional(),
    /** Large entries by their manifest-key prefix (the entry's path as in `files`); their files are not in `files`. */
    summaries: ownRecord(dataSummarySchema).optional(),
  })
  .strict();
export type DataFingerprint = z.infer<typeof dataFingerprintSchema>;

/** One config file flattened to dotted keys (see util/dotted.ts). */
const flatConfigSchema = ownRecord(scalarSchema);
export type FlatConfig = z.infer<typeof flatConfigSchema>;

const environmentFingerprintSchema = ownRecord(z.union([z.string(), z.number(), z.boolean()]));
export type EnvironmentFingerprint = z.infer<typeof environmentFingerprintSchema>;

export const fingerprintsSchema = z
  .object({
    data: dataFingerprintSchema,
    config: ownRecord(flatConfigSchema),
    environment: environmentFingerprintSchema,
  })
  .strict();
export type Fingerprints = z.infer<typeof fingerprintsSchema>;

export const runRecordSchema = z
  .object({
    seed: z.number().int().nonnegative(),
    metrics: ownRecord(z.number()),
    artifacts: ownRecord(fileEntrySchema),
    durationMs: z.number().nonnegative(),
    /** config: {resolved: PATH} files as this run wrote them, flattened, by PATH. */
    config: ownRecord(flatConfigSchema).optional(),
    /**
     * Python distributions the training imported, with the ones they require (the import hook,
     * train/imports.ts), as the probe names them (package.<name>); absent when unknown.
     */
    packages: z.array(z.string()).optional(),
  })
  .strict();
export type RunRecord = z.infer<typeof runRecordSchema>;

/**
 * One metric's value in each run. Every run holds every configured metric: training fails on a
 * missing one, and a check refuses a baseline recorded without it; only a hand-edited file lacks one.
 */
export function metricValues(runs: readonly RunRecord[], name: string): number[] {
  return runs.map((run) => {
    // Own keys only: a metric named `constructor` is a name, not Object.prototype.constructor.
    const value = Object.hasOwn(run.metrics, name) ? run.metrics[name] : undefined;
    if (value === undefined)
      throw new GateError(
        `The run for seed ${run.seed} has no value for metric "${name}".`,
        'Re-record the baseline with `repro-gate record`.',
      );
    return value;
  });
}

export const baselineSchema = z
  .object({
    schemaVersion: z.literal(BASELINE_SCHEMA_VERSION),
    tool: z.object({ name: z.literal('repro-gate'), version: z.string() }).strict(),
    recordedAt: z.string(),
    /**
     * Git commit of the project when recorded (null outside git); the reference for "code" drift.
     * A full SHA-1 or SHA-256: it is passed to git, so nothing else (an option, a ref name) may pass.
     */
    commit: z
      .string()
      .regex(/^(?:[0-9a-f]{40}|[0-9a-f]{64})$/, 'expected a full commit SHA (40 or 64 lowercase hex digits) or null')
      .nullable(),
    settings: z
      .object({
        mode: z.enum(['exact', 'statistical']),
        command: z.array(z.string()),
        image: z.string().nullable(),
        seeds: z.array(z.number().int()),
        metricsFile: z.string(),
        metrics: z.array(z.string()),
        artifacts: z.array(z.string()),
        // How the runs are compared; absent in baselines recorded before these were kept.
        alpha: z.number().optional(),
        paired: z.boolean().optional(),
        robust: z.boolean().optional(),
        /** train.parallel when recorded; absent means one seed at a time. */
        parallel: z.number().int().positive().optional(),
        margins: z
          .record(
            z.string(),
            z.object({ margin: z.string().nullable(), direction: z.enum(['both', 'higher', 'lower']) }).strict(),
          )
          .optional(),
      })
      .strict(),
    runs: z.array(runRecordSchema).min(1),
    fingerprints: fingerprintsSchema,
  })
  .strict();
export type Baseline = z.infer<typeof baselineSchema>;
export type BaselineSettings = Baseline['settings'];
