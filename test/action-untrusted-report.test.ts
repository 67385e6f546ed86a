import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkPullRequest,
  MAX_REPORT_BYTES,
  parseUntrustedReport,
  readUntrustedReport,
} from '../src/action/untrusted-report.js';
import { sampleReport } from './helpers/sample-report.js';

describe('parseUntrustedReport', () => {
  it('accepts a valid report', () => {
    const r = sampleReport({ pullRequest: 7 });
    expect(parseUntrustedReport(JSON.stringify(r))).toEqual(r);
  });

  it('rejects non-JSON', () => {
    expect(() => parseUntrustedReport('<html>')).toThrow(/not valid JSON/);
  });

  it('rejects unknown keys anywhere, naming the path', () => {
    const extra = { ...sampleReport(), postAs: 'admin' };
    expect(() => parseUntrustedReport(JSON.stringify(extra))).toThrow(
      /not a valid repro-gate report: \(root\): Unrecognized key/,
    );
    const nested = sampleReport();
    (nested.metrics[0] as Record<string, unknown>).onclick = 'x';
    expect(() => parseUntrustedReport(JSON.stringify(nested))).toThrow(/metrics\.0/);
  });

  it('rejects a non-integer or non-positive pullRequest', () => {
    for (const pullRequest of [0, -1, 1.5, '7']) {
      expect(() => parseUntrustedReport(JSON.stringify({ ...sampleReport(), pullRequest }))).toThrow(/pullRequest/);
    }
  });

  it('keeps attacker text in error messages to one bounded line', () => {
    const evil = { ...sampleReport(), [`x\n::error::pwned${'y'.repeat(500)}`]: 1 };
    try {
      parseUntrustedReport(JSON.stringify(evil));
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toMatch(/\n/);
      expect((err as Error).message.length).toBeLessThan(400);
    }
  });
});

describe('readUntrustedReport', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rg-untrusted-'));
  it('reads a regular file', async () => {
    const f = join(dir, 'ok.json');
    writeFileSync(f, JSON.stringify(sampleReport()));
    await expect(readUntrustedReport(f)).resolves.toMatchObject({ verdict: 'not-equivalent' });
  });
  it('refuses oversized files, symlinks and missing files', async () => {
    const big = join(dir, 'big.json');
    writeFileSync(big, ' '.repeat(MAX_REPORT_BYTES + 1));
    await expect(readUntrustedReport(big)).rejects.toThrow(/limit/);
    const link = join(dir, 'link.json');
    symlinkSync('/etc/passwd', link);
    await expect(readUntrustedReport(link)).rejects.toThrow(/not a regular file/);
    await expect(readUntrustedReport(join(dir, 'nope.json'))).rejects.toThrow(/not found/);
  });
});

describe('checkPullRequest', () => {
  it('accepts the report when its PR is one we trust', () => {
    expect(checkPullRequest(sampleReport({ pullRequest: 7 }), [7])).toBe(7);
    expect(checkPullRequest(sampleReport({ pullRequest: 8 }), [7, 8])).toBe(8);
  });
  it('refuses a report aimed at another PR, or at none', () => {
    expect(() => checkPullRequest(sampleReport({ pullRequest: 99 }), [7])).toThrow(/#99.*#7; refusing/);
    expect(() => checkPullRequest(sampleReport({ pullRequest: 7 }), [])).toThrow(/no open pull request/);
    expect(() => checkPullRequest(sampleReport(), [7])).toThrow(/names no pull request/);
  });
});
