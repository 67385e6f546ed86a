/**
 * The repro-gate.yml contract (DESIGN.md), as a zod schema. Every object is strict so a typo in a
 * key is an error that names the key path instead of a silently ignored setting.
 */
import { z } from 'zod';
import { parseDuration } from '../util/duration.js';

/** A value in a message: JSON, except the numbers JSON cannot spell (Infinity, NaN). */
function show(v: unknown): string {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : (JSON.stringify(v) ?? String(v));
}

/** "2%" → relative to the baseline mean; a plain number → absolute. */
const marginSchema = z.union([z.number(), z.string()]).transform((raw, ctx) => {
  if (typeof raw === 'number') {
    if (Number.isFinite(raw) && raw > 0) return { kind: 'absolute' as const, value: raw, text: String(raw) };
  } else {
    const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*%\s*$/.exec(raw);
    const percent = m ? Number(m[1]) : NaN;
    if (percent > 0 && percent < 100) return { kind: 'relative' as const, percent, text: `${percent}%` };
  }
  ctx.addIssue({
    code: 'custom',
    message: `expected a positive number (absolute, e.g. 0.01) or a percentage of the baseline mean (e.g. "2%"), got ${JSON.stringify(raw)}`,
  });
  return z.NEVER;
});

const metricSchema = z
  .object(
    {
      /** Required in statistical mode; exact mode compares bits and ignores it. */
      margin: marginSchema.optional(),
      /** higher: only a drop beyond the margin fails (non-inferiority); lower: only a rise. */
      direction: z.enum(['both', 'higher', 'lower']).default('both'),
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? `expected the metric's settings as a mapping, e.g. {margin: 0.01}, got ${show(issue.input)}`
          : undefined,
    },
  )
  .strict();

/** Python's named groups, (?P<name>…), as JavaScript writes them. */
function jsPattern(source: string): string {
  return source.replace(/\(\?P<(?=[A-Za-z_])/g, '(?<');
}

/** The named groups of a pattern, or [] when it does not compile. */
function patternGroups(source: string): string[] {
  try {
    return Object.keys(new RegExp(`${jsPattern(source)}|`).exec('')?.groups ?? {});
  } catch {
    return [];
  }
}

/** One metrics.pattern: a valid regular expression with at least one named group. */
const metricPattern = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(jsPattern(source));
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(source)} is not a valid regular expression: ${(err as Error).message}`,
    });
    return;
  }
  if (patternGroups(source).length === 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(source)} has no named group: name what each number is, e.g. 'val loss (?<val_loss>[0-9.]+)'`,
    });
  }
});

const envValue = z.union([z.string(), z.number(), z.boolean()]).transform((v, ctx) => {
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
    ctx.addIssue({
      code: 'custom',
      message: `is an integer beyond 2^53, which YAML reads as ${v} and would pass on rounded; quote it ("…") to pass it exactly`,
    });
    return z.NEVER;
  }
  return String(v);
});

/** setTimeout's limit (2^31 − 1 ms, about 24.8 days): a longer timeout would fire at once. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/** `seeds: {min, max}`: train the candidate in stages and stop as soon as the gate can decide. */
const sequentialSeedsSchema = z
  .object({
    min: z.number().int().min(2),
    max: z.number().int().min(2).max(1000),
    step: z.number().int().positive().optional(),
    boundary: z.enum(['pocock', 'obrien-fleming', 'pocock-spending']).default('pocock'),
    calibration: z.enum(['simulated', 'bonferroni']).default('simulated'),
    /** Stop early for futility when the conditional power drops below this (non-binding); off by default. */
    futility: z.number().gt(0).lt(1).optional(),
  })
  .strict()
  .refine((s) => s.max >= s.min, { message: 'max must be at least min', path: ['max'] });

const SEEDS_EXPECTED = 'expected a whole number of seeds ≥ 1 or a list of non-negative integers';

/** `seeds: 5` (seeds 0…4) or `seeds: [3, 7, 11]`, with one message for whatever else is there. */
const fixedSeedsSchema = z.union([z.number(), z.array(z.unknown())]).transform((v, ctx): number[] => {
  const fail = (message: string) => {
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  };
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 1) return fail(`${SEEDS_EXPECTED}, got ${show(v)}`);
    if (v > 1000) return fail(`at most 1000 seeds, got ${v}`);
    return Array.from({ length: v }, (_, i) => i);
  }
  if (v.length === 0) return fail(`${SEEDS_EXPECTED}, got an empty list`);
  const bad = v.find((x) => !(typeof x === 'number' && Number.isSafeInteger(x) && x >= 0));
  if (bad !== undefined) return fail(`${SEEDS_EXPECTED}, got ${show(bad)} in the list`);
  const seeds = v as number[];
  if (new Set(seeds).size !== seeds.length) return fail('seeds must not repeat');
  return seeds;
});

const seedsSchema = z.union([fixedSeedsSchema, sequentialSeedsSchema], {
  error: (issue) => `${SEEDS_EXPECTED}, got ${show(issue.input)}`,
});

const relPath = z.string().min(1, 'must not be empty');

/** The file as written: every object strict, so a typo is an error naming its key path. */
const configFileSchema = z
  .object({
    version: z.literal(1, { error: 'expected version: 1' }),
    train: z
      .object({
        command: z
          .array(z.string())
          .min(1, 'must name the program to run, e.g. [python3, train.py, --seed, "{seed}", --out, "{out}"]'),
        /** A container image; must be pinned by digest (checked by the container runtime, which can look the digest up). */
        image: z.string().min(1).optional(),
        /** Accept a tag-only image, for experiments; reported as a drift risk. */
        'allow-unpinned': z.boolean().default(false),
        /** Container networking; none by default so training cannot fetch anything unrecorded. */
        network: z.enum(['none', 'bridge', 'host']).default('none'),
        gpus: z.union([z.literal('none'), z.literal('all'), z.number().int().positive()]).default('none'),
        env: z
          .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a valid environment variable name'), envValue)
          .default({}),
        timeout: z
          .union([z.string(), z.number()])
          .default('30m')
          .transform((v, ctx) => {
            const ms = parseDuration(v);
            if (ms === undefined) {
              ctx.addIssue({
                code: 'custom',
                message: `expected a duration like 90s, 30m or 1h30m, got ${show(v)}`,
              });
              return z.NEVER;
            }
            if (ms > MAX_TIMEOUT_MS) {
              ctx.addIssue({ code: 'custom', message: `must be at most 24 days (596h), got ${show(v)}` });
              return z.NEVER;
            }
            return ms;
          }),
      })
      .strict(),
    seeds: seedsSchema.default([0, 1, 2, 3, 4]),
    mode: z.enum(['exact', 'statistical']).default('statistical'),
    alpha: z.number().gt(0).lt(0.5).default(0.05),
    /** Pair candidate seed i with baseline seed i (paired t); off by default (Welch). */
    paired: z.boolean().default(false),
    /** Rank-based (Hodges–Lehmann / Mann–Whitney) equivalence instead of Welch: needs ≥ 10 seeds per side. */
    robust: z.boolean().default(false),
    metrics: z
      .object({
        /** A file the training writes into {out}: .json (default metrics.json), .yaml/.yml, .jsonl or .csv. */
        file: relPath.optional(),
        /**
         * Regular expressions with named groups, matched against every line of the training's
         * output; the last match of each group is that metric (`val loss (?<val_loss>[0-9.]+)`).
         */
        pattern: z.union([metricPattern, z.array(metricPattern).min(1)]).optional(),
      })
      .catchall(metricSchema)
      .refine(
        (m) => Object.keys(m).some((k) => k !== 'file' && k !== 'pattern'),
        'name at least one metric, e.g. accuracy: {margin: 0.01}',
      ),
    artifacts: z.array(relPath).default([]),
    data: z.array(relPath).default([]),
    /**
     * Config files, parsed and diffed key by key: YAML, JSON, TOML, Python (.py: literal assignments,
     * read with Python's ast, never run), INI/CFG and .env; or {resolved: PATH}, a file the training
     * writes into {out} (Hydra's .hydra/config.yaml, Lightning's hparams.yaml), read after each seed.
     */
    config: z.array(z.union([relPath, z.object({ resolved: relPath }).strict()])).default([]),
    baseline: relPath.default('.repro-gate/baseline.json'),
    /** A per-step JSON-lines log the training writes into {out}; diagnose shows where two runs diverge. */
    curves: z
      .object({
        file: relPath,
        step: z.string().min(1).default('step'),
        atol: z.number().nonnegative().default(0),
        rtol: z.number().nonnegative().default(1e-6),
      })
      .strict()
      .optional(),
    diagnose: z
      .object({
        /** An exact-mode check that fails with nothing drifted reruns a seed to find out why. */
        auto: z.boolean().default(true),
        /** The seed `diagnose` reruns by default (else the first configured seed). */
        seed: z.number().int().nonnegative().optional(),
      })
      .strict()
      .default({ auto: true }),
    /**
     * Which environment changes count as drift: host noise (kernel build, CPU model name, …) and
     * packages the training never imports are shown folded, not counted, unless fail-on: any.
     * ignore: fingerprint keys or globs (package.pip, gpu.*) never counted either.
     */
    /**
     * A metrics history: one JSON line per check/record run (when and where it is appended: README,
     * "Metrics history"); reports chart the last `runs` and warn when the last `decay` means move
     * monotonically toward a margin edge.
     */
    history: z
      .object({
        file: relPath.default('.repro-gate/history.jsonl'),
        runs: z.number().int().min(2).max(1000).default(30),
        decay: z.number().int().min(3).max(100).default(5),
      })
      .strict()
      .optional(),
    drift: z
      .object({
        ignore: z.array(z.string().min(1, 'must not be empty')).default([]),
        'fail-on': z.enum(['relevant', 'any']).default('relevant'),
      })
      .strict()
      .default({ ignore: [], 'fail-on': 'relevant' }),
  })
  .strict()
  .superRefine((c, ctx) => {
    // Every metric must come from somewhere: a named group of metrics.pattern, or the metrics file.
    const { file, pattern, ...named } = c.metrics;
    const groups = new Set((Array.isArray(pattern) ? pattern : pattern ? [pattern] : []).flatMap(patternGroups));
    if (pattern !== undefined && file === undefined) {
      for (const name of Object.keys(named).filter((n) => !groups.has(n))) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', name],
          message: `is neither a named group of metrics.pattern (${[...groups].join(', ')}) nor read from a file: add a group (?<${name.replace(/[^A-Za-z0-9_]/g, '_')}>…) or set metrics.file`,
        });
      }
    }
  })
  .superRefine((c, ctx) => {
    if (c.mode !== 'statistical') return;
    for (const [name, spec] of Object.entries(c.metrics)) {
      if (name !== 'file' && name !== 'pattern' && typeof spec === 'object' && !Array.isArray(spec) && !spec.margin) {
        ctx.addIssue({
          code: 'custom',
          path: ['metrics', name, 'margin'],
          message: 'is required in statistical mode (e.g. margin: 0.01 or margin: 2%)',
        });
      }
    }
  })
  .refine((c) => !(c.robust && (c.paired || !Array.isArray(c.seeds))), {
    message:
      'robust: true is an independent-samples test with fixed seeds; it cannot be combined with paired: true or seeds: {min, max}',
    path: ['robust'],
  })
  .refine((c) => c.mode !== 'statistical' || !Array.isArray(c.seeds) || c.seeds.length >= 2, {
    message:
      'statistical mode needs at least 2 seeds to measure how much a metric varies from seed to seed; train more seeds (e.g. seeds: 5) or use mode: exact',
    path: ['seeds'],
  })
  .refine((c) => Array.isArray(c.seeds) || c.mode === 'statistical', {
    message: 'seeds: {min, max} (sequential) needs mode: statistical; exact mode compares fixed seeds',
    path: ['seeds'],
  });

/**
 * Metrics as a list, seeds as the list to train (0…max−1 for a sequential plan, which record trains
 * in full), metric patterns as a list, config entries split into files and resolved configs.
 */
export const configSchema = configFileSchema.transform(
  ({ metrics: { file, pattern, ...named }, seeds, config, ...rest }) => {
    const fixed = Array.isArray(seeds);
    const patterns = Array.isArray(pattern) ? pattern : pattern ? [pattern] : [];
    const groups = new Set(patterns.flatMap(patternGroups));
    const metrics = Object.entries(named).map(([name, spec]) => ({ name, ...spec }));
    return {
      ...rest,
      seeds: fixed ? seeds : Array.from({ length: seeds.max }, (_, i) => i),
      /** Set for `seeds: {min, max}`: check trains the candidate in stages. */
      sequential: fixed ? undefined : seeds,
      /** The metrics file in {out}; '' when every metric comes from metrics.pattern. */
      metricsFile: file ?? (metrics.every((m) => groups.has(m.name)) && patterns.length ? '' : 'metrics.json'),
      /** metrics.pattern as JavaScript regular expressions' sources (Python's (?P<name>…) accepted). */
      metricPatterns: patterns.map(jsPattern),
      metrics,
      /** config: files (repository paths). */
      config: config.filter((c): c is string => typeof c === 'string'),
      /** config: {resolved: PATH} entries: files the training writes into {out}. */
      resolvedConfig: config.flatMap((c) => (typeof c === 'string' ? [] : [c.resolved])),
    };
  },
);

/** The validated config, where the gate found it: relative paths in it resolve against `root`. */
export type GateConfig = z.output<typeof configSchema> & {
  /** Absolute path of the config file. */
  path: string;
  /** Folder of the config file: the command's working directory and the root of every relative path. */
  root: string;
};
export type MetricSpec = GateConfig['metrics'][number];
export type DriftPolicy = GateConfig['drift'];
export type SequentialSeedsConfig = NonNullable<GateConfig['sequential']>;
