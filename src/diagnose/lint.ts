/**
 * Determinism lint: settings that commonly make a training nondeterministic, read from the
 * environment fingerprint (the probe's keys: `package.torch`, `gpu.count`, `torch.cuda_available`,
 * `env.CUBLAS_WORKSPACE_CONFIG`, …) and the config's `train.env`. Pure; every message says what to
 * set and where (train.env in repro-gate.yml).
 */

type LintSeverity = 'warning' | 'info';

export interface LintFinding {
  /** Stable id, e.g. `cublas-workspace`. */
  id: string;
  severity: LintSeverity;
  message: string;
}

type EnvFacts = Record<string, string | number | boolean>;
type Gpus = 'none' | 'all' | number;

const TF_PACKAGES = [
  'tensorflow',
  'tensorflow-cpu',
  'tensorflow-gpu',
  'tensorflow-intel',
  'tensorflow-macos',
  'tf-nightly',
  'tf-keras',
];
const VALID_CUBLAS = new Set([':4096:8', ':16:8']);

function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && /^(true|1|yes)$/i.test(v.trim())) || (typeof v === 'number' && v > 0);
}

/**
 * Whether training sees a GPU: the config asks for one, or the probe (which runs where training
 * runs) found one — unless CUDA_VISIBLE_DEVICES hides them all.
 */
function usesGpu(env: EnvFacts, variable: (n: string) => string | undefined, gpus: Gpus): boolean {
  const visible = variable('CUDA_VISIBLE_DEVICES');
  if (visible !== undefined && /^\s*(-1)?\s*$/.test(visible)) return false;
  return (
    gpus !== 'none' ||
    Number(env['gpu.count'] ?? 0) > 0 ||
    truthy(env['torch.cuda_available']) ||
    Number(env['torch.gpu_count'] ?? 0) > 0
  );
}

export function lintDeterminismFindings(env: EnvFacts, trainEnv: Record<string, string>, gpus: Gpus): LintFinding[] {
  // train.env wins: it is what the user edits, and what the next run will use.
  const variable = (name: string): string | undefined => {
    if (Object.hasOwn(trainEnv, name)) return trainEnv[name];
    // A distributed training's ranks: what each inherits (torchrun's 1 thread when OMP is unset).
    const v = env[`env.${name}`] ?? env[`distributed.env.${name}`];
    return v === undefined ? undefined : String(v);
  };
  const installed = (...pkgs: string[]) => pkgs.some((p) => env[`package.${p}`] !== undefined);
  const gpu = usesGpu(env, variable, gpus);
  const out: LintFinding[] = [];
  const where = 'in train.env in repro-gate.yml';

  if (installed('torch') && gpu) {
    const cublas = variable('CUBLAS_WORKSPACE_CONFIG');
    if (cublas === undefined || !VALID_CUBLAS.has(cublas.trim())) {
      out.push({
        id: 'cublas-workspace',
        severity: 'warning',
        message: `PyTorch on a GPU without CUBLAS_WORKSPACE_CONFIG=:4096:8 (or :16:8)${cublas === undefined ? '' : ` (it is ${JSON.stringify(cublas)})`}: cuBLAS may pick nondeterministic algorithms; set CUBLAS_WORKSPACE_CONFIG: ":4096:8" ${where} and call torch.use_deterministic_algorithms(True) (and torch.backends.cudnn.benchmark = False) in the training script.`,
      });
    }
  }

  const hashSeed = variable('PYTHONHASHSEED');
  if (hashSeed === undefined || hashSeed.trim() === '' || hashSeed.trim() === 'random') {
    out.push({
      id: 'pythonhashseed',
      severity: 'warning',
      message: `PYTHONHASHSEED is ${hashSeed === undefined ? 'not set' : JSON.stringify(hashSeed)}: Python randomises str and bytes hashes per process, so set iteration order (and anything derived from hash()) can change between runs; set PYTHONHASHSEED: "0" ${where} (setting it inside the script is too late).`,
    });
  }

  if (installed(...TF_PACKAGES)) {
    const ops = variable('TF_DETERMINISTIC_OPS');
    if (!truthy(ops)) {
      const legacy = truthy(variable('TF_CUDNN_DETERMINISTIC')) ? ' (TF_CUDNN_DETERMINISTIC covers only cuDNN)' : '';
      out.push({
        id: 'tf-deterministic-ops',
        severity: 'warning',
        message: `TensorFlow without TF_DETERMINISTIC_OPS=1${legacy}: ${gpu ? 'GPU kernels (and some CPU ops)' : 'some ops'} may run nondeterministically; set TF_DETERMINISTIC_OPS: "1" ${where}, or call tf.config.experimental.enable_op_determinism() (TensorFlow 2.9+) in the training script.`,
      });
    }
    if (!gpu && variable('TF_ENABLE_ONEDNN_OPTS') === undefined) {
      out.push({
        id: 'tf-onednn',
        severity: 'info',
        message: `TensorFlow on CPU uses oneDNN kernels whose floating-point results can differ with the CPU model and thread count; if results differ between runners, set TF_ENABLE_ONEDNN_OPTS: "0" ${where}.`,
      });
    }
  }

  if (installed('jax', 'jaxlib') && gpu) {
    const flags = variable('XLA_FLAGS') ?? '';
    if (!/--xla_gpu_deterministic_ops(=true)?(\s|$)/.test(flags)) {
      out.push({
        id: 'xla-deterministic-ops',
        severity: 'warning',
        message: `JAX on a GPU without --xla_gpu_deterministic_ops=true in XLA_FLAGS: XLA may use nondeterministic reductions (e.g. atomics in scatter); set XLA_FLAGS: "--xla_gpu_deterministic_ops=true" ${where} (appending to any flags already there).`,
      });
    }
  }

  if (env['distributed.backend'] === 'nccl') {
    const unpinned = ['NCCL_ALGO', 'NCCL_PROTO'].filter((n) => variable(n) === undefined);
    if (unpinned.length) {
      out.push({
        id: 'nccl-algo',
        severity: 'warning',
        message: `NCCL without ${unpinned.join(' and ')}: NCCL picks its collective algorithm and protocol by message size and topology, and each adds the ranks' numbers in its own order, so all-reduce results can change between runs and machines; set NCCL_ALGO: "Ring" and NCCL_PROTO: "Simple" ${where} (and keep the world size fixed).`,
      });
    }
  }

  const omp = variable('OMP_NUM_THREADS');
  const threads = omp === undefined ? NaN : Number(omp.trim());
  if (omp === undefined || !(threads === 1)) {
    out.push({
      id: 'blas-threads',
      severity: 'info',
      message: `Multi-threaded BLAS/OpenMP (OMP_NUM_THREADS ${omp === undefined ? 'not set' : `= ${JSON.stringify(omp)}`}): parallel reductions can add in a different order on a runner with a different core count, so results may change in the last bits between machines; if they do, set OMP_NUM_THREADS: "1" (and MKL_NUM_THREADS / OPENBLAS_NUM_THREADS) ${where}.`,
    });
  }

  const blas = String(env.blas ?? '').toLowerCase();
  if ((blas.includes('mkl') || installed('mkl')) && variable('MKL_CBWR') === undefined) {
    out.push({
      id: 'mkl-cbwr',
      severity: 'info',
      message: `NumPy uses MKL, which picks code paths by CPU model, so results can differ between runners; for bitwise-reproducible results across CPUs set MKL_CBWR: "COMPATIBLE" (or "AVX2") ${where}.`,
    });
  }
  return out;
}

/** The findings as messages; informational ones start with "Info: ". */
export function lintDeterminism(env: EnvFacts, trainEnv: Record<string, string>, gpus: Gpus): string[] {
  return lintDeterminismFindings(env, trainEnv, gpus).map((f) =>
    f.severity === 'info' ? `Info: ${f.message}` : f.message,
  );
}
