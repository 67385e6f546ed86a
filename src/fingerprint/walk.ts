/**
 * The main thread's side of the data walk: hands folders to the data threads (hash-pool.ts), a
 * batch at a time, and applies the walk rules to what they list (data.ts states the rules). The
 * threads list and stat; this side decides: a subfolder already on the path is a symlink cycle,
 * a folder reached through a symlink must not be the kernel's, a broken link is an error.
 *
 * Folders are answered in whatever order the threads finish, so each folder's children are kept
 * in a tree in the threads' byte order and read out depth first at the end: the files come out in
 * the byte order of their full paths, and warnings in the order a one-thread walk would give them.
 */
import { realpath, stat } from 'node:fs/promises';
import { GateError } from '../util/errors.js';
import { pseudoLocationReason } from '../util/files.js';
import type { HashPool } from './hash-pool.js';

/** A file to fingerprint: where it is, which `data:` entry listed it, its stat, and whether a symlink led to it. */
export interface Found {
  /** The manifest key: POSIX path relative to the root (absolute for an external entry). */
  rel: string;
  abs: string;
  entry: string;
  viaLink: boolean;
  /** size, mtimeMs, inode, ctimeMs at [4 · at, 4 · at + 4); NaN: not a regular file when statted. */
  stats: Float64Array;
  at: number;
}

/** A walked folder's children in byte order: files, subfolders, and warnings where they arose. */
export interface FolderNode {
  items: Array<Found | FolderNode | string>;
}

/** A folder to walk; `ancestors` are the dev:ino of the folders above it, to skip cycles. */
export interface FolderTask {
  abs: string;
  rel: string;
  entry: string;
  viaLink: boolean;
  ancestors: readonly string[];
  node: FolderNode;
}

export interface WalkRules {
  /** Throws once the time limit has passed; names what is being done. */
  checkTime: (doing: () => string) => void;
  /** statSnapshot: a broken link or unreadable folder is simply not there. */
  tolerant: boolean;
}

/** Names per classify request when a folder is too big to list in one (hash-worker.ts WALK_FOLDER_MAX). */
const CLASSIFY_CHUNK = 2048;
/** At most this many folders per walk request: enough to amortise a message, few enough to share out. */
const BATCH_MAX = 256;

function join(rel: string, name: string): string {
  return rel === '' ? name : `${rel}/${name}`;
}

/** Names of a big folder to classify; their items go into `node`, in its parent's place for them. */
interface ClassifyTask {
  folder: FolderTask;
  names: string[];
  node: FolderNode;
}

/** Walks `roots` (and everything under them) on the pool's threads, filling each root's node. */
export async function walkFolders(pool: HashPool, roots: readonly FolderTask[], rules: WalkRules): Promise<void> {
  const folders = [...roots];
  const chunks: ClassifyTask[] = [];
  const running = new Map<number, Promise<void>>();
  let failure: { error: unknown } | undefined;

  /**
   * Reads `count` children of `task` from `tokens` at `t` (their stats at `s` in `stats`) into
   * `node`; returns the next token and stat positions.
   */
  const children = async (
    task: FolderTask,
    node: FolderNode,
    count: number,
    tokens: readonly string[],
    t: number,
    stats: Float64Array,
    s: number,
  ): Promise<[number, number]> => {
    const { items } = node;
    const base = task.abs.endsWith('/') ? task.abs : `${task.abs}/`; // abs is already normalised: no path.join per file
    for (let c = 0; c < count; c++) {
      const token = tokens[t++] as string;
      const kind = token[0];
      const name = token.slice(1);
      const rel = join(task.rel, name);
      const abs = base + name;
      if (kind === 'f' || kind === 'F') {
        items.push({ rel, abs, entry: task.entry, viaLink: task.viaLink || kind === 'F', stats, at: s++ });
      } else if (kind === 'd' || kind === 'D') {
        const id = tokens[t++] as string;
        if (task.ancestors.includes(id)) continue; // a symlink cycle back to a folder already on the path
        const viaLink = task.viaLink || kind === 'D';
        if (viaLink) {
          const st = await stat(abs).catch(() => undefined);
          const reason = st && (await pseudoLocationReason(await realpath(abs), st));
          if (reason) {
            items.push(`Data folder ${rel} ${reason}; skipped (the kernel's files are not data).`);
            continue;
          }
        }
        const sub: FolderNode = { items: [] };
        items.push(sub);
        folders.push({ abs, rel, entry: task.entry, viaLink, ancestors: [...task.ancestors, id], node: sub });
      } else if (kind === 'b') {
        if (rules.tolerant) continue;
        throw new GateError(
          `Data file ${rel} is a broken symlink.`,
          'Restore its target (e.g. pull the data), remove the link, or narrow data: in repro-gate.yml.',
        );
      } else {
        // FIFOs, sockets and devices: not data, and reading a FIFO would block forever.
        items.push(`Data path ${rel} is not a regular file (a FIFO, socket or device); skipped.`);
      }
    }
    return [t, s];
  };

  /** Reads one folder of a walk answer at token t, stat s; returns the next positions. */
  const folder = async (task: FolderTask, tokens: string[], t: number, stats: Float64Array, s: number) => {
    const head = tokens[t++] as string;
    if (head[0] === '!') {
      if (rules.tolerant) return [t, s] as const;
      throw new GateError(
        `Cannot list data folder ${task.rel || '.'} (${head.slice(1)}; data: entry "${task.entry}").`,
        'Check that it exists and is readable by the runner.',
      );
    }
    const count = Number(head.slice(1));
    if (head[0] === '#') return children(task, task.node, count, tokens, t, stats, s);
    // Too many for one thread: its names are classified in chunks, each in its place in the folder.
    for (let i = 0; i < count; i += CLASSIFY_CHUNK) {
      const node: FolderNode = { items: [] };
      task.node.items.push(node);
      chunks.push({ folder: task, names: tokens.slice(t + i, t + Math.min(count, i + CLASSIFY_CHUNK)), node });
    }
    return [t + count, s] as const;
  };

  const dispatch = (worker: number): Promise<void> | undefined => {
    const chunk = chunks.shift();
    if (chunk) {
      rules.checkTime(() => `walking ${chunk.folder.rel || '.'} (data: entry "${chunk.folder.entry}")`);
      return pool.classify(worker, chunk.folder.abs, chunk.names).then(async (answer) => {
        await children(chunk.folder, chunk.node, chunk.names.length, answer.text.split('\0'), 0, answer.stats, 0);
      });
    }
    if (!folders.length) return undefined;
    // Spread the queue over the threads, with some left over for whichever finishes first.
    const n = Math.min(BATCH_MAX, Math.max(1, Math.ceil(folders.length / (2 * pool.threads))));
    const batch = folders.splice(0, n);
    const first = batch[0] as FolderTask;
    rules.checkTime(() => `walking ${first.rel || '.'} (data: entry "${first.entry}")`);
    return pool
      .walk(
        worker,
        batch.map((f) => f.abs),
      )
      .then(async (answer) => {
        const tokens = answer.text.split('\0');
        let t = 0;
        let s = 0;
        for (const task of batch) [t, s] = await folder(task, tokens, t, answer.stats, s);
      });
  };

  while (!failure) {
    for (let worker = 0; worker < pool.threads; worker++) {
      if (running.has(worker)) continue;
      const work = dispatch(worker);
      if (!work) break;
      running.set(
        worker,
        work
          .catch((error: unknown) => {
            failure ??= { error };
          })
          .finally(() => running.delete(worker)),
      );
    }
    if (!running.size) break;
    await Promise.race(running.values());
  }
  if (failure) throw failure.error;
}

/** The files under `items` depth first (manifest order within each walked folder); warnings told as met. */
export function readOut(
  items: ReadonlyArray<Found | FolderNode | string>,
  warn: (m: string) => void,
  out: Found[] = [],
): Found[] {
  for (const item of items) {
    if (typeof item === 'string') warn(item);
    else if ('items' in item) readOut(item.items, warn, out);
    else out.push(item);
  }
  return out;
}
