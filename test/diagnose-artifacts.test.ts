/**
 * Artifact diffs on real files: .npy/.npz written by NumPy, .safetensors written byte by byte by a
 * small Python snippet (struct + json, no safetensors package), JSON / CSV / binary written here.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diffArtifactDirs, diffArtifacts, formatOf } from '../src/diagnose/artifact-diff.js';
import { ulpDistance, ulpDistance64 } from '../src/diagnose/dtype.js';
import { parsePyLiteral } from '../src/diagnose/npy.js';
import { renderArtifactDiffs } from '../src/report/artifacts.js';
import { escapeCode as code, TERMINAL } from '../src/report/escape.js';
import type { ArrayDiff, ArtifactDiff } from '../src/schema/diagnosis.js';
import { parseCsv } from '../src/util/csv.js';
import { num } from '../src/util/format.js';

let dir: string;
const A = () => path.join(dir, 'a');
const B = () => path.join(dir, 'b');

/**
 * Files written with the standard library only (struct, zipfile, zlib), so they are generated on any
 * machine with python3: a hand-rolled .npy writer (the format is a documented 10-byte preamble, a
 * Python-dict header and raw data), a ZIP64 .npz, and safetensors byte by byte.
 */
const GENERATE_STDLIB = String.raw`
import json, os, struct, sys, zipfile, zlib

root = sys.argv[1]
a = os.path.join(root, "a"); b = os.path.join(root, "b")
os.makedirs(a); os.makedirs(b)

def npy(descr, shape, fmt, values, fortran=False):
    header = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, repr(tuple(shape)))
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    order = ">" if descr[0] == ">" else "<"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + struct.pack("%s%d%s" % (order, len(values), fmt), *values)

def save(name, before, after):
    for folder, data in ((a, before), (b, after)):
        with open(os.path.join(folder, name), "wb") as f:
            f.write(data)

def next_up32(x):
    bits = struct.unpack("<I", struct.pack("<f", x))[0]
    return struct.unpack("<f", struct.pack("<I", bits + 1))[0]

base = [struct.unpack("<f", struct.pack("<f", i * 0.1))[0] for i in range(12)]
bumped = list(base); bumped[6] = next_up32(bumped[6])
with_nan = list(base); with_nan[1] = float("nan")
save("std_ulp32.npy", npy("<f4", (3, 4), "f", base), npy("<f4", (3, 4), "f", bumped))
save("std_nan.npy", npy("<f4", (3, 4), "f", base), npy("<f4", (3, 4), "f", with_nan))
save("std_shape.npy", npy("<f4", (3, 4), "f", base), npy("<f4", (2, 6), "f", base))
save("std_dtype.npy", npy("<f4", (12,), "f", base), npy("<f8", (12,), "d", base))
save("std_endian.npy", npy("<f4", (12,), "f", base), npy(">f4", (12,), "f", base))
save("std_int.npy", npy("<i8", (3,), "q", [1, 2, 3]), npy("<i8", (3,), "q", [1, 2, 7]))
save("std_bool.npy", npy("|b1", (3,), "?", [True, False, True]), npy("|b1", (3,), "?", [True, True, True]))
save("std_fortran.npy", npy("<f8", (2, 3), "d", [0, 1, 2, 3, 4, 5]), npy("<f8", (2, 3), "d", [0, 3, 1, 4, 2, 5], fortran=True))
for folder, w in ((a, base), (b, bumped)):
    with zipfile.ZipFile(os.path.join(folder, "std.npz"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("w.npy", npy("<f4", (3, 4), "f", w))
        z.writestr("b.npy", npy("<i4", (2,), "i", [5, 6]))
        if folder == a:
            z.writestr("steps.npy", npy("<i8", (), "q", [100]))
        else:
            z.writestr("lr.npy", npy("<f8", (), "d", [0.1]))
# Same arrays, different entry order: bytes differ, every array identical.
for folder, names in ((a, ("w", "b")), (b, ("b", "w"))):
    with zipfile.ZipFile(os.path.join(folder, "std_reordered.npz"), "w", zipfile.ZIP_STORED) as z:
        for n in names:
            z.writestr(n + ".npy", npy("<f4", (3, 4), "f", base) if n == "w" else npy("<i4", (2,), "i", [5, 6]))

# A ZIP64 archive by hand (as written for >4 GiB checkpoints): sizes, offsets and the entry count
# live in ZIP64 records, the classic fields hold 0xffff / 0xffffffff.
def zip64(path, name, data):
    nb = name.encode(); crc = zlib.crc32(data); n = len(data)
    local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(nb), 20) + nb + struct.pack("<HHQQ", 1, 16, n, n)
    extra = struct.pack("<HHQQQ", 1, 24, n, n, 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 0, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(nb), len(extra), 0, 0, 0, 0, 0xFFFFFFFF) + nb + extra
    cd_off = len(local) + n
    rec = struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, 1, 1, len(central), cd_off)
    loc = struct.pack("<IIQI", 0x07064b50, 0, cd_off + len(central), 1)
    eocd = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(path, "wb") as f:
        f.write(local + data + central + rec + loc + eocd)
    assert zipfile.ZipFile(path).read(name) == data  # Python agrees it is a valid ZIP64 archive
zip64(os.path.join(a, "zip64.npz"), "w.npy", npy("<f4", (3, 4), "f", base))
zip64(os.path.join(b, "zip64.npz"), "w.npy", npy("<f4", (3, 4), "f", bumped))

# safetensors, by hand: 8-byte LE header length, JSON header, data.
def bf16(x):
    return struct.unpack("<I", struct.pack("<f", x))[0] >> 16

def safetensors(path, tensors, meta):
    header = {"__metadata__": meta} if meta else {}
    blobs = []; offset = 0
    for name, (dtype, shape, data) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        blobs.append(data); offset += len(data)
    hb = json.dumps(header).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb))); f.write(hb); f.write(b"".join(blobs))

bfv = [bf16(x) for x in (1.0, -2.5, 3.25, 0.1)]
bfv2 = list(bfv); bfv2[2] += 1
f16 = struct.pack("<3e", 0.5, 1.5, -3.0); f16b = struct.pack("<3e", 0.5, float("nan"), -3.0)
common = {
    "emb": ("F32", [2, 3], struct.pack("<6f", *range(6))),
    "ids": ("I64", [3], struct.pack("<3q", 1, 2, 3)),
    "mask": ("BOOL", [2], bytes([1, 0])),
}
safetensors(os.path.join(a, "model.safetensors"), {**common, "bf": ("BF16", [4], struct.pack("<4H", *bfv)), "half": ("F16", [3], f16)}, {"format": "pt"})
safetensors(os.path.join(b, "model.safetensors"), {**common, "bf": ("BF16", [4], struct.pack("<4H", *bfv2)), "half": ("F16", [3], f16b)}, {"format": "pt2"})
`;

/** Files NumPy itself writes (np.save / np.savez / np.savez_compressed / format.write_array). */
const GENERATE_NUMPY = `
import os, sys
import numpy as np

root = sys.argv[1]
a = os.path.join(root, "a"); b = os.path.join(root, "b")

def save(name, before, after):
    np.save(os.path.join(a, name), before)
    np.save(os.path.join(b, name), after)

base32 = (np.arange(12, dtype=np.float32) * np.float32(0.1)).reshape(3, 4)
ulp32 = base32.copy(); ulp32[1, 2] = np.nextafter(ulp32[1, 2], np.float32(np.inf))
save("ulp32.npy", base32, ulp32)

base64 = np.linspace(-1, 1, 7)
ulp64 = base64.copy(); ulp64[3] = np.nextafter(ulp64[3], 1.0); ulp64[5] = np.nextafter(np.nextafter(ulp64[5], -9.0), -9.0)
save("ulp64.npy", base64, ulp64)

h = np.array([1.0, 2.0, 3.0], dtype=np.float16); h2 = h.copy(); h2[0] = np.nextafter(h2[0], np.float16(9))
save("half.npy", h, h2)

nan = base32.copy(); nan[0, 1] = np.nan; nan[2, 3] = np.nan
save("nan.npy", base32, nan)

save("reshape.npy", base32, base32.reshape(4, 3))
save("grow.npy", np.arange(5, dtype=np.float64), np.arange(6, dtype=np.float64))
save("shape2d.npy", np.zeros((2, 3), np.float32), np.zeros((3, 3), np.float32))
save("dtype.npy", base32, base32.astype(np.float64))

ints = np.arange(10, dtype=np.int64) * 1000; ints2 = ints.copy(); ints2[7] += 5
save("ints.npy", ints, ints2)
save("int32.npy", np.arange(6, dtype=np.int32), np.arange(6, dtype=np.int32))
bools = np.array([True, False, True, True]); bools2 = bools.copy(); bools2[1] = True
save("bools.npy", bools, bools2)
save("uint8.npy", np.array([0, 1, 255], dtype=np.uint8), np.array([0, 2, 255], dtype=np.uint8))

# Same values, different layout / byte order: logically identical.
m = np.arange(6, dtype=np.float64).reshape(2, 3)
save("fortran.npy", m, np.asfortranarray(m))
m2 = m.copy(); m2[1, 0] = 99.0
save("fortran_changed.npy", np.asfortranarray(m), m2)
save("endian.npy", base32, base32.astype(">f4"))
save("signed_zero.npy", np.array([0.0, 1.0]), np.array([-0.0, 1.0]))

# Header versions 2.0 and 3.0.
for name, ver in (("v2.npy", (2, 0)), ("v3.npy", (3, 0))):
    for folder, arr in ((a, base32), (b, ulp32)):
        with open(os.path.join(folder, name), "wb") as f:
            np.lib.format.write_array(f, arr, version=ver)

# Object arrays are pickles: refused (compared by hash).
np.save(os.path.join(a, "objects.npy"), np.array([{"x": 1}, None], dtype=object), allow_pickle=True)
np.save(os.path.join(b, "objects.npy"), np.array([{"x": 2}, None], dtype=object), allow_pickle=True)

# .npz: stored and deflated; one changed array, one unchanged, one removed, one added.
w = np.random.default_rng(0).standard_normal((8, 8)).astype(np.float32)
w2 = w.copy(); w2[3, 4] = np.nextafter(w2[3, 4], np.float32(np.inf))
bias = np.arange(8, dtype=np.float64)
steps = np.array(100, dtype=np.int64)
np.savez(os.path.join(a, "model.npz"), w=w, bias=bias, steps=steps)
np.savez(os.path.join(b, "model.npz"), w=w2, bias=bias, lr=np.array(0.1))
np.savez_compressed(os.path.join(a, "compressed.npz"), w=w, bias=bias)
np.savez_compressed(os.path.join(b, "compressed.npz"), w=w2, bias=bias)
# Same arrays, different entry order: bytes differ, every array identical.
np.savez(os.path.join(a, "reordered.npz"), w=w, bias=bias)
np.savez(os.path.join(b, "reordered.npz"), bias=bias, w=w)
# A big array for the hash-only path (deflated, so it streams through inflate).
big = np.arange(50000, dtype=np.float64); big2 = big.copy(); big2[-1] += 1
np.savez_compressed(os.path.join(a, "big.npz"), big=big, small=bias)
np.savez_compressed(os.path.join(b, "big.npz"), big=big2, small=bias)
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rg-artifacts-'));
  execFileSync('python3', ['-c', GENERATE_STDLIB, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  // NumPy is a test requirement (.ci/run makes sure python3 can import it).
  execFileSync('python3', ['-c', GENERATE_NUMPY, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  await writeFile(
    path.join(A(), 'metrics.json'),
    JSON.stringify({
      accuracy: 0.9,
      loss: 0.25,
      history: { loss: [1, 0.5, 0.25] },
      grid: [
        [1, 2],
        [3, 4],
      ],
      name: 'run',
      tags: ['a', 1],
      ok: true,
      'odd.key': 1,
    }),
  );
  await writeFile(
    path.join(B(), 'metrics.json'),
    '{"accuracy": 0.9000000000000001, "loss": NaN, "history": {"loss": [1, 0.5, 0.25, 0.2]}, "grid": [[1, 2], [3, 5]], "name": "run2", "tags": ["b", 1], "ok": true, "odd.key": 1, "new": 3}',
  );
  await writeFile(
    path.join(A(), 'preds.csv'),
    'id,label,score,"note, quoted"\r\n1,cat,0.5,x\r\n2,dog,0.25,"multi\nline"\r\n3,cat,,y\r\n',
  );
  await writeFile(
    path.join(B(), 'preds.csv'),
    'id,label,score,"note, quoted"\n1,cat,0.5,x\n2,cow,0.2500001,"multi\nline"\n3,cat,nan,y\n',
  );
  await writeFile(path.join(A(), 'model.bin'), Buffer.from([1, 2, 3, 4]));
  await writeFile(path.join(B(), 'model.bin'), Buffer.from([1, 2, 3, 5, 6]));
  await writeFile(path.join(A(), 'same.bin'), 'same');
  await writeFile(path.join(B(), 'same.bin'), 'same');
  await writeFile(path.join(A(), 'broken.npy'), 'not numpy at all');
  await writeFile(path.join(B(), 'broken.npy'), 'still not numpy');
  await writeFile(path.join(A(), 'gone.json'), '{}');
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const diff = (name: string, opts = {}) => diffArtifacts(path.join(A(), name), path.join(B(), name), name, opts);
const only = (d: ArtifactDiff): ArrayDiff => {
  expect(d.arrays).toHaveLength(1);
  return d.arrays[0]!;
};
const arr = (d: ArtifactDiff, name: string): ArrayDiff => {
  const found = d.arrays.find((a) => a.name === name);
  if (!found) throw new Error(`no array ${name} in ${d.arrays.map((a) => a.name).join(', ')}`);
  return found;
};

describe('.npy and .npz written with the standard library', () => {
  it('finds a one-ULP float32 change, NaNs, shape, dtype, byte-order and layout changes', async () => {
    expect(only(await diff('std_ulp32.npy'))).toMatchObject({
      dtypeAfter: 'float32',
      shapeAfter: [3, 4],
      differing: 1,
      maxUlp: 1,
      firstDifference: { index: [1, 2] },
    });
    expect(only(await diff('std_nan.npy'))).toMatchObject({
      nanBefore: 0,
      nanAfter: 1,
      nonFiniteDiffering: 1,
      firstDifference: { index: [0, 1], after: 'NaN' },
    });
    expect(only(await diff('std_shape.npy'))).toMatchObject({
      shapeBefore: [3, 4],
      shapeAfter: [2, 6],
      differing: 0,
      bitIdentical: false,
    });
    expect(only(await diff('std_dtype.npy'))).toMatchObject({
      dtypeBefore: 'float32',
      dtypeAfter: 'float64',
      differing: 0,
      maxUlp: null,
      status: 'modified',
    });
    expect(only(await diff('std_endian.npy'))).toMatchObject({ status: 'identical', bitIdentical: true });
    expect(only(await diff('std_int.npy'))).toMatchObject({
      dtypeAfter: 'int64',
      differing: 1,
      maxAbsDiff: 4,
      maxUlp: null,
    });
    expect(only(await diff('std_bool.npy'))).toMatchObject({ dtypeAfter: 'bool', differing: 1 });
    expect(only(await diff('std_fortran.npy'))).toMatchObject({ status: 'identical', bitIdentical: true });
  });

  it('reads a deflated .npz', async () => {
    const d = await diff('std.npz');
    expect(arr(d, 'w')).toMatchObject({ differing: 1, maxUlp: 1 });
    expect(arr(d, 'b')).toMatchObject({ status: 'identical', dtypeAfter: 'int32' });
    expect(arr(d, 'steps')).toMatchObject({
      status: 'removed',
      dtypeBefore: 'int64',
      shapeBefore: [],
      elementsBefore: 1,
      shapeAfter: null,
    });
    expect(arr(d, 'lr')).toMatchObject({ status: 'added', dtypeAfter: 'float64', nanAfter: 0 });
  });

  it('reads a ZIP64 central directory', async () => {
    const d = await diff('zip64.npz');
    expect(d.notes).toEqual([]);
    expect(only(d)).toMatchObject({ name: 'w', differing: 1, maxUlp: 1, firstDifference: { index: [1, 2] } });
  });

  it('says when only the container changed', async () => {
    const d = await diff('std_reordered.npz');
    expect(d.status).toBe('modified');
    expect(d.arrays.map((x) => x.status)).toEqual(['identical', 'identical']);
    expect(d.notes.join(' ')).toMatch(/every array is bit-identical/);
  });

  it('hashes a whole .npy above the cap', async () => {
    const a = only(await diff('std_ulp32.npy', { maxArrayBytes: 16 }));
    expect(a).toMatchObject({ differing: null, bitIdentical: false });
    expect(a.note).toMatch(/48 bytes of data, above the 16-byte limit/);
    expect(only(await diff('std_endian.npy', { maxArrayBytes: 16 }))).toMatchObject({ dtypeAfter: 'float32' });
  });

  it('falls back to size and hash when a file does not parse', async () => {
    const d = await diff('broken.npy');
    expect(d).toMatchObject({ status: 'modified', arrays: [], sizeBefore: 16, sizeAfter: 15 });
    expect(d.notes[0]).toMatch(/could not read the before file as npy \(not a \.npy file/);
  });
});

describe('.npy written by NumPy', () => {
  it('finds a one-ULP float32 change and where it is', async () => {
    const d = await diff('ulp32.npy');
    expect(d.format).toBe('npy');
    expect(d.status).toBe('modified');
    const a = only(d);
    expect(a).toMatchObject({
      name: '',
      status: 'modified',
      dtypeBefore: 'float32',
      dtypeAfter: 'float32',
      shapeBefore: [3, 4],
      shapeAfter: [3, 4],
      elementsBefore: 12,
      compared: 12,
      differing: 1,
      maxUlp: 1,
      nanBefore: 0,
      nanAfter: 0,
      bitIdentical: false,
    });
    expect(a.firstDifference!.index).toEqual([1, 2]);
    expect(a.maxAbsDiff).toBeGreaterThan(0);
    expect(a.maxAbsDiff).toBeLessThan(1e-6);
    expect(a.maxRelDiff).toBeLessThan(2e-7);
  });

  it('measures ULPs at float64 and float16 width', async () => {
    const a = only(await diff('ulp64.npy'));
    expect(a).toMatchObject({ dtypeAfter: 'float64', differing: 2, maxUlp: 2 });
    const h = only(await diff('half.npy'));
    expect(h).toMatchObject({ dtypeAfter: 'float16', differing: 1, maxUlp: 1 });
    expect(h.maxAbsDiff).toBeCloseTo(2 ** -10, 12);
  });

  it('counts NaNs before and after and keeps them out of the maxima', async () => {
    const a = only(await diff('nan.npy'));
    expect(a).toMatchObject({
      nanBefore: 0,
      nanAfter: 2,
      differing: 2,
      nonFiniteDiffering: 2,
      maxAbsDiff: 0,
      maxUlp: 0,
    });
    expect(a.firstDifference).toEqual({ index: [0, 1], before: expect.closeTo(0.1, 6), after: 'NaN' });
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
  });

  it('reports shape changes: same count compared flat, 1-D prefix compared, others not compared', async () => {
    const r = only(await diff('reshape.npy'));
    expect(r).toMatchObject({
      shapeBefore: [3, 4],
      shapeAfter: [4, 3],
      differing: 0,
      bitIdentical: false,
      status: 'modified',
    });
    expect(r.note).toMatch(/shape changed/);
    const g = only(await diff('grow.npy'));
    expect(g).toMatchObject({ shapeBefore: [5], shapeAfter: [6], compared: 5, differing: 0 });
    expect(g.note).toMatch(/length changed \(5 → 6\)/);
    const s = only(await diff('shape2d.npy'));
    expect(s).toMatchObject({
      shapeBefore: [2, 3],
      shapeAfter: [3, 3],
      compared: 0,
      differing: null,
      maxAbsDiff: null,
    });
  });

  it('reports a dtype change and compares values as numbers', async () => {
    const a = only(await diff('dtype.npy'));
    expect(a).toMatchObject({ dtypeBefore: 'float32', dtypeAfter: 'float64', maxUlp: null, bitIdentical: false });
    expect(a.differing).toBe(0);
    expect(a.note).toMatch(/dtype changed \(float32 → float64\)/);
  });

  it('handles ints, uint8 and bool (no ULPs for them)', async () => {
    expect(only(await diff('ints.npy'))).toMatchObject({
      dtypeAfter: 'int64',
      differing: 1,
      maxAbsDiff: 5,
      maxUlp: null,
      nanBefore: 0,
      firstDifference: { index: [7], before: 7000, after: 7005 },
    });
    expect((await diff('int32.npy')).status).toBe('identical');
    expect(only(await diff('bools.npy'))).toMatchObject({
      dtypeAfter: 'bool',
      differing: 1,
      maxAbsDiff: 1,
      maxUlp: null,
    });
    expect(only(await diff('uint8.npy'))).toMatchObject({ dtypeAfter: 'uint8', differing: 1, maxAbsDiff: 1 });
  });

  it('treats Fortran order and byte order as layout, not values', async () => {
    const f = only(await diff('fortran.npy'));
    expect(f).toMatchObject({ status: 'identical', bitIdentical: true, differing: 0 });
    const fc = only(await diff('fortran_changed.npy'));
    expect(fc).toMatchObject({ differing: 1, firstDifference: { index: [1, 0], before: 3, after: 99 } });
    expect(only(await diff('endian.npy'))).toMatchObject({
      dtypeBefore: 'float32',
      dtypeAfter: 'float32',
      bitIdentical: true,
      status: 'identical',
    });
  });

  it('counts −0 vs +0 as a bit difference of zero size', async () => {
    expect(only(await diff('signed_zero.npy'))).toMatchObject({ differing: 1, maxAbsDiff: 0, maxUlp: 0 });
  });

  it('reads header versions 2.0 and 3.0', async () => {
    for (const name of ['v2.npy', 'v3.npy'])
      expect(only(await diff(name))).toMatchObject({ differing: 1, maxUlp: 1, shapeAfter: [3, 4] });
  });

  it('refuses object arrays with a clear note and falls back to a hash', async () => {
    const a = only(await diff('objects.npy'));
    expect(a).toMatchObject({ dtypeBefore: '|O', differing: null, bitIdentical: false, status: 'modified' });
    expect(a.note).toMatch(/object array.*never unpickles/);
  });
});

describe('.npz written by NumPy', () => {
  it('compares entries by name, stored and deflated', async () => {
    for (const name of ['model.npz', 'compressed.npz']) {
      const d = await diff(name);
      expect(d.format).toBe('npz');
      expect(arr(d, 'w')).toMatchObject({ differing: 1, maxUlp: 1, firstDifference: { index: [3, 4] } });
      expect(arr(d, 'bias')).toMatchObject({ status: 'identical', bitIdentical: true });
    }
    const d = await diff('model.npz');
    expect(arr(d, 'steps')).toMatchObject({ status: 'removed', shapeBefore: [], elementsBefore: 1, shapeAfter: null });
    expect(arr(d, 'lr')).toMatchObject({ status: 'added', dtypeAfter: 'float64' });
  });

  it('says when only the container changed', async () => {
    const d = await diff('reordered.npz');
    expect(d.status).toBe('modified');
    expect(d.arrays.every((a) => a.bitIdentical)).toBe(true);
    expect(d.notes.join(' ')).toMatch(/every array is bit-identical/);
  });

  it('hashes arrays above the size cap, streaming them through inflate', async () => {
    const d = await diff('big.npz', { maxArrayBytes: 100_000 });
    expect(arr(d, 'big')).toMatchObject({
      dtypeAfter: 'float64',
      shapeAfter: [50000],
      differing: null,
      bitIdentical: false,
      status: 'modified',
    });
    expect(arr(d, 'big').note).toMatch(/400000 bytes of data, above the 100000-byte limit/);
    expect(arr(d, 'small')).toMatchObject({ status: 'identical', differing: 0 });
    // Under the default cap the same file is compared elementwise.
    expect(arr(await diff('big.npz'), 'big')).toMatchObject({
      differing: 1,
      maxAbsDiff: 1,
      firstDifference: { index: [49999] },
    });
  });

  it('hashes a whole .npy above the cap too', async () => {
    const a = only(await diff('ulp32.npy', { maxArrayBytes: 16 }));
    expect(a).toMatchObject({ differing: null, bitIdentical: false });
    expect(only(await diff('fortran.npy', { maxArrayBytes: 16 }))).toMatchObject({ differing: null });
  });
});

describe('.safetensors', () => {
  it('reads F32, I64, BOOL, BF16 and F16 tensors and the metadata', async () => {
    const d = await diff('model.safetensors');
    expect(d.format).toBe('safetensors');
    for (const n of ['emb', 'ids', 'mask']) expect(arr(d, n).status).toBe('identical');
    expect(arr(d, 'emb')).toMatchObject({ dtypeAfter: 'float32', shapeAfter: [2, 3] });
    expect(arr(d, 'mask').dtypeAfter).toBe('bool');
    expect(arr(d, 'bf')).toMatchObject({
      dtypeAfter: 'bfloat16',
      differing: 1,
      maxUlp: 1,
      firstDifference: { index: [2], before: 3.25 },
    });
    expect(arr(d, 'bf').maxAbsDiff).toBeCloseTo(2 ** -6, 10);
    expect(arr(d, 'half')).toMatchObject({ dtypeAfter: 'float16', nanBefore: 0, nanAfter: 1, nonFiniteDiffering: 1 });
    expect(arr(d, '__metadata__.format')).toMatchObject({
      dtypeAfter: 'string',
      differing: 1,
      firstDifference: { before: 'pt', after: 'pt2' },
    });
  });
});

describe('.json and .csv', () => {
  it('compares JSON numbers leaf by leaf and numeric arrays as arrays', async () => {
    const d = await diff('metrics.json');
    expect(d.format).toBe('json');
    expect(arr(d, 'accuracy')).toMatchObject({ shapeAfter: [], differing: 1, maxUlp: 1 });
    expect(arr(d, 'loss')).toMatchObject({ nanBefore: 0, nanAfter: 1, nonFiniteDiffering: 1 });
    expect(arr(d, 'history.loss')).toMatchObject({ shapeBefore: [3], shapeAfter: [4], compared: 3, differing: 0 });
    expect(arr(d, 'grid')).toMatchObject({
      shapeAfter: [2, 2],
      differing: 1,
      maxAbsDiff: 1,
      firstDifference: { index: [1, 1] },
    });
    expect(arr(d, 'name')).toMatchObject({
      dtypeAfter: 'string',
      differing: 1,
      firstDifference: { before: 'run', after: 'run2' },
    });
    expect(arr(d, 'tags.0')).toMatchObject({ differing: 1 });
    expect(arr(d, 'tags.1').status).toBe('identical');
    expect(arr(d, 'ok')).toMatchObject({ dtypeAfter: 'boolean', status: 'identical' });
    expect(arr(d, '["odd.key"]').status).toBe('identical');
    expect(arr(d, 'new').status).toBe('added');
  });

  it('compares CSV numeric columns as arrays and the rest as strings', async () => {
    const d = await diff('preds.csv');
    expect(arr(d, 'id')).toMatchObject({ status: 'identical', dtypeAfter: 'float64', shapeAfter: [3] });
    expect(arr(d, 'label')).toMatchObject({
      dtypeAfter: 'string',
      differing: 1,
      firstDifference: { index: [1], before: 'dog', after: 'cow' },
    });
    // An empty cell reads as NaN, as pandas writes it, so "" → "nan" is no change.
    expect(arr(d, 'score')).toMatchObject({ dtypeAfter: 'float64', differing: 1, nanBefore: 1, nanAfter: 1 });
    expect(arr(d, 'score').maxAbsDiff).toBeCloseTo(1e-7, 12);
    expect(arr(d, 'note, quoted').status).toBe('identical');
  });

  it('keeps changed entries first when there are more than maxEntries', async () => {
    const before = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    await writeFile(path.join(A(), 'many.json'), JSON.stringify(before));
    await writeFile(path.join(B(), 'many.json'), JSON.stringify({ ...before, k25: -1, k29: -2 }));
    const d = await diff('many.json', { maxEntries: 5 });
    expect(d.arrays.map((a) => a.name)).toEqual(['k0', 'k1', 'k2', 'k25', 'k29']);
    expect(d.arraysOmitted).toBe(25);
    expect(d.notes).toContain('25 of 30 entries left out (identical ones first)');
  });

  it('parses RFC 4180 quoting', () => {
    expect(parseCsv('a,"b ""q""",c\r\n1,"x\ny",3\n')).toEqual([
      ['a', 'b "q"', 'c'],
      ['1', 'x\ny', '3'],
    ]);
    expect(parseCsv('\ufeffa,b\n1,\n')).toEqual([
      ['a', 'b'],
      ['1', ''],
    ]);
  });
});

describe('fallbacks and helpers', () => {
  it('compares other files by size and SHA-256', async () => {
    const d = await diff('model.bin');
    expect(d).toMatchObject({ format: 'binary', status: 'modified', sizeBefore: 4, sizeAfter: 5, arrays: [] });
    expect(d.sha256Before).toMatch(/^[0-9a-f]{64}$/);
    expect(d.sha256Before).not.toBe(d.sha256After);
    expect((await diff('same.bin')).status).toBe('identical');
  });

  it('reports files present on one side only', async () => {
    expect(await diff('gone.json')).toMatchObject({
      status: 'removed',
      sizeBefore: 2,
      sizeAfter: null,
      sha256After: null,
    });
    expect(await diffArtifacts(path.join(dir, 'nope'), path.join(A(), 'same.bin'), 'x.bin')).toMatchObject({
      status: 'added',
      sizeAfter: 4,
    });
  });

  it('picks the format by extension', () => {
    expect(['w.NPY', 'm.npz', 'm.safetensors', 'x.json', 'y.csv', 'z.pt'].map(formatOf)).toEqual([
      'npy',
      'npz',
      'safetensors',
      'json',
      'csv',
      'binary',
    ]);
  });

  it('parses NumPy header literals without evaluating them', () => {
    expect(parsePyLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4), }")).toEqual({
      descr: '<f4',
      fortran_order: false,
      shape: [3, 4],
    });
    expect(() => parsePyLiteral("{'descr': __import__('os')}")).toThrow(/unexpected token/);
  });

  it('measures ULPs across zero and to infinity', () => {
    // float32: smallest positive subnormal vs −smallest subnormal = 2 steps; max finite → +Inf = 1 step.
    expect(ulpDistance(0x00000001, 0x80000001, 4)).toBe(2);
    expect(ulpDistance(0x7f7fffff, 0x7f800000, 4)).toBe(1);
    expect(ulpDistance(0x0000, 0x8000, 2)).toBe(0);
    // float64 as (lo, hi) words: 1.0 vs its successor, and a carry across the word boundary.
    expect(ulpDistance64(0, 0x3ff00000, 1, 0x3ff00000)).toBe(1);
    expect(ulpDistance64(0xffffffff, 0x3fefffff, 0, 0x3ff00000)).toBe(1);
    expect(ulpDistance64(1, 0x80000000, 1, 0)).toBe(2);
  });

  it('produces JSON-serialisable results', async () => {
    const all = await diffArtifactDirs(A(), B(), [
      'std_nan.npy',
      'std.npz',
      'model.safetensors',
      'metrics.json',
      'preds.csv',
      'model.bin',
    ]);
    expect(JSON.parse(JSON.stringify(all))).toEqual(all);
  });
});

describe('renderArtifactDiffs', () => {
  it('renders a compact table of changed arrays with escaped names', async () => {
    const diffs = await diffArtifactDirs(A(), B(), [
      'std_ulp32.npy',
      'std.npz',
      'std_nan.npy',
      'model.bin',
      'same.bin',
      'std_reordered.npz',
      'model.safetensors',
    ]);
    const md = renderArtifactDiffs(diffs);
    expect(md).toContain('6 of 7 artifacts differ (1 byte-identical).');
    expect(md).toContain(
      '| Artifact | Array | Type and shape | Differing | Max abs diff | Max rel diff | Max ULP | NaN before → after |',
    );
    // Names go through the report's own escaping helper, whatever it escapes.
    const row = (...cells: string[]) => `| ${cells.join(' | ')} |`;
    expect(md).toContain(
      row(
        code('std.npz'),
        code('w'),
        'float32 [3, 4]',
        '1 / 12',
        num(2 ** -24),
        num(2 ** -24 / 0.6000000834465027),
        '1',
        '0',
      ),
    );
    expect(md).toContain(
      row(code('std_nan.npy'), '(array)', 'float32 [3, 4]', '1 / 12 (1 NaN/∞)', '0', '0', '0', '0 → 1 ⚠️'),
    );
    expect(md).toContain(row(code('std.npz'), code('steps'), 'int64 []', 'removed', '—', '—', '—', '0 → —'));
    expect(md).toContain(row(code('std.npz'), code('lr'), 'float64 []', 'added', '—', '—', '—', '— → 0'));
    expect(md).toContain(
      row(
        code('model.safetensors'),
        code('bf'),
        'bfloat16 [4]',
        '1 / 4',
        num(2 ** -6),
        num(2 ** -6 / 3.265625),
        '1',
        '0',
      ),
    );
    expect(md).toContain(
      row(code('model.safetensors'), code('__metadata__.format'), 'string []', '1 / 1', '—', '—', '—', '—'),
    );
    expect(md).toMatch(
      /\| <code>model\.bin<\/code> \| — \| 4 B → 5 B \| SHA-256 <code>[0-9a-f]{12}<\/code> → <code>[0-9a-f]{12}<\/code> \|/,
    );
    expect(md).toContain(`| ${code('std_reordered.npz')} | — | 506 B | bytes differ, all 2 arrays bit-identical |`);
    expect(md).toContain(
      `- ${code('std_ulp32.npy')} first differs at [1, 2]: <code>0.600000024</code> → <code>0.600000083</code>`,
    );
    expect(md).toContain(
      `- ${code('model.safetensors')} ${code('bf')} first differs at [2]: <code>3.25</code> → <code>3.266</code>`,
    );
    expect(md).toContain('- <code>std.npz</code>: 1 other array bit-identical.');
    expect(md).not.toContain('same.bin');
  });

  it('escapes hostile names', () => {
    const md = renderArtifactDiffs([
      {
        name: 'a|b<script>@x.npz',
        format: 'npz',
        status: 'modified',
        sizeBefore: 1,
        sizeAfter: 1,
        sha256Before: 'a',
        sha256After: 'b',
        arraysOmitted: 0,
        notes: [],
        arrays: [
          {
            name: '`w`|[x](y)',
            status: 'modified',
            dtypeBefore: 'float32',
            dtypeAfter: 'float32',
            shapeBefore: [1],
            shapeAfter: [1],
            elementsBefore: 1,
            elementsAfter: 1,
            compared: 1,
            differing: 1,
            maxAbsDiff: 1,
            maxRelDiff: 1,
            maxUlp: 3,
            nonFiniteDiffering: 0,
            nanBefore: 0,
            nanAfter: 0,
            bitIdentical: false,
          },
        ],
      },
    ]);
    expect(md).not.toMatch(/<script>|\[x\]\(y\)|@x/);
    expect(md).toContain(code('a|b<script>@x.npz'));
    expect(md).toContain(code('`w`|[x](y)', 120));
    // Every table row has exactly the header's 9 pipes.
    for (const line of md.split('\n').filter((l) => l.startsWith('| '))) expect(line.split('|').length).toBe(10);
  });

  it('renders for a terminal with the terminal escaper', async () => {
    const md = renderArtifactDiffs(await diffArtifactDirs(A(), B(), ['std_ulp32.npy']), {
      escaper: TERMINAL,
      heading: '',
    });
    expect(md).toContain('| `std_ulp32.npy` | (array) | float32 [3, 4] | 1 / 12 |');
    expect(md).not.toContain('<code>');
  });

  it('says so when everything is identical', () => {
    expect(renderArtifactDiffs([])).toContain('No artifacts compared.');
  });
});
