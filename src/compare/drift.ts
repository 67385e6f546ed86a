/** Pure drift logic: environment diffs and the most-likely-cause ranking. */
import type { ConfigDrift } from '../fingerprint/config.js';
import type { Cause, Drift, MetricResult, Mismatch } from '../report/schema.js';

type EnvScalar = string | number | boolean;
export interface EnvironmentDrift {
  key: string;
  change: 'added' | 'removed' | 'modified';
  before?: EnvScalar;
  after?: EnvScalar;
}

/**
 * Environment keys by how strongly they explain a numerical change: the image, interpreter,
 * numerical packages, GPU stack, BLAS and determinism variables do; kernel and CPU model rarely do
 * on their own but still show. Lower rank = listed first.
 */
function envRank(key: string): number {
  if (key.startsWith('image')) return 0;
  if (key.startsWith('python.')) return 1;
  if (key.startsWith('package.')) return NUMERIC_PACKAGE.test(key.slice('package.'.length)) ? 2 : 6;
  if (/^(torch\.|cuda|gpu\.)/.test(key)) return 3;
  if (key === 'blas') return 4;
  if (key.startsWith('env.')) return 5;
  return 7;
}
const STRONG_ENV_RANK = 5;

/**
 * Packages whose version changes are known to move numbers. Any other package (awscli, a linter, a
 * tool on PATH) is still listed, but ranks below a change to the training code as a cause.
 */
const NUMERIC_PACKAGE = /^(numpy|scipy|torch\w*|tensorflow[\w-]*|tf-\w+|keras|jax\w*|flax|optax|scikit-learn|pandas|xgboost|lightgbm|catboost|numba|cupy[\w-]*|triton|nvidia-[\w-]+|mkl[\w-]*|intel-openmp|openblas\w*|scipy-openblas\w*|transformers|accelerate|datasets|tokenizers|safetensors|onnx\w*|deepspeed|apex|xformers|timm|sentencepiece|statsmodels)$/;

function isStrong(e: Pick<EnvironmentDrift, 'key' | 'change'>): boolean {
  // A package appearing or disappearing is rarely imported by the training; a version change of a numerical one is.
  if (e.key.startsWith('package.') && e.change !== 'modified') return false;
  return envRank(e.key) <= STRONG_ENV_RANK;
}

export function diffEnvironment(before: Record<string, EnvScalar>, after: Record<string, EnvScalar>): EnvironmentDrift[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: EnvironmentDrift[] = [];
  for (const key of keys) {
    const b = Object.hasOwn(before, key) ? before[key] : undefined;
    const a = Object.hasOwn(after, key) ? after[key] : undefined;
    if (b === a) continue;
    const entry: EnvironmentDrift = { key, change: b === undefined ? 'added' : a === undefined ? 'removed' : 'modified' };
    if (b !== undefined) entry.before = b;
    if (a !== undefined) entry.after = a;
    out.push(entry);
  }
  return out.sort((x, y) => envRank(x.key) - envRank(y.key) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

export interface CauseInput {
  drift: Drift;
  /** Files changed since the baseline commit that are neither data, config nor the baseline; null if unknown. */
  codeChanges: string[] | null;
  metrics: MetricResult[];
  mismatches: Mismatch[];
}

export interface CauseFinding {
  cause: Cause;
  evidence: string;
}

/** How a failing metric moved, for the evidence sentence. */
function movement(input: CauseInput): string {
  const failing = input.metrics.filter((m) => m.verdict !== 'equivalent' && m.verdict !== 'reproducible');
  const worst = [...failing].sort((a, b) => Math.abs(b.diff) - Math.abs(a.diff))[0];
  if (worst && worst.diff !== 0) return `${worst.name} moved by ${signed(worst.diff)}`;
  const first = input.mismatches[0];
  if (first) return `seed ${first.seed}'s ${first.kind} ${first.name} differs`;
  return worst ? `${worst.name} could not be shown equivalent` : 'the results differ';
}

export function signed(x: number): string {
  const text = Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6 ? Math.abs(x).toPrecision(4).replace(/\.?0+$/, '') : Math.abs(x).toExponential(3);
  return `${x < 0 ? '−' : '+'}${text}`;
}

function list(items: string[], max = 3): string {
  const shown = items.slice(0, max).join(', ');
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

/**
 * The most likely reason a failing gate failed, in the order people should suspect it:
 * data → config → environment → code → randomness/parallelism (which only `diagnose` can tell).
 */
export function rankCause(input: CauseInput): CauseFinding {
  const moved = movement(input);
  const { data, config, environment } = input.drift;
  if (data.length) return { cause: 'data', evidence: `${list(data.map((d) => `${d.path} ${d.change === 'modified' ? 'changed' : `was ${d.change}`}`))}, and ${moved}.` };
  if (config.length) {
    const keys = config.map((c) => `${c.file}: ${c.key} ${fmt(c.before)} → ${fmt(c.after)}`);
    return { cause: 'config', evidence: `${list(keys)}, and ${moved}.` };
  }
  const strongEnv = environment.filter(isStrong);
  if (strongEnv.length) return { cause: 'environment', evidence: `${list(strongEnv.map((e) => `${e.key} ${fmt(e.before)} → ${fmt(e.after)}`))}, and ${moved}.` };
  if (input.codeChanges?.length) return { cause: 'code', evidence: `the training code changed since the baseline (${list(input.codeChanges)}), and ${moved}.` };
  if (environment.length) return { cause: 'environment', evidence: `${list(environment.map((e) => `${e.key} ${fmt(e.before)} → ${fmt(e.after)}`))}, and ${moved}.` };
  return {
    cause: 'unknown',
    evidence: `nothing drifted${input.codeChanges === null ? ' that repro-gate can see (code changes unknown: the baseline commit is not in this clone)' : ''}, yet ${moved}: suspect unseeded randomness or parallel nondeterminism.`,
  };
}

function fmt(v: unknown): string {
  return v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v);
}

/** Gate settings the baseline was recorded with that a run now changes, as config drift on the gate's own file. */
export function diffSettings(before: Record<string, unknown>, after: Record<string, unknown>, file: string): ConfigDrift[] {
  const show = (v: unknown) => (v === undefined || v === null || typeof v !== 'object' ? (v as string | number | boolean | null | undefined) : JSON.stringify(v));
  return Object.keys(after)
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => ({ file, key, change: 'modified' as const, before: show(before[key]), after: show(after[key]) }));
}
