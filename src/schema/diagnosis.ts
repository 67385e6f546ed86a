/**
 * The diagnosis document (`diagnose --json`, and `diagnosis` inside a check report). Strict zod
 * schemas, because a report read back by `command: comment` is untrusted and is re-rendered.
 */
import { z } from 'zod';

/** A number, or how JSON must spell a non-finite one. */
const jsonNumber = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
const status = z.enum(['identical', 'modified', 'added', 'removed']);
const count = z.number().int().nonnegative();
const shape = z.array(count).nullable();

/** One array / tensor / JSON leaf / CSV column, before vs after. */
const arrayDiffSchema = z
  .object({
    /** Tensor name, .npz entry (without .npy), JSON dotted path, or CSV column header; "" for a lone .npy. */
    name: z.string(),
    status,
    /** `float32`, `bfloat16`, `int64`, `bool`, …; `string` for text, `boolean`/`null` for JSON leaves; NumPy descr for unsupported ones. */
    dtypeBefore: z.string().nullable(),
    dtypeAfter: z.string().nullable(),
    shapeBefore: shape,
    shapeAfter: shape,
    elementsBefore: count.nullable(),
    elementsAfter: count.nullable(),
    /** Elements compared one by one (0 when only hashes could be compared). */
    compared: count,
    /**
     * Compared elements that differ: same dtype → their bits differ (so −0 vs +0 and different NaN
     * payloads count); different dtypes → their values differ (NaN equals NaN). null: not compared elementwise.
     */
    differing: count.nullable(),
    /** Over differing pairs where both values are finite; null when not compared elementwise or not numeric. */
    maxAbsDiff: z.number().nullable(),
    /** |after − before| / max(|before|, |after|): 0…2, never infinite. */
    maxRelDiff: z.number().nullable(),
    /** Floats of the same dtype only, at that dtype's own width; a number (exact up to 2^53). */
    maxUlp: z.number().nullable(),
    /** Differing pairs where either side is NaN or ±Infinity (not in the maxima above). */
    nonFiniteDiffering: count,
    nanBefore: count.nullable(),
    nanAfter: count.nullable(),
    /** Same dtype, same shape, every element's bits equal (or, for hash-only arrays, equal hashes). */
    bitIdentical: z.boolean(),
    /** The first differing element in C (row-major) order. */
    firstDifference: z
      .object({
        index: z.array(count),
        before: z.union([jsonNumber, z.string()]),
        after: z.union([jsonNumber, z.string()]),
      })
      .strict()
      .optional(),
    note: z.string().optional(),
  })
  .strict();

const artifactDiffSchema = z
  .object({
    name: z.string(),
    format: z.enum(['npy', 'npz', 'safetensors', 'json', 'csv', 'torch', 'binary']),
    /** identical: the file bytes are equal. added / removed: the file exists on one side only. */
    status,
    sizeBefore: count.nullable(),
    sizeAfter: count.nullable(),
    sha256Before: z.string().nullable(),
    sha256After: z.string().nullable(),
    /** Empty when the bytes are identical, or for `binary` (and any fallback to hashes). */
    arrays: z.array(arrayDiffSchema),
    /** Identical arrays left out of `arrays` to keep it short. */
    arraysOmitted: count,
    notes: z.array(z.string()),
  })
  .strict();

const curveDivergenceSchema = z
  .object({
    metric: z.string(),
    firstDivergentStep: z.number().nullable(),
    valueA: jsonNumber.nullable(),
    valueB: jsonNumber.nullable(),
    maxAbsDiff: z.number().nullable(),
    stepsCompared: count,
    stepsOnlyInA: count,
    stepsOnlyInB: count,
  })
  .strict();

/** One series of both runs, kept so the chart can be drawn again from the JSON alone. */
const curvePlotSchema = z
  .object({
    metric: z.string(),
    stepKey: z.string(),
    /** [step, run A, run B] at common steps where both are finite, evenly thinned to at most 500. */
    points: z.array(z.tuple([z.number(), z.number(), z.number()])).max(500),
    /** The tolerances the divergence was judged with, so the chart's caption agrees with the table. */
    atol: z.number().nonnegative(),
    rtol: z.number().nonnegative(),
    /** Where the series first part (possibly at a non-finite value, which is not plotted). */
    firstDivergence: z.object({ step: z.number(), a: jsonNumber, b: jsonNumber }).strict().nullable().optional(),
    /** Common steps with finite values on both sides (before thinning), and those left out as NaN/±∞. */
    finiteSteps: count.optional(),
    nonFiniteSteps: count.optional(),
  })
  .strict();

const differenceSchema = z
  .object({
    kind: z.enum(['metric', 'artifact']),
    name: z.string(),
    before: z.union([z.string(), z.number(), z.null()]),
    after: z.union([z.string(), z.number(), z.null()]),
    /** e.g. "|Δ| 3.2e-7" or "sha256 differs". */
    detail: z.string(),
  })
  .strict();

const factorSchema = z
  .object({
    name: z.string(),
    env: z.record(z.string(), z.string()),
    /** null: not tried (the setting was already in train.env, or an earlier run failed). */
    deterministic: z.boolean().nullable(),
    note: z.string().optional(),
  })
  .strict();

export const diagnosisSchema = z
  .object({
    seed: z.number().int(),
    deterministic: z.boolean(),
    cause: z.enum(['none', 'randomness', 'distributed', 'parallelism']),
    evidence: z.string(),
    /** Training runs this diagnosis took. */
    runs: count,
    differences: z.array(differenceSchema),
    factors: z.array(factorSchema),
    artifacts: z.array(artifactDiffSchema),
    curves: z.array(curveDivergenceSchema),
    curvePlot: curvePlotSchema.nullable(),
  })
  .strict();
export type Diagnosis = z.infer<typeof diagnosisSchema>;
export type JsonNumber = z.infer<typeof jsonNumber>;
export type ArrayDiff = z.infer<typeof arrayDiffSchema>;
export type ArtifactDiff = z.infer<typeof artifactDiffSchema>;
export type ArtifactFormat = ArtifactDiff['format'];
export type CurveDivergence = z.infer<typeof curveDivergenceSchema>;
export type CurvePlot = z.infer<typeof curvePlotSchema>;
export type Difference = z.infer<typeof differenceSchema>;
export type Factor = z.infer<typeof factorSchema>;
