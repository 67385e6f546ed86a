/**
 * The most likely reason a failing gate failed, in the order people should suspect it:
 * data → config → environment → code → randomness/parallelism (which only `diagnose` can tell).
 */
import type { Cause, ConfigDrift, Drift, MetricResult, Mismatch } from '../schema/report.js';
import { COMMAND_LINE } from '../util/command-line.js';
import { listSome, showValue, signed } from '../util/format.js';
import { isStrong } from './environment.js';
import { changesTraining } from './settings.js';

export interface CauseInput {
  drift: Drift;
  /** Files changed since the baseline commit that are neither data, config nor the baseline; null if unknown. */
  codeChanges: string[] | null;
  metrics: MetricResult[];
  mismatches: Mismatch[];
}

export interface CauseFinding {
  cause: Cause;
  evidence: string;
}

/** How a failing metric moved, for the evidence sentence. */
function movement(input: CauseInput): string {
  const failing = input.metrics.filter((m) => m.verdict !== 'equivalent' && m.verdict !== 'reproducible');
  const worst = [...failing].sort((a, b) => Math.abs(b.diff) - Math.abs(a.diff))[0];
  if (worst && worst.diff !== 0) return `${worst.name} moved by ${signed(worst.diff)}`;
  const first = input.mismatches[0];
  if (first) return `seed ${first.seed}'s ${first.kind} ${first.name} differs`;
  return worst ? `${worst.name} could not be shown equivalent` : 'the results differ';
}

export function rankCause(input: CauseInput): CauseFinding {
  const moved = movement(input);
  const { data, environment } = input.drift;
  // Only settings that change the training can explain a changed result (a margin cannot).
  const config = input.drift.config.filter(changesTraining);
  if (data.length)
    return {
      cause: 'data',
      evidence: `${listSome(data.map((d) => (d.lineage ? `${d.path}: ${d.lineage} ${d.change === 'modified' ? 'changed' : d.change}` : `${d.path} ${d.change === 'modified' ? 'changed' : `was ${d.change}`}`)))}, and ${moved}.`,
    };
  if (config.length) {
    // An override on the command line reads as one dotted key: command-line.learning_rate 1e-3 → 2e-3.
    const where = (c: ConfigDrift) => (c.file === COMMAND_LINE ? `${c.file}.${c.key}` : `${c.file}: ${c.key}`);
    const keys = config.map((c) => `${where(c)} ${showValue(c.before)} → ${showValue(c.after)}`);
    return { cause: 'config', evidence: `${listSome(keys)}, and ${moved}.` };
  }
  const strongEnv = environment.filter(isStrong);
  if (strongEnv.length)
    return {
      cause: 'environment',
      evidence: `${listSome(strongEnv.map((e) => `${e.key} ${showValue(e.before)} → ${showValue(e.after)}`))}, and ${moved}.`,
    };
  if (input.codeChanges?.length)
    return {
      cause: 'code',
      evidence: `the training code changed since the baseline (${listSome(input.codeChanges)}), and ${moved}.`,
    };
  if (environment.length)
    return {
      cause: 'environment',
      evidence: `${listSome(environment.map((e) => `${e.key} ${showValue(e.before)} → ${showValue(e.after)}`))}, and ${moved}.`,
    };
  return {
    cause: 'unknown',
    evidence: `nothing drifted${input.codeChanges === null ? ' that repro-gate can see (code changes unknown: the baseline commit is not in this clone)' : ''}, yet ${moved}: suspect unseeded randomness or parallel nondeterminism.`,
  };
}
