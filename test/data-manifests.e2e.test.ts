/**
 * Large data entries through the built CLI with real files and real git: the baseline holds roots,
 * the per-file manifest goes to .repro-gate/manifests/<root>.json.gz (gitignored), drift names the
 * changed file with it and the changed folder without it; an old-format baseline still works, and a
 * manifest that does not hash to its name is refused. Needs python3 (a one-line "training").
 */
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataOnlyConfig, git, parseJson, runCli } from './helpers/project.js';

const CONFIG = dataOnlyConfig('[data/, small/]');

let dir: string;
let root: string;
const baselineFile = () => path.join(dir, '.repro-gate', 'baseline.json');
const manifestFile = () => path.join(dir, '.repro-gate', 'manifests', `${root}.json.gz`);
const CHANGED = 'data/g1/s2/7.txt';

async function drift() {
  const r = await runCli(['drift', '--json'], dir);
  return { ...r, report: parseJson(r) };
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'rg-manifests-'));
  await writeFile(path.join(dir, 'repro-gate.yml'), CONFIG);
  // 20,000 files in 4 × 5 folders (large: summarised), and 30 small files (inline).
  for (let g = 0; g < 4; g++)
    for (let s = 0; s < 5; s++) {
      const folder = path.join(dir, 'data', `g${g}`, `s${s}`);
      await mkdir(folder, { recursive: true });
      await Promise.all(
        Array.from({ length: 1000 }, (_, i) => writeFile(path.join(folder, `${i}.txt`), `${g} ${s} ${i}\n`)),
      );
    }
  await mkdir(path.join(dir, 'small'));
  for (let i = 0; i < 30; i++) await writeFile(path.join(dir, 'small', `${i}.csv`), `x,${i}\n`);
  git(dir, 'init', '-q');
  const r = await runCli(['record'], dir);
  expect(r.code, r.stderr).toBe(0);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'baseline');
  root = JSON.parse(await readFile(baselineFile(), 'utf8')).fingerprints.data.summaries.data.root;
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('data manifests outside the baseline', () => {
  it('keeps a small entry inline and a large one as roots, its manifest stored by root and gitignored', async () => {
    const text = await readFile(baselineFile(), 'utf8');
    const data = JSON.parse(text).fingerprints.data;
    expect(Object.keys(data.files)).toHaveLength(30);
    expect(Object.keys(data.files).every((p) => p.startsWith('small/'))).toBe(true);
    expect(Object.keys(data.summaries)).toEqual(['data']);
    const summary = data.summaries.data;
    expect(summary).toMatchObject({ files: 20_000, depth: 2 });
    expect(Object.keys(summary.folders)).toHaveLength(4 + 20);
    expect(summary.folders['data/g1/s2/'].files).toBe(1000);
    expect(summary.folders['data/g1/'].files).toBe(5000);
    expect(text.length).toBeLessThan(20_000); // a line per file would be ~3 MB
    const manifest = JSON.parse(gunzipSync(await readFile(manifestFile())).toString());
    expect(manifest.files).toHaveLength(20_000);
    expect(manifest.files[0][0]).toBe('data/g0/s0/0.txt');
    expect(git(dir, 'status', '--porcelain')).toBe('');
    const r = await drift();
    expect(r.code, r.stderr).toBe(0);
    expect(r.report.verdict).toBe('no-drift');
  });

  it('names the one changed file among 20,000 with the manifest, and its folder without it', async () => {
    await writeFile(path.join(dir, CHANGED), 'changed\n');
    const withManifest = await drift();
    expect(withManifest.code, withManifest.stderr).toBe(1);
    expect(withManifest.report.drift.data).toMatchObject([{ path: CHANGED, change: 'modified' }]);
    expect(withManifest.report.drift.data).toHaveLength(1);

    await rename(manifestFile(), `${manifestFile()}.away`);
    const without = await drift();
    expect(without.code, without.stderr).toBe(1);
    expect(without.report.drift.data).toEqual([
      expect.objectContaining({ path: 'data/g1/s2/', change: 'modified', folder: true, before: expect.any(String) }),
    ]);
    expect(without.report.summary).toContain('1 data folder');
    expect(without.stderr).toContain('is not here, so drift names 1 changed folder(s), not files');
    expect(without.stderr).toContain(`${root}.json.gz) is not here, so`);
    const terminal = await runCli(['drift'], dir);
    expect(terminal.stdout).toMatch(/^data\/g1\/s2\/\s+modified: folder, 1000 files in the baseline, 1000 now/m);
    await rename(`${manifestFile()}.away`, manifestFile());
  });

  it('refuses a manifest that does not hash to its name, and discards a truncated one', async () => {
    const good = await readFile(manifestFile());
    const manifest = JSON.parse(gunzipSync(good).toString());
    manifest.files[5][2] = 'f'.repeat(64); // claims another content for one file
    await writeFile(manifestFile(), gzipSync(JSON.stringify(manifest)));
    const tampered = await drift();
    expect(tampered.stderr).toContain('does not hash to its name');
    expect(tampered.stderr).toContain('is not here in a usable form');
    expect(tampered.report.drift.data).toMatchObject([{ path: 'data/g1/s2/', folder: true }]);

    await writeFile(manifestFile(), good.subarray(0, good.length >> 1));
    const truncated = await drift();
    expect(truncated.stderr).toContain('is corrupt or truncated');
    expect(truncated.report.drift.data).toMatchObject([{ path: 'data/g1/s2/', folder: true }]);
    await writeFile(manifestFile(), good);
  });

  it('stores the manifest again when the data matches the baseline', async () => {
    git(dir, 'checkout', '--', CHANGED);
    await rm(manifestFile());
    const r = await drift();
    expect(r.report.verdict).toBe('no-drift');
    expect(gunzipSync(await readFile(manifestFile())).length).toBeGreaterThan(0);
    expect(await readdir(path.dirname(manifestFile()))).toEqual([`${root}.json.gz`]);
  });

  it('check trains against the baseline with roots and finds no drift', async () => {
    const r = await runCli(['check', '--json'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r)).toMatchObject({ verdict: 'reproducible', drift: { data: [] } });
  });

  it('adds the manifests line to a state .gitignore written by an earlier version, unless it mentions manifests', async () => {
    const file = path.join(dir, '.repro-gate', '.gitignore');
    const old = '# Written by repro-gate: its working files. Commit the baseline file, not these.\nout/\nruns/\n';
    await writeFile(file, old);
    expect((await drift()).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(
      `${old}# Per-file manifests of large data entries, by root. To commit them instead: # manifests/\nmanifests/\n`,
    );
    const committing = `${old}# manifests/\n`;
    await writeFile(file, committing);
    expect((await drift()).code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(committing);
    git(dir, 'checkout', '--', file);
  });

  it('reads a baseline written before summaries (every file inline) as before', async () => {
    const baseline = JSON.parse(await readFile(baselineFile(), 'utf8'));
    const manifest = JSON.parse(gunzipSync(await readFile(manifestFile())).toString());
    const files = { ...baseline.fingerprints.data.files };
    for (const [p, size, sha256] of manifest.files) files[p] = { sha256, size };
    baseline.fingerprints.data = { files };
    await writeFile(baselineFile(), JSON.stringify(baseline, null, 2));
    await writeFile(path.join(dir, CHANGED), 'changed\n');
    const r = await drift();
    expect(r.code, r.stderr).toBe(1);
    expect(r.report.drift.data).toMatchObject([{ path: CHANGED, change: 'modified' }]);
    expect(r.report.drift.data).toHaveLength(1);
    git(dir, 'checkout', '--', '.');
  });
});
