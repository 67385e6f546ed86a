/** The terminal form of a report: aligned columns instead of Markdown tables. */
import { describe, expect, it } from 'vitest';
import { displayWidth, markdownToTerminal } from '../src/report/terminal.js';

describe('markdownToTerminal', () => {
  it('lays a table out in aligned columns under a rule, without Markdown syntax', () => {
    const md = [
      '## ✅ repro-gate: equivalent',
      '',
      '**Training reproduces.**',
      '',
      '| Metric | Mean | Verdict |',
      '|---|---|---|',
      '| `accuracy` | 0.98 | ✅ equivalent |',
      '| `a\\|b` | 0.5 | ❌ not-equivalent |',
    ].join('\n');
    expect(markdownToTerminal(md).split('\n')).toEqual([
      '✅ repro-gate: equivalent',
      '',
      'Training reproduces.',
      '',
      'Metric    Mean  Verdict',
      '────────  ────  ─────────────────',
      'accuracy  0.98  ✅ equivalent',
      'a|b       0.5   ❌ not-equivalent',
    ]);
  });

  it('keeps code blocks as they are, without their fences', () => {
    expect(markdownToTerminal('legend\n```\nloss  ··│─[■]─│··\n```\nafter')).toBe('legend\nloss  ··│─[■]─│··\nafter');
  });

  it('counts wide emoji as two columns and variation selectors as none', () => {
    expect(displayWidth('✅ ok')).toBe(5);
    expect(displayWidth('⚠️')).toBe(2);
    expect(displayWidth('abc')).toBe(3);
  });
});
