import path from 'node:path';

/** A relative path as the report and baseline spell it, `/`-separated on every platform. */
export function toPosix(rel: string): string {
  return rel.split(path.sep).join('/');
}
