import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffData } from '../src/drift/data.js';
import { fingerprintData, type HashCounts, statSnapshot } from '../src/fingerprint/data.js';
import { startPool } from '../src/fingerprint/hash-pool.js';
import { WALK_FOLDER_MAX } from '../src/fingerprint/hash-worker.js';
import { type FolderNode, walkFolders } from '../src/fingerprint/walk.js';
import type { DataFingerprint } from '../src/schema/baseline.js';
import { sortBytes } from '../src/util/bytes.js';
import { GateError } from '../src/util/errors.js';

const EMPTY = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'rg-data-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(rel: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), content);
}

async function gateError(p: Promise<unknown>): Promise<GateError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GateError);
  return err as GateError;
}

describe('fingerprintData', () => {
  it('hashes files to their known SHA-256', async () => {
    await put('empty.txt', '');
    await put('abc.txt', 'abc');
    const fp = await fingerprintData(['empty.txt', 'abc.txt'], root);
    expect(fp).toEqual({
      files: { 'abc.txt': { sha256: ABC, size: 3 }, 'empty.txt': { sha256: EMPTY, size: 0 } },
    });
  });

  it('walks folders recursively with one sorted entry per file', async () => {
    await put('data/b.csv', 'b');
    await put('data/a/z.csv', 'z');
    await put('data/a/y/x.csv', 'x');
    await put('data/B.csv', 'B');
    await put('data/a-1.csv', 'a');
    await put('other.txt', 'not listed');
    const fp = await fingerprintData(['data/'], root);
    // byte order of full paths: 'B' < 'a', '-' (0x2d) < '/' (0x2f)
    expect(Object.keys(fp.files)).toEqual([
      'data/B.csv',
      'data/a-1.csv',
      'data/a/y/x.csv',
      'data/a/z.csv',
      'data/b.csv',
    ]);
    expect(fp.files['data/a/z.csv']!.sha256).toBe(createHash('sha256').update('z').digest('hex'));
  });

  it('dedupes overlapping entries and accepts "." and absolute paths inside root', async () => {
    await put('data/a.csv', 'a');
    const fp = await fingerprintData(['data', 'data/a.csv', path.join(root, 'data/a.csv')], root);
    expect(Object.keys(fp.files)).toEqual(['data/a.csv']);
    expect(Object.keys((await fingerprintData(['.'], root)).files)).toEqual(['data/a.csv']);
  });

  it('is independent of concurrency: same result on every run', async () => {
    for (let i = 0; i < 50; i++) await put(`d/f${String(i).padStart(2, '0')}.bin`, randomBytes(100 + i * 37));
    const a = await fingerprintData(['d'], root);
    const b = await fingerprintData(['d'], root);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(Object.keys(a.files)).toHaveLength(50);
  });

  it('shares a folder too big for one request out in chunks, with the same manifest in byte order', async () => {
    const expected = new Map<string, string>();
    const n = WALK_FOLDER_MAX + 100;
    for (let i = 0; i < n; i++) {
      const rel = `big/f${i}`;
      await put(rel, String(i));
      expected.set(rel, createHash('sha256').update(String(i)).digest('hex'));
    }
    // Name order (x, x-1, x.txt) and path byte order (x-1, x.txt, x/…) differ here.
    for (const rel of ['big/x/inner.csv', 'big/x-1', 'big/x.txt']) {
      await put(rel, rel);
      expected.set(rel, createHash('sha256').update(rel).digest('hex'));
    }
    await symlink(path.join(root, 'big/f7'), path.join(root, 'big/link'));
    expected.set('big/link', expected.get('big/f7') as string);
    const fp = await fingerprintData(['big'], root);
    expect(Object.keys(fp.files)).toEqual(sortBytes(expected.keys()));
    expect(Object.fromEntries(Object.entries(fp.files).map(([k, v]) => [k, v.sha256]))).toEqual(
      Object.fromEntries(expected),
    );
    // The chunks' stats are the walk's too: a snapshot sees every file, and an unchanged tree is answered from the stat cache.
    expect((await statSnapshot(['big'], root)).size).toBe(expected.size);
    const statCache = path.join(root, '.repro-gate/cache/stat');
    const past = new Date('2020-01-01T00:00:00Z');
    for (const rel of expected.keys()) await utimes(path.join(root, rel), past, past);
    await fingerprintData(['big'], root, { statCache });
    let counts: HashCounts | undefined;
    const warm = await fingerprintData(['big'], root, { statCache, counts: (c) => (counts = c) });
    expect(counts).toEqual({ hashed: 0, fromCache: expected.size });
    expect(warm).toEqual(fp);
  });

  it('names a folder it cannot list, and a snapshot simply leaves it out', async () => {
    const pool = startPool(1);
    try {
      const task = (node: FolderNode) => ({
        abs: path.join(root, 'gone'),
        rel: 'data/gone',
        entry: 'data',
        viaLink: false,
        ancestors: [],
        node,
      });
      const err = await gateError(walkFolders(pool, [task({ items: [] })], { checkTime: () => {}, tolerant: false }));
      expect(err.message).toBe('Cannot list data folder data/gone (ENOENT; data: entry "data").');
      expect(err.hint).toContain('readable by the runner');
      const node: FolderNode = { items: [] };
      await walkFolders(pool, [task(node)], { checkTime: () => {}, tolerant: true });
      expect(node.items).toEqual([]);
    } finally {
      pool.close();
    }
  });

  it('hashes a 20 MiB file like a one-shot hash (streamed across chunks)', async () => {
    const big = randomBytes(20 * 1024 * 1024 + 12345); // not a multiple of the chunk size
    await put('big.bin', big);
    const fp = await fingerprintData(['big.bin'], root);
    expect(fp.files['big.bin']).toEqual({ sha256: createHash('sha256').update(big).digest('hex'), size: big.length });
  });

  it('follows file and folder symlinks, skips cycles, and rejects broken links', async () => {
    await put('real/a.txt', 'abc');
    await put('data/x.txt', '');
    await symlink(path.join(root, 'real/a.txt'), path.join(root, 'data/link.txt'));
    await symlink(path.join(root, 'real'), path.join(root, 'data/linked-dir'));
    await symlink(path.join(root, 'data'), path.join(root, 'data/loop')); // cycle
    const fp = await fingerprintData(['data'], root);
    expect(fp.files).toEqual({
      'data/link.txt': { sha256: ABC, size: 3 },
      'data/linked-dir/a.txt': { sha256: ABC, size: 3 },
      'data/x.txt': { sha256: EMPTY, size: 0 },
    });
    await symlink(path.join(root, 'nowhere'), path.join(root, 'data/broken'));
    const err = await gateError(fingerprintData(['data'], root));
    expect(err.message).toContain('data/broken');
    expect(err.message).toContain('broken symlink');
  });

  it('names a missing entry and the data: setting', async () => {
    const err = await gateError(fingerprintData(['data/missing.csv'], root));
    expect(err.message).toContain('data/missing.csv');
    expect(err.message).toContain('data:');
    expect(err.hint).toContain('repro-gate.yml');
  });

  it('rejects entries that escape the root', async () => {
    for (const entry of ['../x', 'data/../../x', path.resolve(root, '..', 'elsewhere')]) {
      const err = await gateError(fingerprintData([entry], root));
      expect(err.message).toContain('outside the project root');
      expect(err.message).toContain(entry);
    }
  });
});

describe('diffData', () => {
  it('reports exactly the file whose byte changed', async () => {
    await put('data/a.csv', '1,2,3\n');
    await put('data/b.csv', '4,5,6\n');
    const before = await fingerprintData(['data'], root);
    await put('data/b.csv', '4,5,7\n'); // one byte
    const after = await fingerprintData(['data'], root);
    expect(diffData(before, after)).toEqual([
      {
        path: 'data/b.csv',
        change: 'modified',
        before: before.files['data/b.csv']!.sha256,
        after: after.files['data/b.csv']!.sha256,
      },
    ]);
    // Fingerprinting the unchanged tree again finds nothing.
    expect(diffData(after, await fingerprintData(['data'], root))).toEqual([]);
  });

  it('reports added and removed files sorted by path', async () => {
    await put('data/keep.csv', 'k');
    await put('data/old.csv', 'o');
    const before = await fingerprintData(['data'], root);
    await rm(path.join(root, 'data/old.csv'));
    await put('data/new.csv', 'n');
    await appendFile(path.join(root, 'data/keep.csv'), '');
    const after = await fingerprintData(['data'], root);
    expect(diffData(before, after)).toEqual([
      { path: 'data/new.csv', change: 'added', before: null, after: after.files['data/new.csv']!.sha256 },
      { path: 'data/old.csv', change: 'removed', before: before.files['data/old.csv']!.sha256, after: null },
    ]);
  });

  it('is pure over plain values', () => {
    const a: DataFingerprint = { files: { z: { sha256: 'aa', size: 1 }, m: { sha256: 'bb', size: 1 } } };
    const b: DataFingerprint = { files: { m: { sha256: 'cc', size: 1 } } };
    expect(diffData(a, b).map((d) => [d.path, d.change])).toEqual([
      ['m', 'modified'],
      ['z', 'removed'],
    ]);
  });
});
