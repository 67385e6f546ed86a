/** The relevance table (src/drift/relevance.ts): one case per row, then the policy around it. */
import { describe, expect, it } from 'vitest';
import { diffEnvironment } from '../src/drift/environment.js';
import {
  checkIgnore,
  classifyEnvironment,
  ENVIRONMENT_KEYS,
  importedPackages,
  rowFor,
} from '../src/drift/relevance.js';
import type { DriftPolicy } from '../src/schema/config.js';
import { GateError } from '../src/util/errors.js';

type Facts = Record<string, string | number | boolean>;
const POLICY: DriftPolicy = { ignore: [], 'fail-on': 'relevant' };

/** Whether changing `key` from `before` to `after` (on top of `common`) counts as drift. */
function counts(key: string, before: Facts, after: Facts, imported: Set<string> | null = null): boolean {
  const changes = diffEnvironment(before, after).filter((e) => e.key === key);
  expect(changes).toHaveLength(1);
  const r = classifyEnvironment({ changes, before, after, policy: POLICY, imported });
  return r.relevant.length === 1;
}

/** [row, key changed, before, after, counted?] — every row of the table at least once. */
const CASES: Array<[string, string, Facts, Facts, boolean]> = [
  ['image', 'image', { image: 'r/t@sha256:aa' }, { image: 'r/t@sha256:bb' }, true],
  ['image.id', 'image.id', { 'image.id': 'sha256:1' }, { 'image.id': 'sha256:2' }, true],
  ['runtime', 'runtime', { runtime: 'host' }, { runtime: 'container' }, true],
  ['os', 'os', { os: 'Debian 12' }, { os: 'Debian 13' }, true],
  ['arch', 'arch', { arch: 'x86_64' }, { arch: 'aarch64' }, true],
  ['kernel', 'kernel', { kernel: '6.1.0-1' }, { kernel: '6.8.0-2-azure' }, false],
  ['cpu.isa', 'cpu.isa', { 'cpu.isa': 'avx avx2 fma' }, { 'cpu.isa': 'avx avx2 avx512f fma' }, true],
  [
    'cpu.model',
    'cpu.model',
    { 'cpu.model': 'EPYC 7763', 'cpu.isa': 'avx2 fma' },
    { 'cpu.model': 'EPYC 9V74', 'cpu.isa': 'avx2 fma' },
    false,
  ],
  ['cpu.count', 'cpu.count', { 'cpu.count': 4 }, { 'cpu.count': 2 }, true],
  ['python', 'python', {}, { python: 'unavailable' }, true],
  ['python.version', 'python.version', { 'python.version': '3.11.2' }, { 'python.version': '3.12.1' }, true],
  [
    'python.implementation',
    'python.implementation',
    { 'python.implementation': 'CPython' },
    { 'python.implementation': 'PyPy' },
    true,
  ],
  ['package.*', 'package.numpy', { 'package.numpy': '1.26.4' }, { 'package.numpy': '2.0.0' }, true],
  ['package.error', 'package.error', {}, { 'package.error': 'bad METADATA' }, false],
  ['blas', 'blas', { blas: 'openblas 0.3.21' }, { blas: 'openblas 0.3.27' }, true],
  ['torch.cuda', 'torch.cuda', { 'torch.cuda': '12.1' }, { 'torch.cuda': '12.4' }, true],
  ['torch.cudnn', 'torch.cudnn', { 'torch.cudnn': 8902 }, { 'torch.cudnn': 90100 }, true],
  [
    'torch.cuda_available',
    'torch.cuda_available',
    { 'torch.cuda_available': true },
    { 'torch.cuda_available': false },
    true,
  ],
  ['torch.gpu_count', 'torch.gpu_count', { 'torch.gpu_count': 2 }, { 'torch.gpu_count': 1 }, true],
  ['gpu.count', 'gpu.count', { 'gpu.count': 8 }, { 'gpu.count': 4 }, true],
  ['gpu.*.name', 'gpu.0.name', { 'gpu.0.name': 'A100' }, { 'gpu.0.name': 'H100' }, true],
  ['gpu.*.memory', 'gpu.0.memory', { 'gpu.0.memory': '81920 MiB' }, { 'gpu.0.memory': '81559 MiB' }, false],
  ['gpu.driver', 'gpu.driver', { 'gpu.driver': '535.104' }, { 'gpu.driver': '550.54' }, true],
  ['cuda.driver_api', 'cuda.driver_api', { 'cuda.driver_api': '12.2' }, { 'cuda.driver_api': '12.4' }, true],
  ['env.*', 'env.OMP_NUM_THREADS', { 'env.OMP_NUM_THREADS': '1' }, {}, true],
  ['distributed.*', 'distributed.world_size', { 'distributed.world_size': 8 }, { 'distributed.world_size': 4 }, true],
  [
    'repro-gate.version',
    'repro-gate.version',
    { 'repro-gate.version': '0.1.0' },
    { 'repro-gate.version': '0.2.3' },
    false,
  ],
];

describe('the relevance table', () => {
  it('has a case below for every row', () => {
    expect(new Set(CASES.map((c) => c[0]))).toEqual(new Set(ENVIRONMENT_KEYS.map((r) => r.key)));
  });

  for (const [row, key, before, after, expected] of CASES) {
    it(`${row}: ${key} ${JSON.stringify(before[key])} → ${JSON.stringify(after[key])} is ${expected ? 'relevant' : 'noise'}`, () => {
      expect(rowFor(key)?.key).toBe(row);
      expect(counts(key, before, after)).toBe(expected);
    });
  }

  it('counts a CPU model change when the instruction-set flags differ or are unknown', () => {
    const model = (m: string, isa?: string): Facts => ({ 'cpu.model': m, ...(isa ? { 'cpu.isa': isa } : {}) });
    expect(counts('cpu.model', model('A', 'avx2'), model('B', 'avx2 avx512f'))).toBe(true);
    expect(counts('cpu.model', model('A'), model('B', 'avx2'))).toBe(true);
  });

  it('does not count cpu.isa appearing against a baseline recorded before it was probed', () => {
    expect(counts('cpu.isa', {}, { 'cpu.isa': 'avx2' })).toBe(false);
    expect(counts('cpu.isa', { 'cpu.isa': 'avx2' }, {})).toBe(true);
  });

  it("counts repro-gate's own version only across a major release", () => {
    expect(counts('repro-gate.version', { 'repro-gate.version': '0.9.1' }, { 'repro-gate.version': '1.0.0' })).toBe(
      true,
    );
  });

  it('counts a key no row knows (never hides an unclassified fact)', () => {
    expect(rowFor('hostname.future-fact')).toBeUndefined();
    expect(counts('hostname.future-fact', { 'hostname.future-fact': 'a' }, { 'hostname.future-fact': 'b' })).toBe(true);
  });
});

describe('packages by what the training imported', () => {
  const before = { 'package.numpy': '1.26.4', 'package.pycairo': '1.20' };
  const after = { 'package.numpy': '2.0.0', 'package.pycairo': '1.26', 'package.pycups': '2.0' };

  it('counts imported packages and folds the rest as not-imported', () => {
    const r = classifyEnvironment({
      changes: diffEnvironment(before, after),
      before,
      after,
      policy: POLICY,
      imported: new Set(['numpy']),
    });
    expect(r.relevant.map((e) => e.key)).toEqual(['package.numpy']);
    expect(r.noise.map((e) => [e.key, e.reason])).toEqual([
      ['package.pycairo', 'not-imported'],
      ['package.pycups', 'not-imported'],
    ]);
  });

  it('counts every package when the imports are unknown', () => {
    const r = classifyEnvironment({
      changes: diffEnvironment(before, after),
      before,
      after,
      policy: POLICY,
      imported: null,
    });
    expect(r.relevant).toHaveLength(3);
    expect(r.noise).toEqual([]);
  });

  it('knows the imports only when every run recorded them', () => {
    expect(importedPackages([{ packages: ['numpy'] }, { packages: ['torch'] }])).toEqual(new Set(['numpy', 'torch']));
    expect(importedPackages([{ packages: ['numpy'] }, {}])).toBeNull();
    expect(importedPackages([])).toBeNull();
  });
});

describe('drift: {ignore, fail-on}', () => {
  const before = { kernel: '6.1', 'package.pip': '23.0', 'package.numpy': '1.26.4', 'gpu.0.memory': '80 GiB' };
  const after = { kernel: '6.5', 'package.pip': '24.0', 'package.numpy': '2.0.0', 'gpu.0.memory': '79 GiB' };
  const changes = diffEnvironment(before, after);

  it('ignore moves matching keys and globs to noise', () => {
    const r = classifyEnvironment({
      changes,
      before,
      after,
      policy: { ignore: ['package.pip', 'gpu.*'], 'fail-on': 'relevant' },
      imported: null,
    });
    expect(r.relevant.map((e) => e.key)).toEqual(['package.numpy']);
    expect(r.noise.map((e) => [e.key, e.reason]).sort()).toEqual([
      ['gpu.0.memory', 'ignored'],
      ['kernel', 'host'],
      ['package.pip', 'ignored'],
    ]);
  });

  it('fail-on: any counts host noise too, but still not what ignore names', () => {
    const r = classifyEnvironment({
      changes,
      before,
      after,
      policy: { ignore: ['package.pip'], 'fail-on': 'any' },
      imported: null,
    });
    expect(r.relevant.map((e) => e.key).sort()).toEqual(['gpu.0.memory', 'kernel', 'package.numpy']);
    expect(r.noise.map((e) => e.key)).toEqual(['package.pip']);
  });

  it('accepts keys and globs over known keys, refuses anything else naming the known keys', () => {
    expect(() =>
      checkIgnore(['kernel', 'package.pip', 'gpu.*', 'env.*', 'gpu.3.memory', 'distributed.backend'], 'repro-gate.yml'),
    ).not.toThrow();
    let err: unknown;
    try {
      checkIgnore(['kernel', 'kernal'], 'repro-gate.yml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GateError);
    expect((err as GateError).message).toBe(
      'repro-gate.yml: drift.ignore[1]: "kernal" is not an environment fingerprint key.',
    );
    expect((err as GateError).hint).toMatch(
      /^Use a key or a glob over the known keys: image, image\.id, .*kernel.*package\.\*/,
    );
  });
});
