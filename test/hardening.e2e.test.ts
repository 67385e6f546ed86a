/**
 * The built CLI against hostile or broken inputs: a tampered baseline, files that escape their
 * folder, names that are not names, oversized and pathological config files. Each must end in
 * exit 2 with one clear message (never "unexpected error"), and nothing may be written or leaked.
 */
import { mkdtemp, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyExample, parseJson, runCli, withEdit } from './helpers/project.js';

let dir: string;
let scratch: string;

beforeAll(async () => {
  dir = await copyExample({ keepBaselines: true });
  scratch = await mkdtemp(path.join(os.tmpdir(), 'rg-hostile-'));
});

function expectCleanError(r: { code: number | null; stderr: string }): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toContain('unexpected error');
}

describe('a tampered baseline', () => {
  it('whose commit is a git option is refused as corrupt, and git never sees it', async () => {
    const pwned = path.join(scratch, 'pwned');
    const baseline = path.join(dir, '.repro-gate', 'baseline.json');
    await withEdit(
      baseline,
      (t) => t.replace(/"commit": "[0-9a-f]{40}"/, `"commit": ${JSON.stringify(`--output=${pwned}`)}`),
      async () => {
        for (const command of ['drift', 'check']) {
          const r = await runCli([command, '--json'], dir);
          expectCleanError(r);
          expect(parseJson(r).error.message).toBe(
            `The baseline ${baseline} is corrupt: commit: expected a full commit SHA (40 or 64 lowercase hex digits) or null.`,
          );
        }
      },
    );
    await expect(stat(pwned)).rejects.toThrow(/ENOENT/);
  });
});
