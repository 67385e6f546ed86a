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
const marginSchema = z
  .union([z.number(), z.string()])
  .transform((raw, ctx) => {
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
  })
  .meta({
    description:
      'How far the candidate mean may move from the baseline mean and still be equivalent: an absolute number (0.01) or a percentage of the baseline mean ("2%"). Required in statistical mode; exact mode ignores it.',
    anyOf: [
      { type: 'number', exclusiveMinimum: 0 },
      { type: 'string', pattern: '^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*%\\s*$' },
    ],
  });

const metricSchema = z
  .object(
    {
      /** Required in statistical mode; exact mode compares bits and ignores it. */
      margin: marginSchema.optional(),
      direction: z
        .enum(['both', 'higher', 'lower'])
        .default('both')
        .describe(
          'both: equivalence within ±margin; higher: only a drop beyond the margin fails (non-inferiority); lower: only a rise fails.',
        ),
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type'
          ? `expected the metric's settings as a mapping, e.g. {margin: 0.01}, got ${show(issue.input)}`
          : undefined,
    },
  )
  .strict()
  .describe(
    'A metric the training reports, and how far it may move: {margin: 0.01} or {margin: 2%, direction: higher}.',
  );

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
    min: z.number().int().min(2).describe('Seeds trained before the first look.'),
    max: z.number().int().min(2).max(1000).describe('Seeds at most; record trains all of them.'),
    step: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Seeds added between looks (default: up to 4 looks evenly spaced from min to max).'),
    boundary: z
      .enum(['pocock', 'obrien-fleming', 'pocock-spending'])
      .default('pocock')
      .describe('How α is spread over the looks.'),
    calibration: z
      .enum(['simulated', 'bonferroni'])
      .default('simulated')
      .describe('simulated: per-look α calibrated by seeded simulation at the margin; bonferroni: the provable α/K.'),
    futility: z
      .number()
      .gt(0)
      .lt(1)
      .optional()
      .describe('Stop early for futility when the conditional power drops below this (non-binding); off by default.'),
  })
  .strict()
  .describe('Sequential seeds: check trains the candidate in stages and stops as soon as it can decide.')
  .refine((s) => s.max >= s.min, { message: 'max must be at least min', path: ['max'] });

const SEEDS_EXPECTED = 'expected a whole number of seeds ≥ 1 or a list of non-negative integers';

/** `seeds: 5` (seeds 0…4) or `seeds: [3, 7, 11]`, with one message for whatever else is there. */
const fixedSeedsSchema = z
  .union([z.number(), z.array(z.unknown())])
  .transform((v, ctx): number[] => {
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
  })
  .meta({
    anyOf: [
      { type: 'integer', minimum: 1, maximum: 1000, description: 'A number of seeds: 5 trains seeds 0…4.' },
      {
        type: 'array',
        items: { type: 'integer', minimum: 0 },
        minItems: 1,
        uniqueItems: true,
        description: 'The seeds to train.',
      },
    ],
  });

const seedsSchema = z
  .union([fixedSeedsSchema, sequentialSeedsSchema], {
    error: (issue) => `${SEEDS_EXPECTED}, got ${show(issue.input)}`,
  })
  .describe('The seeds to train: a count (5 → 0…4), a list ([0, 1, 2]), or {min, max} for sequential seeds.');

const relPath = z.string().min(1, 'must not be empty');

/**
 * A `data:` item: a path, or an object that says more about it. `external: true` allows an
 * absolute path outside the project (a mounted volume); lineage (`source`, `query`, `preprocess`)
 * says where the data came from and becomes part of its fingerprint.
 */
const dataEntrySchema = z.union([
  relPath,
  z
    .object({
      path: relPath.describe('The data file or folder.'),
      external: z
        .boolean()
        .default(false)
        .describe('An absolute path outside the project, e.g. a mounted dataset volume.'),
      source: z
        .string()
        .min(1)
        .optional()
        .describe('The snapshot it was taken from: s3://bucket/key@version-id, a dataset snapshot id, …'),
      query: z
        .union([z.string().min(1), z.object({ file: relPath.describe('A file holding the query.') }).strict()])
        .optional()
        .describe('The extraction query, inline or as a file in the project.'),
      preprocess: z
        .array(relPath)
        .default([])
        .describe('The preprocessing scripts that produced it (files in the project); their content is fingerprinted.'),
    })
    .strict()
    .refine((d) => !d.external || d.path.startsWith('/'), {
      message: 'an external: true data path must be absolute (e.g. /mnt/datasets/train)',
      path: ['path'],
    }),
]);

/** Files that document rather than train: a README-only change reuses every cached seed. */
const DEFAULT_CACHE_IGNORE = ['**/*.md', 'docs/**'] as const;

/**
 * How many processes train together: per node, how many nodes, and the collective backend the
 * training uses. Recorded in the environment fingerprint and passed to the launcher and the training.
 */
const distributedSchema = z
  .object({
    'nproc-per-node': z.number().int().positive().max(1024).describe('Processes (ranks) per node.'),
    nnodes: z.number().int().positive().max(65536).default(1).describe('Nodes taking part.'),
    backend: z
      .enum(['gloo', 'nccl', 'mpi'])
      .describe('As the training passes it to init_process_group: gloo (CPU), nccl (NVIDIA GPUs) or mpi.'),
  })
  .strict();

/** `torchrun`, or the argv prefix that starts one training per rank (`[mpirun, -np, "{nproc-per-node}"]`). */
const LAUNCHER_EXPECTED = 'expected torchrun or an argv prefix such as [mpirun, -np, "{nproc-per-node}"]';
const launcherSchema = z
  .union([z.string(), z.array(z.string().min(1, 'must not be empty')).min(1, 'must name the launcher program')], {
    error: (issue) => `${LAUNCHER_EXPECTED}, got ${show(issue.input)}`,
  })
  .transform((v, ctx) => {
    if (typeof v !== 'string') return v;
    if (v === 'torchrun') return 'torchrun' as const;
    ctx.addIssue({ code: 'custom', message: `${LAUNCHER_EXPECTED}, got ${show(v)}` });
    return z.NEVER;
  });

/** The file as written: every object strict, so a typo is an error naming its key path. */
export const configFileSchema = z
  .object({
    /** Editors' JSON Schema link (schema/repro-gate.schema.json); not a setting. */
    $schema: z.string().optional().describe('The JSON Schema this file follows, for editors; ignored by the gate.'),
    version: z.literal(1, { error: 'expected version: 1' }).describe('The config format version: 1.'),
    train: z
      .object({
        command: z
          .array(z.string())
          .min(1, 'must name the program to run, e.g. [python3, train.py, --seed, "{seed}", --out, "{out}"]')
          .describe(
            "The training as an argv list, run without a shell in the config file's folder; {seed} and {out} are replaced in every argument.",
          ),
        /** Must be pinned by digest (checked by the container runtime, which can look the digest up). */
        image: z
          .string()
          .min(1)
          .optional()
          .describe('A container image pinned by digest (name@sha256:…) to train in; omit to train on the runner.'),
        'allow-unpinned': z
          .boolean()
          .default(false)
          .describe('Accept a tag-only image, for experiments; reported as a risk.'),
        /** None by default so training cannot fetch anything unrecorded. */
        network: z.enum(['none', 'bridge', 'host']).default('none').describe('Container networking (containers only).'),
        gpus: z
          .union([z.literal('none'), z.literal('all'), z.number().int().positive()])
          .default('none')
          .describe('GPUs given to the training: none, all, or a count.'),
        env: z
          .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a valid environment variable name'), envValue)
          .default({})
          .describe(
            "Environment variables for the training; it gets these, REPRO_GATE_* and an allowlist of the runner's (never tokens).",
          ),
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
          })
          .meta({
            description: 'The time limit of one seed: 90s, 30m, 1h30m, or a number of seconds.',
            anyOf: [
              { type: 'string', pattern: '^\\s*(\\d+(\\.\\d+)?(ms|s|m|h))+\\s*$' },
              { type: 'number', exclusiveMinimum: 0 },
            ],
          }),
        parallel: z
          .number()
          .int()
          .min(1)
          .max(64)
          .default(1)
          .describe(
            'Seeds trained at once on this runner, each on an equal share of the cores (and GPUs). Record and check with the same value.',
          ),
        launcher: launcherSchema
          .optional()
          .describe('Starts the command once per rank: torchrun, or an argv prefix; needs train.distributed.'),
        distributed: distributedSchema
          .optional()
          .describe('How many processes train together (per node, nodes) and the collective backend.'),
      })
      .strict()
      .refine((t) => t.launcher === undefined || t.distributed !== undefined, {
        message:
          'train.launcher needs train.distributed, so the gate can start and record the topology: add distributed: {nproc-per-node: 2, backend: gloo}',
        path: ['launcher'],
      })
      .refine((t) => t.parallel === 1 || t.distributed === undefined, {
        message:
          'cannot be combined with train.distributed: each seed already runs several processes on their own cores; train seeds one at a time, or split them over machines with --shard',
        path: ['parallel'],
      })
      .describe('How to run one seed of the training.'),
    seeds: seedsSchema.default([0, 1, 2, 3, 4]),
    mode: z
      .enum(['exact', 'statistical'])
      .default('statistical')
      .describe('exact: every metric and artifact bit-identical per seed; statistical: TOST equivalence per metric.'),
    alpha: z.number().gt(0).lt(0.5).default(0.05).describe('The TOST significance level.'),
    paired: z
      .boolean()
      .default(false)
      .describe('Pair candidate seed i with baseline seed i (paired t) instead of Welch.'),
    robust: z
      .boolean()
      .default(false)
      .describe('Rank-based (Hodges–Lehmann / Mann–Whitney) equivalence instead of Welch; needs ≥ 10 seeds per side.'),
    metrics: z
      .object({
        file: relPath
          .optional()
          .describe(
            'The file the training writes into {out}: .json (default metrics.json), .yaml/.yml, .jsonl or .csv.',
          ),
        pattern: z
          .union([metricPattern, z.array(metricPattern).min(1)])
          .optional()
          .describe(
            "Regular expressions with named groups matched against every line of the training's output; the last match of each group is that metric, e.g. 'val loss (?<val_loss>[0-9.]+)'.",
          ),
      })
      .catchall(metricSchema)
      .refine(
        (m) => Object.keys(m).some((k) => k !== 'file' && k !== 'pattern'),
        'name at least one metric, e.g. accuracy: {margin: 0.01}',
      )
      .describe('Where the metrics come from (file, pattern) and each metric by name with its margin.'),
    artifacts: z
      .array(relPath)
      .default([])
      .describe('Files in {out} that are hashed (.pt/.pth/.ckpt by content) and compared in exact mode.'),
    data: z
      .array(dataEntrySchema)
      .default([])
      .describe(
        'Data files or folders, fingerprinted by the SHA-256 of their full content; or {path, external, source, query, preprocess} to declare a mounted volume or where the data came from.',
      ),
    config: z
      .array(
        z.union([
          relPath,
          z
            .object({ resolved: relPath.describe('A file the training writes into {out}, read after each seed.') })
            .strict(),
        ]),
      )
      .default([])
      .describe(
        "Config files parsed and diffed key by key (YAML, JSON, TOML, Python read with Python's ast and never run, INI/CFG, .env), or {resolved: PATH} for a config the training writes into {out} (Hydra's .hydra/config.yaml).",
      ),
    baseline: relPath.default('.repro-gate/baseline.json').describe('The baseline file, committed to the repository.'),
    curves: z
      .object({
        file: relPath.describe('The JSON-lines log in {out}, one record per step.'),
        step: z.string().min(1).default('step').describe('The key that holds the step number.'),
        atol: z.number().nonnegative().default(0).describe("Absolute tolerance when comparing two runs' curves."),
        rtol: z.number().nonnegative().default(1e-6).describe("Relative tolerance when comparing two runs' curves."),
      })
      .strict()
      .optional()
      .describe('A per-step JSON-lines log the training writes, so diagnose shows where two runs diverge.'),
    cache: z
      .object({
        enabled: z.boolean().default(true).describe('Reuse seed results from the run cache (check) and save new ones.'),
        ignore: z
          .array(z.string().min(1, 'must not be empty'))
          .default([...DEFAULT_CACHE_IGNORE])
          .describe(
            'Globs (relative to this file) of files that cannot change a run, left out of the cache key; replaces the default ["**/*.md", "docs/**"].',
          ),
      })
      .strict()
      .default({ enabled: true, ignore: [...DEFAULT_CACHE_IGNORE] })
      .describe(
        "Reuse a seed's earlier result when nothing that could change it changed (code, data, config, environment, training settings, seed).",
      ),
    diagnose: z
      .object({
        auto: z
          .boolean()
          .default(true)
          .describe('An exact check that fails with nothing drifted reruns a seed to find out why.'),
        seed: z
          .number()
          .int()
          .nonnegative()
          .optional()
          .describe('The seed diagnose reruns by default (else the first configured seed).'),
      })
      .strict()
      .default({ auto: true })
      .describe('Diagnosing nondeterminism.'),
    history: z
      .object({
        file: relPath
          .default('.repro-gate/history.jsonl')
          .describe('The JSON-lines history file, relative to this file.'),
        runs: z.number().int().min(2).max(1000).default(30).describe('How many of the last runs the reports chart.'),
        decay: z
          .number()
          .int()
          .min(3)
          .max(100)
          .default(5)
          .describe('Warn when the means of this many last runs move monotonically toward a margin edge.'),
      })
      .strict()
      .optional()
      .describe(
        'A metrics history: one JSON line per check/record run; reports chart the last runs and warn about slow decay.',
      ),
    drift: z
      .object({
        ignore: z
          .array(z.string().min(1, 'must not be empty'))
          .default([])
          .describe('Environment fingerprint keys or globs (package.pip, gpu.*) never counted as drift.'),
        'fail-on': z
          .enum(['relevant', 'any'])
          .default('relevant')
          .describe(
            'relevant: only result-relevant environment changes count; any: host noise and unimported packages too.',
          ),
      })
      .strict()
      .default({ ignore: [], 'fail-on': 'relevant' })
      .describe(
        'Which environment changes count as drift: host noise and packages the training never imports are shown folded, not counted.',
      ),
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
  ({ $schema: _editorsOnly, metrics: { file, pattern, ...named }, seeds, config, data, ...rest }) => {
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
      /** data: paths, as listed. */
      data: data.map((d) => (typeof d === 'string' ? d : d.path)),
      /** data: entries with everything they declare (a plain path: not external, no lineage). */
      dataEntries: data.map((d) =>
        typeof d === 'string' ? { path: d, external: false, preprocess: [] as string[] } : d,
      ),
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
export type DataEntry = GateConfig['dataEntries'][number];
export type DriftPolicy = GateConfig['drift'];
export type SequentialSeedsConfig = NonNullable<GateConfig['sequential']>;
export type DistributedConfig = NonNullable<GateConfig['train']['distributed']>;
