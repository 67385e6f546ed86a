/**
 * git-LFS pointer files in `data:`. A pointer's `oid sha256:…` *is* the SHA-256 of the content it
 * stands for, so a clone without the content (GIT_LFS_SKIP_SMUDGE=1, or `lfs: false` in CI) gets the
 * same data fingerprint as a full clone, without downloading anything. A file that is checked out is
 * hashed as usual, which verifies its content rather than trusting the pointer.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { GateError } from '../util/errors.js';
import { lfsObjectStore } from './git.js';

export interface LfsPointer {
  oid: string;
  size: number;
}

/**
 * Pure: the pointer a file's text holds, or undefined when it is not one. The spec's format: lines
 * `key value\n`, `version` first, keys in order, `oid sha256:<64 hex>` and `size <bytes>` present.
 */
export function parseLfsPointer(text: string): LfsPointer | undefined {
  if (!text.endsWith('\n')) return undefined;
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== 'version https://git-lfs.github.com/spec/v1') return undefined;
  const keys: string[] = [];
  let oid: string | undefined;
  let size: number | undefined;
  for (const line of lines.slice(1)) {
    const m = /^([a-z0-9.-]+) (\S.*)$/.exec(line);
    if (!m) return undefined;
    const [, key, value] = m as unknown as [string, string, string];
    if (keys.length && (keys.at(-1) as string) >= key) return undefined;
    keys.push(key);
    if (key === 'oid') oid = /^sha256:([0-9a-f]{64})$/.exec(value)?.[1];
    if (key === 'size' && /^\d{1,15}$/.test(value)) size = Number(value);
  }
  return oid && size !== undefined ? { oid, size } : undefined;
}

/**
 * For a verb that trains: the training would read a pointer's text instead of the data, so a
 * pointer that is not checked out is an error that says which command brings the content.
 */
export async function refuseLfsPointers(root: string, pointers: ReadonlyMap<string, LfsPointer>): Promise<void> {
  const first = pointers.entries().next().value;
  if (!first) return;
  const [rel, { oid }] = first;
  const store = await lfsObjectStore(root);
  const local =
    store &&
    (await access(path.join(store, oid.slice(0, 2), oid.slice(2, 4), oid)).then(
      () => true,
      () => false,
    ));
  const more = pointers.size > 1 ? ` (and ${pointers.size - 1} more)` : '';
  throw new GateError(
    local
      ? `Data file ${rel}${more} is a git-LFS pointer, not its content: the object ${oid.slice(0, 12)}… is in this clone's LFS store but not checked out, so the training would read the pointer.`
      : `Data file ${rel}${more} is a git-LFS pointer whose object ${oid.slice(0, 12)}… is missing from this clone (${store ?? '.git/lfs/objects'}), so the training would read the pointer, not the data.`,
    local
      ? 'Run `git lfs checkout` before training (drift needs no content: it fingerprints the pointer).'
      : 'Run `git lfs pull` (in CI: actions/checkout with `lfs: true`) before training; `repro-gate drift` works without the content.',
  );
}
