/** dist/ is committed (action.yml runs dist/index.js): it must be exactly what `npm run build` makes. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/run-action.js';

describe('dist/', () => {
  it('matches a fresh build of the sources', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'rg-dist-'));
    execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), '--outdir', outdir], { stdio: 'pipe' });
    const fresh = readdirSync(outdir).sort();
    expect(fresh).toContain('index.js');
    for (const file of fresh) {
      const committed = join(REPO_ROOT, 'dist', file);
      const stale = `dist/${file} is out of date: run \`npm run build\` and commit dist/`;
      expect(existsSync(committed), stale).toBe(true);
      // Compare without printing two multi-megabyte strings on failure.
      expect(readFileSync(committed).equals(readFileSync(join(outdir, file))), stale).toBe(true);
    }
  });
});
