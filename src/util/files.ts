/**
 * Reading files a hostile change or training controls, without being fooled, hung or led out of
 * the folder they belong to:
 * - `readConfinedFile`: a file the training wrote (metrics, curves) must lie inside its folder,
 *   checked lexically and again through symlinks (realpath), and is read with a size limit.
 * - `readLimitedText`: a file of the project (repro-gate.yml, a config: file) is read with a size
 *   limit, and only if it is a regular file outside the kernel's pseudo-file systems.
 * - `pseudoFileReason`: why a file must not be read at all (a FIFO, a device, /proc/self/environ, …).
 * Opening uses O_NONBLOCK, so a FIFO never blocks the open; it is then refused as not a regular file.
 */
import { constants, type Stats } from 'node:fs';
import { type FileHandle, open, readlink, realpath, statfs } from 'node:fs/promises';
import path from 'node:path';
import { GateError } from './errors.js';
import { insideFolder, isWithin } from './paths.js';

export const MIB = 1024 * 1024;

/** "1 MiB", "3.2 MiB", "512 KiB", "17 bytes". */
function formatBytes(n: number): string {
  if (n >= MIB) return `${Number((n / MIB).toFixed(1))} MiB`;
  if (n >= 1024) return `${Number((n / 1024).toFixed(1))} KiB`;
  return `${n} bytes`;
}

/** Where the kernel's pseudo-files live: reading them leaks the process's secrets or never ends. */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];
/** statfs f_type of pseudo-file systems, wherever they are mounted (a container's /host/proc too). */
const PSEUDO_FS = new Map<number, string>([
  [0x9fa0, 'procfs'],
  [0x62656572, 'sysfs'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x1cd1, 'devpts'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x6165676c, 'pstore'],
]);
/** File system type by device number: one statfs per file system, not per file. */
const fsTypeByDevice = new Map<number, string | undefined>();

async function pseudoFileSystem(real: string, st: Stats): Promise<string | undefined> {
  if (fsTypeByDevice.has(st.dev)) return fsTypeByDevice.get(st.dev);
  const type = await statfs(real).then(
    (s) => PSEUDO_FS.get(Number(s.type)),
    () => undefined,
  );
  fsTypeByDevice.set(st.dev, type);
  return type;
}

/**
 * Why the file or folder at `real` (a realpath, with its stat) is the kernel's and not the
 * project's: under /proc, /sys or /dev, or on a pseudo-file system wherever it is mounted.
 */
export async function pseudoLocationReason(real: string, st: Stats): Promise<string | undefined> {
  const root = PSEUDO_ROOTS.find((r) => isWithin(r, real));
  if (root) return `resolves to ${real}, a kernel pseudo-file under ${root}`;
  const fs = await pseudoFileSystem(real, st);
  if (fs) return `resolves to ${real}, a kernel pseudo-file (${fs})`;
  return undefined;
}

/**
 * Why the file at `real` (a realpath, with its stat) must not be read, or undefined for an
 * ordinary file: a folder, not a regular file, or the kernel's (pseudoLocationReason).
 */
async function pseudoFileReason(real: string, st: Stats): Promise<string | undefined> {
  if (st.isDirectory()) return 'is a folder';
  if (!st.isFile()) return 'is not a regular file (a FIFO, socket or device)';
  return pseudoLocationReason(real, st);
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

export interface LimitedTextOptions {
  /** The file as messages name it, e.g. "repro-gate.yml" or "config file params.yaml". */
  name: string;
  maxBytes: number;
  /** What is limited, for the message: "a config file". */
  what: string;
  /** How to fix a file over the limit. */
  hint: string;
  /** How to fix a file that is not an ordinary file; default `hint`. */
  specialHint?: string;
}

/**
 * A project file's text (symlinks followed), refused with a GateError when it is larger than
 * `maxBytes` (checked before reading, and again while reading, for files that grow or lie about
 * their size) or is not an ordinary file (see pseudoFileReason). Errors from opening the file
 * (ENOENT, EISDIR, EACCES, …) are thrown as they are, for the caller to word.
 */
export async function readLimitedText(file: string, opts: LimitedTextOptions): Promise<string> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: ${file}`), { code: 'EISDIR' });
    const reason = await pseudoFileReason(await realpath(file), st);
    if (reason) throw new GateError(`${opts.name} ${reason}; it is not read.`, opts.specialHint ?? opts.hint);
    const tooBig = (size: string) =>
      new GateError(
        `${opts.name} is ${size}, over the ${formatBytes(opts.maxBytes)} limit for ${opts.what}.`,
        opts.hint,
      );
    if (st.size > opts.maxBytes) throw tooBig(formatBytes(st.size));
    const bytes = await readUpTo(fh, opts.maxBytes);
    if (bytes === undefined) throw tooBig(`larger than ${formatBytes(opts.maxBytes)}`);
    return bytes.toString('utf8');
  } finally {
    await fh.close();
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
