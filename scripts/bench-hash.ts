/**
 * Hashing benchmark: fingerprintData vs `sha256sum` on the same files, large and small sets.
 * Run: npx tsx scripts/bench-hash.ts   (env: BENCH_LARGE_MIB=200 BENCH_LARGE_N=4 BENCH_SMALL_N=2000)
 * Both sides read from a warm page cache, so this measures hashing + read-path overhead, not disk.
 */
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fingerprintData } from '../src/fingerprint/data.js';

const run = promisify(execFile);
const MiB = 1 << 20;
const LARGE_N = Number(process.env.BENCH_LARGE_N ?? 4);
const LARGE_MIB = Number(process.env.BENCH_LARGE_MIB ?? 200);
const SMALL_N = Number(process.env.BENCH_SMALL_N ?? 2000);
const SMALL_SIZE = 64 * 1024;
const ROUNDS = 3;
const ARGV_CHUNK = 500; // files per sha256sum invocation, well under ARG_MAX

/** Runs a `HASH  FILE` / `HASH *FILE` tool over the files in argv chunks (no shell). */
async function hashTool(cmd: string, args: string[], root: string, files: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < files.length; i += ARGV_CHUNK) {
    const { stdout } = await run(cmd, [...args, ...files.slice(i, i + ARGV_CHUNK)], { cwd: root, maxBuffer: 64 * MiB });
    for (const line of stdout.split('\n')) if (line) out.set(line.slice(66), line.slice(0, 64));
  }
  return out;
}
const sha256sum = (root: string, files: string[]) => hashTool('sha256sum', ['--'], root, files);
// OpenSSL's CLI as a second reference: coreutils may be built without SHA-NI, OpenSSL (like node) uses it.
const openssl = (root: string, files: string[]) => hashTool('openssl', ['dgst', '-sha256', '-r'], root, files);
const hasOpenssl = run('openssl', ['version']).then(
  () => true,
  () => false,
);

async function best(fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    min = Math.min(min, performance.now() - t);
  }
  return min / 1000;
}

async function bench(root: string, dir: string, bytes: number): Promise<void> {
  const files = (await readdir(path.join(root, dir))).sort().map((f) => `${dir}/${f}`);
  const ours = await fingerprintData([dir], root); // also warms the page cache
  const theirs = await sha256sum(root, files);
  const mismatches = files.filter((f) => ours.files[f]?.sha256 !== theirs.get(f));
  if (mismatches.length > 0 || Object.keys(ours.files).length !== files.length) {
    throw new Error(`hash mismatch vs sha256sum in ${dir}: ${mismatches.slice(0, 3).join(', ')}`);
  }
  const tSum = await best(() => sha256sum(root, files));
  const tOurs = await best(() => fingerprintData([dir], root));
  const tSsl = (await hasOpenssl) ? await best(() => openssl(root, files)) : undefined;
  const mbs = (t: number) => (bytes / 1e6 / t).toFixed(0).padStart(5);
  console.log(
    `${dir.padEnd(5)} ${String(files.length).padStart(4)} files ${(bytes / MiB).toFixed(0).padStart(4)} MiB | ` +
      `sha256sum ${mbs(tSum)} MB/s | fingerprintData ${mbs(tOurs)} MB/s | ratio ${(tSum / tOurs).toFixed(2)}` +
      (tSsl === undefined ? '' : ` | openssl dgst ${mbs(tSsl)} MB/s, ratio ${(tSsl / tOurs).toFixed(2)}`) +
      ' | hashes match',
  );
}

async function main(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'rg-bench-'));
  try {
    const buf = Buffer.allocUnsafe(LARGE_MIB * MiB);
    await mkdir(path.join(root, 'large'));
    await mkdir(path.join(root, 'small'));
    for (let i = 0; i < LARGE_N; i++) await writeFile(path.join(root, 'large', `f${i}.bin`), randomFillSync(buf));
    for (let i = 0; i < SMALL_N; i++) {
      await writeFile(
        path.join(root, 'small', `f${String(i).padStart(5, '0')}.bin`),
        randomFillSync(buf, 0, SMALL_SIZE).subarray(0, SMALL_SIZE),
      );
    }
    console.log(
      `node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), best of ${ROUNDS}, warm cache`,
    );
    console.log('ratio = tool time / fingerprintData time: 1.00 same speed, >1 faster, goal >= 0.80');
    await bench(root, 'large', LARGE_N * LARGE_MIB * MiB);
    await bench(root, 'small', SMALL_N * SMALL_SIZE);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
