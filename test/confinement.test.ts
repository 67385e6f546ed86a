/** Paths stay inside the folder they belong to: lexically at config load, and through symlinks when read. */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { readMetrics } from '../src/train/metrics.js';
import { GateError } from '../src/util/errors.js';
import { readConfinedFile } from '../src/util/files.js';
import { insideFolder, isWithin } from '../src/util/paths.js';
import { configErrorOf } from './helpers/config-error.js';

const CONFIG = `version: 1
train:
  command: [python3, train.py, --out, "{out}"]
seeds: 3
metrics:
  file: metrics.json
  accuracy: {margin: 0.01}
`;

describe('insideFolder (pure, lexical)', () => {
  it('gives the POSIX path inside a known root, or undefined outside it', () => {
    expect(insideFolder('a/b.json', '/p')).toBe('a/b.json');
    expect(insideFolder('./a/../b', '/p')).toBe('b');
    expect(insideFolder('.', '/p')).toBe('');
    expect(insideFolder('/p/x', '/p')).toBe('x');
    expect(insideFolder('../x', '/p')).toBeUndefined();
    expect(insideFolder('a/../../x', '/p')).toBeUndefined();
    expect(insideFolder('/etc/passwd', '/p')).toBeUndefined();
    expect(insideFolder('/p2/x', '/p')).toBeUndefined();
  });

  it('refuses absolute paths and any climb out of a folder not known yet', () => {
    expect(insideFolder('m/metrics.json')).toBe('m/metrics.json');
    expect(insideFolder('a/../metrics.json')).toBe('metrics.json');
    expect(insideFolder('./')).toBe('');
    expect(insideFolder('../out/metrics.json')).toBeUndefined();
    expect(insideFolder('/tmp/metrics.json')).toBeUndefined();
  });

  it('isWithin compares resolved paths', () => {
    expect(isWithin('/a/b', '/a/b')).toBe(true);
    expect(isWithin('/a/b', '/a/b/c')).toBe(true);
    expect(isWithin('/a/b', '/a/bc')).toBe(false);
    expect(isWithin('/a/b', '/a')).toBe(false);
  });
});

describe('config load refuses paths outside their folder', () => {
  it('metrics.file, curves.file and artifacts: must stay inside the run output folder', () => {
    expect(configErrorOf(CONFIG.replace('file: metrics.json', 'file: ../x')).message).toBe(
      `repro-gate.yml:6:9: The metrics.file entry "../x" points outside the run's output folder ({out}).`,
    );
    expect(configErrorOf(CONFIG.replace('file: metrics.json', 'file: /tmp/m.json')).message).toMatch(
      /The metrics\.file entry "\/tmp\/m\.json" points outside the run's output folder/,
    );
    expect(configErrorOf(CONFIG.replace('file: metrics.json', 'file: .')).message).toBe(
      `repro-gate.yml:6:9: The metrics.file entry "." names the run's output folder itself, not a file in it.`,
    );
    expect(configErrorOf(`${CONFIG}curves: {file: ../../log.jsonl}\n`).message).toBe(
      `repro-gate.yml:8:16: The curves.file entry "../../log.jsonl" points outside the run's output folder ({out}).`,
    );
    const artifacts = configErrorOf(`${CONFIG}artifacts: [model.bin, ../../etc/shadow]\n`);
    expect(artifacts.message).toBe(
      `repro-gate.yml:8:24: The artifacts: entry "../../etc/shadow" points outside the run's output folder ({out}).`,
    );
    expect(artifacts.hint).toMatch(/inside the folder the training writes to/);
  });

  it('baseline:, data: and config: must stay inside the project', () => {
    expect(configErrorOf(`${CONFIG}baseline: ../elsewhere/baseline.json\n`).message).toBe(
      'repro-gate.yml:8:11: The baseline: entry "../elsewhere/baseline.json" points outside the project root (/p).',
    );
    expect(configErrorOf(`${CONFIG}data: [data/, /etc]\n`).message).toBe(
      'repro-gate.yml:8:15: The data: entry "/etc" points outside the project root (/p).',
    );
    expect(configErrorOf(`${CONFIG}config: [../params.yaml]\n`).message).toMatch(
      /The config: entry "\.\.\/params\.yaml" points outside the project root/,
    );
    // Inside is fine, however it is spelled.
    const ok = parseConfig(
      `${CONFIG}baseline: /p/.repro-gate/b.json\ndata: [.]\nartifacts: [sub/../model.bin]\n`,
      '/p/r.yml',
    );
    expect(ok.baseline).toBe('/p/.repro-gate/b.json');
  });
});

describe('readConfinedFile', () => {
  let out: string;
  let outside: string;
  beforeEach(async () => {
    out = await mkdtemp(path.join(os.tmpdir(), 'rg-out-'));
    outside = path.join(await mkdtemp(path.join(os.tmpdir(), 'rg-secret-')), 'secret.json');
    await writeFile(outside, '{"token": "SECRET-CONTENT"}');
  });

  it('reads a file inside, also through a symlink that stays inside', async () => {
    await mkdir(path.join(out, 'sub'));
    await writeFile(path.join(out, 'sub', 'real.json'), '{"a": 1}');
    await symlink('sub/real.json', path.join(out, 'link.json'));
    expect(await readConfinedFile(out, 'link.json', 'metrics.file')).toBe('{"a": 1}');
    expect(await readConfinedFile(out, 'sub/real.json', 'metrics.file')).toBe('{"a": 1}');
    expect(await readConfinedFile(out, 'missing.json', 'metrics.file')).toBeNull();
  });

  it('refuses a symlink out of the folder, a symlinked folder out of it, and a lexical escape', async () => {
    await symlink(outside, path.join(out, 'metrics.json'));
    await symlink(path.dirname(outside), path.join(out, 'dir'));
    for (const rel of ['metrics.json', 'dir/secret.json']) {
      const err = await readConfinedFile(out, rel, 'metrics.file', { folder: "the run's output folder" }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(GateError);
      expect((err as Error).message).toContain(`The metrics.file entry "${rel}" resolves through a symlink to`);
      expect((err as Error).message).toContain("outside the run's output folder");
      expect((err as Error).message).not.toContain('SECRET');
    }
    await expect(readConfinedFile(out, '../x.json', 'curves.file')).rejects.toThrow(
      /The curves\.file entry "\.\.\/x\.json" points outside its folder/,
    );
  });

  it('refuses a FIFO without blocking, a folder, and a file over the size limit', async () => {
    execFileSync('sh', ['-c', 'mkfifo "$0"', path.join(out, 'fifo.json')]);
    await expect(readConfinedFile(out, 'fifo.json', 'metrics.file')).rejects.toThrow(/is not a regular file/);
    await mkdir(path.join(out, 'folder.json'));
    await expect(readConfinedFile(out, 'folder.json', 'metrics.file')).rejects.toThrow(/is a folder/);
    await writeFile(path.join(out, 'big.json'), 'x'.repeat(2048));
    await expect(readConfinedFile(out, 'big.json', 'metrics.file', { maxBytes: 1024 })).rejects.toThrow(
      /"big\.json" is larger than the 1 KiB limit/,
    );
  });
});

describe('readMetrics', () => {
  it('refuses a metrics file that is a symlink to a file outside the output folder, without quoting it', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'rg-out-'));
    const secret = path.join(await mkdtemp(path.join(os.tmpdir(), 'rg-secret-')), 'secret.txt');
    await writeFile(secret, 'SECRET-CONTENT');
    await symlink(secret, path.join(out, 'metrics.json'));
    const err = await readMetrics(path.join(out, 'metrics.json'), ['accuracy'], "seed 0's metrics.json", out).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).message).toBe(
      `The metrics.file entry "metrics.json" resolves through a symlink to ${secret}, outside the run's output folder (${out}); it is not read.`,
    );
    expect(JSON.stringify(err)).not.toContain('SECRET-CONTENT');
  });

  it('confines a nested metrics file to the output folder given, and strips a BOM', async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), 'rg-out-'));
    await mkdir(path.join(out, 'eval'));
    await writeFile(path.join(out, 'real.json'), '\uFEFF{"accuracy": 0.5}');
    await symlink('../real.json', path.join(out, 'eval', 'metrics.json'));
    const file = path.join(out, 'eval', 'metrics.json');
    expect(await readMetrics(file, ['accuracy'], 'm', out)).toEqual({ accuracy: 0.5 });
    // Without the output folder, the file's own folder is the limit: stricter, never looser.
    await expect(readMetrics(file, ['accuracy'], 'm')).rejects.toThrow(/resolves through a symlink/);
  });
});
