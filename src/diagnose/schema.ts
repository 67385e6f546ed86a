/**
 * The diagnosis document (`diagnose --json`, and `diagnosis` inside a check report). Strict zod
 * schemas, because a report read back by `command: comment` is untrusted and is re-rendered.
 */
import { z } from 'zod';

const jsonNumber = z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
const status = z.enum(['identical', 'modified', 'added', 'removed']);
const count = z.number().int().nonnegative();
const shape = z.array(count).nullable();

export const arrayDiffSchema = z
  .object({
    name: z.string(),
    status,
    dtypeBefore: z.string().nullable(),
    dtypeAfter: z.string().nullable(),
    shapeBefore: shape,
    shapeAfter: shape,
    elementsBefore: count.nullable(),
    elementsAfter: count.nullable(),
    compared: count,
    differing: count.nullable(),
    maxAbsDiff: z.number().nullable(),
    maxRelDiff: z.number().nullable(),
    maxUlp: z.number().nullable(),
    nonFiniteDiffering: count,
    nanBefore: count.nullable(),
    nanAfter: count.nullable(),
    bitIdentical: z.boolean(),
    firstDifference: z
      .object({ index: z.array(count), before: z.union([jsonNumber, z.string()]), after: z.union([jsonNumber, z.string()]) })
      .strict()
      .optional(),
    note: z.string().optional(),
  })
  .strict();

export const artifactDiffSchema = z
  .object({
    name: z.string(),
    format: z.enum(['npy', 'npz', 'safetensors', 'json', 'csv', 'binary']),
    status,
    sizeBefore: count.nullable(),
    sizeAfter: count.nullable(),
    sha256Before: z.string().nullable(),
    sha256After: z.string().nullable(),
    arrays: z.array(arrayDiffSchema),
    arraysOmitted: count,
    notes: z.array(z.string()),
  })
  .strict();

export const curveDivergenceSchema = z
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
export const curvePlotSchema = z
  .object({
    metric: z.string(),
    stepKey: z.string(),
    points: z.array(z.tuple([z.number(), z.number(), z.number()])).max(500),
    /** The tolerances the divergence was judged with, so the chart's caption agrees with the table. */
    atol: z.number().nonnegative(),
    rtol: z.number().nonnegative(),
  })
  .strict();

export const differenceSchema = z
  .object({
    kind: z.enum(['metric', 'artifact']),
    name: z.string(),
    before: z.union([z.string(), z.number(), z.null()]),
    after: z.union([z.string(), z.number(), z.null()]),
    /** e.g. "|Δ| 3.2e-7" or "sha256 differs". */
    detail: z.string(),
  })
  .strict();

export const factorSchema = z
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
    cause: z.enum(['none', 'randomness', 'parallelism']),
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
export type Difference = z.infer<typeof differenceSchema>;
export type Factor = z.infer<typeof factorSchema>;
