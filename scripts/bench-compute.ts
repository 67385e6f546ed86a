/**
 * What the run cache, shards and parallel seeds save, measured with the built CLI on real trainings:
 *
 *   npm run build && npm run bench:compute [cache|shards|parallel]
 *
 * 1. Cold check (--no-cache) vs a cache-hit check after `record`: training runs and wall time, on
 *    the bundled example (~0.3 s a seed) and on a synthetic training of ≥ 2 s a seed (8 seeds).
 *    Goal: 0 runs and < 2 s on a hit.
 * 2. 8 seeds unsharded vs 2 and 4 shards run at once (each in its own clone, as a matrix job has
 *    its own runner) + aggregate. The synthetic training sleeps, standing for work on the shard's own
 *    machine: goal wall ∝ 1/shards + < 2 s.
 * 3. train.parallel: 2 vs 1 on this machine with a CPU-bound training (fixed work ≈ 2 s a seed on
 *    one core), and the load average, since other processes share the cores.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const temp: string[] = [];

function run(args: string[], cwd: string): Promise<{ ms: number; code: number | null; stdout: string }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'ignore'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ ms: performance.now() - t0, code, stdout }));
  });
}

async function ok(args: string[], cwd: string) {
  const r = await run(args, cwd);
  if (r.code !== 0 && r.code !== 1) throw new Error(`repro-gate ${args.join(' ')} exited ${r.code} in ${cwd}`);
  return r;
}

function git(cwd: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd });
}

async function repo(fill: (dir: string) => Promise<void>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-bench-compute-'));
  temp.push(dir);
  await fill(dir);
  await writeFile(path.join(dir, '.gitignore'), '.repro-gate/runs/\nshards/\n');
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'bench');
  return dir;
}

const SYNTHETIC = `import json, os, sys, time
seed, out, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
t0 = time.time()
if mode == "sleep":
    time.sleep(2.0)
else:
    # A fixed amount of work (about 2 s on one core of the 2-core machine this was written on), so
    # seeds that share cores take longer instead of doing less.
    x = 0
    for _ in range(1300):
        x += sum(i * i for i in range(20000))
acc = 0.9 + ((seed * 7919) % 13) / 1000
with open(os.path.join(out, "metrics.json"), "w") as f:
    json.dump({"accuracy": acc}, f)
`;

function syntheticConfig(mode: 'sleep' | 'busy', parallel = 1): string {
  return `version: 1
train:
  command: [python3, train.py, "{seed}", "{out}", ${mode}]
  timeout: 2m
  parallel: ${parallel}
seeds: 8
metrics: {accuracy: {margin: 0.02}}
`;
}

function synthetic(mode: 'sleep' | 'busy', parallel = 1): Promise<string> {
  return repo(async (dir) => {
    await writeFile(path.join(dir, 'train.py'), SYNTHETIC);
    await writeFile(path.join(dir, 'repro-gate.yml'), syntheticConfig(mode, parallel));
  });
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const trainedOf = (stdout: string): string => {
  const r = JSON.parse(stdout) as { cache?: { trained: number[] }; seeds: number[] };
  return String(r.cache ? r.cache.trained.length : r.seeds.length);
};

async function cacheRows(): Promise<void> {
  console.log('\n1. Run cache: cold check (--no-cache) vs cache-hit check after record\n');
  console.log('| training | seeds | cold: trained | cold: wall | hit: trained | hit: wall |');
  console.log('|---|---|---|---|---|---|');
  const example = await repo(async (dir) => {
    await cp(path.join(ROOT, 'examples', 'breast-cancer-logreg'), dir, { recursive: true });
    await rm(path.join(dir, '.repro-gate'), { recursive: true, force: true });
  });
  const projects: Array<[string, string]> = [
    ['example (breast-cancer-logreg)', example],
    ['synthetic, 2 s a seed', await synthetic('sleep')],
  ];
  for (const [name, dir] of projects) {
    await ok(['record'], dir);
    const cold = await ok(['check', '--json', '--no-cache'], dir);
    const hit = await ok(['check', '--json'], dir);
    const seeds = (JSON.parse(hit.stdout) as { seeds: number[] }).seeds.length;
    console.log(
      `| ${name} | ${seeds} | ${trainedOf(cold.stdout)} | ${s(cold.ms)} | ${trainedOf(hit.stdout)} | ${s(hit.ms)} |`,
    );
  }
}

async function shardRows(): Promise<void> {
  console.log('\n2. 8 seeds (2 s each, sleeping) unsharded vs shards run at once in separate clones + aggregate\n');
  console.log('| layout | slowest shard | aggregate | total wall | vs unsharded |');
  console.log('|---|---|---|---|---|');
  const dir = await synthetic('sleep');
  await ok(['record', '--no-cache'], dir);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'baseline');
  const single = await ok(['check', '--json', '--no-cache'], dir);
  console.log(`| unsharded | — | — | ${s(single.ms)} | 1.00× |`);
  for (const count of [2, 4]) {
    const clones = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const clone = await mkdtemp(path.join(os.tmpdir(), `rg-bench-shard-${i}-`));
        temp.push(clone);
        await cp(dir, clone, { recursive: true });
        return clone;
      }),
    );
    const t0 = performance.now();
    const shards = await Promise.all(
      clones.map((clone, i) =>
        ok(
          [
            'check',
            '--no-cache',
            '--shard',
            `${i + 1}/${count}`,
            '--result',
            path.join(dir, 'shards', `${i + 1}.json`),
          ],
          clone,
        ),
      ),
    );
    const agg = await ok(['aggregate', '--results', 'shards', '--json'], dir);
    const total = performance.now() - t0;
    const same = JSON.stringify(JSON.parse(agg.stdout).metrics) === JSON.stringify(JSON.parse(single.stdout).metrics);
    console.log(
      `| ${count} shards | ${s(Math.max(...shards.map((r) => r.ms)))} | ${s(agg.ms)} | ${s(total)} | ${(single.ms / total).toFixed(2)}×${same ? '' : ' (metrics differ!)'} |`,
    );
    await rm(path.join(dir, 'shards'), { recursive: true, force: true });
  }
}

async function parallelRows(): Promise<void> {
  console.log(
    `\n3. train.parallel on this machine (${os.availableParallelism()} cores), CPU-bound 2 s seeds, 8 seeds\n`,
  );
  console.log('| parallel | check wall (--no-cache) | vs parallel 1 |');
  console.log('|---|---|---|');
  let base = 0;
  for (const parallel of [1, 2]) {
    const dir = await synthetic('busy', parallel);
    await ok(['record', '--no-cache'], dir);
    const r = await ok(['check', '--no-cache', '--json'], dir);
    if (parallel === 1) base = r.ms;
    console.log(`| ${parallel} | ${s(r.ms)} | ${(base / r.ms).toFixed(2)}× |`);
  }
}

const only = process.argv[2];
try {
  if (!only || only === 'cache') await cacheRows();
  if (!only || only === 'shards') await shardRows();
  if (!only || only === 'parallel') await parallelRows();
} finally {
  await Promise.all(temp.map((d) => rm(d, { recursive: true, force: true })));
}
