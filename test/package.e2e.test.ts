/**
 * The package as a user gets it: `npm pack`, then `npm install` of the tarball into an empty folder
 * (offline: it needs nothing from a registry, since the package has no runtime dependencies), then
 * the installed `repro-gate` bin on a copy of the example (`npm ls --omit=dev` = `--prod`). Needs python3
 * (the example's training).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { copyExample, git, REPO_ROOT } from './helpers/project.js';

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
let packed: { filename: string; files: Array<{ path: string }> };
let home: string; // the folder the tarball is installed into
let bin: string;
// A cache of its own: an offline install must not depend on what this machine has cached.
const cache = mkdtempSync(join(tmpdir(), 'rg-npm-cache-'));

const npm = (args: string[], cwd: string) =>
  execFileSync('npm', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, npm_config_cache: cache, npm_config_update_notifier: 'false' },
  });
const repro = (args: string[], cwd: string) => spawnSync(bin, args, { cwd, encoding: 'utf8' });

beforeAll(() => {
  const dest = mkdtempSync(join(tmpdir(), 'rg-pack-'));
  [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dest], REPO_ROOT));
  home = mkdtempSync(join(tmpdir(), 'rg-install-'));
  writeFileSync(join(home, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  npm(['install', '--offline', '--no-audit', '--no-fund', join(dest, packed.filename)], home);
  bin = join(home, 'node_modules', '.bin', 'repro-gate');
}, 120_000);

describe('npm pack → npm install into an empty folder', () => {
  it('packs the bundles, action.yml, the docs and the licence, and no sources', () => {
    const files = packed.files.map((f) => f.path).sort();
    expect(files).toEqual(
      expect.arrayContaining([
        'LICENSE',
        'README.md',
        'CHANGELOG.md',
        'action.yml',
        'dist/cli.js',
        'dist/index.js',
        'package.json',
        'schema/repro-gate.schema.json',
      ]),
    );
    expect(files.filter((f) => /^(src|test|scripts|examples|node_modules)\//.test(f))).toEqual([]);
  });

  it('installs no runtime dependencies', () => {
    const tree = JSON.parse(npm(['ls', '--omit=dev', '--all', '--json'], home)) as {
      dependencies: Record<string, { version: string; dependencies?: object }>;
    };
    expect(Object.keys(tree.dependencies)).toEqual([pkg.name]);
    expect(tree.dependencies[pkg.name]?.version).toBe(pkg.version);
    expect(tree.dependencies[pkg.name]?.dependencies ?? {}).toEqual({});
    expect(readdirSync(join(home, 'node_modules')).filter((n) => !n.startsWith('.'))).toEqual([pkg.name]);
  });

  it('runs `npx repro-gate --help` and `--version`', () => {
    const help = spawnSync('npx', ['--offline', '--no-install', 'repro-gate', '--help'], {
      cwd: home,
      encoding: 'utf8',
      env: { ...process.env, npm_config_cache: cache },
    });
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^repro-gate \d+\.\d+\.\d+/);
    expect(help.stdout).toContain('Usage: repro-gate <command>');
    const version = repro(['--version'], home);
    expect(version.status).toBe(0);
    expect(version.stdout).toBe(`${pkg.version}\n`);
  });

  it('checks a copy of the example against its committed baseline', async () => {
    const project = await copyExample({ keepBaselines: true });
    const r = repro(['check', '--config', 'repro-gate.exact.yml'], project);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✅ repro-gate: reproducible/);
  });

  it('starts a project from nothing: init, then the three commands it prints', async () => {
    const project = await copyExample(); // no baselines
    for (const f of ['repro-gate.yml', 'repro-gate.exact.yml']) rmSync(join(project, f));
    const init = repro(['init'], project);
    expect(init.status, init.stderr).toBe(0);
    const next = [...init.stdout.matchAll(/^ {2}\d\. (.*)$/gm)].map((m) => m[1]);
    expect(next).toEqual([
      'repro-gate record',
      'git add repro-gate.yml .repro-gate/baseline.json && git commit -m "repro-gate baseline"',
      'repro-gate check',
    ]);
    const record = repro(['record'], project);
    expect(record.status, record.stderr).toBe(0);
    git(project, 'add', 'repro-gate.yml', '.repro-gate/baseline.json');
    git(project, 'commit', '-qm', 'repro-gate baseline');
    const check = repro(['check'], project);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^✅ repro-gate: equivalent/m);
  });
});
