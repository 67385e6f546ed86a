/**
 * Which environment changes can move a training's numbers (result-relevant, counted as drift) and
 * which are host noise (shown folded, never counted). One table, one row per fingerprint key or key
 * pattern (`*` stands for any run of characters); the most specific row wins, and a key no row
 * knows is relevant, so a fact this version has not classified is never hidden.
 */
import type { DriftPolicy } from '../schema/config.js';
import type { EnvironmentDrift, NoiseDrift } from '../schema/report.js';
import { GateError } from '../util/errors.js';

type Fingerprint = Readonly<Record<string, string | number | boolean>>;

/** What a row needs to decide an entry that is relevant only sometimes. */
interface Sides {
  before: Fingerprint;
  after: Fingerprint;
}

interface Row {
  key: string;
  relevant: true | false | ((e: EnvironmentDrift, sides: Sides) => boolean);
  why: string;
}

const major = (v: unknown) => (typeof v === 'string' ? v.split('.')[0] : undefined);

/** The table. Keys are those of fingerprint/probe-script.ts, the runtime's describe() and the gate itself. */
export const ENVIRONMENT_KEYS: readonly Row[] = [
  { key: 'image', relevant: true, why: 'the container image (by digest) the training runs in' },
  { key: 'image.id', relevant: true, why: "the image's content id" },
  { key: 'runtime', relevant: true, why: 'on the runner itself or in a container' },
  { key: 'os', relevant: true, why: 'OS release: the C and maths libraries' },
  { key: 'arch', relevant: true, why: 'machine architecture' },
  { key: 'kernel', relevant: false, why: 'kernel build string: hosts are patched without changing numerics' },
  {
    key: 'cpu.isa',
    // Added only against a baseline recorded before the probe knew it: nothing to compare yet.
    relevant: (e) => e.change !== 'added',
    why: 'vector and FMA instructions (AVX-512, FMA, …) that BLAS and compilers dispatch on',
  },
  {
    key: 'cpu.model',
    // With the same instruction-set flags on both sides, the model name alone changes no numbers.
    relevant: (_e, { before, after }) =>
      before['cpu.isa'] === undefined || after['cpu.isa'] === undefined || before['cpu.isa'] !== after['cpu.isa'],
    why: 'CPU model name: noise when cpu.isa is recorded and equal on both sides',
  },
  { key: 'cpu.count', relevant: true, why: 'the default BLAS/OpenMP thread count, hence the order of reductions' },
  { key: 'python', relevant: true, why: "whether the training's Python could be fingerprinted at all" },
  { key: 'python.version', relevant: true, why: 'the interpreter' },
  { key: 'python.implementation', relevant: true, why: 'the interpreter' },
  {
    key: 'package.*',
    relevant: true,
    why: 'an installed distribution (noise when the training is known not to import it)',
  },
  { key: 'package.error', relevant: false, why: 'why the probe could not list packages: a message, not a version' },
  { key: 'blas', relevant: true, why: 'the BLAS/LAPACK build NumPy uses' },
  { key: 'torch.cuda', relevant: true, why: 'the CUDA version PyTorch was built with' },
  { key: 'torch.cudnn', relevant: true, why: 'cuDNN version' },
  { key: 'torch.cuda_available', relevant: true, why: 'GPU or CPU kernels' },
  { key: 'torch.gpu_count', relevant: true, why: 'GPUs visible to PyTorch' },
  { key: 'gpu.count', relevant: true, why: 'GPUs on the machine' },
  { key: 'gpu.*.name', relevant: true, why: 'GPU model' },
  { key: 'gpu.*.memory', relevant: false, why: 'GPU memory total: the same model reports a driver-dependent figure' },
  { key: 'gpu.driver', relevant: true, why: 'NVIDIA driver' },
  { key: 'cuda.driver_api', relevant: true, why: 'the CUDA version the driver supports' },
  {
    key: 'env.*',
    relevant: true,
    why: 'a determinism or threading variable (PYTHONHASHSEED, CUBLAS_WORKSPACE_CONFIG, OMP_NUM_THREADS, …)',
  },
  { key: 'distributed.*', relevant: true, why: 'distributed training: world size, backend, NCCL settings' },
  {
    key: 'repro-gate.version',
    // Comparison rules change only in a major release; a minor or patch upgrade is not drift.
    relevant: (e) => major(e.before) !== major(e.after),
    why: "repro-gate's own version: relevant when the major version (its comparison rules) changes",
  },
];

function globRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

const ROWS = ENVIRONMENT_KEYS.map((row) => ({ ...row, re: globRegExp(row.key) }));

/** The row deciding `key`: an exact row before a pattern, a longer pattern before a shorter one. */
export function rowFor(key: string): Row | undefined {
  let best: (typeof ROWS)[number] | undefined;
  for (const row of ROWS) {
    if (!row.re.test(key)) continue;
    if (!best || specificity(row.key) > specificity(best.key)) best = row;
  }
  return best;
}

function specificity(pattern: string): number {
  return pattern.includes('*') ? pattern.replaceAll('*', '').length : Number.MAX_SAFE_INTEGER;
}

/**
 * `drift.ignore` entries must name fingerprint keys: a key or glob matching a row (package.pip,
 * gpu.0.memory) or a glob covering rows (gpu.*). Anything else is a typo, refused naming the keys.
 */
export function checkIgnore(ignore: readonly string[], configName: string): void {
  for (const [i, entry] of ignore.entries()) {
    const re = globRegExp(entry);
    if (ROWS.some((row) => row.re.test(entry) || re.test(row.key))) continue;
    throw new GateError(
      `${configName}: drift.ignore[${i}]: ${JSON.stringify(entry)} is not an environment fingerprint key.`,
      `Use a key or a glob over the known keys: ${ENVIRONMENT_KEYS.map((r) => r.key).join(', ')}.`,
    );
  }
}

export interface Classified {
  /** Counted as drift. */
  relevant: EnvironmentDrift[];
  /** Shown folded, never counted. */
  noise: NoiseDrift[];
}

export interface ClassifyInput extends Sides {
  changes: readonly EnvironmentDrift[];
  policy: DriftPolicy;
  /**
   * Distributions the training imported (with what they require), from the import hook; null when
   * unknown (not Python, or the hook did not run): then every package change is relevant.
   */
  imported: ReadonlySet<string> | null;
}

/** Splits environment changes into relevant drift and noise, under the config's `drift:` policy. */
export function classifyEnvironment(input: ClassifyInput): Classified {
  const ignore = input.policy.ignore.map(globRegExp);
  const out: Classified = { relevant: [], noise: [] };
  for (const e of input.changes) {
    if (ignore.some((re) => re.test(e.key))) {
      out.noise.push({ ...e, reason: 'ignored' });
      continue;
    }
    const reason = noiseReason(e, input);
    if (reason && input.policy['fail-on'] === 'relevant') out.noise.push({ ...e, reason });
    else out.relevant.push(e);
  }
  return out;
}

function noiseReason(e: EnvironmentDrift, input: ClassifyInput): NoiseDrift['reason'] | undefined {
  const row = rowFor(e.key);
  if (!row) return undefined;
  const relevant = typeof row.relevant === 'function' ? row.relevant(e, input) : row.relevant;
  if (!relevant) return 'host';
  if (row.key === 'package.*' && input.imported && !input.imported.has(e.key.slice('package.'.length)))
    return 'not-imported';
  return undefined;
}

/**
 * The distributions the given runs imported: the union over runs, or null when any run's imports
 * are unknown (a training that is not Python, or whose hook did not run), so no package is hidden.
 */
export function importedPackages(runs: readonly { packages?: readonly string[] }[]): Set<string> | null {
  if (!runs.length || runs.some((r) => r.packages === undefined)) return null;
  return new Set(runs.flatMap((r) => r.packages ?? []));
}

/**
 * The facts of one environment that can move a result: those a row marks relevant (or relevant
 * sometimes), without the always-noise ones (kernel build, GPU memory totals), and without the CPU
 * model name when the instruction-set flags are recorded. What the run cache keys on, so a runner
 * with a newer kernel or another CPU model of the same ISA still reuses results.
 */
export function resultFacts(env: Fingerprint): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(env)) {
    if (rowFor(key)?.relevant === false) continue;
    if (key === 'cpu.model' && env['cpu.isa'] !== undefined) continue;
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}
