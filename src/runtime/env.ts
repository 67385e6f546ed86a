/**
 * The training process's environment is built, never inherited: runner variables pass only from
 * this allowlist, so tokens (GITHUB_TOKEN, ACTIONS_RUNTIME_TOKEN, cloud keys) can never reach it.
 */

/** Runner variables a training may legitimately need to start (toolchains, GPUs, locale). */
const PASSTHROUGH_VARS = [
  'PATH',
  'HOME',
  'USER',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'LD_LIBRARY_PATH',
  'CUDA_HOME',
  'CUDA_PATH',
  'CUDA_VISIBLE_DEVICES',
  'NVIDIA_VISIBLE_DEVICES',
  'VIRTUAL_ENV',
  'CONDA_PREFIX',
  'CONDA_DEFAULT_ENV',
  'PYENV_ROOT',
  'PYENV_VERSION',
  'PYTHONPATH',
  // Some BLAS builds crash or compute wrong results on newer CPUs without these.
  'OPENBLAS_CORETYPE',
  'OPENBLAS_L2_SIZE',
] as const;

/** Variables that change numerical results or their determinism; recorded in the environment fingerprint. */
export const DETERMINISM_VARS = [
  'PYTHONHASHSEED',
  'CUBLAS_WORKSPACE_CONFIG',
  'CUDA_LAUNCH_BLOCKING',
  'NVIDIA_TF32_OVERRIDE',
  'OMP_NUM_THREADS',
  'MKL_NUM_THREADS',
  'OPENBLAS_NUM_THREADS',
  'NUMEXPR_NUM_THREADS',
  'VECLIB_MAXIMUM_THREADS',
  'MKL_CBWR',
  'OPENBLAS_CORETYPE',
  'TF_DETERMINISTIC_OPS',
  'TF_CUDNN_DETERMINISTIC',
  'TF_ENABLE_ONEDNN_OPTS',
  'XLA_FLAGS',
  'CUDA_VISIBLE_DEVICES',
  'PYTHONPATH',
  'REPRO_GATE_DETERMINISTIC',
] as const;

/** Allowlisted runner variables, overridden by `env` (the config's train.env and the gate's own). */
export function trainingEnv(runnerEnv: NodeJS.ProcessEnv, env: Record<string, string>): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of PASSTHROUGH_VARS) {
    const value = runnerEnv[name];
    if (value !== undefined) passed[name] = value;
  }
  return { ...passed, ...env };
}
