/** `repro-gate equivalence --json` (the built CLI) against independently computed references. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJson, REPO_ROOT, runCli } from './helpers/project.js';

interface Case {
  id: string;
  argv: string[];
  exitCode: number;
  expected: Record<string, unknown>;
}

const fixture = JSON.parse(
  readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'equivalence-extra.json'), 'utf8'),
) as { cases: Case[] };

function close(actual: unknown, expected: unknown, key: string): void {
  if (typeof expected === 'number') {
    expect(typeof actual, key).toBe('number');
    const a = actual as number;
    if (expected === 0) expect(Math.abs(a), key).toBeLessThan(1e-300);
    else expect(Math.abs(a - expected) / Math.abs(expected), `${key}: ${a} vs ${expected}`).toBeLessThan(1e-5);
  } else if (Array.isArray(expected)) {
    (expected as unknown[]).forEach((e, i) => {
      close((actual as unknown[])[i], e, `${key}[${i}]`);
    });
  } else {
    expect(actual, key).toEqual(expected);
  }
}

describe('equivalence verb', () => {
  it.each(fixture.cases.map((c) => [c.id, c] as const))('%s matches the reference to 1e-5 relative', async (_id, c) => {
    const r = await runCli(c.argv, os.tmpdir());
    expect(r.code, r.stderr).toBe(c.exitCode);
    const got = parseJson(r);
    for (const [key, value] of Object.entries(c.expected)) close(got[key], value, key);
  });

  it('exits 2 with one message when a sample has fewer than 2 values', async () => {
    const r = await runCli(
      ['equivalence', '--candidate', '0.9', '--baseline', '0.9,0.91', '--lower', '-0.01', '--upper', '0.01'],
      os.tmpdir(),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'repro-gate: --candidate needs at least 2 values to estimate spread (got 1).\n  → Run more seeds.\n',
    );
  });

  it('accepts negative bounds written as separate arguments', async () => {
    const r = await runCli(
      [
        'equivalence',
        '--candidate',
        '1,1.1,0.9',
        '--baseline',
        '1,1.05,0.95',
        '--lower',
        '-0.5',
        '--upper',
        '0.5',
        '--json',
      ],
      os.tmpdir(),
    );
    expect(r.code).toBe(0);
    expect(parseJson(r)).toMatchObject({ verdict: 'equivalent', lower: -0.5, upper: 0.5, design: 'welch' });
  });
});
