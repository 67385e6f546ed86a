/**
 * Data fingerprints: SHA-256 of the full content of every file under the config's `data:` entries,
 * as a flat manifest keyed by POSIX path relative to the root, plus a pure diff of two manifests.
 *
 * Walk rules:
 * - Folders are walked recursively; names are visited in byte order and the manifest's keys are
 *   sorted by byte order of the full path, so the result never depends on the file system.
 * - Symlinks are followed, to files and to folders, and recorded under the link's own path with the
 *   target's content (a data folder that links to `/mnt/datasets/...` is fingerprinted, not skipped).
 *   A link back to a folder that is already being walked (a cycle) is skipped.
 * - A broken symlink is an error: training could not read it either, and silently skipping it would
 *   hide exactly the kind of drift this gate exists to catch.
 * - Other special files (FIFOs, sockets, devices) inside folders are skipped; listing one directly
 *   in `data:` is an error.
 * - An entry must stay inside the root lexically (`../x` or an outside absolute path is an error);
 *   symlink targets may live anywhere, since it is their content that is hashed.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { DataFingerprint, FileEntry } from '../schema/baseline.js';
import { sortBytesBy } from '../util/bytes.js';
import { GateError } from '../util/errors.js';
import { resolveEntry } from './paths.js';

/** Big enough that per-read overhead (a threadpool round trip) is negligible next to hashing. */
const CHUNK = 1 << 20;
/** Enough overlap for many small files' open/read/close syscalls; hashing itself is one thread. */
const POOL = 4;

function join(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}

/** Collects regular files (key → absolute path) under one walked folder. */
async function walk(abs: string, rel: string, out: Map<string, string>, ancestors: Set<string>): Promise<void> {
  const dirents = await readdir(abs, { withFileTypes: true });
  for (const d of sortBytesBy(dirents, (x) => x.name)) {
    const { name } = d;
    const childAbs = path.join(abs, name);
    const childRel = join(rel, name);
    let st: Stats | undefined;
    if (d.isSymbolicLink()) {
      st = await stat(childAbs).catch(() => undefined);
      if (!st) {
        throw new GateError(
          `Data file ${childRel} is a broken symlink.`,
          'Restore its target (e.g. pull the data), remove the link, or narrow data: in repro-gate.yml.',
        );
      }
    }
    if (st ? st.isFile() : d.isFile()) {
      out.set(childRel, childAbs);
    } else if (st ? st.isDirectory() : d.isDirectory()) {
      const s = st ?? (await stat(childAbs));
      const id = `${s.dev}:${s.ino}`;
      if (ancestors.has(id)) continue; // a symlink cycle back to a folder already on the path
      ancestors.add(id);
      await walk(childAbs, childRel, out, ancestors);
      ancestors.delete(id);
    }
    // FIFOs, sockets and devices: not data, and reading a FIFO would block forever.
  }
}

async function hashFile(abs: string, rel: string, buf: Buffer): Promise<FileEntry> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    const fh = await open(abs, 'r');
    try {
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        hash.update(buf.subarray(0, bytesRead)); // copied into the hash state now, so buf can be reused
        size += bytesRead;
      }
    } finally {
      await fh.close();
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new GateError(
      `Cannot read data file ${rel} (${code}).`,
      'Check that the file exists and is readable by the runner.',
    );
  }
  return { sha256: hash.digest('hex'), size };
}

/** Fingerprints the `data:` entries (files or folders, relative to `root`). */
export async function fingerprintData(entries: string[], root: string): Promise<DataFingerprint> {
  const found = new Map<string, string>(); // overlapping entries (`data/`, `data/a.csv`) dedupe here
  for (const entry of entries) {
    const { abs, rel } = resolveEntry(root, entry, 'data');
    const st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ENOTDIR' || err.code === 'ELOOP') return undefined;
      throw new GateError(`Cannot access data path ${entry} (${err.code ?? err}).`, 'Check its permissions.');
    });
    if (!st) {
      throw new GateError(
        `Data path "${entry}" listed in data: does not exist (looked for ${abs}).`,
        `Fix the data: list in repro-gate.yml (paths are relative to ${path.resolve(root)}), or create the file.`,
      );
    }
    if (st.isFile()) found.set(rel, abs);
    else if (st.isDirectory()) await walk(abs, rel, found, new Set([`${st.dev}:${st.ino}`]));
    else {
      throw new GateError(
        `Data path "${entry}" is not a regular file or folder.`,
        'List files or folders in data: in repro-gate.yml.',
      );
    }
  }

  // Hash with a small pool; results are keyed, so completion order doesn't matter.
  // One iterator shared by the workers: each takes the next file when it is free.
  const todo = [...found].values();
  const hashed = new Map<string, FileEntry>();
  const worker = async () => {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (const [rel, abs] of todo) hashed.set(rel, await hashFile(abs, rel, buf));
  };
  await Promise.all(Array.from({ length: Math.min(POOL, found.size) }, worker));

  // fromEntries (not assignment) so even a file named `__proto__` becomes a key.
  return { files: Object.fromEntries(sortBytesBy(hashed, ([rel]) => rel)) };
}
