/**
 * Element types the artifact differ understands, and how to read one element of a raw buffer as a
 * number, and as the "ordered integer" of its IEEE bits (for ULP distances).
 *
 * NumPy's descr strings (`<f4`, `>i8`, `|b1`) and safetensors' names (`F32`, `BF16`, `BOOL`) both map
 * to a canonical `DType`; its `name` (`float32`, `bfloat16`, `int64`, `bool`) is what reports show.
 */

export type DTypeName =
  | 'float16'
  | 'bfloat16'
  | 'float32'
  | 'float64'
  | 'int8'
  | 'int16'
  | 'int32'
  | 'int64'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool';

export interface DType {
  name: DTypeName;
  kind: 'f' | 'i' | 'u' | 'b';
  /** Bytes per element. */
  size: number;
  littleEndian: boolean;
}

const BY_NAME: Record<DTypeName, Omit<DType, 'littleEndian'>> = {
  float16: { name: 'float16', kind: 'f', size: 2 },
  bfloat16: { name: 'bfloat16', kind: 'f', size: 2 },
  float32: { name: 'float32', kind: 'f', size: 4 },
  float64: { name: 'float64', kind: 'f', size: 8 },
  int8: { name: 'int8', kind: 'i', size: 1 },
  int16: { name: 'int16', kind: 'i', size: 2 },
  int32: { name: 'int32', kind: 'i', size: 4 },
  int64: { name: 'int64', kind: 'i', size: 8 },
  uint8: { name: 'uint8', kind: 'u', size: 1 },
  uint16: { name: 'uint16', kind: 'u', size: 2 },
  uint32: { name: 'uint32', kind: 'u', size: 4 },
  uint64: { name: 'uint64', kind: 'u', size: 8 },
  bool: { name: 'bool', kind: 'b', size: 1 },
};

export function dtype(name: DTypeName, littleEndian = true): DType {
  return { ...BY_NAME[name], littleEndian };
}

/** A NumPy descr such as `<f4`; `{ unsupported }` says why it can't be read as numbers. */
export function dtypeFromNumpy(descr: string): DType | { unsupported: string } {
  const m = /^([<>|=])([a-zA-Z])(\d+)$/.exec(descr);
  if (!m) {
    if (/^[<>|=]?O/.test(descr)) return { unsupported: objectNote(descr) };
    return { unsupported: `dtype ${descr} is not a plain numeric type` };
  }
  const [, order, kind, sizeText] = m as unknown as [string, string, string, string];
  const size = Number(sizeText);
  const little = order !== '>';
  const table: Record<string, DTypeName | undefined> = {
    f2: 'float16',
    f4: 'float32',
    f8: 'float64',
    i1: 'int8',
    i2: 'int16',
    i4: 'int32',
    i8: 'int64',
    u1: 'uint8',
    u2: 'uint16',
    u4: 'uint32',
    u8: 'uint64',
    b1: 'bool',
  };
  const name = table[`${kind}${size}`];
  if (name) return dtype(name, little);
  if (kind === 'O') return { unsupported: objectNote(descr) };
  const what: Record<string, string> = {
    c: 'complex',
    U: 'unicode string',
    S: 'byte string',
    a: 'byte string',
    V: 'void/structured',
    M: 'datetime',
    m: 'timedelta',
    f: 'float',
  };
  return { unsupported: `dtype ${descr} (${what[kind] ?? 'unknown kind'}) is not supported` };
}

function objectNote(descr: string): string {
  return `dtype ${descr} is an object array (pickled Python objects); repro-gate never unpickles, so it is compared by hash only`;
}

const SAFETENSORS: Record<string, DTypeName | undefined> = {
  F16: 'float16',
  BF16: 'bfloat16',
  F32: 'float32',
  F64: 'float64',
  I8: 'int8',
  I16: 'int16',
  I32: 'int32',
  I64: 'int64',
  U8: 'uint8',
  U16: 'uint16',
  U32: 'uint32',
  U64: 'uint64',
  BOOL: 'bool',
};

/** safetensors dtypes are always little-endian. */
export function dtypeFromSafetensors(name: string): DType | { unsupported: string } {
  const n = SAFETENSORS[name];
  return n ? dtype(n, true) : { unsupported: `safetensors dtype ${name} is not supported` };
}

// Scratch words to reinterpret bits as floats without allocating per element.
const scratchU32 = new Uint32Array(1);
const scratchF32 = new Float32Array(scratchU32.buffer);

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

let halfTable: Float64Array | undefined;
/** All 65 536 float16 values, built on first use (512 KiB). */
function halves(): Float64Array {
  if (!halfTable) {
    halfTable = new Float64Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToNumber(h);
  }
  return halfTable;
}

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The same elements as little-endian bytes at an offset aligned for typed-array views: byte-swapped
 * (a copy) when stored big-endian, copied when misaligned, otherwise the same memory.
 */
function normalise(buf: Buffer, dt: DType): { data: Buffer; dtype: DType } {
  if (!IS_LITTLE_ENDIAN) throw new Error('repro-gate reads tensors on little-endian machines only');
  let data = buf;
  if ((!dt.littleEndian && dt.size > 1) || data.byteOffset % dt.size !== 0) {
    data = Buffer.alloc(buf.length);
    buf.copy(data);
    if (!dt.littleEndian && dt.size === 2) data.swap16();
    if (!dt.littleEndian && dt.size === 4) data.swap32();
    if (!dt.littleEndian && dt.size === 8) data.swap64();
  }
  return { data, dtype: { ...dt, littleEndian: true } };
}

/** A normalised (little-endian, aligned) array, viewed for fast element access. */
export interface View {
  dtype: DType;
  length: number;
  /** Element i as a JS number (int64 beyond 2^53 rounds). */
  value: (i: number) => number;
  /** Raw bits: one word per element (size ≤ 4), or lo/hi word pairs at 2i / 2i+1 (size 8). */
  words: Uint8Array | Uint16Array | Uint32Array;
}

export function view(buf: Buffer, dt: DType): View {
  const { data, dtype: d } = normalise(buf, dt);
  const ab = data.buffer;
  const off = data.byteOffset;
  const length = data.length / d.size;
  const u8 = new Uint8Array(ab, off, data.length);
  const u16 = () => new Uint16Array(ab, off, length);
  const u32 = (n = length) => new Uint32Array(ab, off, n);
  let value: (i: number) => number;
  let words: View['words'];
  switch (d.name) {
    case 'float16': {
      const w = u16();
      const t = halves();
      words = w;
      value = (i) => t[w[i]!]!;
      break;
    }
    case 'bfloat16': {
      const w = u16();
      words = w;
      value = (i) => {
        scratchU32[0] = w[i]! << 16;
        return scratchF32[0]!;
      };
      break;
    }
    case 'float32': {
      const f = new Float32Array(ab, off, length);
      words = u32();
      value = (i) => f[i]!;
      break;
    }
    case 'float64': {
      const f = new Float64Array(ab, off, length);
      words = u32(length * 2);
      value = (i) => f[i]!;
      break;
    }
    case 'int8': {
      const x = new Int8Array(ab, off, length);
      words = u8;
      value = (i) => x[i]!;
      break;
    }
    case 'uint8':
      words = u8;
      value = (i) => u8[i]!;
      break;
    case 'bool':
      words = u8;
      value = (i) => (u8[i] ? 1 : 0);
      break;
    case 'int16': {
      const x = new Int16Array(ab, off, length);
      words = u16();
      value = (i) => x[i]!;
      break;
    }
    case 'uint16': {
      const x = u16();
      words = x;
      value = (i) => x[i]!;
      break;
    }
    case 'int32': {
      const x = new Int32Array(ab, off, length);
      words = u32();
      value = (i) => x[i]!;
      break;
    }
    case 'uint32': {
      const x = u32();
      words = x;
      value = (i) => x[i]!;
      break;
    }
    case 'int64': {
      const x = new BigInt64Array(ab, off, length);
      words = u32(length * 2);
      value = (i) => Number(x[i]!);
      break;
    }
    case 'uint64': {
      const x = new BigUint64Array(ab, off, length);
      words = u32(length * 2);
      value = (i) => Number(x[i]!);
      break;
    }
  }
  return { dtype: d, length, value, words };
}

/**
 * ULP distance between two floats of the same width ≤ 4 bytes, from their bits: sign-magnitude
 * bits mapped onto a line of integers (negative floats below zero, +0 and −0 both at 0), then
 * subtracted. Adjacent representable values are 1 apart; ±Infinity sit one step past the largest
 * finite value.
 */
export function ulpDistance(bitsA: number, bitsB: number, size: 2 | 4): number {
  // No inner closure: this runs once per differing element.
  const sign = size === 2 ? 0x8000 : 0x80000000;
  const a = bitsA >= sign ? sign - bitsA : bitsA;
  const b = bitsB >= sign ? sign - bitsB : bitsB;
  return Math.abs(a - b);
}

/** The same for float64 given as (lo, hi) 32-bit words; exact up to 2^53 ULPs. */
export function ulpDistance64(loA: number, hiA: number, loB: number, hiB: number): number {
  const magA = hiA & 0x7fffffff;
  const magB = hiB & 0x7fffffff;
  if (hiA >>> 31 === hiB >>> 31) return Math.abs((magA - magB) * 4294967296 + (loA - loB));
  return (magA + magB) * 4294967296 + loA + loB;
}
