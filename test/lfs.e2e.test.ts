/**
 * git-LFS data with Debian's real `git-lfs`: a local repository tracking data/*.bin, a full clone and
 * a pointer-only clone (GIT_LFS_SKIP_SMUDGE=1). The pointer-only clone fingerprints without the
 * content and matches the full clone; a verb that trains refuses the pointer, saying what to run.
 * The CLI part runs the built dist/cli.js with a one-line python3 "training".
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintData } from '../src/fingerprint/data.js';
import { parseLfsPointer } from '../src/fingerprint/lfs.js';
import { GateError } from '../src/util/errors.js';
import { dataOnlyConfig, parseJson, runCli } from './helpers/project.js';

// The LFS filter is configured on the command line, so the test does not depend on ~/.gitconfig.
const LFS = [
  '-c',
  'filter.lfs.clean=git-lfs clean -- %f',
  '-c',
  'filter.lfs.smudge=git-lfs smudge -- %f',
  '-c',
  'filter.lfs.process=git-lfs filter-process',
  '-c',
  'filter.lfs.required=true',
  '-c',
  'user.name=test',
  '-c',
  'user.email=test@example.com',
];
const git = (cwd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync('git', [...LFS, ...args], { cwd, env, encoding: 'utf8' });

let tmp: string;
let src: string;
let full: string;
let pointers: string;
const big = randomBytes(300_000);
const BIG_SHA = createHash('sha256').update(big).digest('hex');
// Looks like a pointer, but LFS does not manage it: data like any other.
const LOOKALIKE = `version https://git-lfs.github.com/spec/v1\noid sha256:${'a'.repeat(64)}\nsize 3\n`;

const CONFIG = dataOnlyConfig();

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'rg-lfs-'));
  src = path.join(tmp, 'src');
  await mkdir(path.join(src, 'data'), { recursive: true });
  git(tmp, ['init', '-q', src]);
  git(src, ['lfs', 'track', 'data/*.bin']);
  await writeFile(path.join(src, 'data', 'images.bin'), big);
  await writeFile(path.join(src, 'data', 'labels.csv'), 'id,label\n1,0\n');
  await writeFile(path.join(src, 'data', 'lookalike.txt'), LOOKALIKE);
  await writeFile(path.join(src, 'repro-gate.yml'), CONFIG);
  git(src, ['add', '-A']);
  git(src, ['commit', '-qm', 'data']);
  const recorded = await runCli(['record'], src);
  expect(recorded.code, recorded.stderr).toBe(0);
  git(src, ['add', '-A']);
  git(src, ['commit', '-qm', 'baseline']);
  full = path.join(tmp, 'full');
  pointers = path.join(tmp, 'pointers');
  git(tmp, ['clone', '-q', src, full]);
  git(tmp, ['clone', '-q', src, pointers], { ...process.env, GIT_LFS_SKIP_SMUDGE: '1' });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('git-LFS data', () => {
  it('fingerprints a pointer-only clone without the content, equal to the full clone', async () => {
    const pointerText = await readFile(path.join(pointers, 'data', 'images.bin'), 'utf8');
    expect(parseLfsPointer(pointerText)).toEqual({ oid: BIG_SHA, size: big.length }); // really a pointer
    expect(await readFile(path.join(full, 'data', 'images.bin'))).toEqual(big); // really the content
    const a = await fingerprintData(['data'], full);
    const b = await fingerprintData(['data'], pointers);
    expect(b).toEqual(a);
    expect(a.files['data/images.bin']).toEqual({ sha256: BIG_SHA, size: big.length });
    // A file that only looks like a pointer is hashed as the text it is.
    expect(a.files['data/lookalike.txt']?.sha256).toBe(createHash('sha256').update(LOOKALIKE).digest('hex'));
  });

  it('verifies checked-out content rather than trusting the pointer', async () => {
    const copy = path.join(tmp, 'edited');
    git(tmp, ['clone', '-q', src, copy]);
    await writeFile(path.join(copy, 'data', 'images.bin'), Buffer.concat([big.subarray(1), Buffer.from([0])]));
    const fp = await fingerprintData(['data'], copy);
    expect(fp.files['data/images.bin']?.sha256).not.toBe(BIG_SHA);
  });

  it('refuses a missing LFS object for a verb that trains, saying to run git lfs pull', async () => {
    const err = await fingerprintData(['data'], pointers, { lfs: 'require-content' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).message).toMatch(
      new RegExp(
        `^Data file data/images\\.bin is a git-LFS pointer whose object ${BIG_SHA.slice(0, 12)}… is missing from this clone \\(.*/\\.git/lfs/objects\\)`,
      ),
    );
    expect((err as GateError).hint).toContain('git lfs pull');
  });

  it('through the CLI: drift passes on the pointer-only clone, record refuses it', async () => {
    const drift = await runCli(['drift', '--json'], pointers);
    expect(drift.code, drift.stderr).toBe(0);
    expect(parseJson(drift).verdict).toBe('no-drift');
    const record = await runCli(['record'], pointers);
    expect(record.code).toBe(2);
    expect(record.stderr).toContain('is a git-LFS pointer whose object');
    expect(record.stderr).toContain('git lfs pull');
  });
});
