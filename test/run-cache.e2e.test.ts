/**
 * The run cache end to end: the built CLI on copies of the example, real Python, real git. A cached
 * seed is reused only when nothing that could change it changed; anything wrong with an entry means
 * a warning and a retraining.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Report } from '../src/schema/report.js';
import { copyExample, git, runCli } from './helpers/project.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function recorded(): Promise<string> {
  const dir = await copyExample();
  dirs.push(dir);
  const r = await runCli(['record', '--json'], dir);
  expect(r.code, r.stderr).toBe(0);
  return dir;
}

async function check(dir: string, ...args: string[]): Promise<{ code: number | null; report: Report; stderr: string }> {
  const r = await runCli(['check', '--json', ...args], dir);
  return { code: r.code, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

const ALL = [0, 1, 2, 3, 4];
const runsDir = (dir: string) => path.join(dir, '.repro-gate', 'cache', 'runs');

describe('run cache', () => {
  it('reuses every seed a record saved, says so, and trains none', async () => {
    const dir = await recorded();
    expect((await readdir(runsDir(dir))).filter((f) => f.endsWith('.json'))).toHaveLength(5);
    const { code, report, stderr } = await check(dir);
    expect(code).toBe(0);
    expect(report.verdict).toBe('equivalent');
    expect(report.cache).toMatchObject({ store: 'local', reused: ALL, trained: [] });
    expect(report.summary).toContain(`All 5 seeds reused from the run cache (key ${report.cache?.key})`);
    expect(stderr).not.toMatch(/\[seed \d\]/);
    // The Markdown says it per seed too.
    const md = await runCli(['check'], dir);
    expect(md.stdout).toMatch(/Run cache \(local, key [0-9a-f]{12}\): trained none; reused 0, 1, 2, 3, 4\./);
  });

  it('still reuses after a README-only change, and retrains after a code or data change', async () => {
    const dir = await recorded();
    await writeFile(path.join(dir, 'README.md'), '# edited\n', { flag: 'a' });
    git(dir, 'commit', '-qam', 'docs');
    const docs = await check(dir);
    expect(docs.report.cache?.reused).toEqual(ALL);

    // An uncommitted edit of the training counts: the key hashes the working tree.
    const train = path.join(dir, 'train.py');
    await writeFile(train, `${await readFile(train, 'utf8')}\n# comment\n`);
    const code = await check(dir);
    expect(code.report.cache).toMatchObject({ reused: [], trained: ALL });
    expect(code.report.cache?.key).not.toBe(docs.report.cache?.key);
    // …and that run was saved: the same edit is now a hit.
    expect((await check(dir)).report.cache?.reused).toEqual(ALL);

    const csv = path.join(dir, 'data', 'wdbc.csv');
    await writeFile(csv, (await readFile(csv, 'utf8')).replace(/\n$/, '\n\n'));
    expect((await check(dir)).report.cache?.trained).toEqual(ALL);
  });

  it('trains every seed with --no-cache or cache.enabled: false, and reports no cache use', async () => {
    const dir = await recorded();
    const off = await check(dir, '--no-cache');
    expect(off.report.cache).toBeUndefined();
    expect(off.stderr).toMatch(/\[seed 4\]/);
    expect(off.report.summary).not.toContain('reused');
    const cfg = path.join(dir, 'repro-gate.yml');
    await writeFile(cfg, `${await readFile(cfg, 'utf8')}cache: {enabled: false}\n`);
    expect((await check(dir)).report.cache).toBeUndefined();
  });

  it('ignores a tampered or foreign entry with a warning and trains that seed', async () => {
    const dir = await recorded();
    const files = (await readdir(runsDir(dir))).filter((f) => f.endsWith('.json')).sort();
    const [first, second] = files.map((f) => path.join(runsDir(dir), f));
    if (!first || !second) throw new Error('no cache entries');
    await writeFile(first, '{"schemaVersion": 1, "kind": "repro-gate-run"');
    // A valid entry under the wrong name: another seed's result must not pass as this one's.
    const other = JSON.parse(await readFile(path.join(runsDir(dir), files[2] ?? ''), 'utf8'));
    await writeFile(second, JSON.stringify(other));
    const { code, report } = await check(dir);
    expect(code).toBe(0);
    const ignored = report.warnings.filter((w) => w.code === 'cache-entry-ignored');
    expect(ignored.map((w) => w.message).join('\n')).toMatch(/not valid JSON/);
    expect(ignored.map((w) => w.message).join('\n')).toMatch(/stored under another key/);
    expect(report.cache?.trained).toHaveLength(2);
    expect(report.cache?.reused).toHaveLength(3);
  });

  it('honours cache.ignore globs, which replace the default list', async () => {
    const dir = await copyExample();
    dirs.push(dir);
    const cfg = path.join(dir, 'repro-gate.yml');
    await writeFile(cfg, `${await readFile(cfg, 'utf8')}cache: {ignore: ["notes/**"]}\n`);
    await mkdir(path.join(dir, 'notes'));
    await writeFile(path.join(dir, 'notes', 'x.txt'), 'first\n');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'notes');
    expect((await runCli(['record'], dir)).code).toBe(0);
    await writeFile(path.join(dir, 'notes', 'x.txt'), 'second\n');
    expect((await check(dir)).report.cache?.reused).toEqual(ALL);
    await writeFile(path.join(dir, 'README.md'), 'no longer ignored\n', { flag: 'a' });
    expect((await check(dir)).report.cache?.trained).toEqual(ALL);
  });
});

describe('seeds in parallel', () => {
  it('an exact check with train.parallel: 2 still reproduces bit for bit', async () => {
    const dir = await copyExample();
    dirs.push(dir);
    const cfg = path.join(dir, 'repro-gate.exact.yml');
    const text = (await readFile(cfg, 'utf8'))
      .replace('timeout: 2m', 'timeout: 2m\n  parallel: 2')
      .replace('seeds: 2', 'seeds: 4');
    await writeFile(cfg, text);
    git(dir, 'commit', '-qam', 'parallel');
    const rec = await runCli(['record', '--config', 'repro-gate.exact.yml', '--no-cache'], dir);
    expect(rec.code, rec.stderr).toBe(0);
    const r = await runCli(['check', '--config', 'repro-gate.exact.yml', '--json', '--no-cache'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as Report).verdict).toBe('reproducible');
    // Output stays attributable to its seed while two run at once.
    for (const seed of [0, 1, 2, 3]) expect(r.stderr).toMatch(new RegExp(`\\[seed ${seed}\\] `));
  });
});
