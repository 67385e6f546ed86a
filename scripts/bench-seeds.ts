/**
 * How many candidate training runs does the sequential TOST save, and at what cost?
 *
 *   npx tsx scripts/bench-seeds.ts [--reps 3000] [--null-reps 10000]
 *
 * Simulated gates (normal seed noise, margin ±1 in units of the margin, baseline 10 seeds):
 *   - runs and verdicts of the sequential plan (min 3, max 10) vs a fixed 10 seeds, and vs the
 *     fixed n* whose exact power at the borderline scenario matches the sequential plan's;
 *   - error control: the false-pass rate with the true difference exactly on a margin.
 * Deterministic (seeded). Goal: ≥ 40% fewer runs on clear cases at no loss of error control.
 */
import { parseArgs } from 'node:util';
import { tostPower } from '../src/stats/power.js';
import { planSequential, type SequentialPlan } from '../src/stats/sequential.js';
import { type Scenario, simulateFixed, simulateSequential } from '../test/helpers/simulate.js';

const { values } = parseArgs({
  options: { reps: { type: 'string', default: '3000' }, 'null-reps': { type: 'string', default: '10000' } },
});
const REPS = Number(values.reps);
const NULL_REPS = Number(values['null-reps']);
const ALPHA = 0.05;
const N_BASELINE = 10;
const N_MAX = 10;
const t0 = performance.now();

const plans: Array<[string, SequentialPlan]> = [
  ['Pocock (default)', planSequential({ min: 3, max: N_MAX, alpha: ALPHA, nBaseline: N_BASELINE })],
  [
    "O'Brien-Fleming",
    planSequential({ min: 3, max: N_MAX, alpha: ALPHA, nBaseline: N_BASELINE, boundary: 'obrien-fleming' }),
  ],
];

function pad(s: string | number, w: number, left = false): string {
  const t = String(s);
  return left ? t.padEnd(w) : t.padStart(w);
}
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
const saved = (runs: number, fixed: number): string => `${Math.round((1 - runs / fixed) * 100)}%`;

console.log(
  `repro-gate seeds benchmark: margin ±1 (diffs in units of the margin), baseline ${N_BASELINE} seeds, α = ${ALPHA}, ${REPS} gates per cell`,
);
for (const [name, p] of plans) {
  console.log(
    `  ${name}: looks at ${p.looks.join(', ')} seeds; α′ per look ${p.alphaPerLook.map((a) => a.toFixed(4)).join(' / ')} [${p.method}]`,
  );
}
console.log('');

const scenarios: Array<[string, number]> = [
  ['clearly equivalent', 0],
  ['borderline', 0.7],
  ['clearly different', 2],
];
const goal: string[] = [];
const header =
  `${pad('plan', 17, true)} ${pad('scenario', 19, true)} ${pad('sd', 5)} ${pad('diff', 5)} │ ${pad('seq runs', 8)} ${pad('pass', 6)} ${pad('fail', 6)} ${pad('incl', 6)} │ ` +
  `${pad('fixed-10 pass', 13)} ${pad('saved', 6)} │ ${pad('n*', 3)} ${pad('n* pass', 7)} ${pad('saved', 6)}`;
console.log(header);
console.log('─'.repeat(header.length));
let seed = 1;
for (const [planName, plan] of plans) {
  for (const sd of [0.2, 0.35]) {
    // n*: the fixed n (baseline 10) whose exact power at the borderline scenario matches the plan's.
    const border: Scenario = { sd, trueDiff: 0.7, lower: -1, upper: 1 };
    const seqBorder = simulateSequential(plan, border, REPS, seed++);
    let nStar = 2;
    while (
      nStar < 100 &&
      tostPower({ sd, lower: -1, upper: 1, alpha: ALPHA, nBaseline: N_BASELINE, nCandidate: nStar, trueDiff: 0.7 }) <
        seqBorder.equivalent
    )
      nStar++;
    for (const [label, diff] of scenarios) {
      const s: Scenario = { sd, trueDiff: diff, lower: -1, upper: 1 };
      const seq = diff === 0.7 ? seqBorder : simulateSequential(plan, s, REPS, seed++);
      const fixed10 = simulateFixed(N_MAX, N_BASELINE, ALPHA, s, REPS, seed++);
      const fixedStar = simulateFixed(nStar, N_BASELINE, ALPHA, s, REPS, seed++);
      console.log(
        `${pad(planName, 17, true)} ${pad(label, 19, true)} ${pad(sd, 5)} ${pad(diff, 5)} │ ${pad(seq.meanRuns.toFixed(2), 8)} ${pad(pct(seq.equivalent), 6)} ${pad(pct(seq.notEquivalent), 6)} ${pad(pct(seq.inconclusive), 6)} │ ` +
          `${pad(pct(fixed10.equivalent), 13)} ${pad(saved(seq.meanRuns, N_MAX), 6)} │ ${pad(nStar, 3)} ${pad(pct(fixedStar.equivalent), 7)} ${pad(saved(seq.meanRuns, nStar), 6)}`,
      );
      if (planName.startsWith('Pocock') && diff !== 0.7)
        goal.push(`${label} sd ${sd}: ${saved(seq.meanRuns, N_MAX)} fewer runs than fixed 10`);
      if (planName.startsWith('Pocock') && diff !== 0.7 && 1 - seq.meanRuns / N_MAX < 0.4)
        goal.push('  ^ BELOW the 40% goal');
    }
  }
}
console.log('');
console.log(
  'seq runs: mean candidate training runs per gate; pass/fail/incl: equivalent / not-equivalent / inconclusive verdicts;',
);
console.log(
  'saved: 1 − seq runs / fixed runs; n*: the fixed seeds count (baseline 10) with the same power as the plan at diff 0.7.',
);
console.log('');

// Error control at the margin (sd 0.1: the far bound is irrelevant — the worst case).
const limit = ALPHA + 3 * Math.sqrt((ALPHA * (1 - ALPHA)) / NULL_REPS);
const h2 = `${pad('plan', 17, true)} ${pad('σc/σb', 6)} │ ${pad('false pass +m', 13)} ${pad('false pass −m', 13)} │ ${pad('limit α+3SE', 11)}`;
console.log(`false-pass rate at the margin (${NULL_REPS} gates each):`);
console.log(h2);
console.log('─'.repeat(h2.length));
let worst = 0;
for (const [planName, plan] of [...plans, ['fixed 10 seeds', undefined] as const]) {
  for (const rho of [1, 2]) {
    const rates = [1, -1].map((sign) => {
      const s: Scenario = { sd: 0.1, sdCandidate: 0.1 * rho, trueDiff: sign, lower: -1, upper: 1 };
      const r = plan
        ? simulateSequential(plan, s, NULL_REPS, 50_000 + seed++)
        : simulateFixed(N_MAX, N_BASELINE, ALPHA, s, NULL_REPS, 50_000 + seed++);
      return r.equivalent;
    });
    if (plan) worst = Math.max(worst, ...rates);
    console.log(
      `${pad(planName, 17, true)} ${pad(rho, 6)} │ ${pad(rates[0]!.toFixed(4), 13)} ${pad(rates[1]!.toFixed(4), 13)} │ ${pad(limit.toFixed(4), 11)}`,
    );
  }
}
console.log('');
console.log(`goal (Pocock plan): ${goal.join('; ')}`);
console.log(
  `error control: worst sequential false-pass rate ${worst.toFixed(4)} ${worst <= limit ? '≤' : '>'} ${limit.toFixed(4)} (α + 3 SE) ${worst <= limit ? 'OK' : 'FAILED'}`,
);
console.log(`done in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
