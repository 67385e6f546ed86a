/**
 * What the bundles hold, read from esbuild's metafile of a fresh build: the CLI carries only what
 * the CLI needs (no Octokit, no @actions/*), and everything either bundle holds is a devDependency,
 * so installing the package adds no runtime packages.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/run-action.js';

interface Metafile {
  inputs: Record<string, unknown>;
}
let outdir: string;
const meta = (bundle: string) => JSON.parse(readFileSync(join(outdir, `${bundle}.meta.json`), 'utf8')) as Metafile;
/** The npm packages a bundle holds, from its input paths. */
const packages = (bundle: string) =>
  new Set(
    Object.keys(meta(bundle).inputs).flatMap((p) => {
      const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p);
      return m?.[1] ? [m[1]] : [];
    }),
  );

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), 'rg-bundles-'));
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), '--outdir', outdir, '--metafile'], {
    stdio: 'pipe',
  });
});

describe('the bundles', () => {
  it('give the CLI no Octokit and no GitHub Actions toolkit', () => {
    const cli = [...packages('cli.js')];
    expect(cli).toContain('zod'); // the metafile is read right
    expect(cli.filter((p) => p.startsWith('@octokit/') || p.startsWith('@actions/'))).toEqual([]);
    // …while the action's bundle has them, so the check above can fail.
    expect([...packages('index.js')]).toEqual(expect.arrayContaining(['@actions/core', '@actions/github']));
  });

  it('hold only devDependencies (and their dependencies): the package has no runtime dependencies', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.dependencies ?? {}).toEqual({});
    const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    for (const bundle of ['cli.js', 'index.js']) {
      for (const name of packages(bundle)) {
        expect(lock.packages[`node_modules/${name}`]?.dev, `${bundle} holds ${name}`).toBe(true);
      }
    }
  });
});
