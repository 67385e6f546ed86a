/**
 * Reading files a hostile change or training controls, without being fooled, hung or led out of
 * the folder they belong to: `readConfinedFile`: a file the training wrote (metrics, curves) must
 * lie inside its folder, checked lexically and again through symlinks (realpath), and is read with
 * a size limit. Opening uses O_NONBLOCK, so a FIFO never blocks the open; it is then refused as
 * not a regular file.
 */
import { constants } from 'node:fs';
import { type FileHandle, open, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { GateError } from './errors.js';
import { insideFolder, isWithin } from './paths.js';

const MIB = 1024 * 1024;

/** "1 MiB", "3.2 MiB", "512 KiB", "17 bytes". */
function formatBytes(n: number): string {
  if (n >= MIB) return `${Number((n / MIB).toFixed(1))} MiB`;
  if (n >= 1024) return `${Number((n / 1024).toFixed(1))} KiB`;
  return `${n} bytes`;
}

/** Reads at most `maxBytes` from an open file; undefined when there is more. */
async function readUpTo(fh: FileHandle, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const buf = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
    const { bytesRead } = await fh.read(buf, 0, buf.length, null);
    if (bytesRead === 0) return Buffer.concat(chunks, total);
    chunks.push(buf.subarray(0, bytesRead));
    total += bytesRead;
    if (total > maxBytes) return undefined;
  }
}

export interface ConfinedReadOptions {
  /** The folder as messages name it; default "its folder". */
  folder?: string;
  /** Default 64 MiB. */
  maxBytes?: number;
  /** How to fix a refused file. */
  hint?: string;
}

/**
 * The text of `rel` inside `root`, or null when it does not exist. Refused with a GateError when
 * `rel` points outside `root` lexically (`../x`, `/etc/x`), resolves outside it through a symlink
 * (realpath, checked again on the opened file where /proc/self/fd can tell), is not a regular
 * file, or is larger than `maxBytes`. `setting` names the config key in messages ("metrics.file").
 * No message quotes the file's content.
 */
export async function readConfinedFile(
  root: string,
  rel: string,
  setting: string,
  opts: ConfinedReadOptions = {},
): Promise<string | null> {
  const folder = opts.folder ?? 'its folder';
  const maxBytes = opts.maxBytes ?? 64 * MIB;
  const hint = opts.hint ?? `Write the file itself inside ${folder}, and name it relative to it in ${setting}.`;
  const base = path.resolve(root);
  if (insideFolder(rel, base) === undefined) {
    throw new GateError(`The ${setting} entry "${rel}" points outside ${folder} (${base}).`, hint);
  }
  const abs = path.resolve(base, rel);
  let realRoot: string;
  let real: string;
  try {
    realRoot = await realpath(base);
    real = await realpath(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    if (code === 'ELOOP') throw new GateError(`The ${setting} entry "${rel}" is a symlink loop.`, hint);
    throw new GateError(`Cannot read the ${setting} entry "${rel}" (${code ?? String(err)}).`, hint);
  }
  const outside = () =>
    new GateError(
      `The ${setting} entry "${rel}" resolves through a symlink to ${real}, outside ${folder} (${base}); it is not read.`,
      hint,
    );
  if (!isWithin(realRoot, real)) throw outside();
  let fh: FileHandle;
  try {
    // O_NOFOLLOW: the last component cannot have been swapped for a symlink since realpath.
    fh = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new GateError(`Cannot read the ${setting} entry "${rel}" (${code ?? String(err)}).`, hint);
  }
  try {
    // Where the kernel can say which file is open, a folder swapped for a symlink since realpath shows.
    const opened = await readlink(`/proc/self/fd/${fh.fd}`).catch(() => undefined);
    if (opened !== undefined && path.isAbsolute(opened) && !isWithin(realRoot, opened)) throw outside();
    const st = await fh.stat();
    if (!st.isFile()) {
      throw new GateError(
        `The ${setting} entry "${rel}" ${st.isDirectory() ? 'is a folder' : 'is not a regular file (a FIFO, socket or device)'}; it is not read.`,
        hint,
      );
    }
    const tooBig = new GateError(
      `The ${setting} entry "${rel}" is larger than the ${formatBytes(maxBytes)} limit; it is not read.`,
      hint,
    );
    if (st.size > maxBytes) throw tooBig;
    const bytes = await readUpTo(fh, maxBytes);
    if (bytes === undefined) throw tooBig;
    return bytes.toString('utf8');
  } catch (err) {
    if (err instanceof GateError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new GateError(`Cannot read the ${setting} entry "${rel}" (${code ?? String(err)}).`, hint);
  } finally {
    await fh.close();
  }
}
