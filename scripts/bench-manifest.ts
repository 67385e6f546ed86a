/**
 * Baseline size benchmark: `record` and `drift` through the built CLI (dist/cli.js) on trees of
 * 4 KiB files, with large data entries kept as roots (manifests in .repro-gate/manifests/) against a
 * baseline in today's inline form (every file listed), which drift also reads. Each command's wall
 * time and peak memory (maximum RSS, from /usr/bin/time -v) are measured; 10^6 is extrapolated
 * from the growth between the two sizes.
 *   npm run build && npm run bench:manifest
 *   env: BENCH_SIZES=10000,100000
 */
import { execFile } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';

import { dataOnlyConfig } from '../test/helpers/project.js';

const run = promisify(execFile);
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'cli.js');
const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const PER_FOLDER = 1000; // files per leaf folder, ten leaves per top folder: data/g0/s0/…
const CONFIG = dataOnlyConfig();

interface Measure {
  seconds: number;
  maxRssMiB: number;
}

/** Runs the CLI under /usr/bin/time -v: wall time and the child's maximum resident set size. */
async function cli(dir: string, args: string[], okCodes = [0, 1]): Promise<Measure> {
  const t0 = performance.now();
  const r = await run('/usr/bin/time', ['-v', process.execPath, CLI, ...args], { cwd: dir, maxBuffer: 1 << 30 }).catch(
    (err: { code?: number; stderr?: string }) => {
      if (okCodes.includes(err.code ?? -1)) return err as { stderr: string };
      throw new Error(`repro-gate ${args.join(' ')} failed: ${err.stderr?.slice(-2000)}`);
    },
  );
  const seconds = (performance.now() - t0) / 1000;
  const kb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr ?? '')?.[1] ?? Number.NaN);
  return { seconds, maxRssMiB: kb / 1024 };
}

async function makeTree(dir: string, n: number): Promise<void> {
  const buf = Buffer.alloc(4096);
  for (let i = 0; i < n; i += PER_FOLDER) {
    const leaf = i / PER_FOLDER;
    const folder = path.join(dir, 'data', `g${Math.floor(leaf / 10)}`, `s${leaf % 10}`);
    await mkdir(folder, { recursive: true });
    const writes: Promise<void>[] = [];
    for (let j = i; j < Math.min(n, i + PER_FOLDER); j++)
      writes.push(writeFile(path.join(folder, `${j}.bin`), randomFillSync(Buffer.from(buf))));
    await Promise.all(writes);
  }
}

interface Row {
  n: number;
  baselineKiB: number;
  /** Folder roots in the baseline. */
  folders: number;
  inlineKiB: number;
  manifestKiB: number;
  record: Measure;
  driftSame: Measure;
  driftOne: Measure;
  driftNoManifest: Measure;
  inlineDriftSame: Measure;
}

async function measure(n: number): Promise<Row> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-bench-manifest-'));
  try {
    await writeFile(path.join(dir, 'repro-gate.yml'), CONFIG);
    await makeTree(dir, n);
    const baselineFile = path.join(dir, '.repro-gate', 'baseline.json');
    const record = await cli(dir, ['record'], [0]);
    const baselineKiB = (await stat(baselineFile)).size / 1024;
    const recorded = JSON.parse(await readFile(baselineFile, 'utf8'));
    const folders = Object.keys(recorded.fingerprints.data.summaries.data.folders).length;
    const manifests = path.join(dir, '.repro-gate', 'manifests');
    const [name] = await readdir(manifests);
    const manifestBytes = await readFile(path.join(manifests, name as string));
    const driftSame = await cli(dir, ['drift', '--json']);
    const changed = path.join(dir, 'data', 'g0', 's0', '7.bin');
    const original = await readFile(changed);
    await writeFile(changed, randomFillSync(Buffer.alloc(4096)));
    const driftOne = await cli(dir, ['drift', '--json']);
    await rm(manifests, { recursive: true });
    const driftNoManifest = await cli(dir, ['drift', '--json']);
    await writeFile(changed, original);
    // Today's form: the same baseline with every file listed inline.
    const baseline = JSON.parse(await readFile(baselineFile, 'utf8'));
    const files: Record<string, { sha256: string; size: number }> = {};
    for (const [p, size, sha256] of JSON.parse(gunzipSync(manifestBytes).toString()).files) files[p] = { sha256, size };
    baseline.fingerprints.data = { files };
    const inlineText = `${JSON.stringify(baseline, null, 2)}\n`;
    await writeFile(baselineFile, inlineText);
    const inlineDriftSame = await cli(dir, ['drift', '--json']);
    return {
      n,
      baselineKiB,
      folders,
      inlineKiB: Buffer.byteLength(inlineText) / 1024,
      manifestKiB: manifestBytes.length / 1024,
      record,
      driftSame,
      driftOne,
      driftNoManifest,
      inlineDriftSame,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const fmtM = (m: Measure) => `${m.seconds.toFixed(2)} s / ${m.maxRssMiB.toFixed(0)} MiB`;

/** Linear in the file count through the two measured points, evaluated at `n`. */
function extrapolate(rows: Row[], pick: (r: Row) => number, n: number): number {
  const [a, b] = [rows[0] as Row, rows[rows.length - 1] as Row];
  const slope = (pick(b) - pick(a)) / (b.n - a.n);
  return pick(b) + slope * (n - b.n);
}

async function main(): Promise<void> {
  await stat(CLI).catch(() => {
    throw new Error('dist/cli.js is missing: run `npm run build` first.');
  });
  const rows: Row[] = [];
  for (const n of SIZES) {
    console.error(`measuring ${n.toLocaleString('en')} files of 4 KiB…`);
    rows.push(await measure(n));
  }
  const cells: Array<[string, (r: Row) => string]> = [
    ['baseline.json (roots)', (r) => `${r.baselineKiB.toFixed(1)} KiB, ${r.folders} folders`],
    ['baseline.json (inline, today)', (r) => `${r.inlineKiB.toFixed(0)} KiB`],
    ['manifest .json.gz', (r) => `${r.manifestKiB.toFixed(0)} KiB`],
    ['record (cold, hashes all)', (r) => fmtM(r.record)],
    ['drift, unchanged (roots)', (r) => fmtM(r.driftSame)],
    ['drift, unchanged (inline, today)', (r) => fmtM(r.inlineDriftSame)],
    ['drift, 1 file changed (manifest)', (r) => fmtM(r.driftOne)],
    ['drift, 1 file changed (no manifest)', (r) => fmtM(r.driftNoManifest)],
  ];
  const width = Math.max(...cells.map(([h]) => h.length));
  const colW = 22;
  console.log(`\n${'files'.padEnd(width)} | ${rows.map((r) => r.n.toLocaleString('en').padEnd(colW)).join(' | ')}`);
  console.log(`${'-'.repeat(width)}-|-${rows.map(() => '-'.repeat(colW)).join('-|-')}`);
  for (const [h, f] of cells) console.log(`${h.padEnd(width)} | ${rows.map((r) => f(r).padEnd(colW)).join(' | ')}`);
  if (rows.length >= 2) {
    const M = 1_000_000;
    console.log(`\nExtrapolated to ${M.toLocaleString('en')} files (linear through the measured sizes):`);
    // The roots form grows with the folders listed, not the files: at most 500 folder roots per entry.
    const [a, b] = [rows[0] as Row, rows[rows.length - 1] as Row];
    const perFolder = b.folders > a.folders ? ((b.baselineKiB - a.baselineKiB) * 1024) / (b.folders - a.folders) : 0;
    const bound = b.baselineKiB + (perFolder * (500 - b.folders)) / 1024;
    console.log(
      `  baseline.json (roots)   ≤ ${bound.toFixed(0)} KiB (${perFolder.toFixed(0)} bytes per folder root, at most 500 per entry, whatever the file count)`,
    );
    console.log(`  baseline.json (inline)  ${(extrapolate(rows, (r) => r.inlineKiB, M) / 1024).toFixed(0)} MiB`);
    console.log(`  manifest .json.gz       ${(extrapolate(rows, (r) => r.manifestKiB, M) / 1024).toFixed(0)} MiB`);
    for (const [h, pick] of [
      ['record', (r: Row) => r.record],
      ['drift, unchanged', (r: Row) => r.driftSame],
      ['drift, 1 file changed', (r: Row) => r.driftOne],
    ] as const)
      console.log(
        `  ${h.padEnd(23)} ${extrapolate(rows, (r) => pick(r).seconds, M).toFixed(0)} s / ${extrapolate(rows, (r) => pick(r).maxRssMiB, M).toFixed(0)} MiB`,
      );
  }
  console.log(
    `\n(${os.cpus().length} cores, load average ${os.loadavg()[0]?.toFixed(1)}; goal: baseline.json ≤ 100 KB at 100,000 files)`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
