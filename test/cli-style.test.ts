/**
 * Colour and --quiet: when colour is wanted (FORCE_COLOR, NO_COLOR, TERM=dumb, a terminal or not),
 * which words get it, and the one-line form; then through the built CLI on the example, whose
 * stdout is a pipe here (so colour only comes with FORCE_COLOR).
 */
import { describe, expect, it } from 'vitest';
import { paintVerdicts, terminalReport, wantsColour } from '../src/cli-style.js';
import { copyExample, runCli } from './helpers/project.js';
import { sampleReport } from './helpers/sample-report.js';

const ESC = '\x1b[';

describe('wantsColour', () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true], // NO_COLOR counts only when non-empty
    [{ TERM: 'dumb' }, true, false],
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ FORCE_COLOR: 'false' }, true, false],
    [{ FORCE_COLOR: '1', NO_COLOR: '1' }, false, true], // an explicit FORCE_COLOR wins, as in Node
  ])('%j with a terminal: %s → %s', (env, isTTY, expected) => {
    expect(wantsColour(env as NodeJS.ProcessEnv, isTTY)).toBe(expected);
  });
});

describe('paintVerdicts', () => {
  it('colours each verdict by what it means, and nothing else', () => {
    expect(paintVerdicts('## ✅ repro-gate: equivalent')).toBe(`## ✅ repro-gate: ${ESC}1;32mequivalent${ESC}0m`);
    expect(paintVerdicts('| ❌ not-equivalent |')).toBe(`| ❌ ${ESC}1;31mnot-equivalent${ESC}0m |`);
    expect(paintVerdicts('⚠️ inconclusive')).toBe(`⚠️ ${ESC}1;33minconclusive${ESC}0m`);
    expect(paintVerdicts('📝 recorded')).toBe(`📝 ${ESC}1;36mrecorded${ESC}0m`);
    // Words that are not a verdict shown with its icon stay as they are.
    const plain = 'all 3 metrics equivalent within margins; ✅ fine; `equivalent.csv`';
    expect(paintVerdicts(plain)).toBe(plain);
  });
});

describe('terminalReport', () => {
  const report = sampleReport();

  it('is the plain terminal rendering without colour, and paints it with', () => {
    const plain = terminalReport(report, { quiet: false, colour: false });
    expect(plain).not.toContain(ESC);
    expect(plain).toMatch(/^❌ repro-gate: not-equivalent\n/);
    const painted = terminalReport(report, { quiet: false, colour: true });
    expect(painted.replaceAll(`${ESC}1;31m`, '').replaceAll(`${ESC}0m`, '')).toBe(plain);
    expect(painted.split(`${ESC}1;31mnot-equivalent`).length).toBe(4); // the headline, the metric row and its CI strip
  });

  it('--quiet gives the verdict line and the summary, one line', () => {
    expect(terminalReport(report, { quiet: true, colour: false })).toBe(
      '❌ repro-gate: not-equivalent — accuracy is not equivalent to the baseline (diff −0.031, margin ±0.01)\n',
    );
  });
});

describe('the built CLI', () => {
  it('prints only the verdict line with --quiet (and no training output), colour only when forced', async () => {
    const dir = await copyExample();
    const exact = ['--config', 'repro-gate.exact.yml'];
    const record = await runCli(['record', '-q', ...exact], dir);
    expect(record.stdout).toMatch(/^📝 repro-gate: recorded — [^\n]+\n$/);
    const quiet = await runCli(['check', '--quiet', ...exact], dir);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stdout).toMatch(/^✅ repro-gate: reproducible — [^\n]+\n$/);
    expect(quiet.stderr).not.toContain('[seed');

    const env = (extra: Record<string, string>) => {
      const { FORCE_COLOR: _force, NO_COLOR: _no, ...rest } = process.env;
      return { ...rest, ...extra };
    };
    const piped = await runCli(['drift', ...exact], dir, env({}));
    expect(piped.stdout).toMatch(/^✅ repro-gate: no-drift/);
    expect(piped.stdout).not.toContain(ESC);
    const forced = await runCli(['drift', ...exact], dir, env({ FORCE_COLOR: '1' }));
    expect(forced.stdout.startsWith(`✅ repro-gate: ${ESC}1;32mno-drift${ESC}0m\n`)).toBe(true);
    const json = await runCli(['drift', '--json', ...exact], dir, env({ FORCE_COLOR: '1' }));
    expect(JSON.parse(json.stdout).verdict).toBe('no-drift'); // never colour in JSON
  });
});
