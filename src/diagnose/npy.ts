/**
 * The NumPy `.npy` format (versions 1.0, 2.0 and 3.0):
 *   "\x93NUMPY", major, minor, header length (uint16 LE in v1, uint32 LE in v2/v3),
 *   then a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } (latin-1 in
 *   v1/v2, UTF-8 in v3), padded with spaces to a multiple of 64 bytes and ended by "\n"; then the data.
 * The header is parsed by a small literal parser, never evaluated.
 */
import type { DType } from './dtype.js';
import { dtypeFromNumpy } from './dtype.js';

const NPY_MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
/** Enough to hold any header a sane writer produces; NumPy itself refuses headers above 10 000 bytes by default. */
export const NPY_MAX_HEADER = 1 << 20;

export interface NpyHeader {
  version: string;
  descr: string;
  /** null when the descr is not a plain numeric type (object, string, structured, complex, …). */
  dtype: DType | null;
  unsupported?: string;
  fortranOrder: boolean;
  shape: number[];
  /** Byte offset of the data from the start of the .npy bytes. */
  dataOffset: number;
  /** Bytes of data the header promises (null when the itemsize is unknown). */
  dataBytes: number | null;
}

import { FormatError } from './file-format.js';

/**
 * Parses the header from the first bytes of a .npy (pass at least the preamble; if the header is
 * longer than what was passed, `needBytes` is thrown back so the caller can read more).
 */
export function parseNpyHeader(buf: Buffer): NpyHeader | { needBytes: number } {
  if (buf.length < 10) return { needBytes: 10 };
  if (!buf.subarray(0, 6).equals(NPY_MAGIC)) throw new FormatError('not a .npy file (bad magic bytes)');
  const major = buf[6]!;
  const minor = buf[7]!;
  if (major < 1 || major > 3) throw new FormatError(`unsupported .npy format version ${major}.${minor}`);
  const lenBytes = major === 1 ? 2 : 4;
  if (buf.length < 8 + lenBytes) return { needBytes: 8 + lenBytes };
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  if (headerLen > NPY_MAX_HEADER) throw new FormatError(`.npy header of ${headerLen} bytes is implausibly large`);
  const dataOffset = 8 + lenBytes + headerLen;
  if (buf.length < dataOffset) return { needBytes: dataOffset };
  const text = buf.subarray(8 + lenBytes, dataOffset).toString(major === 3 ? 'utf8' : 'latin1');
  const dict = parsePyLiteral(text);
  if (!isDict(dict)) throw new FormatError('.npy header is not a dict');
  const { descr, fortran_order: fortran, shape } = dict;
  if (typeof fortran !== 'boolean') throw new FormatError(".npy header has no boolean 'fortran_order'");
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new FormatError(".npy header has no valid 'shape'");
  }
  const dims = shape as number[];
  if (typeof descr !== 'string') {
    return {
      version: `${major}.${minor}`,
      descr: JSON.stringify(descr) ?? '?',
      dtype: null,
      unsupported: 'structured dtype (record array) is not supported',
      fortranOrder: fortran,
      shape: dims,
      dataOffset,
      dataBytes: null,
    };
  }
  const dt = dtypeFromNumpy(descr);
  const count = dims.reduce((a, b) => a * b, 1);
  if ('unsupported' in dt) {
    return {
      version: `${major}.${minor}`,
      descr,
      dtype: null,
      unsupported: dt.unsupported,
      fortranOrder: fortran,
      shape: dims,
      dataOffset,
      dataBytes: null,
    };
  }
  return {
    version: `${major}.${minor}`,
    descr,
    dtype: dt,
    fortranOrder: fortran,
    shape: dims,
    dataOffset,
    dataBytes: count * dt.size,
  };
}

type Py = string | number | boolean | null | Py[] | { [k: string]: Py };

function isDict(v: Py): v is { [k: string]: Py } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A Python literal: dicts, tuples, lists, strings, ints (incl. Python 2 `3L`), True/False/None. */
export function parsePyLiteral(text: string): Py {
  let pos = 0;
  const ws = () => {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
  };
  const fail = (what: string): never => {
    throw new FormatError(`bad .npy header at character ${pos}: ${what}`);
  };
  const value = (): Py => {
    ws();
    const c = text[pos];
    if (c === '{') {
      pos++;
      const out: { [k: string]: Py } = Object.create(null) as { [k: string]: Py };
      for (;;) {
        ws();
        if (text[pos] === '}') {
          pos++;
          return out;
        }
        const k = value();
        if (typeof k !== 'string') fail('dict key is not a string');
        ws();
        if (text[pos] !== ':') fail("expected ':'");
        pos++;
        out[k as string] = value();
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== '}') fail("expected ',' or '}'");
      }
    }
    if (c === '(' || c === '[') {
      const close = c === '(' ? ')' : ']';
      pos++;
      const out: Py[] = [];
      for (;;) {
        ws();
        if (text[pos] === close) {
          pos++;
          return out;
        }
        out.push(value());
        ws();
        if (text[pos] === ',') pos++;
        else if (text[pos] !== close) fail(`expected ',' or '${close}'`);
      }
    }
    if (c === "'" || c === '"') {
      pos++;
      let s = '';
      while (pos < text.length && text[pos] !== c) {
        if (text[pos] === '\\') pos++;
        s += text[pos++] ?? '';
      }
      if (pos >= text.length) fail('unterminated string');
      pos++;
      return s;
    }
    const m = /^(?:True|False|None|-?\d+L?)/.exec(text.slice(pos, pos + 32));
    if (!m) return fail('unexpected token');
    pos += m[0].length;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    if (m[0] === 'None') return null;
    return Number(m[0].replace(/L$/, ''));
  };
  const v = value();
  ws();
  if (pos !== text.length) fail('trailing characters');
  return v;
}
