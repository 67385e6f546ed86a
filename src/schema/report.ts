/**
 * The JSON report: what `check|drift|record --json` prints, what the action writes to its report
 * file, and what `command: comment` reads back. The Markdown is always rendered from this document,
 * so a report file from an untrusted (fork) run is validated here and re-rendered with escaping —
 * never posted as pre-rendered text.
 */
import { z } from 'zod';
import { scalarSchema as scalar } from './baseline.js';
import { diagnosisSchema } from './diagnosis.js';
import { historyLineSchema } from './history.js';

export const REPORT_SCHEMA_VERSION = 2;

export const VERDICTS = [
  'reproducible',
  'equivalent',
  'not-equivalent',
  'inconclusive',
  'mismatch',
  'no-drift',
  'drift',
  'recorded',
] as const;
const verdictSchema = z.enum(VERDICTS);
export type Verdict = z.infer<typeof verdictSchema>;

/** Verdicts that make `check`/`drift` exit 1 (and the action fail by default). */
export const FAILING_VERDICTS: readonly Verdict[] = ['mismatch', 'not-equivalent', 'inconclusive', 'drift'];

const CAUSES = [
  'data',
  'config',
  'environment',
  'code',
  'randomness',
  'distributed',
  'parallelism',
  'none',
  'unknown',
] as const;
const causeSchema = z.enum(CAUSES);
export type Cause = z.infer<typeof causeSchema>;

const sampleSchema = z.object({ n: z.number().int(), mean: z.number(), sd: z.number() }).strict();

export const metricResultSchema = z
  .object({
    name: z.string(),
    verdict: verdictSchema,
    baseline: sampleSchema,
    candidate: sampleSchema,
    diff: z.number(),
    /** (1−2α) CI of candidate − baseline; null in exact mode. */
    ci: z.tuple([z.number(), z.number()]).nullable(),
    p: z.number().nullable(),
    /** Equivalence bounds on the difference; null = unbounded on that side (non-inferiority). */
    lower: z.number().nullable(),
    upper: z.number().nullable(),
    /** The margin as configured, e.g. "0.01" or "2%". */
    margin: z.string().nullable(),
    direction: z.enum(['both', 'higher', 'lower']),
    /** rank: Hodges–Lehmann shift with a Mann–Whitney CI (robust: true). */
    design: z.enum(['welch', 'paired', 'rank', 'exact']),
    df: z.number().nullable(),
    se: z.number().nullable(),
    degenerate: z.boolean(),
  })
  .strict();
export type MetricResult = z.infer<typeof metricResultSchema>;

/** Absent before/after (not null) marks an added or removed item: null can be a real config value. */
const changeSchema = z.enum(['added', 'removed', 'modified']);
const dataDriftSchema = z
  .object({
    path: z.string(),
    change: changeSchema,
    before: z.string().nullable(),
    after: z.string().nullable(),
    /** For text files tracked at the baseline commit: which lines changed. */
    detail: z.string().optional(),
    /**
     * Set when the entry's declared lineage changed rather than a file: its `source` (before/after
     * are the values), `query` (SHA-256 of the text; detail shows the changed lines) or a
     * `preprocess` file (SHA-256 of its content; detail names it).
     */
    lineage: z.enum(['source', 'query', 'preprocess']).optional(),
    /**
     * A folder of a large data entry, named from the roots in the baseline because the entry's
     * per-file manifest was not available; before/after are the folder's roots.
     */
    folder: z.literal(true).optional(),
  })
  .strict();
export type DataDrift = z.infer<typeof dataDriftSchema>;
const configDriftSchema = z
  .object({
    /** 'gate settings': how the gate measures (metrics, margins, alpha, mode, seeds, command), not a config file's key. */
    group: z.literal('gate settings').optional(),
    file: z.string(),
    key: z.string(),
    change: changeSchema,
    before: scalar.optional(),
    after: scalar.optional(),
  })
  .strict();
export type ConfigDrift = z.infer<typeof configDriftSchema>;
const environmentDriftSchema = z
  .object({ key: z.string(), change: changeSchema, before: scalar.optional(), after: scalar.optional() })
  .strict();
export type EnvironmentDrift = z.infer<typeof environmentDriftSchema>;
/**
 * An environment change that is not counted (drift/relevance.ts): host noise, a package the
 * training did not import, or a key the config's drift.ignore names.
 */
const noiseDriftSchema = environmentDriftSchema
  .extend({ reason: z.enum(['host', 'not-imported', 'ignored']) })
  .strict();
export type NoiseDrift = z.infer<typeof noiseDriftSchema>;
const driftSchema = z
  .object({
    data: z.array(dataDriftSchema),
    config: z.array(configDriftSchema),
    /** Result-relevant environment changes only: these count. */
    environment: z.array(environmentDriftSchema),
    /** Changes shown folded and never counted; absent when there are none. */
    noise: z.array(noiseDriftSchema).optional(),
  })
  .strict();
export type Drift = z.infer<typeof driftSchema>;

/** One value that differed between baseline and candidate in exact mode. */
const mismatchSchema = z
  .object({
    seed: z.number().int(),
    kind: z.enum(['metric', 'artifact']),
    name: z.string(),
    /** For a checkpoint compared by content: the key path of the tensor or value that differs. */
    key: z.string().optional(),
    baseline: scalar,
    candidate: scalar,
  })
  .strict();
export type Mismatch = z.infer<typeof mismatchSchema>;

/**
 * Something a reader should know that does not change the verdict by itself, with a stable code for
 * scripts: baseline-changed, low-power, zero-spread, code-changes-unknown, inputs-modified, …
 */
export const warningSchema = z.object({ code: z.string().regex(/^[a-z][a-z-]{0,63}$/), message: z.string() }).strict();
export type ReportWarning = z.infer<typeof warningSchema>;

/**
 * Set when `check --base` finds that the change alters what the gate compares against (the
 * baseline file, or the gate settings: metrics, margins, alpha, mode, seeds). The report's verdict
 * and metrics are those of the comparison the result follows.
 */
const baselineChangeSchema = z
  .object({
    /** The base commit's full SHA. */
    base: z.string(),
    changed: z.array(z.enum(['baseline', 'gate settings'])),
    /** Gate-settings drift from the base commit's config to this change's. */
    settings: z.array(configDriftSchema),
    /** null: the base commit has no baseline (this change adds the gate). */
    verdictAgainstBase: verdictSchema.nullable(),
    verdictAgainstChange: verdictSchema,
    follows: z.enum(['base', 'change']),
    /** What each comparison says and which one the result follows, for the reader. */
    why: z.string(),
  })
  .strict();
export type BaselineChange = z.infer<typeof baselineChangeSchema>;

/** Set when seeds: {min, max}: the plan, where it stopped and why. */
const sequentialSummarySchema = z
  .object({
    looks: z.array(z.number().int().positive()),
    alphaPerLook: z.array(z.number()),
    method: z.string(),
    guarantee: z.string(),
    stoppedAtLook: z.number().int().positive(),
    runsUsed: z.number().int().nonnegative(),
    maxRuns: z.number().int().positive(),
    reason: z.string(),
  })
  .strict();
export type SequentialSummary = z.infer<typeof sequentialSummarySchema>;

/** How the run cache served this run's seeds (absent when it was off or nothing could use it). */
export const cacheUseSchema = z
  .object({
    store: z.enum(['local', 'actions']),
    /** The run key (12 hex digits): equal keys mean nothing that affects training changed. */
    key: z.string().regex(/^[0-9a-f]{12}$/),
    /** Seeds whose result came from the cache, and seeds that were trained. */
    reused: z.array(z.number().int()),
    trained: z.array(z.number().int()),
  })
  .strict();
export type CacheUse = z.infer<typeof cacheUseSchema>;

export const reportSchema = z
  .object({
    /** 2: warnings carry codes; a baseline change and gate-settings drift are reported. */
    schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
    tool: z.object({ name: z.literal('repro-gate'), version: z.string() }).strict(),
    command: z.enum(['check', 'drift', 'record']),
    verdict: verdictSchema,
    /** One line a reader sees first. */
    summary: z.string(),
    mode: z.enum(['exact', 'statistical']),
    alpha: z.number(),
    seeds: z.array(z.number().int()),
    metrics: z.array(metricResultSchema),
    mismatches: z.array(mismatchSchema),
    drift: driftSchema,
    cause: causeSchema.optional(),
    causeEvidence: z.string().optional(),
    warnings: z.array(warningSchema),
    /** record: each metric's spread over the recorded seeds, to choose margins from. */
    recorded: z
      .array(z.object({ name: z.string(), n: z.number().int(), mean: z.number(), sd: z.number() }).strict())
      .optional(),
    /** Determinism settings missing for the detected framework and device. */
    lint: z.array(z.string()).optional(),
    /** Set when seeds: {min, max}: the plan, where it stopped and why. */
    sequential: sequentialSummarySchema.optional(),
    baselineChange: baselineChangeSchema.optional(),
    cache: cacheUseSchema.optional(),
    /** Set when a failing exact check reran a seed to tell randomness from parallelism. */
    diagnosis: diagnosisSchema.optional(),
    /** With history: {file}: the last runs (this one included), oldest first, for the trend charts. */
    history: z.array(historyLineSchema).optional(),
    baseline: z.object({ path: z.string(), recordedAt: z.string(), commit: z.string().nullable() }).strict().nullable(),
    commit: z.string().nullable(),
    /** Set by the action so a follow-up workflow can check the report belongs to its PR. */
    pullRequest: z.number().int().positive().optional(),
  })
  .strict();
export type Report = z.infer<typeof reportSchema>;
