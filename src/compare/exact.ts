/** Exact mode: every metric value and artifact hash must be bit-identical, seed by seed. */
import type { FileEntry, RunRecord } from '../schema/baseline.js';
import type { MetricResult, Mismatch } from '../schema/report.js';
import { describeSample } from '../stats/summary.js';
import { compareBytes } from '../util/bytes.js';
import { metricRow } from './metric-row.js';

export interface ExactComparison {
  verdict: 'reproducible' | 'mismatch';
  metrics: MetricResult[];
  mismatches: Mismatch[];
}

/** Differing leaves listed per checkpoint; the rest are counted in one more row. */
const MAX_KEYS = 20;

/**
 * One artifact of one seed. Checkpoints read on both sides are compared by content, leaf by leaf,
 * naming each differing tensor or value by its key path; any other file by its bytes.
 */
function artifactMismatches(
  seed: number,
  name: string,
  base: FileEntry | undefined,
  run: FileEntry | undefined,
): Mismatch[] {
  const b = base?.content;
  const c = run?.content;
  if (!b || !c) {
    const hb = base?.sha256 ?? null;
    const hc = run?.sha256 ?? null;
    return hb === hc ? [] : [{ seed, kind: 'artifact', name, baseline: hb, candidate: hc }];
  }
  if (b.tensors === c.tensors && b.values === c.values) return [];
  const keys = [...new Set([...Object.keys(b.leaves), ...Object.keys(c.leaves)])];
  const leaf = (l: Record<string, string>, k: string) => (Object.hasOwn(l, k) ? (l[k] ?? null) : null);
  const rank = (k: string) => (isTensor(b.leaves, k) || isTensor(c.leaves, k) ? 0 : 1);
  const differing = keys
    .filter((k) => leaf(b.leaves, k) !== leaf(c.leaves, k))
    // Tensors first: a changed weight matters more than a changed timestamp.
    .sort((x, y) => rank(x) - rank(y) || compareBytes(x, y));
  const rows: Mismatch[] = differing.slice(0, MAX_KEYS).map((key) => ({
    seed,
    kind: 'artifact',
    name,
    key,
    baseline: leaf(b.leaves, key),
    candidate: leaf(c.leaves, key),
  }));
  if (differing.length > MAX_KEYS) {
    rows.push({
      seed,
      kind: 'artifact',
      name,
      key: `… ${differing.length - MAX_KEYS} more keys`,
      baseline: null,
      candidate: null,
    });
  }
  return rows;
}

/** A tensor's leaf is written `dtype[shape] sha256`. */
function isTensor(leaves: Record<string, string>, key: string): boolean {
  return Object.hasOwn(leaves, key) && /^\w+\[[\d,]*\] [0-9a-f]{64}$/.test(leaves[key] ?? '');
}

/** `baseline` must hold a run for every candidate seed (the gate checks that before training). */
export function compareExact(
  baseline: RunRecord[],
  candidate: RunRecord[],
  metricNames: string[],
  artifactNames: string[],
): ExactComparison {
  const bySeed = new Map(baseline.map((r) => [r.seed, r]));
  const pairs = candidate.map((run) => {
    const base = bySeed.get(run.seed);
    if (!base) throw new Error(`internal error: the baseline has no run for candidate seed ${run.seed}`);
    return { run, base };
  });
  const mismatches: Mismatch[] = [];
  for (const { run, base } of pairs) {
    for (const name of metricNames) {
      // === rather than Object.is: JSON turns -0 into 0, which is not a real difference.
      if (base.metrics[name] !== run.metrics[name]) {
        mismatches.push({
          seed: run.seed,
          kind: 'metric',
          name,
          baseline: base.metrics[name] ?? null,
          candidate: run.metrics[name] ?? null,
        });
      }
    }
    for (const name of artifactNames) {
      const own = (r: RunRecord) => (Object.hasOwn(r.artifacts, name) ? r.artifacts[name] : undefined);
      mismatches.push(...artifactMismatches(run.seed, name, own(base), own(run)));
    }
  }
  const compared = pairs.map((p) => p.base);
  const metrics = metricNames.map((name) => {
    const baselineSample = describeSample(compared.map((r) => r.metrics[name] ?? Number.NaN));
    const candidateSample = describeSample(candidate.map((r) => r.metrics[name] ?? Number.NaN));
    return metricRow(name, undefined, {
      verdict: mismatches.some((m) => m.kind === 'metric' && m.name === name) ? 'mismatch' : 'reproducible',
      design: 'exact',
      baseline: baselineSample,
      candidate: candidateSample,
      diff: candidateSample.mean - baselineSample.mean,
    });
  });
  return { verdict: mismatches.length ? 'mismatch' : 'reproducible', metrics, mismatches };
}
