import { describe, expect, it } from 'vitest';
import { lintDeterminism, lintDeterminismFindings } from '../src/diagnose/lint.js';

const ids = (...args: Parameters<typeof lintDeterminismFindings>) => lintDeterminismFindings(...args).map((f) => f.id);
const CLEAN = { PYTHONHASHSEED: '0', OMP_NUM_THREADS: '1' };

describe('lintDeterminism', () => {
  it('flags PyTorch on a GPU without CUBLAS_WORKSPACE_CONFIG, saying what to set and where', () => {
    const msgs = lintDeterminism({ 'package.torch': '2.4.0', 'gpu.count': 1 }, CLEAN, 'none');
    expect(msgs).toEqual([
      'PyTorch on a GPU without CUBLAS_WORKSPACE_CONFIG=:4096:8 (or :16:8): cuBLAS may pick nondeterministic algorithms; set CUBLAS_WORKSPACE_CONFIG: ":4096:8" in train.env in repro-gate.yml and call torch.use_deterministic_algorithms(True) (and torch.backends.cudnn.benchmark = False) in the training script.',
    ]);
  });

  it('sees the GPU from the config, the probe, or torch itself — unless CUDA_VISIBLE_DEVICES hides it', () => {
    const torch = { 'package.torch': '2.4.0' };
    expect(ids(torch, CLEAN, 'none')).toEqual([]);
    expect(ids(torch, CLEAN, 'all')).toEqual(['cublas-workspace']);
    expect(ids(torch, CLEAN, 2)).toEqual(['cublas-workspace']);
    expect(ids({ ...torch, 'torch.cuda_available': true }, CLEAN, 'none')).toEqual(['cublas-workspace']);
    expect(ids({ ...torch, 'gpu.count': 4 }, { ...CLEAN, CUDA_VISIBLE_DEVICES: '' }, 'none')).toEqual([]);
    expect(ids({ ...torch, 'gpu.count': 4, 'env.CUDA_VISIBLE_DEVICES': '-1' }, CLEAN, 'none')).toEqual([]);
  });

  it('accepts :4096:8 and :16:8 from train.env or the fingerprint, and names a wrong value', () => {
    const env = { 'package.torch': '2.4.0', 'gpu.count': 1 };
    expect(ids(env, { ...CLEAN, CUBLAS_WORKSPACE_CONFIG: ':4096:8' }, 'all')).toEqual([]);
    expect(ids({ ...env, 'env.CUBLAS_WORKSPACE_CONFIG': ':16:8' }, CLEAN, 'all')).toEqual([]);
    expect(lintDeterminism(env, { ...CLEAN, CUBLAS_WORKSPACE_CONFIG: ':1:1' }, 'all')[0]).toContain('(it is ":1:1")');
    // train.env wins over what the last probe saw.
    expect(
      ids({ ...env, 'env.CUBLAS_WORKSPACE_CONFIG': ':4096:8' }, { ...CLEAN, CUBLAS_WORKSPACE_CONFIG: 'x' }, 'all'),
    ).toEqual(['cublas-workspace']);
  });

  it('warns when PYTHONHASHSEED is unset or random', () => {
    expect(ids({}, { OMP_NUM_THREADS: '1' }, 'none')).toEqual(['pythonhashseed']);
    expect(ids({ 'env.PYTHONHASHSEED': 'random' }, { OMP_NUM_THREADS: '1' }, 'none')).toEqual(['pythonhashseed']);
    expect(ids({ 'env.PYTHONHASHSEED': '42' }, { OMP_NUM_THREADS: '1' }, 'none')).toEqual([]);
    expect(lintDeterminism({}, { OMP_NUM_THREADS: '1' }, 'none')[0]).toMatch(
      /PYTHONHASHSEED is not set.*set PYTHONHASHSEED: "0" in train\.env in repro-gate\.yml/,
    );
  });

  it('warns about TensorFlow without TF_DETERMINISTIC_OPS=1', () => {
    expect(ids({ 'package.tensorflow': '2.16.1', 'gpu.count': 1 }, CLEAN, 'all')).toEqual(['tf-deterministic-ops']);
    expect(
      ids(
        { 'package.tensorflow-cpu': '2.16.1' },
        { ...CLEAN, TF_DETERMINISTIC_OPS: '1', TF_ENABLE_ONEDNN_OPTS: '0' },
        'none',
      ),
    ).toEqual([]);
    const msgs = lintDeterminism(
      { 'package.tensorflow': '2.16.1', 'gpu.count': 1 },
      { ...CLEAN, TF_CUDNN_DETERMINISTIC: '1' },
      'all',
    );
    expect(msgs[0]).toMatch(
      /TensorFlow without TF_DETERMINISTIC_OPS=1 \(TF_CUDNN_DETERMINISTIC covers only cuDNN\).*TF_DETERMINISTIC_OPS: "1" in train\.env/,
    );
    expect(ids({ 'package.tensorflow': '2.16.1' }, { ...CLEAN, TF_DETERMINISTIC_OPS: 'true' }, 'none')).toEqual([
      'tf-onednn',
    ]);
  });

  it('warns about JAX on a GPU without deterministic XLA ops', () => {
    expect(ids({ 'package.jax': '0.4.30', 'gpu.count': 1 }, CLEAN, 'all')).toEqual(['xla-deterministic-ops']);
    expect(
      ids(
        { 'package.jax': '0.4.30', 'gpu.count': 1 },
        { ...CLEAN, XLA_FLAGS: '--xla_dump_to=/tmp --xla_gpu_deterministic_ops=true' },
        'all',
      ),
    ).toEqual([]);
    expect(ids({ 'package.jax': '0.4.30' }, CLEAN, 'none')).toEqual([]);
  });

  it('treats multi-threaded BLAS and MKL code paths as information only', () => {
    const findings = lintDeterminismFindings(
      { blas: 'mkl-sdl 2023.1', 'env.PYTHONHASHSEED': '0' },
      { OMP_NUM_THREADS: '8' },
      'none',
    );
    expect(findings.map((f) => [f.id, f.severity])).toEqual([
      ['blas-threads', 'info'],
      ['mkl-cbwr', 'info'],
    ]);
    const msgs = lintDeterminism({ 'env.PYTHONHASHSEED': '0' }, {}, 'none');
    expect(msgs).toEqual([
      expect.stringMatching(
        /^Info: Multi-threaded BLAS\/OpenMP \(OMP_NUM_THREADS not set\).*OMP_NUM_THREADS: "1".*in train\.env in repro-gate\.yml\.$/,
      ),
    ]);
    expect(ids({}, { ...CLEAN, MKL_CBWR: 'COMPATIBLE' }, 'none')).toEqual([]);
  });

  it('says nothing for a clean CPU-only scikit-learn setup', () => {
    expect(
      lintDeterminism(
        { 'package.scikit-learn': '1.5.0', 'package.numpy': '2.0.0', blas: 'scipy-openblas 0.3.27' },
        CLEAN,
        'none',
      ),
    ).toEqual([]);
  });

  it('NCCL with its algorithm or protocol unpinned is a warning; a distributed rank’s threads count as set', () => {
    const facts = {
      'distributed.backend': 'nccl',
      'distributed.env.OMP_NUM_THREADS': '1',
    };
    expect(ids(facts, { PYTHONHASHSEED: '0' }, 'none')).toEqual(['nccl-algo']);
    expect(lintDeterminismFindings(facts, { PYTHONHASHSEED: '0', NCCL_ALGO: 'Ring' }, 'none')[0]?.message).toMatch(
      /^NCCL without NCCL_PROTO: .* set NCCL_ALGO: "Ring" and NCCL_PROTO: "Simple" in train\.env in repro-gate\.yml/,
    );
    expect(ids(facts, { PYTHONHASHSEED: '0', NCCL_ALGO: 'Ring', NCCL_PROTO: 'Simple' }, 'none')).toEqual([]);
    expect(ids({ ...facts, 'distributed.backend': 'gloo' }, { PYTHONHASHSEED: '0' }, 'none')).toEqual([]);
  });

  it('gives every warning a where-to-set-it', () => {
    const all = lintDeterminism(
      { 'package.torch': '2', 'package.tensorflow': '2', 'package.jax': '0.4', 'gpu.count': 2, blas: 'mkl' },
      {},
      'all',
    );
    expect(all.length).toBe(6);
    for (const m of all) expect(m).toContain('train.env in repro-gate.yml');
  });
});
