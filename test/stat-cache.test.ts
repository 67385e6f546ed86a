/**
 * Data hashing on worker threads and the stat cache (.repro-gate/cache/stat): the manifest is the
 * same file by file and in the same order as a plain SHA-256 of each file; an unchanged file is
 * answered from the cache; an edit that keeps size and mtime is still caught through ctime; racy
 * entries are not trusted; a corrupt cache is discarded with a warning.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintData, type HashCounts } from '../src/fingerprint/data.js';
import { dropRacy, entryNumbers, loadStatCache } from '../src/fingerprint/stat-cache.js';
import { entrySha256, parseStatCache, type StatCacheEntries, statCacheBytes } from '../src/schema/stat-cache.js';
import { sortBytes } from '../src/util/bytes.js';

let root: string;
let cache: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'rg-stat-'));
  cache = path.join(root, '.repro-gate', 'cache', 'stat');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(rel: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), content);
}

/** The paths of the entries a re-check may use (not dropped as racy). */
const usable = (e: StatCacheEntries) => e.paths.filter((_, k) => !Number.isNaN(e.stats[4 * k]));

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** Fingerprints data/ with the stat cache and says how many files were read and how many came from the cache. */
async function fingerprint(opts: { statCache?: string; warn?: (m: string) => void } = { statCache: cache }) {
  let counts: HashCounts = { hashed: -1, fromCache: -1 };
  const fp = await fingerprintData(['data'], root, {
    ...opts,
    counts: (c) => {
      counts = c;
    },
  });
  return { fp, counts };
}

describe('hashing on worker threads', () => {
  it('gives every file its SHA-256, keyed in byte order, across folders and threads', async () => {
    const names = ['B', 'a', '_x', 'Z9', 'é', 'a b', '10', '9'];
    const expected = new Map<string, string>();
    for (const [i, dir] of ['sub', 'Sub', 'sub/deeper', 'ü'].entries()) {
      for (let j = 0; j < 300; j++) {
        const rel = `data/${dir}/${names[j % names.length]}-${j}`;
        const content = `${i}:${j}:`.repeat(j % 50);
        await put(rel, content);
        expected.set(rel, sha(content));
      }
    }
    const big = Buffer.alloc(3 * 1024 * 1024 + 5, 9); // several read chunks
    await put('data/big.bin', big);
    expected.set('data/big.bin', sha(big));
    const { fp } = await fingerprint({});
    expect(Object.keys(fp.files)).toEqual(sortBytes(expected.keys()));
    expect(Object.fromEntries(Object.entries(fp.files).map(([k, v]) => [k, v.sha256]))).toEqual(
      Object.fromEntries(expected),
    );
    expect(fp.files['data/big.bin']?.size).toBe(big.length);
  });
});

describe('byte order', () => {
  it('sorts names as UTF-8 bytes, with or without characters where UTF-16 order differs', () => {
    const byBuffer = (xs: string[]) => [...xs].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const ascii = ['b', 'a/b', 'a.txt', 'A', '_', 'a b', 'é', 'z9', 'Z10'];
    expect(sortBytes(ascii)).toEqual(byBuffer(ascii));
    // U+FF01 (fullwidth !) sorts after U+1F600 in UTF-16 code units but before it in UTF-8 bytes.
    const mixed = [...ascii, '\uFF01', '\u{1F600}', '\uE000x', 'ä'];
    expect(sortBytes(mixed)).toEqual(byBuffer(mixed));
    expect(sortBytes(mixed).indexOf('\uFF01')).toBeLessThan(sortBytes(mixed).indexOf('\u{1F600}'));
  });
});

describe('the stat cache', () => {
  it('answers unchanged files from the cache and gives the same manifest as reading them', async () => {
    for (let i = 0; i < 50; i++) await put(`data/f${i}.txt`, `row ${i}\n`);
    const past = new Date('2020-01-01T00:00:00Z');
    for (let i = 0; i < 50; i++) await utimes(path.join(root, `data/f${i}.txt`), past, past);
    const cold = await fingerprint();
    expect(cold.counts).toEqual({ hashed: 50, fromCache: 0 });
    const warm = await fingerprint();
    expect(warm.counts).toEqual({ hashed: 0, fromCache: 50 });
    expect(warm.fp).toEqual(cold.fp);
    const none = await fingerprint({}); // no cache: read again, same answer
    expect(none.counts).toEqual({ hashed: 50, fromCache: 0 });
    expect(none.fp).toEqual(cold.fp);
  });

  it('catches an edit that keeps size and mtime (touch -d), because ctime moved', async () => {
    await put('data/train.csv', 'label\n0\n');
    const file = path.join(root, 'data/train.csv');
    execFileSync('touch', ['-d', '2020-01-01 00:00:00', file]);
    const first = await fingerprint();
    expect(first.fp.files['data/train.csv']?.sha256).toBe(sha('label\n0\n'));
    const before = await stat(file, { bigint: true });

    await writeFile(file, 'label\n1\n'); // same size
    execFileSync('touch', ['-d', '2020-01-01 00:00:00', file]); // same mtime again
    const after = await stat(file, { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    expect(after.ctimeNs).not.toBe(before.ctimeNs);

    const second = await fingerprint();
    expect(second.counts).toEqual({ hashed: 1, fromCache: 0 });
    expect(second.fp.files['data/train.csv']?.sha256).toBe(sha('label\n1\n'));
  });

  it('does not trust an entry whose mtime is not older than the cache (racy git)', async () => {
    const entries = {
      paths: ['/a', '/b'],
      stats: Float64Array.of(1, 99.5, 1, 1, 1, 100, 1, 1),
      sha256: 'a'.repeat(128),
    };
    expect(dropRacy(entries, 100)).toBe(1);
    expect(usable(entries)).toEqual(['/a']);
    expect([...entryNumbers(entries, ['/a', '/b'])]).toEqual([0, -1]);
    await put('data/old.txt', 'old');
    await put('data/future.txt', 'future'); // mtime after any cache write
    const past = new Date('2020-01-01T00:00:00Z');
    await utimes(path.join(root, 'data/old.txt'), past, past);
    const future = new Date('2099-01-01T00:00:00Z');
    await utimes(path.join(root, 'data/future.txt'), future, future);
    await fingerprint();
    const loaded = await loadStatCache(cache, () => {});
    expect(usable(loaded.entries)).toEqual([path.join(root, 'data/old.txt')]);
    expect(loaded.stale).toBe(true);
    expect((await fingerprint()).counts).toEqual({ hashed: 1, fromCache: 1 });
  });

  it('matches entries in step with one comparison and out of step through a lookup', () => {
    const parsed = parseStatCache(
      statCacheBytes({
        paths: ['/d/a', '/d/b', '/d/c'],
        sha256: ['a', 'b', 'c'].map((c) => c.repeat(64)).join(''),
        stats: Float64Array.of(9, 9, 9, 9, 1, 2, 3, 4, 9, 9, 9, 9),
      }),
    );
    if (typeof parsed === 'string') throw new Error(parsed);
    // Unchanged, a file added in front, one removed, reordered, and an unknown one.
    expect([...entryNumbers(parsed, ['/d/a', '/d/b', '/d/c'])]).toEqual([0, 1, 2]);
    expect([...entryNumbers(parsed, ['/d/0', '/d/a', '/d/c'])]).toEqual([-1, 0, 2]);
    expect([...entryNumbers(parsed, ['/d/c', '/d/b', '/d/x'])]).toEqual([2, 1, -1]);
    expect(entrySha256(parsed, 1)).toBe('b'.repeat(64));
    expect([...parsed.stats.subarray(4, 8)]).toEqual([1, 2, 3, 4]);
  });

  it('reads back what it writes, in blocks, including paths that are not ASCII or hold a tab or newline', () => {
    const entries: StatCacheEntries = {
      paths: ['/d/a', '/d/ü\tx', '/d/line\nbreak', '/d/\u{1F600}'],
      sha256: ['a', 'b', 'c', 'd'].map((c) => c.repeat(64)).join(''),
      stats: Float64Array.of(0, 0, 0, 0, 3, 1577836800000.5, 2 ** 53, 1577836800000.25, 1, 2, 3, 4, 5, 6, 7, 8),
    };
    expect(parseStatCache(statCacheBytes(entries))).toEqual(entries);
    const none = { paths: [], sha256: '', stats: new Float64Array(0) };
    expect(parseStatCache(statCacheBytes(none))).toEqual(none);
  });

  it('discards a corrupt cache with a warning naming it, and writes a good one', async () => {
    await put('data/a.txt', 'abc');
    const good = statCacheBytes({ paths: ['/x'], sha256: 'a'.repeat(64), stats: Float64Array.of(3, 1.5, 12, 1.25) });
    const text = good.toString('latin1');
    const edit = (from: string, to: string) => Buffer.from(text.replace(from, to), 'latin1');
    const statsAt = good.length - 32;
    const negative = Buffer.from(good);
    negative.writeDoubleLE(-3, statsAt);
    const nan = Buffer.from(good);
    nan.writeDoubleLE(Number.NaN, statsAt + 8);
    const bad: Array<[string, Buffer]> = [
      ['the JSON of an older version', Buffer.from('{"version": 1, "files": "/x\t1:2:3"}')],
      ['the line format of version 2', Buffer.from(`repro-gate stat cache 2\n${'a'.repeat(64)} 3 1 12 1\t/x\n`)],
      ['cut short', good.subarray(0, good.length - 5)],
      ['one byte too many', Buffer.concat([good, Buffer.of(0)])],
      ['a header that is not JSON', edit('{"entries"', '{entries')],
      ['a header with a field too many', edit('"endian"', '"extra":1,"endian"')],
      ['a negative entry count', edit('"entries":1', '"entries":-1')],
      ['a digest that is not hex', edit('a'.repeat(64), `g${'a'.repeat(63)}`)],
      ['a path that is not absolute', edit('/x\0', 'xx\0')],
      ['a negative size', negative],
      ['a NaN time', nan],
      ['empty', Buffer.alloc(0)],
    ];
    for (const [what, corrupt] of bad) {
      await mkdir(path.dirname(cache), { recursive: true });
      await writeFile(cache, corrupt);
      const warnings: string[] = [];
      const { fp, counts } = await fingerprint({ statCache: cache, warn: (m) => warnings.push(m) });
      expect(counts, what).toEqual({ hashed: 1, fromCache: 0 });
      expect(fp.files['data/a.txt']?.sha256).toBe(sha('abc'));
      expect(warnings, what).toHaveLength(1);
      expect(warnings[0], what).toMatch(new RegExp(`^The stat cache ${cache} (is|was|has|holds) `));
      expect(warnings[0]).toContain('discarded, every data file is hashed again');
      const rewritten = parseStatCache(await readFile(cache));
      expect(typeof rewritten === 'string' ? rewritten : rewritten.paths).toEqual([path.join(root, 'data/a.txt')]);
    }
  });

  it('never follows a cache that is a symlink, and never quotes what it holds', async () => {
    await put('data/a.txt', 'abc');
    await put('secret.env', 'GITHUB_TOKEN=ghs_secret');
    await mkdir(path.dirname(cache), { recursive: true });
    await symlink(path.join(root, 'secret.env'), cache);
    const warnings: string[] = [];
    const { counts } = await fingerprint({ statCache: cache, warn: (m) => warnings.push(m) });
    expect(counts).toEqual({ hashed: 1, fromCache: 0 });
    expect(warnings).toEqual([
      `The stat cache ${cache} is not a regular file; discarded, every data file is hashed again.`,
    ]);
    expect((await lstat(cache)).isSymbolicLink()).toBe(false); // replaced by the gate's own file
    await writeFile(cache, 'GITHUB_TOKEN=ghs_secret');
    const again: string[] = [];
    await fingerprint({ statCache: cache, warn: (m) => again.push(m) });
    expect(again.join('\n')).not.toContain('ghs_secret');
  });
});
