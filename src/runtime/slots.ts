/**
 * How `train.parallel: N` shares one runner between N seeds (pure): each slot gets an equal block
 * of cores, and with GPUs an equal block of devices, so concurrent seeds do not fight over the same
 * cores or GPU memory.
 */
import { GateError } from '../util/errors.js';
import type { Slot } from './types.js';

/** Thread variables set per slot (unless train.env sets them), so a slot uses only its cores. */
export const THREAD_VARIABLES = ['OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS'] as const;

export function planSlots(parallel: number, cpuCount: number, gpuCount?: number): Slot[] {
  if (parallel < 2) return [];
  const cpuShare = Math.max(1, Math.floor(cpuCount / parallel));
  let gpuShare = 0;
  if (gpuCount !== undefined) {
    gpuShare = Math.floor(gpuCount / parallel);
    if (gpuShare < 1) {
      throw new GateError(
        `train.parallel is ${parallel}, but the training uses ${gpuCount} GPU(s): each seed needs a GPU of its own.`,
        `Set train.parallel to at most ${Math.max(1, gpuCount)} in repro-gate.yml.`,
      );
    }
  }
  return Array.from({ length: parallel }, (_, k) => {
    // With more slots than cores, slots share cores round-robin rather than all piling on core 0.
    const first = (k * cpuShare) % Math.max(cpuCount, 1);
    const last = Math.min(first + cpuShare, Math.max(cpuCount, 1)) - 1;
    const cpus = first === last ? String(first) : `${first}-${last}`;
    if (!gpuShare) return { cpus };
    const gpus = Array.from({ length: gpuShare }, (_, i) => k * gpuShare + i).join(',');
    return { cpus, gpus };
  });
}

/** Threads per slot for the thread variables: the slot's core count. */
export function slotThreads(slot: Slot): number {
  const [a, b] = slot.cpus.split('-').map(Number);
  return b === undefined ? 1 : (b ?? 0) - (a ?? 0) + 1;
}
