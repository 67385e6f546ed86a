/**
 * Data outside the repository (`external: true`) and declared lineage (source, query, preprocess):
 * the config rules, the fingerprint, and drift that names which part changed, ranked as data.
 * The last block runs the built CLI (dist/cli.js) with a one-line python3 "training".
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { rankCause } from '../src/drift/cause.js';
import { diffData } from '../src/drift/data.js';
import { describeQueryChange } from '../src/drift/lineage.js';
import { fingerprintData } from '../src/fingerprint/data.js';
import { fingerprintLineage } from '../src/fingerprint/lineage.js';
import { GateError } from '../src/util/errors.js';
import { configErrorOf } from './helpers/config-error.js';
import { dataOnlyConfig, git, parseJson, runCli } from './helpers/project.js';

const base = dataOnlyConfig;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rg-lineage-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('external data', () => {
  it('is refused outside the project without external: true, with a hint that names it', () => {
    const err = configErrorOf(base('[/mnt/datasets/train]'));
    expect(err.message).toMatch(/repro-gate\.yml:\d+:\d+: The data: entry "\/mnt\/datasets\/train" points outside/);
    expect(err.hint).toContain('{path: "/mnt/datasets/train", external: true}');
    expect(configErrorOf(base('[{path: ../elsewhere}]')).message).toContain('points outside');
  });

  it('must be an absolute path when declared external', () => {
    expect(configErrorOf(base('[{path: data/, external: true}]')).message).toContain(
      'an external: true data path must be absolute',
    );
    const c = parseConfig(base('[{path: /mnt/datasets/train, external: true}, data/]'), '/p/repro-gate.yml');
    expect(c.data).toEqual(['/mnt/datasets/train', 'data/']);
    expect(c.dataEntries[0]).toMatchObject({ path: '/mnt/datasets/train', external: true, preprocess: [] });
  });

  it('is fingerprinted under its absolute paths; a missing one is one clear message', async () => {
    const volume = path.join(tmp, 'volume');
    await mkdir(path.join(volume, 'shard'), { recursive: true });
    await writeFile(path.join(volume, 'shard', 'part-0.csv'), 'x\n1\n');
    const project = path.join(tmp, 'project');
    await mkdir(project, { recursive: true });
    const fp = await fingerprintData([volume], project, { external: new Set([volume]) });
    expect(Object.keys(fp.files)).toEqual([`${volume}/shard/part-0.csv`]);
    // Without the declaration the old escape check still refuses it.
    await expect(fingerprintData([volume], project)).rejects.toThrow(/points outside the project root/);
    const missing = path.join(tmp, 'not-mounted');
    const err = await fingerprintData([missing], project, { external: new Set([missing]) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).message).toBe(
      `External data path "${missing}" listed in data: (external: true) does not exist.`,
    );
    expect((err as GateError).hint).toContain('Mount the volume');
  });
});

describe('declared lineage', () => {
  it('shows which line of a query changed, briefly', () => {
    expect(
      describeQueryChange(
        "SELECT * FROM events WHERE date < '2024-06-01'",
        "SELECT * FROM events WHERE date < '2024-07-01'",
      ),
    ).toBe("WHERE date < '2024-06-01' → '2024-07-01'");
    expect(describeQueryChange('SELECT a\nFROM t\n', 'SELECT a\nFROM t\nLIMIT 5\n')).toBe('line 3: added LIMIT 5');
  });

  it('fingerprints source, query (inline or file) and preprocessing files, and diffs each part', async () => {
    const root = path.join(tmp, 'lineage');
    await mkdir(path.join(root, 'prep'), { recursive: true });
    await writeFile(path.join(root, 'train.sql'), "SELECT *\nFROM events\nWHERE date < '2024-06-01'\n");
    await writeFile(path.join(root, 'prep', 'clean.py'), 'print(1)\n');
    const c = parseConfig(
      base(`
  - {path: data/train.parquet, source: "s3://bucket/train.parquet@v1", query: {file: train.sql}, preprocess: [prep/]}
  - {path: data/test.parquet, query: "SELECT 1"}
  - data/plain.csv`),
      path.join(root, 'repro-gate.yml'),
    );
    const before = await fingerprintLineage(c.dataEntries, root, () => {});
    expect(before).toEqual({
      'data/train.parquet': {
        source: 's3://bucket/train.parquet@v1',
        query: "SELECT *\nFROM events\nWHERE date < '2024-06-01'\n",
        queryFile: 'train.sql',
        preprocess: { 'prep/clean.py': expect.stringMatching(/^[0-9a-f]{64}$/) },
      },
      'data/test.parquet': { query: 'SELECT 1', preprocess: {} },
    });
    await writeFile(path.join(root, 'train.sql'), "SELECT *\nFROM events\nWHERE date < '2024-07-01'\n");
    await writeFile(path.join(root, 'prep', 'clean.py'), 'print(2)\n');
    const c2 = parseConfig(
      base(`
  - {path: data/train.parquet, source: "s3://bucket/train.parquet@v2", query: {file: train.sql}, preprocess: [prep/]}
  - {path: data/test.parquet, query: "SELECT 1"}`),
      path.join(root, 'repro-gate.yml'),
    );
    const after = await fingerprintLineage(c2.dataEntries, root, () => {});
    const drift = diffData({ files: {}, lineage: before }, { files: {}, lineage: after });
    expect(drift.map((d) => [d.path, d.lineage, d.change, d.detail])).toEqual([
      [
        'data/train.parquet',
        'source',
        'modified',
        'source changed (s3://bucket/train.parquet@v1 → s3://bucket/train.parquet@v2)',
      ],
      [
        'data/train.parquet',
        'query',
        'modified',
        "query (train.sql) changed (line 3: WHERE date < '2024-06-01' → '2024-07-01')",
      ],
      ['data/train.parquet', 'preprocess', 'modified', 'preprocess prep/clean.py changed'],
    ]);
    const cause = rankCause({
      drift: { data: drift, config: [], environment: [] },
      codeChanges: [],
      metrics: [],
      mismatches: [],
    });
    expect(cause.cause).toBe('data');
    expect(cause.evidence).toMatch(/^data\/train\.parquet: source changed, data\/train\.parquet: query changed/);
  });

  it('refuses a query file that links out of the project, and names a missing one', async () => {
    const root = path.join(tmp, 'links');
    await mkdir(root, { recursive: true });
    await writeFile(path.join(tmp, 'outside.sql'), 'SELECT secret');
    await symlink(path.join(tmp, 'outside.sql'), path.join(root, 'q.sql'));
    const entries = [{ path: 'data/x', external: false, preprocess: [], query: { file: 'q.sql' } }];
    await expect(fingerprintLineage(entries, root, () => {})).rejects.toThrow(
      /^The query file q\.sql of data: entry "data\/x" resolves to .*outside\.sql, outside the project's own files; it is not read\.$/,
    );
    const missing = [{ path: 'data/x', external: false, preprocess: [], query: { file: 'none.sql' } }];
    await expect(fingerprintLineage(missing, root, () => {})).rejects.toThrow(
      'Cannot read the query file none.sql of data: entry "data/x" (ENOENT).',
    );
  });

  it('through the CLI: a changed query is data drift with its line diff', async () => {
    const dir = path.join(tmp, 'cli');
    await mkdir(path.join(dir, 'data'), { recursive: true });
    await writeFile(path.join(dir, 'data', 'train.csv'), 'x\n1\n');
    await writeFile(path.join(dir, 'train.sql'), "SELECT * FROM events WHERE date < '2024-06-01'\n");
    await writeFile(path.join(dir, 'repro-gate.yml'), base('[{path: data/train.csv, query: {file: train.sql}}]'));
    git(dir, 'init', '-q');
    const recorded = await runCli(['record'], dir);
    expect(recorded.code, recorded.stderr).toBe(0);
    await writeFile(path.join(dir, 'train.sql'), "SELECT * FROM events WHERE date < '2024-07-01'\n");
    const r = await runCli(['drift', '--json'], dir);
    expect(r.code, r.stderr).toBe(1);
    expect(parseJson(r).drift.data).toEqual([
      expect.objectContaining({
        path: 'data/train.csv',
        lineage: 'query',
        change: 'modified',
        detail: "query (train.sql) changed (WHERE date < '2024-06-01' → '2024-07-01')",
      }),
    ]);
    expect(parseJson(r).summary).toBe('Drift since the baseline: 1 data lineage part changed.');
    const md = await runCli(['drift'], dir);
    expect(md.stdout).toContain("query (train.sql) changed (WHERE date < '2024-06-01' → '2024-07-01')");
  });
});
