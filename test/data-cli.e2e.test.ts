/**
 * Data fingerprints through the built CLI (dist/cli.js), as users run it: the hashing threads start
 * from inside the single-file bundle, the stat cache lands in .repro-gate/cache/stat (gitignored),
 * and --no-stat-cache neither reads nor writes it. Needs python3 (a one-line "training").
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStatCache } from '../src/schema/stat-cache.js';
import { dataOnlyConfig, git, parseJson, runCli } from './helpers/project.js';

let dir: string;
const cacheFile = () => path.join(dir, '.repro-gate', 'cache', 'stat');

const CONFIG = dataOnlyConfig();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rg-data-cli-'));
  await writeFile(path.join(dir, 'repro-gate.yml'), CONFIG);
  for (const sub of ['a', 'b']) {
    await mkdir(path.join(dir, 'data', sub), { recursive: true });
    for (let i = 0; i < 40; i++) await writeFile(path.join(dir, 'data', sub, `${i}.txt`), `${sub} ${i}\n`);
  }
  git(dir, 'init', '-q');
  const r = await runCli(['record'], dir);
  expect(r.code, r.stderr).toBe(0);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'baseline');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('data through the built CLI', () => {
  it('fingerprints every file on hashing threads and keeps a gitignored stat cache', async () => {
    const baseline = JSON.parse(await readFile(path.join(dir, '.repro-gate', 'baseline.json'), 'utf8'));
    expect(Object.keys(baseline.fingerprints.data.files)).toHaveLength(80);
    expect(baseline.fingerprints.data.files['data/a/0.txt'].sha256).toBe(
      createHash('sha256').update('a 0\n').digest('hex'),
    );
    const cache = parseStatCache(await readFile(cacheFile()));
    if (typeof cache === 'string') throw new Error(cache);
    expect(cache.paths).toHaveLength(80);
    expect(cache.paths).toContain(path.join(dir, 'data', 'a', '0.txt'));
    expect(git(dir, 'status', '--porcelain')).toBe(''); // .repro-gate/cache/ is ignored
    const r = await runCli(['drift', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r).verdict).toBe('no-drift');
  });

  it('reports an edited file as modified, through the cache', async () => {
    await writeFile(path.join(dir, 'data', 'b', '7.txt'), 'b 8\n'); // same size
    const r = await runCli(['drift', '--json'], dir);
    expect(r.code, r.stderr).toBe(1);
    expect(parseJson(r).drift.data).toMatchObject([{ path: 'data/b/7.txt', change: 'modified' }]);
    await writeFile(path.join(dir, 'data', 'b', '7.txt'), 'b 7\n');
  });

  it('--no-stat-cache neither reads nor writes the cache', async () => {
    await rm(cacheFile());
    const r = await runCli(['drift', '--json', '--no-stat-cache'], dir);
    expect(r.code, r.stderr).toBe(0);
    await expect(readFile(cacheFile())).rejects.toThrow(/ENOENT/);
    await writeFile(cacheFile(), 'not a cache');
    const again = await runCli(['drift', '--json', '--no-stat-cache'], dir);
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain('stat cache');
    const warm = await runCli(['drift', '--json'], dir);
    expect(warm.code).toBe(0);
    expect(warm.stderr).toContain('is not in the expected format');
  });
});
