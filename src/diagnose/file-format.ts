import type { FileHandle } from 'node:fs/promises';

/** A file is not what its name says (truncated, corrupt, unsupported): the differ falls back to hashes. */
export class FormatError extends Error {}

/** Exactly `length` bytes at `position`, or a FormatError naming where the file ended. */
export async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  if (bytesRead !== length)
    throw new FormatError(`truncated: expected ${length} bytes at offset ${position}, found ${bytesRead}`);
  return buf;
}
