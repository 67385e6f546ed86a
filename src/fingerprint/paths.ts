import path from 'node:path';
import { GateError } from '../util/errors.js';
import { insideFolder } from '../util/paths.js';

/**
 * Resolves a config entry against the root and rejects one that escapes it.
 * `setting` names the config key (`data`, `config`) for the error message.
 */
export function resolveEntry(root: string, entry: string, setting: string): { abs: string; rel: string } {
  const base = path.resolve(root);
  if (entry.trim() === '') {
    throw new GateError(
      `An empty path is listed in ${setting}: in repro-gate.yml.`,
      `Remove the empty item from ${setting}:.`,
    );
  }
  const rel = insideFolder(entry, base);
  if (rel === undefined) {
    throw new GateError(
      `The ${setting}: entry "${entry}" points outside the project root (${base}).`,
      `List paths inside the repository, relative to ${base}, in ${setting}: in repro-gate.yml.`,
    );
  }
  return { abs: path.resolve(base, entry), rel };
}
