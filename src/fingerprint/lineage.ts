/**
 * Declared data lineage: for each `data:` entry that says where it came from, the snapshot id, the
 * extraction query's text (inline or from a file in the project) and the SHA-256 of every
 * preprocessing file. Part of the data fingerprint, so a changed query or script is data drift.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Lineage } from '../schema/baseline.js';
import type { DataEntry } from '../schema/config.js';
import { GateError } from '../util/errors.js';
import { MIB, readLimitedText } from '../util/files.js';
import { isWithin } from '../util/paths.js';
import { fingerprintData } from './data.js';

export async function fingerprintLineage(
  entries: readonly DataEntry[],
  root: string,
  warn: (m: string) => void,
): Promise<Record<string, Lineage> | undefined> {
  const out: Array<[string, Lineage]> = [];
  for (const d of entries) {
    if (d.source === undefined && d.query === undefined && d.preprocess.length === 0) continue;
    const lineage: Lineage = { preprocess: {} };
    if (d.source !== undefined) lineage.source = d.source;
    if (typeof d.query === 'string') lineage.query = d.query;
    else if (d.query) {
      lineage.queryFile = d.query.file;
      lineage.query = await readQuery(root, d.path, d.query.file);
    }
    if (d.preprocess.length) {
      const scripts = await fingerprintData(d.preprocess, root, { warn });
      lineage.preprocess = Object.fromEntries(Object.entries(scripts.files).map(([f, e]) => [f, e.sha256]));
    }
    out.push([d.path, lineage]);
  }
  return out.length ? Object.fromEntries(out) : undefined;
}

/**
 * The query's text is shown in reports, so, as for config: files, it must be the project's own: a
 * symlink out of the project (or into a .git folder, which may hold a token) is refused, not followed.
 */
async function readQuery(root: string, entry: string, file: string): Promise<string> {
  const abs = path.resolve(root, file);
  const real = await realpath(abs).catch(() => undefined);
  const realRoot = await realpath(root);
  if (
    real !== undefined &&
    (!isWithin(realRoot, real) || path.relative(realRoot, real).split(path.sep).includes('.git'))
  )
    throw new GateError(
      `The query file ${file} of data: entry "${entry}" resolves to ${real}, outside the project's own files; it is not read.`,
      'Query text is shown in reports: keep the query file in the repository itself (a symlink to a file elsewhere is not followed).',
    );
  try {
    return await readLimitedText(abs, {
      name: `The query file ${file} of data: entry "${entry}"`,
      maxBytes: MIB,
      what: 'a query file',
      hint: 'Keep the extraction query in a file under 1 MiB, or give it inline as query: "SELECT …".',
    });
  } catch (err) {
    if (err instanceof GateError) throw err;
    throw new GateError(
      `Cannot read the query file ${file} of data: entry "${entry}" (${(err as NodeJS.ErrnoException).code ?? err}).`,
      'Fix query.file in repro-gate.yml (relative to the config file), or give the query inline.',
    );
  }
}
