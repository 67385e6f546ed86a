/**
 * Where per-file manifests of large data entries live, by root (merkle.ts). The interface is all the
 * gate needs, so a store backed by the CI cache can stand beside the local folder.
 */
import { lstat, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface ManifestStore {
  /** Where the manifest of `root` is kept, for messages (a file's path). */
  where(root: string): string;
  has(root: string): Promise<boolean>;
  get(root: string): Promise<Uint8Array | undefined>;
  put(root: string, bytes: Uint8Array): Promise<void>;
}

/** A gzipped manifest of 10^6 files is ~40 MiB. */
const MANIFEST_MAX_BYTES = 1024 * 1024 * 1024;
const ROOT = /^[0-9a-f]{64}$/;

/** `<dir>/<root>.json.gz`; written to a temp file and renamed, so a reader never sees half a manifest. */
export function localManifestStore(dir: string): ManifestStore {
  const file = (root: string) => {
    // The root comes from the baseline file: it names a file only when it is a hash.
    if (!ROOT.test(root)) throw new Error(`not a manifest root: ${root}`);
    return path.join(dir, `${root}.json.gz`);
  };
  return {
    where: (root) => file(root),
    async has(root) {
      return (await lstat(file(root)).catch(() => undefined))?.isFile() === true;
    },
    async get(root) {
      const f = file(root);
      // A committed store is the change under test's: a link to /dev/zero or a FIFO is no manifest.
      const st = await lstat(f).catch(() => undefined);
      if (!st?.isFile() || st.size > MANIFEST_MAX_BYTES) return undefined;
      return readFile(f);
    },
    async put(root, bytes) {
      await mkdir(dir, { recursive: true });
      const target = file(root);
      const tmp = `${target}.tmp-${process.pid}`;
      try {
        await writeFile(tmp, bytes);
        await rename(tmp, target);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
    },
  };
}
