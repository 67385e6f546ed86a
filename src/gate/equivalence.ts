/** The `equivalence` verb: a TOST on two samples given inline, exposing the gate's statistics directly. */

import { tost } from '../stats/tost.js';
import { GateError } from '../util/errors.js';
import { num } from '../util/format.js';

export interface EquivalenceArgs {
  candidate?: string;
  baseline?: string;
  lower?: string;
  upper?: string;
  alpha?: string;
  paired?: boolean;
}

function numbers(flag: string, value: string | undefined): number[] {
  if (value === undefined)
    throw new GateError(
      `--${flag} is required.`,
      `Give the values as a comma-separated list, e.g. --${flag} 0.91,0.92,0.90.`,
    );
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const parsed = items.map(Number);
  const bad = items.find((s) => !Number.isFinite(Number(s)));
  if (bad !== undefined)
    throw new GateError(
      `--${flag}: "${bad}" is not a finite number.`,
      `Give --${flag} as comma-separated numbers, e.g. 0.91,0.92,0.90.`,
    );
  if (parsed.length < 2)
    throw new GateError(
      `--${flag} needs at least 2 values to estimate spread (got ${parsed.length}).`,
      'Run more seeds.',
    );
  return parsed;
}

function bound(flag: string, value: string | undefined): number {
  if (value === undefined)
    throw new GateError(
      `--${flag} is required.`,
      'Give the equivalence bounds on candidate − baseline, e.g. --lower -0.01 --upper 0.01.',
    );
  const x = Number(value);
  if (value.trim() === '' || Number.isNaN(x))
    throw new GateError(
      `--${flag}: "${value}" is not a number.`,
      'Use a number; -inf / inf are allowed for a one-sided test.',
    );
  return x;
}

export function runEquivalence(args: EquivalenceArgs): {
  exitCode: 0 | 1;
  json: Record<string, unknown>;
  text: string;
} {
  const candidate = numbers('candidate', args.candidate);
  const baseline = numbers('baseline', args.baseline);
  const lower = bound('lower', args.lower?.replace(/^-inf$/i, '-Infinity'));
  const upper = bound('upper', args.upper?.replace(/^\+?inf$/i, 'Infinity'));
  if (!(lower < upper))
    throw new GateError(`--lower (${lower}) must be below --upper (${upper}).`, 'Swap them or fix the margin.');
  const alpha = args.alpha === undefined ? 0.05 : Number(args.alpha);
  if (!(alpha > 0 && alpha < 0.5))
    throw new GateError(`--alpha must be between 0 and 0.5 (got ${args.alpha}).`, 'The usual choice is 0.05.');
  if (args.paired && candidate.length !== baseline.length) {
    throw new GateError(
      `--paired needs as many candidate as baseline values (got ${candidate.length} and ${baseline.length}).`,
      'Drop --paired for independent samples (Welch).',
    );
  }
  const r = tost({ candidate, baseline, lower, upper, alpha, design: args.paired ? 'paired' : 'welch' });
  const json = {
    pLower: r.pLower,
    pUpper: r.pUpper,
    p: r.p,
    df: r.df,
    se: r.se,
    ci: r.ci,
    ciLevel: r.ciLevel,
    verdict: r.verdict,
    degenerate: r.degenerate,
    diff: r.diff,
    lower: Number.isFinite(lower) ? lower : null,
    upper: Number.isFinite(upper) ? upper : null,
    alpha,
    design: r.design,
  };
  const text = [
    `${r.verdict}: difference ${num(r.diff)}, ${Math.round(r.ciLevel * 100)}% CI [${num(r.ci[0])}, ${num(r.ci[1])}] vs bounds (${num(lower)}, ${num(upper)})`,
    `p = ${r.p.toPrecision(4)} (lower ${r.pLower.toPrecision(4)}, upper ${r.pUpper.toPrecision(4)}), df = ${num(r.df)}, se = ${num(r.se)}, ${r.design}${r.degenerate ? ', zero spread (deterministic verdict)' : ''}`,
  ].join('\n');
  return { exitCode: r.verdict === 'equivalent' ? 0 : 1, json, text };
}
