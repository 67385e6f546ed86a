/** The run cache's pure parts and its stores, on real files and real git. */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import picomatch from 'picomatch';
import { afterEach, describe, expect, it } from 'vitest';
import { runKey, runKeyParts, seedKey } from '../src/cache/key.js';
import { LocalRunCache } from '../src/cache/local.js';
import { parseConfig } from '../src/config/load.js';
import { codeTree } from '../src/fingerprint/git.js';
import { planSlots, slotThreads } from '../src/runtime/slots.js';
import type { Fingerprints } from '../src/schema/baseline.js';
import { canonicalJson } from '../src/util/canonical-json.js';
import { GateError } from '../src/util/errors.js';

const YAML = `version: 1
train: {command: [python3, train.py, --seed, "{seed}"], env: {A: "1"}}
seeds: 5
metrics: {accuracy: {margin: 0.01}}
data: [data/]
`;
const FP: Fingerprints = {
  data: { files: { 'data/a.csv': { sha256: 'a'.repeat(64), size: 3 } } },
  config: { 'p.json': { lr: 0.1 } },
  environment: { 'python.version': '3.11.2', kernel: '6.1' },
};

function keyFor(yaml: string, fp: Fingerprints = FP, code = 'c'.repeat(64)): string {
  const config = parseConfig(yaml, '/p/repro-gate.yml');
  return runKey(runKeyParts({ config, code, fingerprints: fp, toolVersion: '1.0.0' }));
}

describe('run cache key', () => {
  const base = keyFor(YAML);

  it('changes with everything that could change a run', () => {
    const changed = [
      keyFor(YAML.replace('train.py', 'train2.py')),
      keyFor(YAML.replace('A: "1"', 'A: "2"')),
      keyFor(YAML.replace('env:', 'image: "x@sha256:1", env:')),
      keyFor(YAML.replace('}}\nseeds', '}, parallel: 2}\nseeds')),
      keyFor(YAML.replace('accuracy:', 'f1: {margin: 0.01}, accuracy:')),
      keyFor(YAML, { ...FP, data: { files: { 'data/a.csv': { sha256: 'b'.repeat(64), size: 3 } } } }),
      keyFor(YAML, { ...FP, config: { 'p.json': { lr: 0.2 } } }),
      keyFor(YAML, { ...FP, environment: { ...FP.environment, 'python.version': '3.12.0' } }),
      keyFor(YAML, FP, 'd'.repeat(64)),
    ];
    for (const k of changed) expect(k).not.toBe(base);
    expect(new Set(changed).size).toBe(changed.length);
  });

  it('stays the same for what only decides how runs are compared', () => {
    expect(keyFor(YAML.replace('margin: 0.01', 'margin: 0.05'))).toBe(base);
    expect(keyFor(YAML.replace('seeds: 5', 'seeds: 8'))).toBe(base);
    expect(keyFor(`${YAML}alpha: 0.1\n`)).toBe(base);
    expect(keyFor(YAML.replace('train: {', 'train: {timeout: 1h, '))).toBe(base);
  });

  it('gives each seed its own entry', () => {
    expect(seedKey(base, 0)).not.toBe(seedKey(base, 1));
    expect(seedKey(base, 0)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes objects by content, not key order, keeping __proto__ as a key', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
    expect(canonicalJson(JSON.parse('{"__proto__": 1, "a": 2}'))).toBe('{"__proto__":1,"a":2}');
  });
});

describe('code tree', () => {
  let dir = '';
  afterEach(() => rm(dir, { recursive: true, force: true }));
  const g = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@e', ...args], { cwd: dir, encoding: 'utf8' });

  it('hashes tracked files by blob, and edits and untracked files by their bytes', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rg-tree-'));
    await writeFile(path.join(dir, 'train.py'), 'print(1)\n');
    await writeFile(path.join(dir, 'README.md'), '# x\n');
    g('init', '-q');
    g('add', '-A');
    g('commit', '-qm', 'x');
    const skipMd = (rel: string) => rel.endsWith('.md');
    const clean = await codeTree(dir, skipMd);
    expect(clean?.files).toBe(1);
    await writeFile(path.join(dir, 'README.md'), '# y\n');
    expect((await codeTree(dir, skipMd))?.sha256).toBe(clean?.sha256);
    await writeFile(path.join(dir, 'train.py'), 'print(2)\n');
    const edited = await codeTree(dir, skipMd);
    expect(edited?.sha256).not.toBe(clean?.sha256);
    await writeFile(path.join(dir, 'train.py'), 'print(1)\n');
    expect((await codeTree(dir, skipMd))?.sha256).toBe(clean?.sha256);
    await writeFile(path.join(dir, 'helper.py'), 'x = 1\n');
    expect((await codeTree(dir, skipMd))?.files).toBe(2);
    await rm(path.join(dir, 'helper.py'));
    await rm(path.join(dir, 'train.py'));
    expect((await codeTree(dir, skipMd))?.sha256).not.toBe(clean?.sha256);
  });

  it('is null outside git', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rg-tree-'));
    expect(await codeTree(dir, () => false)).toBeNull();
  });

  it('ignores Markdown and docs/ by default, and nothing that trains', () => {
    const ignored = picomatch(parseConfig(YAML, '/p/repro-gate.yml').cache.ignore, { dot: true });
    expect(['README.md', 'notes/a/b.md', 'docs/index.html'].every((f) => ignored(f))).toBe(true);
    expect(['train.py', 'params.json', 'src/docs.py'].some((f) => ignored(f))).toBe(false);
  });
});

describe('local run cache', () => {
  let dir = '';
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('round-trips entries, misses cleanly, and evicts the least recently used past its cap', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rg-cache-'));
    const cache = new LocalRunCache(dir, 250);
    const k = (c: string) => c.repeat(64);
    expect(await cache.get(k('a'))).toBeUndefined();
    expect(await cache.put(k('a'), 'x'.repeat(100))).toBeUndefined();
    expect(await cache.put(k('b'), 'y'.repeat(100))).toBeUndefined();
    // a is used more recently than b: b goes first.
    await utimes(path.join(dir, `${k('b')}.json`), new Date(1000), new Date(1000));
    await utimes(path.join(dir, `${k('a')}.json`), new Date(2000), new Date(2000));
    expect(await cache.get(k('a'))).toBe('x'.repeat(100));
    await cache.put(k('c'), 'z'.repeat(100));
    expect((await readdir(dir)).sort()).toEqual([`${k('a')}.json`, `${k('c')}.json`]);
  });

  it('reports a save it cannot make as a warning, not an error', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rg-cache-'));
    await writeFile(path.join(dir, 'file'), '');
    const cache = new LocalRunCache(path.join(dir, 'file', 'runs'));
    expect(await cache.put('a'.repeat(64), '{}')).toMatch(/Could not save a run to the cache/);
  });
});

describe('parallel slots', () => {
  it('gives each slot an equal block of cores', () => {
    expect(planSlots(1, 8)).toEqual([]);
    expect(planSlots(2, 8)).toEqual([{ cpus: '0-3' }, { cpus: '4-7' }]);
    expect(planSlots(2, 2)).toEqual([{ cpus: '0' }, { cpus: '1' }]);
    expect(planSlots(4, 2).map((s) => s.cpus)).toEqual(['0', '1', '0', '1']);
    expect(planSlots(2, 8).map(slotThreads)).toEqual([4, 4]);
  });

  it('gives each slot its own GPUs, and refuses more slots than GPUs', () => {
    expect(planSlots(2, 16, 4)).toEqual([
      { cpus: '0-7', gpus: '0,1' },
      { cpus: '8-15', gpus: '2,3' },
    ]);
    expect(() => planSlots(4, 16, 2)).toThrow(GateError);
    expect(() => planSlots(4, 16, 2)).toThrow(/each seed needs a GPU of its own/);
  });
});
