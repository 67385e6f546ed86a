/** Environment fingerprint diffs, ordered by how strongly each key explains a numerical change. */
import type { EnvironmentFingerprint } from '../schema/baseline.js';
import type { EnvironmentDrift } from '../schema/report.js';

/**
 * Environment keys by how strongly they explain a numerical change: the image, the distributed
 * topology (world size, backend, collective settings), interpreter,
 * numerical packages, GPU stack, BLAS and determinism variables do; kernel and CPU model rarely do
 * on their own but still show. Lower rank = listed first.
 */
function envRank(key: string): number {
  if (key.startsWith('image')) return 0;
  // The declared topology and collective settings: fewer or more ranks change how sums are formed.
  if (key.startsWith('distributed.')) return key === 'distributed.world-size' ? 0.5 : 1;
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
const NUMERIC_PACKAGE =
  /^(numpy|scipy|torch\w*|tensorflow[\w-]*|tf-\w+|keras|jax\w*|flax|optax|scikit-learn|pandas|xgboost|lightgbm|catboost|numba|cupy[\w-]*|triton|nvidia-[\w-]+|mkl[\w-]*|intel-openmp|openblas\w*|scipy-openblas\w*|transformers|accelerate|datasets|tokenizers|safetensors|onnx\w*|deepspeed|apex|xformers|timm|sentencepiece|statsmodels)$/;

export function isStrong(e: Pick<EnvironmentDrift, 'key' | 'change'>): boolean {
  // A package appearing or disappearing is rarely imported by the training; a version change of a numerical one is.
  if (e.key.startsWith('package.') && e.change !== 'modified') return false;
  return envRank(e.key) <= STRONG_ENV_RANK;
}

export function diffEnvironment(before: EnvironmentFingerprint, after: EnvironmentFingerprint): EnvironmentDrift[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const out: EnvironmentDrift[] = [];
  for (const key of keys) {
    const b = Object.hasOwn(before, key) ? before[key] : undefined;
    const a = Object.hasOwn(after, key) ? after[key] : undefined;
    if (b === a) continue;
    const entry: EnvironmentDrift = {
      key,
      change: b === undefined ? 'added' : a === undefined ? 'removed' : 'modified',
    };
    if (b !== undefined) entry.before = b;
    if (a !== undefined) entry.after = a;
    out.push(entry);
  }
  return out.sort((x, y) => envRank(x.key) - envRank(y.key) || (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}
