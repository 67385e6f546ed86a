/**
 * The topology of a distributed training as environment facts, under `distributed.`: world size,
 * ranks per node, nodes, backend and launcher as repro-gate.yml declares them, and the variables
 * that change how collectives are computed (which algorithm, protocol and transport NCCL picks
 * decides the order in which a reduction adds numbers). Every change to one is result-relevant.
 */
import type { GateConfig } from '../schema/config.js';

type Train = Pick<GateConfig['train'], 'launcher' | 'distributed'>;

/** Read by the probe inside the training's runtime (an image may set them too), as `distributed.env.NAME`. */
export const DISTRIBUTED_VARS = [
  'NCCL_ALGO',
  'NCCL_PROTO',
  'NCCL_P2P_DISABLE',
  'NCCL_P2P_LEVEL',
  'NCCL_IB_DISABLE',
  'NCCL_SHM_DISABLE',
  'NCCL_NET_GDR_LEVEL',
  'NCCL_MIN_NCHANNELS',
  'NCCL_MAX_NCHANNELS',
  'NCCL_NTHREADS',
  'NCCL_BUFFSIZE',
  'NCCL_CROSS_NIC',
  'NCCL_COLLNET_ENABLE',
  'NCCL_NVLS_ENABLE',
  'NCCL_TREE_THRESHOLD',
  'NCCL_LL_THRESHOLD',
  'NCCL_LL128_ENABLE',
  'TORCH_DISTRIBUTED_DEBUG',
  'TORCH_NCCL_ASYNC_ERROR_HANDLING',
  'TORCH_NCCL_AVOID_RECORD_STREAMS',
  'TORCH_NCCL_HIGH_PRIORITY',
  'OMP_NUM_THREADS',
] as const;

/** The facts the config declares; {} for a training that is not distributed. */
export function topologyFacts(train: Train): Record<string, string | number> {
  const d = train.distributed;
  if (!d) return {};
  return {
    'distributed.world-size': d['nproc-per-node'] * d.nnodes,
    'distributed.nproc-per-node': d['nproc-per-node'],
    'distributed.nnodes': d.nnodes,
    'distributed.backend': d.backend,
    'distributed.launcher': train.launcher === undefined ? 'none' : JSON.stringify(train.launcher),
  };
}

/**
 * The probe's facts for a distributed training: each rank's OMP_NUM_THREADS replaces the
 * single-process `env.OMP_NUM_THREADS` (one change, one drift entry), and torchrun's default of 1
 * thread per rank, which it sets when the variable is not, is written as such.
 */
export function withDistributedFacts<T extends Record<string, string | number | boolean>>(facts: T, train: Train): T {
  const d = train.distributed;
  if (!d) return facts;
  const out: Record<string, string | number | boolean> = { ...facts, ...topologyFacts(train) };
  delete out['env.OMP_NUM_THREADS'];
  const omp = 'distributed.env.OMP_NUM_THREADS';
  if (out[omp] === undefined && train.launcher === 'torchrun' && d['nproc-per-node'] > 1) out[omp] = '1';
  return out as T;
}
