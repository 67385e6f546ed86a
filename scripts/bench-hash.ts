/**
 * Hashing benchmark: fingerprintData against `sha256sum` (run serially), `openssl dgst` and `b3sum`
 * on the same files, then a warm re-check of an unchanged tree through the stat cache against
 * `git status` on that tree. Every tool reads from a warm page cache (each set is read once first),
 * so this measures hashing and read-path overhead, not the disk. Best of 3 per cell.
 *   npm run bench:hash
 *   env: BENCH_SMALL_N=20000 BENCH_LARGE_N=2 BENCH_LARGE_MIB=512 BENCH_TINY_N=100000
 * A reference tool that is not installed is left out of the table with a note.
 */
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fingerprintData, type HashCounts } from '../src/fingerprint/data.js';
import { poolSize } from '../src/fingerprint/hash-pool.js';

const run = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;
const SETS = [
  { dir: 'small', n: Number(process.env.BENCH_SMALL_N ?? 20_000), size: 16 * KiB },
  { dir: 'large', n: Number(process.env.BENCH_LARGE_N ?? 2), size: Number(process.env.BENCH_LARGE_MIB ?? 512) * MiB },
  { dir: 'tiny', n: Number(process.env.BENCH_TINY_N ?? 100_000), size: 4 * KiB },
];
const ROUNDS = 3;
const ARGV_CHUNK = 1000; // files per tool invocation, well under ARG_MAX
const PER_FOLDER = 1000; // files per sub-folder, as datasets are laid out

interface Tool {
  name: string;
  cmd: string;
  args: string[];
}
const TOOLS: Tool[] = [
  { name: 'sha256sum', cmd: 'sha256sum', args: ['--'] },
  // coreutils may be built without SHA-NI; OpenSSL (like node) uses it.
  { name: 'openssl dgst', cmd: 'openssl', args: ['dgst', '-sha256', '-r'] },
  // BLAKE3, not SHA-256: how fast a modern hash could go, for scale.
  { name: 'b3sum', cmd: 'b3sum', args: ['--no-names'] },
];

async function installed(tool: Tool): Promise<boolean> {
  return run(tool.cmd, tool.cmd === 'openssl' ? ['version'] : ['--version']).then(
    () => true,
    () => false,
  );
}

/** Runs a tool over the files in argv chunks, one process after another (no shell): "serially". */
async function runTool(tool: Tool, root: string, files: string[]): Promise<string> {
  let all = '';
  for (let i = 0; i < files.length; i += ARGV_CHUNK) {
    const { stdout } = await run(tool.cmd, [...tool.args, ...files.slice(i, i + ARGV_CHUNK)], {
      cwd: root,
      maxBuffer: 256 * MiB,
    });
    all += stdout;
  }
  return all;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

async function best(fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t);
  }
  return min / 1000;
}

async function listFiles(root: string, dir: string): Promise<string[]> {
  const entries = await readdir(path.join(root, dir), { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath, e.name)))
    .sort();
}

async function makeSet(root: string, set: (typeof SETS)[number]): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(set.size, 64 * MiB));
  for (let i = 0; i < set.n; i++) {
    const folder = path.join(root, set.dir, `d${String(Math.floor(i / PER_FOLDER)).padStart(3, '0')}`);
    if (i % PER_FOLDER === 0) await mkdir(folder, { recursive: true });
    const file = path.join(folder, `f${String(i).padStart(6, '0')}.bin`);
    if (set.size <= buf.length) await writeFile(file, randomFillSync(buf).subarray(0, set.size));
    else {
      const parts: Buffer[] = [];
      for (let done = 0; done < set.size; done += buf.length) parts.push(Buffer.from(randomFillSync(buf)));
      await writeFile(file, Buffer.concat(parts));
    }
  }
}

const pad = (s: string, n: number) => s.padEnd(n);
const rpad = (s: string, n: number) => s.padStart(n);

async function benchSet(root: string, set: (typeof SETS)[number], tools: Tool[]): Promise<void> {
  const files = await listFiles(root, set.dir);
  const bytes = set.n * set.size;
  const ours = await fingerprintData([set.dir], root); // also warms the page cache
  const sums = await runTool(TOOLS[0] as Tool, root, files);
  const theirs = new Map(
    sums
      .split('\n')
      .filter(Boolean)
      .map((l) => [l.slice(66), l.slice(0, 64)]),
  );
  const bad = files.filter((f) => ours.files[f]?.sha256 !== theirs.get(f));
  if (bad.length || Object.keys(ours.files).length !== files.length)
    throw new Error(`hash mismatch vs sha256sum in ${set.dir}: ${bad.slice(0, 3).join(', ')}`);
  const tOurs = await best(() => fingerprintData([set.dir], root));
  const tOne = await best(() => fingerprintData([set.dir], root, { threads: 1 }));
  const label = `${set.n.toLocaleString('en')} × ${set.size >= MiB ? `${set.size / MiB} MiB` : `${set.size / KiB} KiB`}`;
  const mbs = (t: number) => `${(bytes / 1e6 / t).toFixed(0)} MB/s`;
  console.log(
    `| ${pad(label, 18)} | ${pad('fingerprintData', 15)} | ${rpad(tOurs.toFixed(2), 7)} s | ${rpad(mbs(tOurs), 10)} | ${rpad('1.00', 6)} |          |`,
  );
  for (const tool of tools) {
    const t = await best(() => runTool(tool, root, files));
    const ratio = t / tOurs;
    const perCore = tool.name === 'sha256sum' ? `${(t / tOne).toFixed(2)}` : '';
    console.log(
      `| ${pad('', 18)} | ${pad(tool.name, 15)} | ${rpad(t.toFixed(2), 7)} s | ${rpad(mbs(t), 10)} | ${rpad(ratio.toFixed(2), 6)} | ${rpad(perCore, 8)} |`,
    );
  }
}

/** Re-fingerprinting an unchanged tree through the stat cache, against `git status` on it. */
async function benchWarm(root: string, dir: string): Promise<void> {
  const files = await listFiles(root, dir);
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: 'b',
    GIT_AUTHOR_EMAIL: 'b@b',
    GIT_COMMITTER_NAME: 'b',
    GIT_COMMITTER_EMAIL: 'b@b',
  };
  const git = (...args: string[]) =>
    run('git', ['-c', 'gc.auto=0', '-c', 'maintenance.auto=false', ...args], { cwd: root, env, maxBuffer: 256 * MiB });
  await git('init', '-q');
  await git('add', '--', dir);
  await git('commit', '-q', '-m', 'tree');
  const cache = path.join(root, '.repro-gate', 'cache', 'stat');
  let counts: HashCounts = { hashed: 0, fromCache: 0 };
  await fingerprintData([dir], root, { statCache: cache }); // cold: hashes and writes the cache
  await fingerprintData([dir], root, { statCache: cache }); // racy entries from the first write re-cached
  // Interleaved, best of 5 each: the load from other processes changes from second to second.
  let tGit = Infinity;
  let tWarm = Infinity;
  for (let i = 0; i < 5; i++) {
    tGit = Math.min(tGit, await time(() => git('status', '--porcelain')));
    tWarm = Math.min(
      tWarm,
      await time(() =>
        fingerprintData([dir], root, {
          statCache: cache,
          counts: (c) => {
            counts = c;
          },
        }),
      ),
    );
  }
  console.log(
    `\nWarm re-check of an unchanged ${files.length.toLocaleString('en')}-file tree (stat cache, ${counts.fromCache} from cache, ${counts.hashed} read):`,
  );
  console.log(`  git status --porcelain  ${tGit.toFixed(3)} s`);
  console.log(
    `  fingerprintData         ${tWarm.toFixed(3)} s   ratio ${(tWarm / tGit).toFixed(2)}× git status (goal ≤ 1.5)`,
  );
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'rg-bench-'));
  try {
    const tools: Tool[] = [];
    for (const t of TOOLS) {
      if (await installed(t)) tools.push(t);
      else console.log(`note: ${t.cmd} is not installed; left out of the table`);
    }
    if (!tools.some((t) => t.name === 'sha256sum')) throw new Error('sha256sum is needed to check the hashes');
    for (const set of SETS) await makeSet(root, set);
    const cpu = os.cpus()[0]?.model ?? '?';
    console.log(
      `node ${process.version}, ${os.availableParallelism()} cores (${cpu}), ${poolSize(Infinity)} hashing threads, best of ${ROUNDS}, warm page cache`,
    );
    console.log(
      'ratio = tool time / fingerprintData time (>1: fingerprintData is faster); per core = sha256sum time / fingerprintData time on 1 thread',
    );
    console.log(
      `load average ${os
        .loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')} (other processes share these cores)`,
    );
    console.log('goals: 20,000 × 16 KiB ≥ 1.6× sha256sum and ≥ 0.9 per core; 2 × 512 MiB ≥ 1.6× sha256sum\n');
    console.log(
      `| ${pad('files', 18)} | ${pad('hasher', 15)} | ${rpad('time', 9)} | ${rpad('throughput', 10)} | ${rpad('ratio', 6)} | per core |`,
    );
    console.log(
      `|${'-'.repeat(20)}|${'-'.repeat(17)}|${'-'.repeat(11)}|${'-'.repeat(12)}|${'-'.repeat(8)}|----------|`,
    );
    for (const set of SETS) await benchSet(root, set, tools);
    const tiny = SETS[2];
    if (tiny) await benchWarm(root, tiny.dir);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
