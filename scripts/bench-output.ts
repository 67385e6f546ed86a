/**
 * Output handling benchmark: a training that prints 11 MB as tqdm-style progress (`\r` redraws)
 * against the same bytes as plain lines (`\n`). Splitting is linear in the bytes, so the two cost
 * the same; before, a `\r`-only stream was one ever-growing line, re-split on every chunk.
 * Run: npm run bench:output   (env: BENCH_OUTPUT_MB=11)
 */
import os from 'node:os';
import { runProcess } from '../src/runtime/process.js';

const MB = Number(process.env.BENCH_OUTPUT_MB ?? 11);
const ROUNDS = 3;

/** A child that writes MB megabytes of 100-byte records ending in `end`, in 64 KiB writes. */
function printer(end: string): string[] {
  const program = `
const rec = 'x'.repeat(99) + ${JSON.stringify(end)};
const chunk = rec.repeat(655);
const total = ${MB} * 1e6;
let left = total;
function write() {
  while (left > 0) {
    left -= chunk.length;
    if (!process.stdout.write(chunk)) return process.stdout.once('drain', write);
  }
}
write();`;
  return [process.execPath, '-e', program];
}

async function measure(end: string): Promise<{ ms: number; lines: number }> {
  let bestMs = Number.POSITIVE_INFINITY;
  let lines = 0;
  for (let i = 0; i < ROUNDS; i++) {
    let n = 0;
    const t0 = performance.now();
    const r = await runProcess({
      argv: printer(end),
      cwd: os.tmpdir(),
      env: { PATH: process.env.PATH ?? '' },
      timeoutMs: 600_000,
      onLine: () => void n++,
    });
    if (r.exitCode !== 0) throw new Error(`printer exited ${r.exitCode}: ${r.tail.join('\n')}`);
    bestMs = Math.min(bestMs, performance.now() - t0);
    lines = n;
  }
  return { ms: bestMs, lines };
}

const plain = await measure('\n');
const progress = await measure('\r');
const rows = [
  ['output', 'lines seen', 'best of 3', 'MB/s'],
  ['\\n lines', String(plain.lines), `${plain.ms.toFixed(0)} ms`, (MB / (plain.ms / 1000)).toFixed(0)],
  ['\\r progress', String(progress.lines), `${progress.ms.toFixed(0)} ms`, (MB / (progress.ms / 1000)).toFixed(0)],
];
console.log(`Training output, ${MB} MB through runProcess (split, tail, log):`);
for (const r of rows)
  console.log(`  ${r[0]!.padEnd(12)} ${r[1]!.padStart(10)} ${r[2]!.padStart(10)} ${r[3]!.padStart(6)}`);
console.log(`  \\r / \\n time ratio: ${(progress.ms / plain.ms).toFixed(2)} (goal: ≤ ~1, i.e. no extra cost)`);
