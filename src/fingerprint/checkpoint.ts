/**
 * Checkpoints compared by content: the training's own Python reads a torch checkpoint's pickle
 * without running it (checkpoint-script.ts) and lists every leaf; tensors are hashed, other leaves
 * kept as values, and the run's output folder is normalised to "{out}". When torch is missing or the
 * file cannot be read that way, the caller falls back to bytes and says why.
 */
import { createHash } from 'node:crypto';
import type { CheckpointContent } from '../schema/baseline.js';
import { compareBytes } from '../util/bytes.js';
import { CHECKPOINT_MARK, CHECKPOINT_PY } from './checkpoint-script.js';
import { type PythonContext, runPythonScript } from './python.js';

/** Artifacts read as checkpoints. */
export const CHECKPOINT_FILE = /\.(pt|pth|ckpt)$/i;

type Leaf = { tensor: string; shape: number[]; sha256: string } | { value: unknown };

function digest(lines: string[]): string {
  return createHash('sha256').update(lines.sort(compareBytes).join('\n')).digest('hex');
}

/** Pure: the script's leaves as the baseline keeps them. */
function checkpointContent(leaves: Record<string, Leaf>, embedsOut: string[]): CheckpointContent {
  const entries = Object.entries(leaves).map(([key, leaf]): [string, string] => [
    key,
    'tensor' in leaf ? `${leaf.tensor}[${leaf.shape.join(',')}] ${leaf.sha256}` : JSON.stringify(leaf.value),
  ]);
  const tensors = entries.filter(([k]) => {
    const l = leaves[k];
    return l !== undefined && 'tensor' in l;
  });
  const values = entries.filter(([k]) => {
    const l = leaves[k];
    return l !== undefined && !('tensor' in l);
  });
  return {
    format: 'torch',
    tensors: digest(tensors.map(([k, v]) => `${k}\t${v}`)),
    values: digest(values.map(([k, v]) => `${k}\t${v}`)),
    leaves: Object.fromEntries(entries.sort((a, b) => compareBytes(a[0], b[0]))),
    embedsOut: [...embedsOut].sort(compareBytes),
  };
}

/**
 * Reads one checkpoint. `file` is its path on the host, `out` the run's output folder as the
 * training saw it. Returns the content, or why it could not be read (then compare bytes).
 */
export async function readCheckpoint(
  python: PythonContext,
  file: string,
  out: string,
): Promise<{ content: CheckpointContent } | { problem: string }> {
  const r = await runPythonScript(
    python,
    CHECKPOINT_PY,
    ['describe', python.runtime.pathFor(file), out],
    CHECKPOINT_MARK,
  );
  if (!r.ok) return { problem: r.problem };
  const doc = r.doc as { leaves?: Record<string, Leaf>; embeds?: string[]; unavailable?: string; error?: string };
  if (doc.unavailable) return { problem: doc.unavailable };
  if (doc.error || !doc.leaves)
    return { problem: `it could not be read as a torch checkpoint (${doc.error ?? 'no content'})` };
  return { content: checkpointContent(doc.leaves, doc.embeds ?? []) };
}

export interface CheckpointDiff {
  arrays: Array<Record<string, unknown> & { name: string; status: string }>;
  metadata: Array<{ path: string; before: unknown; after: unknown }>;
  embeds: string[];
}

/** Two runs' checkpoints, tensor by tensor (for diagnose), or why they could not be read. */
export async function diffCheckpoints(
  python: PythonContext,
  a: { file: string; out: string },
  b: { file: string; out: string },
): Promise<{ diff: CheckpointDiff } | { problem: string }> {
  const path = (f: string) => python.runtime.pathFor(f);
  const r = await runPythonScript(
    python,
    CHECKPOINT_PY,
    ['diff', path(a.file), path(b.file), a.out, b.out],
    CHECKPOINT_MARK,
  );
  if (!r.ok) return { problem: r.problem };
  const doc = r.doc as Partial<CheckpointDiff> & { unavailable?: string; error?: string };
  if (doc.unavailable) return { problem: doc.unavailable };
  if (doc.error || !doc.arrays)
    return { problem: `it could not be read as a torch checkpoint (${doc.error ?? 'no content'})` };
  return { diff: { arrays: doc.arrays, metadata: doc.metadata ?? [], embeds: doc.embeds ?? [] } };
}
