/**
 * Seeds sharded over a job matrix, end to end with the built CLI on copies of the example: each
 * shard trains its seeds and writes a partial result; `aggregate` reports exactly what one
 * unsharded run reports, and refuses shard sets that are not one complete run of this config.
 */
import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Baseline } from '../src/schema/baseline.js';
import type { Report } from '../src/schema/report.js';
import type { ShardResult } from '../src/schema/shard.js';
import { copyExample, git, runCli } from './helpers/project.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** The example, with the folder shard results are downloaded to ignored by git as a user would. */
async function project(): Promise<string> {
  const dir = await copyExample();
  dirs.push(dir);
  // An untracked file counts as code for the run cache: results must not change the key.
  await writeFile(path.join(dir, '.gitignore'), 'results/\n', { flag: 'a' });
  git(dir, 'commit', '-qam', 'ignore results');
  return dir;
}

async function ok(dir: string, ...args: string[]): Promise<string> {
  const r = await runCli(args, dir);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

async function refused(dir: string, ...args: string[]): Promise<string> {
  const r = await runCli(args, dir);
  expect(r.code, r.stdout).toBe(2);
  return r.stderr;
}

/** Trains `count` shards of `command` into results/shard-i/ (as downloaded artifacts land). */
async function shards(dir: string, command: string, count: number, ...extra: string[]): Promise<void> {
  for (let i = 1; i <= count; i++)
    await ok(dir, command, '--shard', `${i}/${count}`, '--result', `results/shard-${i}/result.json`, ...extra);
}

describe('shards and aggregate', () => {
  it('two shards aggregate to the same JSON and Markdown as one unsharded check', async () => {
    const dir = await project();
    await ok(dir, 'record', '--no-cache');
    const single = JSON.parse(await ok(dir, 'check', '--json', '--no-cache')) as Report;
    const singleMd = await ok(dir, 'check', '--markdown', '--no-cache');
    await shards(dir, 'check', 2, '--no-cache');
    const first = JSON.parse(await readFile(path.join(dir, 'results/shard-1/result.json'), 'utf8')) as ShardResult;
    expect(first.seeds).toEqual([0, 2, 4]);
    expect(first.runs.map((r) => r.seed)).toEqual([0, 2, 4]);
    const joined = JSON.parse(await ok(dir, 'aggregate', '--results', 'results', '--json')) as Report;
    expect(joined.verdict).toBe('equivalent');
    expect(joined).toEqual(single);
    expect(await ok(dir, 'aggregate', '--results', 'results', '--markdown')).toBe(singleMd);
  });

  it('shards of an exact check reuse the cache a record filled, and say so once aggregated', async () => {
    const dir = await project();
    await ok(dir, 'record', '--config', 'repro-gate.exact.yml');
    await shards(dir, 'check', 2, '--config', 'repro-gate.exact.yml');
    const r = JSON.parse(
      await ok(dir, 'aggregate', '--config', 'repro-gate.exact.yml', '--results', 'results', '--json'),
    ) as Report;
    expect(r.verdict).toBe('reproducible');
    expect(r.cache).toMatchObject({ reused: [0, 1], trained: [] });
  });

  it('record shards aggregate to a baseline with the same runs as an unsharded record', async () => {
    const dir = await project();
    await ok(dir, 'record', '--no-cache');
    const single = JSON.parse(await readFile(path.join(dir, '.repro-gate/baseline.json'), 'utf8')) as Baseline;
    await rm(path.join(dir, '.repro-gate/baseline.json'));
    await shards(dir, 'record', 3, '--no-cache');
    const report = JSON.parse(await ok(dir, 'aggregate', '--results', 'results', '--json')) as Report;
    expect(report.verdict).toBe('recorded');
    const joined = JSON.parse(await readFile(path.join(dir, '.repro-gate/baseline.json'), 'utf8')) as Baseline;
    const strip = (b: Baseline) => b.runs.map(({ durationMs: _, ...run }) => run);
    expect(strip(joined)).toEqual(strip(single));
    expect(joined.fingerprints).toEqual(single.fingerprints);
    expect(joined.settings).toEqual(single.settings);
    expect(JSON.parse(await ok(dir, 'check', '--json')).verdict).toBe('equivalent');
  });

  it('refuses a missing, duplicated, foreign or mismatching shard with one message', async () => {
    const dir = await project();
    await ok(dir, 'record', '--no-cache');
    await shards(dir, 'check', 2);
    const results = path.join(dir, 'results');

    await cp(path.join(results, 'shard-2'), path.join(dir, 'keep-2'), { recursive: true });
    await rm(path.join(results, 'shard-2'), { recursive: true });
    expect(await refused(dir, 'aggregate', '--results', 'results')).toMatch(/Shard 2 of 2 is missing \(found 1\)/);

    await cp(path.join(results, 'shard-1'), path.join(results, 'copy'), { recursive: true });
    expect(await refused(dir, 'aggregate', '--results', 'results')).toMatch(/Shard 1 of 2 appears twice/);
    await rm(path.join(results, 'copy'), { recursive: true });
    await cp(path.join(dir, 'keep-2'), path.join(results, 'shard-2'), { recursive: true });

    // A shard of another split: its count disagrees.
    await ok(dir, 'check', '--shard', '3/3', '--result', 'results/other/result.json');
    expect(await refused(dir, 'aggregate', '--results', 'results')).toMatch(/is one of 3 shards, .* one of 2\./);
    await rm(path.join(results, 'other'), { recursive: true });

    await writeFile(path.join(results, 'notes.json'), '{"hello": 1}');
    expect(await refused(dir, 'aggregate', '--results', 'results')).toMatch(
      /notes\.json is not a repro-gate shard result/,
    );
    await rm(path.join(results, 'notes.json'));

    // Edited after the shards ran: another config, then another baseline.
    const cfg = path.join(dir, 'repro-gate.yml');
    const text = await readFile(cfg, 'utf8');
    await writeFile(cfg, text.replace('alpha: 0.05', 'alpha: 0.1'));
    expect(await refused(dir, 'aggregate', '--results', 'results')).toMatch(/different repro-gate\.yml/);
    await writeFile(cfg, text);
    await ok(dir, 'record', '--no-cache');
    expect(await refused(dir, 'aggregate', '--results', 'results')).toMatch(/different baseline file/);

    await mkdir(path.join(dir, 'empty'));
    expect(await refused(dir, 'aggregate', '--results', 'empty')).toMatch(/No shard results were found/);
    expect(await refused(dir, 'aggregate', '--results', 'nowhere')).toMatch(/does not exist/);
  });

  it('refuses shards that trained on different data', async () => {
    const dir = await project();
    await ok(dir, 'record', '--no-cache');
    await ok(dir, 'check', '--shard', '1/2', '--result', 'results/1.json');
    const csv = path.join(dir, 'data', 'wdbc.csv');
    await writeFile(csv, `${await readFile(csv, 'utf8')}\n`);
    await ok(dir, 'check', '--shard', '2/2', '--result', 'results/2.json');
    expect(await refused(dir, 'aggregate', '--results', 'results')).toMatch(
      /2\.json \(shard 2 of 2\) saw different data than 1\.json/,
    );
  });

  it('refuses options that do not fit, and a sequential plan with shards', async () => {
    const dir = await project();
    expect(await refused(dir, 'drift', '--shard', '1/2')).toMatch(/--shard is an option of check and record/);
    expect(await refused(dir, 'check', '--result', 'x.json')).toMatch(/needs --shard/);
    expect(await refused(dir, 'aggregate')).toMatch(/needs the folder/);
    expect(await refused(dir, 'check', '--results', 'r')).toMatch(/--results is an option of aggregate/);
    expect(await refused(dir, 'check', '--shard', '3/2')).toMatch(/"3\/2" is not a shard/);
    expect(await refused(dir, 'check', '--shard', '1/2', '--base', 'HEAD')).toMatch(
      /judged when the shards are aggregated/,
    );
    await ok(dir, 'record', '--no-cache');
    expect(await refused(dir, 'check', '--shard', '6/6')).toMatch(/Shard 6 of 6 has no seeds/);
    const cfg = path.join(dir, 'repro-gate.yml');
    await writeFile(cfg, (await readFile(cfg, 'utf8')).replace('seeds: 5', 'seeds: {min: 3, max: 5}'));
    git(dir, 'commit', '-qam', 'sequential');
    expect(await refused(dir, 'check', '--shard', '1/2')).toMatch(/sequential plan cannot be split into shards/);
  });
});
