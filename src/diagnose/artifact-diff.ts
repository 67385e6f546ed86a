/**
 * Artifact diffs that speak tensors: where exact mode only knows "the SHA-256 of model.npz changed",
 * this says which arrays changed, by how much (absolute, relative, ULPs), and whether NaNs appeared.
 *
 * Formats (by extension, case-insensitive):
 * - `.npy`  NumPy v1/v2/v3; float16/32/64, int8…64, uint8…64, bool, either byte order, C or Fortran
 *           order. Object, string, complex, datetime and structured dtypes are compared by hash, with a note
 *           (object arrays are pickles: they are never unpickled).
 * - `.npz`  ZIP (stored or deflated, ZIP64 aware) of .npy entries; other entries by hash.
 * - `.safetensors` F16, BF16, F32, F64, I8…I64, U8…U64, BOOL; other dtypes (F8_*) by hash;
 *           `__metadata__` values compared as text.
 * - `.json` numeric leaves on dotted paths, numeric arrays as arrays (see text-formats.ts).
 * - `.csv`  numeric columns as arrays by header name, other columns as strings.
 * - anything else, or a file that fails to parse: size and SHA-256 only, with a note saying why.
 *
 * Memory: at most one array per side is held at a time. An array (or .npz entry) above
 * `maxArrayBytes` (default 256 MiB) is compared by a streamed SHA-256 of its data bytes instead;
 * JSON/CSV files above `maxTextBytes` (default 64 MiB) fall back to the file hash. So a diff holds
 * about 2 × 256 MiB of array data at most, whatever the file size (plus a transient copy of an array
 * stored big-endian or misaligned, which is byte-swapped / aligned before comparing). Comparing runs
 * at roughly 10–15 M elements/s when every element differs (ULPs and all), faster when few do.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ArrayDiff, ArtifactDiff, ArtifactFormat } from '../schema/diagnosis.js';
import { parseLenientJson } from '../util/lenient-json.js';
import { compareArrays } from './compare-arrays.js';
import { dtypeFromSafetensors } from './dtype.js';
import { FormatError, readAt } from './file-format.js';
import { NPY_MAX_HEADER, type NpyHeader, parseNpyHeader } from './npy.js';
import { csvArrays, jsonArrays } from './text-formats.js';
import type { LoadedArray } from './types.js';
import { hashZipEntry, readZipDirectory, readZipEntry, streamZipEntry, type ZipEntry } from './zip.js';

const DEFAULT_MAX_ARRAY_BYTES = 256 * 1024 * 1024;
const DEFAULT_MAX_TEXT_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_ENTRIES = 10_000;

export interface ArtifactDiffOptions {
  /** Arrays larger than this (per side) are compared by hash only. Default 256 MiB. */
  maxArrayBytes?: number;
  /** JSON / CSV files larger than this are compared by hash only. Default 64 MiB. */
  maxTextBytes?: number;
  /** Most array entries kept in `arrays`; identical ones are dropped first. Default 10 000. */
  maxEntries?: number;
  /** Override the format chosen from the extension. */
  format?: ArtifactFormat;
}

export function formatOf(name: string): ArtifactFormat {
  const ext = path.extname(name).toLowerCase();
  const known: Record<string, ArtifactFormat> = {
    '.npy': 'npy',
    '.npz': 'npz',
    '.safetensors': 'safetensors',
    '.json': 'json',
    '.csv': 'csv',
  };
  return known[ext] ?? 'binary';
}

async function sha256File(file: string, start = 0, end?: number): Promise<string> {
  const hash = createHash('sha256');
  if (end !== undefined && end <= start) return hash.digest('hex');
  for await (const chunk of createReadStream(file, {
    start,
    end: end === undefined ? undefined : end - 1,
  }) as AsyncIterable<Buffer>)
    hash.update(chunk);
  return hash.digest('hex');
}

function describe(err: unknown): string {
  if (err instanceof FormatError) return err.message;
  if (err instanceof Error) return err.message.split('\n')[0]!;
  return String(err);
}

/** One side's arrays, loaded lazily so only one per side is in memory at a time. */
interface Container {
  names: string[];
  load(name: string): Promise<LoadedArray>;
  notes: string[];
  close(): Promise<void>;
}

interface Limits {
  maxArrayBytes: number;
  maxTextBytes: number;
}

const tooLarge = (bytes: number, limits: Limits) =>
  `${bytes} bytes of data, above the ${limits.maxArrayBytes}-byte limit for elementwise comparison: compared by SHA-256 only`;

function fromNpyBuffer(buf: Buffer, limits: Limits): LoadedArray {
  const h = parseNpyHeader(buf);
  if ('needBytes' in h) throw new FormatError(`truncated .npy: header needs ${h.needBytes} bytes`);
  return npyArray(h, buf.subarray(h.dataOffset), limits);
}

function npyArray(h: NpyHeader, data: Buffer, limits: Limits): LoadedArray {
  if (!h.dtype || h.dataBytes === null) {
    return {
      kind: 'hashed',
      dtype: h.descr,
      shape: h.shape,
      sha256: createHash('sha256').update(data).digest('hex'),
      note: h.unsupported!,
    };
  }
  if (data.length < h.dataBytes)
    throw new FormatError(`truncated .npy: ${h.dataBytes} data bytes expected, ${data.length} present`);
  if (h.dataBytes > limits.maxArrayBytes) {
    return {
      kind: 'hashed',
      dtype: h.dtype.name,
      shape: h.shape,
      sha256: createHash('sha256').update(data.subarray(0, h.dataBytes)).digest('hex'),
      note: tooLarge(h.dataBytes, limits),
    };
  }
  return {
    kind: 'numeric',
    dtype: h.dtype,
    shape: h.shape,
    data: data.subarray(0, h.dataBytes),
    fortranOrder: h.fortranOrder,
  };
}

async function readNpyHeader(fh: FileHandle, size: number): Promise<NpyHeader> {
  let want = Math.min(size, 4096);
  for (;;) {
    const h = parseNpyHeader(await readAt(fh, 0, want));
    if (!('needBytes' in h)) return h;
    if (h.needBytes > size || h.needBytes > NPY_MAX_HEADER + 12 || h.needBytes <= want)
      throw new FormatError('truncated .npy header');
    want = h.needBytes;
  }
}

async function openNpy(file: string, size: number, limits: Limits): Promise<Container> {
  const fh = await open(file, 'r');
  try {
    const h = await readNpyHeader(fh, size);
    const available = size - h.dataOffset;
    const load = async (): Promise<LoadedArray> => {
      if (!h.dtype || h.dataBytes === null) {
        return {
          kind: 'hashed',
          dtype: h.descr,
          shape: h.shape,
          sha256: await sha256File(file, h.dataOffset),
          note: h.unsupported!,
        };
      }
      if (available < h.dataBytes)
        throw new FormatError(`truncated .npy: ${h.dataBytes} data bytes expected, ${available} present`);
      if (h.dataBytes > limits.maxArrayBytes) {
        return {
          kind: 'hashed',
          dtype: h.dtype.name,
          shape: h.shape,
          sha256: await sha256File(file, h.dataOffset, h.dataOffset + h.dataBytes),
          note: tooLarge(h.dataBytes, limits),
        };
      }
      return {
        kind: 'numeric',
        dtype: h.dtype,
        shape: h.shape,
        data: await readAt(fh, h.dataOffset, h.dataBytes),
        fortranOrder: h.fortranOrder,
      };
    };
    return { names: [''], load, notes: [], close: () => fh.close() };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

async function openNpz(file: string, size: number, limits: Limits): Promise<Container> {
  const fh = await open(file, 'r');
  try {
    const entries = await readZipDirectory(fh, size);
    const byName = new Map<string, ZipEntry>();
    for (const e of entries) {
      if (e.name.endsWith('/')) continue;
      byName.set(e.name.endsWith('.npy') ? e.name.slice(0, -4) : e.name, e);
    }
    const load = async (name: string): Promise<LoadedArray> => {
      const e = byName.get(name)!;
      const isNpy = e.name.endsWith('.npy');
      // A generous allowance for the .npy header on top of the data cap.
      if (e.uncompressedSize <= limits.maxArrayBytes + 65536) {
        const buf = await readZipEntry(fh, e);
        if (!isNpy)
          return {
            kind: 'hashed',
            dtype: 'bytes',
            shape: null,
            sha256: createHash('sha256').update(buf).digest('hex'),
            note: 'not a .npy entry: compared by SHA-256',
          };
        return fromNpyBuffer(buf, limits);
      }
      if (!isNpy) {
        const { sha256 } = await hashZipEntry(fh, file, e);
        return { kind: 'hashed', dtype: 'bytes', shape: null, sha256, note: 'not a .npy entry: compared by SHA-256' };
      }
      // Too large to hold: read the header from the stream's start, then hash the data bytes only.
      const head = await streamZipEntry(fh, file, e, NPY_MAX_HEADER + 12);
      const h = parseNpyHeader(head);
      if ('needBytes' in h) throw new FormatError(`entry ${e.name}: truncated .npy header`);
      const { sha256 } = await hashZipEntry(fh, file, e, h.dataOffset);
      return {
        kind: 'hashed',
        dtype: h.dtype?.name ?? h.descr,
        shape: h.shape,
        sha256,
        note: h.dtype ? tooLarge(h.dataBytes ?? e.uncompressedSize, limits) : h.unsupported!,
      };
    };
    return { names: [...byName.keys()], load, notes: [], close: () => fh.close() };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

/** safetensors caps its own header at 100 MB. */
const SAFETENSORS_MAX_HEADER = 100_000_000;

async function openSafetensors(file: string, size: number, limits: Limits): Promise<Container> {
  const fh = await open(file, 'r');
  try {
    if (size < 8) throw new FormatError('too short for safetensors');
    const n = (await readAt(fh, 0, 8)).readBigUInt64LE(0);
    if (n > BigInt(Math.min(SAFETENSORS_MAX_HEADER, size - 8)))
      throw new FormatError(`safetensors header length ${n} is larger than the file allows`);
    const headerLen = Number(n);
    let header: unknown;
    try {
      header = JSON.parse((await readAt(fh, 8, headerLen)).toString('utf8'));
    } catch (err) {
      throw new FormatError(`safetensors header is not valid JSON (${describe(err)})`);
    }
    if (header === null || typeof header !== 'object' || Array.isArray(header))
      throw new FormatError('safetensors header is not a JSON object');
    const base = 8 + headerLen;
    const specs = new Map<string, { dtype: string; shape: number[]; begin: number; end: number }>();
    const meta = new Map<string, LoadedArray>();
    for (const [name, spec] of Object.entries(header as Record<string, unknown>)) {
      if (name === '__metadata__') {
        if (spec && typeof spec === 'object') {
          for (const [k, v] of Object.entries(spec))
            meta.set(`__metadata__.${k}`, {
              kind: 'text',
              dtype: 'string',
              shape: [],
              values: [typeof v === 'string' ? v : JSON.stringify(v)],
            });
        }
        continue;
      }
      const s = spec as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const shapeOk = Array.isArray(s?.shape) && s.shape.every((d) => Number.isSafeInteger(d) && d >= 0);
      const offs = s?.data_offsets;
      const offsOk =
        Array.isArray(offs) &&
        offs.length === 2 &&
        offs.every((o) => Number.isSafeInteger(o) && o >= 0) &&
        offs[0] <= offs[1];
      if (typeof s?.dtype !== 'string' || !shapeOk || !offsOk)
        throw new FormatError(`safetensors entry ${JSON.stringify(name)} lacks a valid dtype, shape or data_offsets`);
      const [begin, end] = offs as [number, number];
      if (base + end > size)
        throw new FormatError(`safetensors tensor ${JSON.stringify(name)} extends beyond the end of the file`);
      specs.set(name, { dtype: s.dtype, shape: s.shape as number[], begin: base + begin, end: base + end });
    }
    const load = async (name: string): Promise<LoadedArray> => {
      const m = meta.get(name);
      if (m) return m;
      const s = specs.get(name)!;
      const dt = dtypeFromSafetensors(s.dtype);
      const bytes = s.end - s.begin;
      if ('unsupported' in dt)
        return {
          kind: 'hashed',
          dtype: s.dtype,
          shape: s.shape,
          sha256: await sha256File(file, s.begin, s.end),
          note: dt.unsupported,
        };
      const expected = s.shape.reduce((a, b) => a * b, 1) * dt.size;
      if (expected !== bytes)
        throw new FormatError(
          `safetensors tensor ${JSON.stringify(name)}: ${bytes} bytes for shape [${s.shape.join(', ')}] of ${s.dtype} (expected ${expected})`,
        );
      if (bytes > limits.maxArrayBytes)
        return {
          kind: 'hashed',
          dtype: dt.name,
          shape: s.shape,
          sha256: await sha256File(file, s.begin, s.end),
          note: tooLarge(bytes, limits),
        };
      return { kind: 'numeric', dtype: dt, shape: s.shape, data: await readAt(fh, s.begin, bytes) };
    };
    return { names: [...specs.keys(), ...meta.keys()], load, notes: [], close: () => fh.close() };
  } catch (err) {
    await fh.close();
    throw err;
  }
}

async function openText(file: string, size: number, format: 'json' | 'csv', limits: Limits): Promise<Container> {
  if (size > limits.maxTextBytes)
    throw new FormatError(
      `${size} bytes is above the ${limits.maxTextBytes}-byte limit for ${format.toUpperCase()} parsing`,
    );
  const text = await readFile(file, 'utf8');
  let arrays: Map<string, LoadedArray>;
  let notes: string[] = [];
  if (format === 'json') {
    let doc: unknown;
    try {
      doc = parseLenientJson(text);
    } catch (err) {
      throw new FormatError(`invalid JSON (${describe(err)})`);
    }
    arrays = jsonArrays(doc);
  } else {
    ({ arrays, notes } = csvArrays(text));
  }
  return { names: [...arrays.keys()], load: async (n) => arrays.get(n)!, notes, close: async () => undefined };
}

function openContainer(format: ArtifactFormat, file: string, size: number, limits: Limits): Promise<Container> {
  switch (format) {
    case 'npy':
      return openNpy(file, size, limits);
    case 'npz':
      return openNpz(file, size, limits);
    case 'safetensors':
      return openSafetensors(file, size, limits);
    case 'json':
    case 'csv':
      return openText(file, size, format, limits);
    case 'torch': // read with the training's Python (diagnose/run.ts), never here
    case 'binary':
      throw new Error('unreachable');
  }
}

/**
 * Compares one artifact between two runs. Never throws for content problems (a file that fails to
 * parse falls back to size + hash, with a note); throws only for I/O errors other than a missing file.
 */
export async function diffArtifacts(
  beforePath: string,
  afterPath: string,
  name: string,
  options: ArtifactDiffOptions = {},
): Promise<ArtifactDiff> {
  const limits: Limits = {
    maxArrayBytes: options.maxArrayBytes ?? DEFAULT_MAX_ARRAY_BYTES,
    maxTextBytes: options.maxTextBytes ?? DEFAULT_MAX_TEXT_BYTES,
  };
  const maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  const format = options.format ?? formatOf(name);
  const missing = (err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  };
  const [sb, sa] = await Promise.all([stat(beforePath).catch(missing), stat(afterPath).catch(missing)]);
  const [hb, ha] = await Promise.all([sb ? sha256File(beforePath) : null, sa ? sha256File(afterPath) : null]);
  const diff: ArtifactDiff = {
    name,
    format,
    status: !sb ? 'added' : !sa ? 'removed' : hb === ha ? 'identical' : 'modified',
    sizeBefore: sb?.size ?? null,
    sizeAfter: sa?.size ?? null,
    sha256Before: hb,
    sha256After: ha,
    arrays: [],
    arraysOmitted: 0,
    notes: [],
  };
  if (!sb && !sa) diff.notes.push('missing on both sides');
  if (diff.status !== 'modified' || format === 'binary') return diff;

  let before: Container | undefined;
  let after: Container | undefined;
  try {
    try {
      before = await openContainer(format, beforePath, sb!.size, limits);
    } catch (err) {
      diff.notes.push(
        `could not read the before file as ${format} (${describe(err)}); compared by size and SHA-256 only`,
      );
      return diff;
    }
    try {
      after = await openContainer(format, afterPath, sa!.size, limits);
    } catch (err) {
      diff.notes.push(
        `could not read the after file as ${format} (${describe(err)}); compared by size and SHA-256 only`,
      );
      return diff;
    }
    diff.notes.push(...before.notes.map((n) => `before: ${n}`), ...after.notes.map((n) => `after: ${n}`));
    const afterNames = new Set(after.names);
    const beforeNames = new Set(before.names);
    const names = [...before.names, ...after.names.filter((n) => !beforeNames.has(n))];
    const arrays: ArrayDiff[] = [];
    for (const n of names) {
      try {
        const b = beforeNames.has(n) ? await before.load(n) : undefined;
        const a = afterNames.has(n) ? await after.load(n) : undefined;
        arrays.push(compareArrays(n, b, a));
      } catch (err) {
        diff.notes.push(`could not compare ${JSON.stringify(n)}: ${describe(err)}`);
      }
    }
    if (arrays.length > maxEntries) {
      const changed = arrays.filter((a) => a.status !== 'identical');
      const keep = new Set(changed.slice(0, maxEntries));
      for (const a of arrays) if (keep.size < maxEntries && !keep.has(a)) keep.add(a);
      diff.arrays = arrays.filter((a) => keep.has(a));
      diff.arraysOmitted = arrays.length - diff.arrays.length;
      diff.notes.push(`${diff.arraysOmitted} of ${arrays.length} entries left out (identical ones first)`);
    } else {
      diff.arrays = arrays;
    }
    if (arrays.length > 0 && arrays.every((a) => a.status === 'identical')) {
      diff.notes.push(
        'the bytes differ but every array is bit-identical (only container metadata, such as ZIP timestamps or key order, changed)',
      );
    }
    return diff;
  } finally {
    await before?.close();
    await after?.close();
  }
}

/** Diffs the same-named artifacts of two run folders (e.g. two runs of one seed). */
export async function diffArtifactDirs(
  beforeDir: string,
  afterDir: string,
  names: string[],
  options: ArtifactDiffOptions = {},
): Promise<ArtifactDiff[]> {
  const out: ArtifactDiff[] = [];
  for (const name of names)
    out.push(await diffArtifacts(path.join(beforeDir, name), path.join(afterDir, name), name, options));
  return out;
}
