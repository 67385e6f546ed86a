import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffConfig } from '../src/drift/config.js';
import { fingerprintConfigFiles, flatten, parseConfigText } from '../src/fingerprint/config.js';
import { HostRuntime } from '../src/runtime/host.js';
import { GateError } from '../src/util/errors.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'rg-config-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(rel: string, content: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await writeFile(path.join(root, rel), content);
}

function thrown(fn: () => unknown): GateError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GateError);
    return e as GateError;
  }
  throw new Error('expected a GateError');
}

const EXPECTED = {
  'layers.0.units': 128,
  'layers.1.units': 64,
  'optimizer.lr': 0.001,
  'optimizer.name': 'adam',
  'optimizer.nesterov': false,
  seed: null,
};

describe('flatten and parse', () => {
  it('flattens nested YAML, JSON and TOML to the same dotted keys', async () => {
    await put(
      'p.yaml',
      'optimizer:\n  name: adam\n  lr: 1.0e-3\n  nesterov: false\nlayers:\n  - units: 128\n  - units: 64\nseed: ~\n',
    );
    await put(
      'p.json',
      JSON.stringify({
        seed: null,
        optimizer: { name: 'adam', lr: 0.001, nesterov: false },
        layers: [{ units: 128 }, { units: 64 }],
      }),
    );
    await put(
      'p.toml',
      'seed = "x"\n[optimizer]\nname = "adam"\nlr = 1e-3\nnesterov = false\n[[layers]]\nunits = 128\n[[layers]]\nunits = 64\n',
    );
    const fp = await fingerprintConfigFiles(['p.yaml', 'p.json', 'p.toml'], root);
    expect(Object.keys(fp)).toEqual(['p.json', 'p.toml', 'p.yaml']);
    expect(fp['p.yaml']).toEqual(EXPECTED);
    expect(fp['p.json']).toEqual(EXPECTED);
    expect(fp['p.toml']).toEqual({ ...EXPECTED, seed: 'x' }); // TOML has no null
  });

  it('keeps empty containers, quotes dotted keys, and stringifies dates and non-finite numbers', () => {
    expect(flatten({ a: {}, b: [], c: { 'x.y': 1, '': 2, 'q"': 3 } })).toEqual({
      a: '{}',
      b: '[]',
      'c[""]': 2,
      'c["q\\""]': 3,
      'c["x.y"]': 1,
    });
    expect(flatten(5)).toEqual({ '': 5 });
    expect(flatten([])).toEqual({ '': '[]' });
    const toml = parseConfigText(
      'd = 1979-05-27\nt = 1979-05-27T07:32:00Z\nn = nan\ni = -inf\nbig = 9223372036854775807\n',
      'x.toml',
    );
    expect(flatten(toml)).toEqual({
      big: '9223372036854775807',
      d: '1979-05-27',
      i: '-Infinity',
      n: 'NaN',
      t: '1979-05-27T07:32:00.000Z',
    });
    expect(flatten({ when: new Date(Date.UTC(2024, 0, 2)) })).toEqual({ when: '2024-01-02T00:00:00.000Z' });
  });

  it('supports YAML merge keys and strips a BOM', () => {
    expect(flatten(parseConfigText('base: &b {lr: 1}\nrun:\n  <<: *b\n  bs: 2\n', 'c.yml'))).toEqual({
      'base.lr': 1,
      'run.bs': 2,
      'run.lr': 1,
    });
    expect(parseConfigText('\uFEFF{"a": 1}', 'c.json')).toEqual({ a: 1 });
  });

  it('reports parse errors with file, line and column', () => {
    const yaml = thrown(() => parseConfigText('a: 1\nb: [1, 2\nc: 3\n', 'conf/params.yaml'));
    expect(yaml.message).toMatch(/conf\/params\.yaml at line \d+, column \d+/);
    const dup = thrown(() => parseConfigText('lr: 1\nlr: 2\n', 'params.yml'));
    expect(dup.message).toContain('params.yml at line 2, column 1');
    expect(dup.message).toContain('unique');
    const json = thrown(() => parseConfigText('{\n  "a": 1,\n  "b": }\n', 'p.json'));
    expect(json.message).toContain('p.json at line 3, column 8');
    const json2 = thrown(() => parseConfigText('{\n  "a": 1,\n}', 'p.json'));
    expect(json2.message).toContain('p.json at line 3, column 1');
    const toml = thrown(() => parseConfigText('a = 1\nb = \n', 'p.toml'));
    expect(toml.message).toContain('p.toml at line 2');
    expect(toml.hint).toContain('config:');
  });

  it('rejects an unknown extension listing the supported ones', () => {
    const err = thrown(() => parseConfigText('a=1', 'params.properties'));
    expect(err.message).toContain('.properties');
    expect(err.message).toContain('params.properties');
    expect(err.hint).toContain('.yaml, .yml, .json, .toml, .py, .ini, .cfg and .env');
  });

  it('reads INI/CFG sections as key prefixes and .env files as flat keys, values as written', () => {
    const ini = '; comment\n[model]\nlr = 1e-3\nname = resnet\n[data]\npath = data/train\n';
    expect(flatten(parseConfigText(ini, 'setup.cfg'))).toEqual({
      'data.path': 'data/train',
      'model.lr': '1e-3',
      'model.name': 'resnet',
    });
    expect(flatten(parseConfigText(ini, 'train.ini'))).toHaveProperty(['model.lr'], '1e-3');
    const env = '# secrets never go here\nLEARNING_RATE=0.01\nexport BATCH="32"\nEMPTY=\n';
    expect(flatten(parseConfigText(env, '.env'))).toEqual({ BATCH: '32', EMPTY: '', LEARNING_RATE: '0.01' });
    expect(flatten(parseConfigText(env, 'train.env'))).toHaveProperty('LEARNING_RATE', '0.01');
  });

  it('names a missing file and the config: setting, and rejects paths outside root', async () => {
    const err = await fingerprintConfigFiles(['conf/missing.yaml'], root).catch((e: unknown) => e as GateError);
    expect(err).toBeInstanceOf(GateError);
    expect(err.message).toContain('conf/missing.yaml');
    expect(err.message).toContain('config:');
    const esc = await fingerprintConfigFiles(['../x.yaml'], root).catch((e: unknown) => e as GateError);
    expect(esc).toBeInstanceOf(GateError);
    expect(esc.message).toContain('outside the project root');
  });
});

describe('diffConfig', () => {
  it('shows key, before and after for a changed hyperparameter', async () => {
    await put('params.yaml', 'optimizer:\n  lr: 0.001\n  name: adam\n');
    const before = await fingerprintConfigFiles(['params.yaml'], root);
    await put('params.yaml', 'optimizer:\n  lr: 0.01\n  name: adam\n');
    const after = await fingerprintConfigFiles(['params.yaml'], root);
    expect(diffConfig(before, after)).toEqual([
      { file: 'params.yaml', key: 'optimizer.lr', change: 'modified', before: 0.001, after: 0.01 },
    ]);
    expect(diffConfig(before, before)).toEqual([]);
  });

  it('reports added and removed keys, emptied lists, and whole files, sorted', () => {
    const before = { 'b.yaml': { x: 1, tags: 'a' as const }, 'a.json': { k: true } };
    const after = { 'b.yaml': { x: 1.0, y: null, tags: '[]' }, 'c.toml': { z: 's' } };
    const diff = diffConfig(before, after);
    expect(diff).toEqual([
      { file: 'a.json', key: 'k', change: 'removed', before: true, after: undefined },
      { file: 'b.yaml', key: 'tags', change: 'modified', before: 'a', after: '[]' },
      { file: 'b.yaml', key: 'y', change: 'added', before: undefined, after: null },
      { file: 'c.toml', key: 'z', change: 'added', before: undefined, after: 's' },
    ]);
    // absent sides disappear in JSON; `change` keeps it unambiguous
    expect(JSON.parse(JSON.stringify(diff[2]))).toEqual({ file: 'b.yaml', key: 'y', change: 'added', after: null });
  });

  it('treats a list emptied in YAML as a diff', () => {
    const before = { 'p.yaml': flatten(parseConfigText('aug: [flip, crop]\n', 'p.yaml')) };
    const after = { 'p.yaml': flatten(parseConfigText('aug: []\n', 'p.yaml')) };
    expect(diffConfig(before, after).map((d) => [d.key, d.change, d.before, d.after])).toEqual([
      ['aug', 'added', undefined, '[]'],
      ['aug.0', 'removed', 'flip', undefined],
      ['aug.1', 'removed', 'crop', undefined],
    ]);
  });
});

describe('Python config files (read with ast, never run)', () => {
  const python = (cwd: string) => ({
    runtime: new HostRuntime(),
    command: ['python3'],
    cwd,
    env: { PATH: process.env.PATH ?? '' },
    timeoutMs: 60_000,
  });

  it('keeps literal assignments and class attributes as keys, other values as their source text', async () => {
    await writeFile(
      path.join(root, 'train.py'),
      [
        'import os',
        "out_dir = 'out'",
        'learning_rate = 1e-3',
        'betas = (0.9, 0.95)',
        'n_layer: int = 6',
        "model = dict(type='GPT', n_embd=64, norm=dict(eps=1e-5))",
        'max_iters = 10 * 1000',
        "pwned = os.system('touch PWNED')",
        'class Optim:',
        "    name = 'adamw'",
        '    weight_decay = 0.1',
      ].join('\n'),
    );
    const flat = await fingerprintConfigFiles(['train.py'], root, { python: python(root) });
    expect(flat['train.py']).toEqual({
      'Optim.name': 'adamw',
      'Optim.weight_decay': 0.1,
      'betas.0': 0.9,
      'betas.1': 0.95,
      learning_rate: 0.001,
      max_iters: '10 * 1000',
      'model.n_embd': 64,
      'model.norm.eps': 0.00001,
      'model.type': 'GPT',
      n_layer: 6,
      out_dir: 'out',
      pwned: "os.system('touch PWNED')",
    });
    expect(existsSync(path.join(root, 'PWNED'))).toBe(false);
  });

  it('names file, line and column of a syntax error', async () => {
    await writeFile(path.join(root, 'bad.py'), 'a = 1\nb = (2,\n');
    const err = await fingerprintConfigFiles(['bad.py'], root, { python: python(root) }).catch(
      (e: unknown) => e as GateError,
    );
    expect(err).toBeInstanceOf(GateError);
    expect(err.message).toMatch(/^bad\.py:2:5: invalid Python: '\(' was never closed\.$/);
  });
});
