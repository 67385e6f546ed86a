/**
 * Limits on what the gate reads: config files by size and kind, data never from the kernel's
 * pseudo-files, fingerprinting within a time limit and never of a file that is being written.
 */
import { execFileSync } from 'node:child_process';
import { appendFile, mkdir, mkdtemp, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { changedSince } from '../src/drift/data.js';
import { fingerprintConfigFiles } from '../src/fingerprint/config.js';
import { fingerprintData, statSnapshot } from '../src/fingerprint/data.js';
import { GateError } from '../src/util/errors.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'rg-limits-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(rel: string, content: string | Buffer): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), content);
}

async function gateError(p: Promise<unknown>): Promise<GateError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GateError);
  return err as GateError;
}

const MIB = 1024 * 1024;
const VALID = 'version: 1\ntrain:\n  command: [train]\nseeds: 3\nmetrics:\n  accuracy: {margin: 0.01}\n';

describe('config files', () => {
  it('refuses repro-gate.yml over 1 MiB before parsing it', async () => {
    await put('repro-gate.yml', `${VALID}# ${'x'.repeat(MIB)}\n`);
    const err = await gateError(loadConfig('repro-gate.yml', root));
    expect(err.message).toBe('repro-gate.yml is 1 MiB, over the 1 MiB limit for a config file.');
    await put('big.yml', `${VALID}#${'x'.repeat(3 * MIB)}\n`);
    expect((await gateError(loadConfig('big.yml', root))).message).toMatch(/^big\.yml is 3 MiB, over the 1 MiB limit/);
    await put('ok.yml', `${VALID}# ${'x'.repeat(MIB - 200)}\n`);
    expect((await loadConfig('ok.yml', root)).seeds).toEqual([0, 1, 2]);
  });

  it('refuses a config: file over 1 MiB, and one that is a FIFO, a device or a kernel pseudo-file', async () => {
    await put('params.json', JSON.stringify({ blob: 'x'.repeat(MIB + 1) }));
    expect((await gateError(fingerprintConfigFiles(['params.json'], root))).message).toMatch(
      /^The config: file "params\.json" is 1 MiB, over the 1 MiB limit for a config: file\.$/,
    );
    execFileSync('sh', ['-c', 'mkfifo "$0"', path.join(root, 'fifo.yaml')]);
    expect((await gateError(fingerprintConfigFiles(['fifo.yaml'], root))).message).toBe(
      'The config: file "fifo.yaml" is not a regular file (a FIFO, socket or device); it is not read.',
    );
    await symlink('/dev/zero', path.join(root, 'zero.yaml'));
    expect((await gateError(fingerprintConfigFiles(['zero.yaml'], root))).message).toMatch(
      /^The config: file "zero\.yaml" resolves through a symlink to \/dev\/zero, outside the project root/,
    );
    await symlink('/proc/self/environ', path.join(root, 'env.yaml'));
    expect((await gateError(fingerprintConfigFiles(['env.yaml'], root))).message).toMatch(
      /^The config: file "env\.yaml" resolves through a symlink to \/proc\/\d+\/environ, outside the project root/,
    );
  });

  it('refuses a repro-gate.yml that is a kernel pseudo-file or a device, unread', async () => {
    const environ = await gateError(loadConfig('/proc/self/environ', root));
    expect(environ.message).toMatch(
      /^environ resolves to \/proc\/\d+\/environ, a kernel pseudo-file under \/proc; it is not read\.$/,
    );
    expect(environ.hint).toBe('Pass --config the path of a regular YAML file.');
    expect((await gateError(loadConfig('/dev/zero', root))).message).toBe(
      'zero is not a regular file (a FIFO, socket or device); it is not read.',
    );
  });
});

describe('fingerprintData never reads the kernel files', () => {
  it('skips pseudo-files, devices and FIFOs reached through symlinks, with a warning each', async () => {
    await put('data/a.csv', 'a');
    await symlink('/proc/self/environ', path.join(root, 'data/environ'));
    await symlink('/dev/zero', path.join(root, 'data/zero'));
    await symlink('/proc/self', path.join(root, 'data/proc'));
    await symlink('/sys/kernel', path.join(root, 'data/sys'));
    execFileSync('sh', ['-c', 'mkfifo "$0"', path.join(root, 'data/fifo')]);
    await symlink('/proc/self/status', path.join(root, 'status'));
    const warnings: string[] = [];
    const fp = await fingerprintData(['data', 'status'], root, { warn: (m) => warnings.push(m) });
    expect(Object.keys(fp.files)).toEqual(['data/a.csv']);
    expect(warnings).toEqual([
      'Data path data/fifo is not a regular file (a FIFO, socket or device); skipped.',
      expect.stringMatching(
        /^Data folder data\/proc resolves to \/proc\/\d+, a kernel pseudo-file under \/proc; skipped/,
      ),
      expect.stringMatching(
        /^Data folder data\/sys resolves to \/sys\/kernel, a kernel pseudo-file under \/sys; skipped/,
      ),
      'Data path data/zero is not a regular file (a FIFO, socket or device); skipped.',
      expect.stringMatching(
        /^Data file data\/environ resolves to \/proc\/\d+\/environ, a kernel pseudo-file under \/proc; skipped/,
      ),
      expect.stringMatching(
        /^Data file status resolves to \/proc\/\d+\/status, a kernel pseudo-file under \/proc; skipped/,
      ),
    ]);
  });

  it('still refuses a device listed directly in data:', async () => {
    await symlink('/dev/null', path.join(root, 'null'));
    expect((await gateError(fingerprintData(['null'], root, { warn: () => {} }))).message).toBe(
      'Data path "null" is not a regular file or folder.',
    );
  });
});

describe('fingerprintData limits', () => {
  it('stops at its time limit, naming what it was hashing', async () => {
    await put('data/big.bin', Buffer.alloc(64 * MIB, 7));
    const err = await gateError(fingerprintData(['data/'], root, { timeLimitMs: 5 }));
    expect(err.message).toMatch(
      /^Fingerprinting data took longer than 5ms; stopped while (hashing data\/big\.bin|walking|looking up)/,
    );
    expect(err.message).toContain('data: entry "data/"');
    expect(err.hint).toMatch(/narrow data:/);
  });

  it('refuses a file that keeps changing while it is hashed', async () => {
    await put('growing.bin', Buffer.alloc(64 * MIB, 1));
    let writing = true;
    const writer = (async () => {
      while (writing) await appendFile(path.join(root, 'growing.bin'), 'more');
    })();
    try {
      const err = await gateError(fingerprintData(['growing.bin'], root));
      expect(err.message).toBe(
        'Data file growing.bin changed while it was being fingerprinted (twice in a row), so its hash would not match any one version of it.',
      );
    } finally {
      writing = false;
      await writer;
    }
  });
});

describe('statSnapshot and changedSince', () => {
  it('snapshot size, mtime, inode and ctime cheaply, and tell which files a training touched', async () => {
    await put('data/keep.csv', 'k');
    await put('data/edit.csv', 'e');
    await put('data/gone.csv', 'g');
    await symlink('/proc/self/environ', path.join(root, 'data/environ'));
    const before = await statSnapshot(['data', 'missing.csv'], root);
    expect([...before.keys()]).toEqual(['data/edit.csv', 'data/gone.csv', 'data/keep.csv']);
    expect(before.get('data/keep.csv')).toMatch(/^1:[\d.]+:\d+:[\d.]+$/); // size:mtimeMs:inode:ctimeMs
    await utimes(path.join(root, 'data/edit.csv'), new Date(2001, 1, 1), new Date(2001, 1, 1)); // same size, new mtime
    await rm(path.join(root, 'data/gone.csv'));
    await put('data/new.csv', 'n');
    const after = await statSnapshot(['data', 'missing.csv'], root);
    expect(changedSince(before, after)).toEqual([
      { path: 'data/edit.csv', change: 'modified' },
      { path: 'data/gone.csv', change: 'removed' },
      { path: 'data/new.csv', change: 'added' },
    ]);
    expect(changedSince(after, await statSnapshot(['data'], root))).toEqual([]);
  });

  it('changedSince is pure over maps', () => {
    const a = new Map([
      ['b', '1:1:1'],
      ['a', '1:1:1'],
    ]);
    expect(changedSince(a, new Map([['a', '1:2:1']]))).toEqual([
      { path: 'a', change: 'modified' },
      { path: 'b', change: 'removed' },
    ]);
  });
});

describe('config: files are the project own', () => {
  it('refuses one that links out of the project or into a .git folder, without reading it', async () => {
    const elsewhere = await mkdtemp(path.join(os.tmpdir(), 'rg-elsewhere-'));
    await writeFile(path.join(elsewhere, 'config.json'), '{"auths": {"ghcr.io": {"auth": "SECRET-TOKEN"}}}');
    await symlink(path.join(elsewhere, 'config.json'), path.join(root, 'params.json'));
    const out = await gateError(fingerprintConfigFiles(['params.json'], root));
    expect(out.message).toMatch(
      /^The config: file "params\.json" resolves through a symlink to .*config\.json, outside the project root \(.*\); it is not read\.$/,
    );
    expect(out.message).not.toContain('SECRET');
    await put('.git/config', '[core]\nbare = false\n');
    await symlink('.git/config', path.join(root, 'git.toml'));
    expect((await gateError(fingerprintConfigFiles(['git.toml'], root))).message).toMatch(
      /^The config: file "git\.toml" resolves to .*\.git\/config, inside a \.git folder; it is not read\.$/,
    );
    // A symlink that stays inside the project is fine.
    await put('conf/real.json', '{"lr": 0.1}');
    await symlink('conf/real.json', path.join(root, 'link.json'));
    expect(await fingerprintConfigFiles(['link.json'], root)).toEqual({ 'link.json': { lr: 0.1 } });
  });
});
