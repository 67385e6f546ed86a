import { describe, expect, it } from 'vitest';
import { escapeCode as code, escapeText as text } from '../src/report/escape.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { type Report, reportSchema } from '../src/schema/report.js';
import { num } from '../src/util/format.js';

function report(over: Partial<Report> = {}): Report {
  return reportSchema.parse({
    schemaVersion: 2,
    tool: { name: 'repro-gate', version: '0.1.0' },
    command: 'check',
    verdict: 'not-equivalent',
    summary: 'Training does not reproduce: 1 of 1 metric outside the margin (5 seeds, Welch TOST, α = 0.05).',
    mode: 'statistical',
    alpha: 0.05,
    seeds: [0, 1, 2, 3, 4],
    metrics: [
      {
        name: 'accuracy',
        verdict: 'not-equivalent',
        baseline: { n: 5, mean: 0.9121, sd: 0.001 },
        candidate: { n: 5, mean: 0.9041, sd: 0.0012 },
        diff: -0.008,
        ci: [-0.0093, -0.0067],
        p: 0.97,
        lower: -0.005,
        upper: 0.005,
        margin: '0.005',
        direction: 'both',
        design: 'welch',
        df: 7.6,
        se: 0.0007,
        degenerate: false,
      },
    ],
    mismatches: [],
    drift: {
      data: [{ path: 'data/train.csv', change: 'modified', before: 'a'.repeat(64), after: 'b'.repeat(64) }],
      config: [],
      environment: [],
    },
    cause: 'data',
    causeEvidence: 'data/train.csv changed, and accuracy moved by −0.008.',
    warnings: [],
    baseline: { path: '.repro-gate/baseline.json', recordedAt: '2026-11-01T10:00:00.000Z', commit: 'c'.repeat(40) },
    commit: 'd'.repeat(40),
    ...over,
  });
}

describe('markdown report', () => {
  it('puts the verdict and summary first, then the cause, metrics and drift in order', () => {
    const md = renderMarkdown(
      report({
        drift: {
          data: [{ path: 'data/train.csv', change: 'modified', before: 'a'.repeat(64), after: 'b'.repeat(64) }],
          config: [{ file: 'params.yaml', key: 'lr', change: 'modified', before: 0.1, after: 0.2 }],
          environment: [{ key: 'package.numpy', change: 'modified', before: '1.24', after: '1.26' }],
        },
      }),
    );
    expect(md.split('\n')[0]).toBe('## ❌ repro-gate: not-equivalent');
    expect(md).toContain('| Metric | Baseline (n=5) | This run (n=5) | Difference | 90% CI | Margin | p | Verdict |');
    expect(md).toContain(
      '| <code>accuracy</code> | 0.9121 ± 0.001 | 0.9041 ± 0.0012 | −0.008 | [−0.0093, −0.0067] | ±0.005 | 0.9700 | ❌ not-equivalent |',
    );
    expect(md).toContain('**Most likely cause: data** — data/train.csv changed, and accuracy moved by −0.008.');
    const order = ['Most likely cause', '| Metric', '#### Data', '#### Config', '#### Environment'].map((s) =>
      md.indexOf(s),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('escapes repository text so it cannot break tables, link, mention or inject HTML', () => {
    const evil = 'x|y <img src=x onerror=alert(1)> @admin [click](https://evil) `rm` **b**';
    const md = renderMarkdown(
      report({
        drift: {
          data: [{ path: evil, change: 'added', before: null, after: 'b'.repeat(64) }],
          config: [{ file: 'p.yaml', key: evil, change: 'added', after: evil }],
          environment: [],
        },
      }),
    );
    expect(md).not.toContain('<img');
    expect(md).not.toContain('@admin');
    expect(md).not.toContain('[click]');
    expect(md).not.toMatch(/x\|y/);
    expect(md).toContain(
      '<code>x&#124;y &lt;img src=x onerror=alert(1)&gt; &#64;&#8203;admin &#91;click&#93;(https:&#8203;//evil) &#96;rm&#96; &#42;&#42;b&#42;&#42;</code>',
    );
    expect(text('line1\nline2')).toBe('line1 line2');
    // GitHub would autolink bare URLs and www. hosts from repository text; a zero-width space stops it.
    const linked = text('see https://evil.example/x, HTTP://x.y and www.evil.com');
    expect(linked).not.toMatch(/https?:\/\/|www\./i);
    expect(linked).toBe('see https:&#8203;//evil.example/x, HTTP:&#8203;//x.y and www&#8203;.evil.com');
    // Terminal control sequences never survive, in either format.
    expect(text('a\u001b]8;;https://x\u0007b')).toBe('a&#93;8;;https:&#8203;//xb');
    expect(code(undefined)).toBe('—');
  });

  it('shortens a long report by dropping whole detail sections, keeping the headline and a pointer', () => {
    const environment = Array.from({ length: 3000 }, (_, i) => ({
      key: `package.p${i}`,
      change: 'modified' as const,
      before: '1.0.0',
      after: '1.0.1',
    }));
    const big = report({ drift: { data: [], config: [], environment }, warnings: [{ code: 'w', message: 'w' }] });
    const full = renderMarkdown(big);
    expect(full.length).toBeGreaterThan(65_536);
    const short = renderMarkdown(big, { maxLength: 65_536, truncatedNote: 'See the job summary for the full report.' });
    expect(short.length).toBeLessThanOrEqual(65_536);
    expect(short).toContain('## ❌ repro-gate: not-equivalent');
    expect(short).toContain('| <code>accuracy</code>');
    expect(short).toContain('> See the job summary for the full report.');
    expect(short).not.toContain('#### Environment');
    expect(short).toContain('### Warnings'); // only as much as needed is dropped
    expect(short.trimEnd().endsWith('</sub>')).toBe(true);
  });

  it('cuts a report that is still too long at a table row, keeping the note and the footer', () => {
    const m = report().metrics[0]!;
    const metrics = Array.from({ length: 2000 }, (_, i) => ({ ...m, name: `metric_${i}` }));
    const huge = report({ metrics, drift: { data: [], config: [], environment: [] } });
    const md = renderMarkdown(huge, { maxLength: 20_000, truncatedNote: 'See the job summary.' });
    expect(md.length).toBeLessThanOrEqual(20_000);
    const lines = md.trimEnd().split('\n');
    expect(lines.at(-1)).toMatch(/^<sub>repro-gate 0\.1\.0 · baseline .* · seeds 0, 1, 2, 3, 4<\/sub>$/);
    expect(lines.at(-3)).toBe('> See the job summary.');
    // Every table row that is there is whole.
    const rows = lines.filter((l) => l.startsWith('| <code>metric&#95;'));
    expect(rows.length).toBeGreaterThan(10);
    for (const row of rows) expect(row).toMatch(/ \| ❌ not-equivalent \|$/);
  });

  it('closes the CI strips block when the cut falls inside it', () => {
    const m = report().metrics[0]!;
    const metrics = Array.from({ length: 200 }, (_, i) => ({ ...m, name: `metric_${i}` }));
    const big = report({ metrics, drift: { data: [], config: [], environment: [] } });
    const full = renderMarkdown(big);
    const max = full.indexOf('<pre>') + 2000;
    const md = renderMarkdown(big, { maxLength: max, truncatedNote: 'See the job summary.' });
    expect(md.length).toBeLessThanOrEqual(max);
    const lines = md.trimEnd().split('\n');
    expect(lines.at(-5)).toBe('</pre>');
    expect(lines.at(-6)).toMatch(/^metric&#95;\d+ +[·─│[■\]◆]{21} {2}❌ not-equivalent$/);
    expect(lines.at(-3)).toBe('> See the job summary.');
  });

  it('formats numbers compactly', () => {
    expect(num(0.91208)).toBe('0.9121');
    expect(num(-0.000012345)).toBe('−1.23e−5');
    expect(num(0.0031234, 2)).toBe('0.0031');
    expect(num(0)).toBe('0');
    expect(num(null)).toBe('—');
    expect(num(Infinity)).toBe('∞');
  });

  it('renders the automatic diagnosis of a failing exact check below the drift', () => {
    const diagnosis = {
      seed: 0,
      deterministic: false,
      cause: 'randomness' as const,
      runs: 10,
      evidence: 'seed 0 run twice differs in 1 value (loss), and no single setting made it deterministic.',
      differences: [{ kind: 'metric' as const, name: 'loss', before: 0.5, after: 0.51, detail: '+0.01' }],
      factors: [{ name: 'PYTHONHASHSEED=0', env: { PYTHONHASHSEED: '0' }, deterministic: false }],
      artifacts: [],
      curves: [],
      curvePlot: null,
    };
    const md = renderMarkdown(report({ mode: 'exact', verdict: 'mismatch', cause: 'randomness', diagnosis }));
    expect(md).toContain('### Diagnosis: seed 0 rerun (10 training runs)');
    expect(md).toContain('**Nondeterministic: randomness** — seed 0 run twice differs');
    expect(md).toContain('| <code>PYTHONHASHSEED=0</code> | ❌ no |');
    expect(md.indexOf('### Diagnosis')).toBeGreaterThan(md.indexOf('#### Data'));
  });

  it('shows one-sided margins and zero-spread verdicts', () => {
    const m = report().metrics[0]!;
    const md = renderMarkdown(
      report({ metrics: [{ ...m, direction: 'higher', upper: null, verdict: 'equivalent', degenerate: true }] }),
    );
    expect(md).toContain('| ≥ −0.005 |');
    expect(md).toContain('✅ equivalent (zero spread) |');
  });

  it('lists failing metrics first (clear failures, then inconclusive), keeping the config order within each group', () => {
    const m = report().metrics[0]!;
    const ok = (name: string) => ({
      ...m,
      name,
      verdict: 'equivalent' as const,
      ci: [-0.001, 0.001] as [number, number],
    });
    const unsure = (name: string) => ({ ...m, name, verdict: 'inconclusive' as const });
    const md = renderMarkdown(
      report({ metrics: [ok('a'), unsure('e'), { ...m, name: 'b' }, ok('c'), { ...m, name: 'd' }] }),
    );
    const order = [...md.matchAll(/^\| <code>(\w)<\/code>/gm)].map((x) => x[1]);
    expect(order).toEqual(['b', 'd', 'e', 'a', 'c']);
  });

  it("draws each metric's CI against its margin band below the table, aligned, in statistical mode only", () => {
    const m = report().metrics[0]!;
    const md = renderMarkdown(
      report({
        metrics: [
          { ...m, name: 'a_long_name', verdict: 'equivalent', ci: [-0.001, 0.002] },
          { ...m, name: 'acc' },
          { ...m, name: 'exact_only', ci: null },
        ],
      }),
    );
    const block =
      /90% CI against the margin band: │ its edges, ─ inside, · outside, \[■\] the CI\.\n<pre>\n([\s\S]*?)\n<\/pre>/.exec(
        md,
      );
    expect(block).not.toBeNull();
    // Failing first, names escaped and padded to one width, no strip for a metric without a CI.
    expect(block![1]!.split('\n')).toEqual([
      'acc          ··[■■]·│──────────│··  ❌ not-equivalent',
      'a&#95;long&#95;name  ··│─────[■■■■]────│··  ✅ equivalent',
    ]);
    expect(md.indexOf('<pre>')).toBeGreaterThan(md.indexOf('| Metric'));
    const terminal = renderMarkdown(report(), { format: 'terminal' });
    expect(terminal).toContain('```\naccuracy  ··[■■]·│──────────│··  ❌ not-equivalent\n```');
    const exact = renderMarkdown(report({ mode: 'exact', verdict: 'reproducible', metrics: [] }));
    expect(exact).not.toContain('margin band');
  });

  it('tells the reader of a failing check what to look at first and how to accept the change', () => {
    const drift = {
      data: [
        {
          path: 'data/train.csv',
          change: 'modified' as const,
          before: 'a'.repeat(64),
          after: 'b'.repeat(64),
          detail: 'line 2 changed (of 570)',
        },
      ],
      config: [{ file: 'params.yaml', key: 'lr', change: 'modified' as const, before: 0.1, after: 0.2 }],
      environment: [],
    };
    const cli = renderMarkdown(report({ drift, cause: 'config' }), { format: 'terminal' });
    expect(cli).toContain('**Next step**\n- Look first at `lr` in `params.yaml`: `0.1` → `0.2`.');
    expect(cli).toContain('run `repro-gate record` and commit `.repro-gate/baseline.json`.');
    expect(cli.indexOf('**Next step**')).toBeLessThan(cli.indexOf('### Drift'));

    const action = renderMarkdown(report({ drift, cause: 'data' }), {
      accept: { via: 'action', label: 'baseline-update' },
      runUrl: 'https://github.com/acme/ml/actions/runs/42',
    });
    expect(action).toContain(
      '- Look first at the data file <code>data/train.csv</code>: modified, line 2 changed (of 570).',
    );
    expect(action).toMatch(/run the baseline-update workflow .* then add the <code>baseline-update<\/code> label\./);
    const nightly = renderMarkdown(report({ drift, cause: 'data' }), { accept: { via: 'action' } });
    expect(nightly).toContain('or run `repro-gate record` and commit <code>.repro-gate/baseline.json</code>.');
    expect(action).toMatch(/· \[workflow run\]\(https:\/\/github\.com\/acme\/ml\/actions\/runs\/42\)<\/sub>\n$/);

    const noDrift = renderMarkdown(
      report({ mode: 'exact', verdict: 'mismatch', cause: 'code', drift: { data: [], config: [], environment: [] } }),
    );
    expect(noDrift).toContain('Run `repro-gate diagnose`');
  });

  it('adds how to get more evidence when the verdict is inconclusive', () => {
    const m = report().metrics[0]!;
    const md = renderMarkdown(report({ verdict: 'inconclusive', metrics: [{ ...m, verdict: 'inconclusive' }] }));
    const next = md.slice(md.indexOf('**Next step**'), md.indexOf('### Drift'));
    expect(next.split('\n').filter((l) => l.startsWith('- '))).toHaveLength(3);
    expect(next).toContain('more seeds narrow it');
    const failing = renderMarkdown(report());
    expect(failing).not.toContain('more seeds narrow it');
  });

  it('gives no next step when the gate passes', () => {
    const m = report().metrics[0]!;
    const md = renderMarkdown(report({ verdict: 'equivalent', metrics: [{ ...m, verdict: 'equivalent' }] }));
    expect(md).not.toContain('Next step');
  });
});

describe('terminal format', () => {
  it('shows repository text plainly, protecting only the table structure', () => {
    const m = renderMarkdown(
      reportSchema.parse({
        schemaVersion: 2,
        tool: { name: 'repro-gate', version: '0.1.0' },
        command: 'drift',
        verdict: 'drift',
        summary: 's',
        mode: 'exact',
        alpha: 0.05,
        seeds: [],
        metrics: [],
        mismatches: [],
        warnings: [],
        baseline: null,
        commit: null,
        drift: {
          data: [],
          config: [{ file: 'p.yaml', key: 'a|b_c', change: 'modified', before: '<x>', after: 2 }],
          environment: [],
        },
      }),
      { format: 'terminal' },
    );
    expect(m).toContain('| `p.yaml` | `a\\|b_c` | `<x>` | `2` |');
  });
});

describe('a large data change', () => {
  it('stays short for 10^5 changed files: counts per folder, the first 20 paths, the rest in the JSON', () => {
    const data = Array.from({ length: 100_000 }, (_, i) => ({
      path: `data/shard-${String(i % 25).padStart(2, '0')}/img-${String(i).padStart(6, '0')}.png`,
      change: (i % 10 === 0 ? 'added' : 'modified') as 'added' | 'modified',
      before: i % 10 === 0 ? null : 'a'.repeat(64),
      after: 'b'.repeat(64),
    }));
    data.push({ path: 'data/labels.csv', change: 'modified', before: 'a'.repeat(64), after: 'c'.repeat(64) });
    const r = report({ drift: { data, config: [], environment: [] } });
    const md = renderMarkdown(r, { format: 'terminal' });
    expect(md.length).toBeLessThan(12_000);
    expect(md).toContain('#### Data (100,001)');
    expect(md).toContain('| Folder | Added | Removed | Modified |');
    expect(md).toMatch(/\| `data\/shard-00\/` \| 2,000 \| 0 \| 2,000 \|/);
    // 25 shard folders + the top folder: 20 rows, then the other 6 summed.
    expect(md).toMatch(/\| … 6 more folders \| 2,000 \| 0 \| 18,001 \|/);
    expect(md).toContain('The first 20 of 100,001 (all of them are in the JSON report, `drift.data`):');
    const fileRows = md.split('\n').filter((l) => l.startsWith('| `data/shard-'));
    expect(fileRows.filter((l) => l.includes('.png')).length).toBe(20);
    expect(Math.max(...md.split('\n').map((l) => l.length))).toBeLessThan(400);
  });

  it('lists a declared-lineage change first, and a short drift in full as before', () => {
    const lineage = {
      path: 'data/train.parquet',
      change: 'modified' as const,
      before: 'a'.repeat(64),
      after: 'b'.repeat(64),
      detail: "query changed (WHERE date < '2024-06-01' → '2024-07-01')",
      lineage: 'query' as const,
    };
    const files = Array.from({ length: 30 }, (_, i) => ({
      path: `data/f${i}.csv`,
      change: 'modified' as const,
      before: 'a'.repeat(64),
      after: 'b'.repeat(64),
    }));
    const md = renderMarkdown(report({ drift: { data: [...files, lineage], config: [], environment: [] } }), {
      format: 'terminal',
    });
    const rows = md.split('\n').filter((l) => l.startsWith('| `data/') && l.includes('modified'));
    expect(rows[0]).toContain("query changed (WHERE date < '2024-06-01' → '2024-07-01')");
    expect(rows).toHaveLength(20);
    const short = renderMarkdown(report());
    expect(short).not.toContain('| Folder |');
    expect(short).toContain('#### Data (1)');
  });
});
