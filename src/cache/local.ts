/**
 * The CLI's run cache: one file per seed result under `.repro-gate/cache/runs/` (gitignored with
 * the rest of the gate's state). Capped by total size; the least recently used entries go first.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunCacheStore } from './types.js';

const KEY = /^[0-9a-f]{64}$/;
/** An entry holds one seed's metrics and hashes (a few KiB); this keeps thousands. */
const LOCAL_CACHE_MAX_BYTES = 64 * 1024 * 1024;
/** Larger entries are refused on read: they are not what the gate writes. */
const MAX_ENTRY_BYTES = 16 * 1024 * 1024;

export class LocalRunCache implements RunCacheStore {
  readonly kind = 'local' as const;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = LOCAL_CACHE_MAX_BYTES,
  ) {}

  private file(key: string): string {
    if (!KEY.test(key)) throw new Error(`not a run-cache key: ${key}`);
    return path.join(this.dir, `${key}.json`);
  }

  async get(key: string): Promise<string | undefined> {
    const file = this.file(key);
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile() || info.size > MAX_ENTRY_BYTES) return undefined;
    const text = await readFile(file, 'utf8').catch(() => undefined);
    // Touch it: eviction goes by last use, not by age.
    if (text !== undefined) await utimes(file, new Date(), new Date()).catch(() => undefined);
    return text;
  }

  async put(key: string, text: string): Promise<string | undefined> {
    try {
      await mkdir(this.dir, { recursive: true });
      const tmp = path.join(this.dir, `.${key}.${randomBytes(4).toString('hex')}.tmp`);
      await writeFile(tmp, text);
      await rename(tmp, this.file(key));
      await this.evict();
      return undefined;
    } catch (err) {
      return `Could not save a run to the cache in ${this.dir}: ${(err as Error).message}.`;
    }
  }

  /** Removes the least recently used entries until the folder fits the cap. */
  private async evict(): Promise<void> {
    const names = (await readdir(this.dir)).filter((n) => n.endsWith('.json'));
    const entries = await Promise.all(
      names.map(async (n) => {
        const info = await stat(path.join(this.dir, n)).catch(() => undefined);
        return { n, size: info?.size ?? 0, used: info?.mtimeMs ?? 0 };
      }),
    );
    let total = entries.reduce((a, e) => a + e.size, 0);
    for (const e of entries.sort((a, b) => a.used - b.used)) {
      if (total <= this.maxBytes) break;
      await unlink(path.join(this.dir, e.n)).catch(() => undefined);
      total -= e.size;
    }
  }
}
