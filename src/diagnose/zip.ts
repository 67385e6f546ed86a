/**
 * Just enough ZIP to read a NumPy `.npz`: the (ZIP64-aware) central directory, and each entry's
 * bytes, stored (method 0) or deflated (method 8, via node:zlib). No dependency: the format is small
 * and a parser we own can enforce our memory caps before inflating anything.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import { FormatError, readAt } from './file-format.js';

export interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
/** A central directory beyond this is not a model checkpoint we should be parsing. */
const MAX_DIRECTORY = 64 << 20;

function u64(buf: Buffer, offset: number): number {
  const v = buf.readBigUInt64LE(offset);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError('ZIP64 size beyond 2^53');
  return Number(v);
}

export async function readZipDirectory(fh: FileHandle, fileSize: number): Promise<ZipEntry[]> {
  const tailLen = Math.min(fileSize, 22 + 0xffff);
  const tail = await readAt(fh, fileSize - tailLen, tailLen);
  let eocd = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new FormatError('not a ZIP archive (no end of central directory record)');
  let count = tail.readUInt16LE(eocd + 10);
  let dirSize = tail.readUInt32LE(eocd + 12);
  let dirOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || dirSize === 0xffffffff || dirOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || tail.readUInt32LE(loc) !== ZIP64_LOCATOR)
      throw new FormatError('ZIP64 archive without a ZIP64 locator');
    const rec = await readAt(fh, u64(tail, loc + 8), 56);
    if (rec.readUInt32LE(0) !== ZIP64_EOCD) throw new FormatError('bad ZIP64 end of central directory record');
    count = u64(rec, 32);
    dirSize = u64(rec, 40);
    dirOffset = u64(rec, 48);
  }
  if (dirSize > MAX_DIRECTORY) throw new FormatError(`central directory of ${dirSize} bytes is too large`);
  if (dirOffset + dirSize > fileSize) throw new FormatError('central directory lies beyond the end of the file');
  const dir = await readAt(fh, dirOffset, dirSize);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let n = 0; n < count; n++) {
    if (p + 46 > dir.length || dir.readUInt32LE(p) !== CENTRAL)
      throw new FormatError(`bad central directory entry ${n}`);
    const flags = dir.readUInt16LE(p + 8);
    const nameLen = dir.readUInt16LE(p + 28);
    const extraLen = dir.readUInt16LE(p + 30);
    const commentLen = dir.readUInt16LE(p + 32);
    const entry: ZipEntry = {
      name: dir.toString(flags & 0x800 ? 'utf8' : 'latin1', p + 46, p + 46 + nameLen),
      method: dir.readUInt16LE(p + 10),
      flags,
      crc32: dir.readUInt32LE(p + 16),
      compressedSize: dir.readUInt32LE(p + 20),
      uncompressedSize: dir.readUInt32LE(p + 24),
      localHeaderOffset: dir.readUInt32LE(p + 42),
    };
    // ZIP64 extra field (0x0001): 8-byte values for exactly those fields that were 0xffffffff.
    let e = p + 46 + nameLen;
    const end = e + extraLen;
    while (e + 4 <= end) {
      const id = dir.readUInt16LE(e);
      const len = dir.readUInt16LE(e + 2);
      if (id === 0x0001) {
        let q = e + 4;
        if (entry.uncompressedSize === 0xffffffff) {
          entry.uncompressedSize = u64(dir, q);
          q += 8;
        }
        if (entry.compressedSize === 0xffffffff) {
          entry.compressedSize = u64(dir, q);
          q += 8;
        }
        if (entry.localHeaderOffset === 0xffffffff) {
          entry.localHeaderOffset = u64(dir, q);
          q += 8;
        }
      }
      e += 4 + len;
    }
    entries.push(entry);
    p = end + commentLen;
  }
  return entries;
}

function checkReadable(entry: ZipEntry): void {
  if (entry.flags & 0x1) throw new FormatError(`entry ${entry.name} is encrypted`);
  if (entry.method !== 0 && entry.method !== 8)
    throw new FormatError(
      `entry ${entry.name} uses compression method ${entry.method} (only stored and deflate are read)`,
    );
}

async function dataOffset(fh: FileHandle, entry: ZipEntry): Promise<number> {
  const local = await readAt(fh, entry.localHeaderOffset, 30);
  if (local.readUInt32LE(0) !== LOCAL) throw new FormatError(`bad local header for entry ${entry.name}`);
  return entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
}

/** The entry's uncompressed bytes; the caller checks `uncompressedSize` against its cap first. */
export async function readZipEntry(fh: FileHandle, entry: ZipEntry): Promise<Buffer> {
  checkReadable(entry);
  const raw = await readAt(fh, await dataOffset(fh, entry), entry.compressedSize);
  const out = entry.method === 0 ? raw : inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) });
  if (out.length !== entry.uncompressedSize)
    throw new FormatError(`entry ${entry.name} inflated to ${out.length} bytes, expected ${entry.uncompressedSize}`);
  return out;
}

async function* entryChunks(fh: FileHandle, file: string, entry: ZipEntry): AsyncGenerator<Buffer> {
  checkReadable(entry);
  if (entry.compressedSize === 0) return;
  const start = await dataOffset(fh, entry);
  const source = createReadStream(file, { start, end: start + entry.compressedSize - 1 });
  const stream = entry.method === 8 ? source.pipe(createInflateRaw()) : source;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
  } finally {
    source.destroy();
    if (stream !== source) stream.destroy();
  }
}

/** The first `headBytes` uncompressed bytes of an entry (stops reading once it has them). */
export async function streamZipEntry(
  fh: FileHandle,
  file: string,
  entry: ZipEntry,
  headBytes: number,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let have = 0;
  for await (const chunk of entryChunks(fh, file, entry)) {
    parts.push(chunk.subarray(0, headBytes - have));
    have += Math.min(chunk.length, headBytes - have);
    if (have >= headBytes) break;
  }
  return Buffer.concat(parts);
}

/**
 * SHA-256 of an entry too large to hold, streamed: of its uncompressed bytes from `skip` on (so a
 * .npy entry's hash covers its data, not its header), holding only one chunk at a time.
 */
export async function hashZipEntry(
  fh: FileHandle,
  file: string,
  entry: ZipEntry,
  skip = 0,
): Promise<{ sha256: string }> {
  const hash = createHash('sha256');
  let offset = 0;
  for await (const chunk of entryChunks(fh, file, entry)) {
    if (offset + chunk.length > skip) hash.update(offset >= skip ? chunk : chunk.subarray(skip - offset));
    offset += chunk.length;
  }
  return { sha256: hash.digest('hex') };
}
