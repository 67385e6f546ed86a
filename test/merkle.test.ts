/** Roots over data manifests (baseline/merkle.ts) and the folder-level drift drawn from them (drift/data.ts). */
import { describe, expect, it } from 'vitest';
import { decodeManifest, encodeManifest, type ManifestFile, summarize } from '../src/baseline/merkle.js';
import { diffFolders } from '../src/drift/data.js';
import { sortBytesBy } from '../src/util/bytes.js';

const sha = (c: string) => c.repeat(64);
const files = (paths: string[], content = 'a'): ManifestFile[] =>
  sortBytesBy(
    paths.map((p): ManifestFile => [p, 1, sha(content)]),
    (f) => f[0],
  );
const change = (list: ManifestFile[], path: string): ManifestFile[] =>
  list.map((f) => (f[0] === path ? [f[0], f[1], sha('b')] : f));

const TREE = files(['d/top.txt', 'd/x/1', 'd/x/y/2', 'd/x/y/3', 'd/x/z/4', 'd/w/5']);

describe('summarize', () => {
  it('keeps folder roots two levels deep, and fewer levels when there are too many folders', () => {
    const s = summarize('d', TREE);
    expect(s).toMatchObject({ files: 6, bytes: 6, depth: 2 });
    expect(Object.keys(s.folders)).toEqual(['d/w/', 'd/x/', 'd/x/y/', 'd/x/z/']);
    expect(s.folders['d/x/']?.files).toBe(4);
    expect(s.folders['d/x/']?.own).toBeDefined(); // d/x/1 lies in no listed sub-folder
    expect(s.folders['d/x/y/']?.own).toBeUndefined();
    const wide = files(Array.from({ length: 300 }, (_, i) => [`d/${i}/a/f`, `d/${i}/b/f`]).flat());
    expect(summarize('d', wide).depth).toBe(1);
    const wider = files(Array.from({ length: 600 }, (_, i) => `d/${i}/f`));
    expect(summarize('d', wider)).toMatchObject({ depth: 0, folders: {} });
  });

  it('gives the same root for the same list and another for any change', () => {
    expect(summarize('d', TREE).root).toBe(summarize('d', [...TREE]).root);
    expect(summarize('d', change(TREE, 'd/x/y/3')).root).not.toBe(summarize('d', TREE).root);
  });
});

describe('diffFolders', () => {
  const before = summarize('d', TREE);
  const diff = (after: ManifestFile[]) =>
    diffFolders('d', before, summarize('d', after, before.depth)).map((r) => `${r.path} ${r.change}`);

  it('names the deepest changed folder, and a folder or the entry whose own files changed too', () => {
    expect(diff(TREE)).toEqual([]);
    expect(diff(change(TREE, 'd/x/y/3'))).toEqual(['d/x/y/ modified']);
    expect(diff(change(change(TREE, 'd/x/y/3'), 'd/x/1'))).toEqual(['d/x/ modified', 'd/x/y/ modified']);
    expect(diff(change(TREE, 'd/top.txt'))).toEqual(['d/ modified']);
  });

  it('names a new or removed folder once, not with each of its sub-folders', () => {
    expect(diff(files([...TREE.map((f) => f[0]), 'd/new/a/1', 'd/new/b/2']))).toEqual(['d/new/ added']);
    expect(diff(TREE.filter((f) => !f[0].startsWith('d/x/')))).toEqual(['d/x/ removed']);
  });
});

describe('stored manifests', () => {
  it('are used only when their files hash to the root they are stored under', () => {
    const { root } = summarize('d', TREE);
    expect(decodeManifest(encodeManifest('d', TREE), root)).toEqual({ files: TREE });
    const reordered = [...TREE].reverse();
    expect(decodeManifest(encodeManifest('d', reordered), root)).toMatchObject({ problem: /does not hash/ });
    expect(decodeManifest(Buffer.from('not gzip'), root)).toMatchObject({ problem: /corrupt or truncated/ });
  });
});
