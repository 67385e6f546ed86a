import path from 'node:path';

/** A relative path as the report and baseline spell it, `/`-separated on every platform. */
export function toPosix(rel: string): string {
  return rel.split(path.sep).join('/');
}

/**
 * Pure, lexical: `entry` relative to `root` as a POSIX path if it stays inside it ('' for the root
 * itself), else undefined. No file system access: symlinks are checked when reading (files.ts).
 * Without a `root` (a folder not known yet, such as a run's output folder) an absolute entry and
 * any `..` that climbs out are outside.
 */
export function insideFolder(entry: string, root?: string): string | undefined {
  if (root === undefined) {
    if (path.isAbsolute(entry)) return undefined;
    const normal = path.normalize(entry).replace(/[\\/]+$/, '') || '.';
    if (normal === '..' || normal.startsWith(`..${path.sep}`)) return undefined;
    return normal === '.' ? '' : toPosix(normal);
  }
  const base = path.resolve(root);
  const rel = path.relative(base, path.resolve(base, entry));
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) return undefined;
  return toPosix(rel);
}

/** Whether `p` is `root` or lies under it (both absolute and already resolved, e.g. by realpath). */
export function isWithin(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || !(rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel));
}
