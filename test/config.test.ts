import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig } from '../src/config/load.js';
import { parseDuration } from '../src/util/duration.js';
import { GateError } from '../src/util/errors.js';

const VALID = `version: 1
train:
  command: [python3, train.py, --seed, "{seed}", --out, "{out}"]
  env: {PYTHONHASHSEED: 0}
  timeout: 2m
seeds: 5
metrics:
  file: out/metrics.json
  accuracy: {margin: 0.01}
  loss: {margin: 2%, direction: lower}
  eval.f1: {margin: 0.02, direction: higher}
data: [data/]
config: [params.yaml]
`;

function errorOf(text: string): string {
  try {
    parseConfig(text, '/p/repro-gate.yml');
  } catch (err) {
    expect(err).toBeInstanceOf(GateError);
    return (err as GateError).message;
  }
  throw new Error('expected a GateError');
}

describe('config', () => {
  it('parses a valid file, applying defaults and resolving the root', () => {
    const c = parseConfig(VALID, '/p/repro-gate.yml');
    expect(c.root).toBe('/p');
    expect(c.seeds).toEqual([0, 1, 2, 3, 4]);
    expect(c.mode).toBe('statistical');
    expect(c.alpha).toBe(0.05);
    expect(c.paired).toBe(false);
    expect(c.train.env).toEqual({ PYTHONHASHSEED: '0' });
    expect(c.train.timeout).toBe(120_000);
    expect(c.train.gpus).toBe('none');
    expect(c.metricsFile).toBe('out/metrics.json');
    expect(c.baseline).toBe('.repro-gate/baseline.json');
    expect(c.metrics).toEqual([
      { name: 'accuracy', margin: { kind: 'absolute', value: 0.01, text: '0.01' }, direction: 'both' },
      { name: 'loss', margin: { kind: 'relative', percent: 2, text: '2%' }, direction: 'lower' },
      { name: 'eval.f1', margin: { kind: 'absolute', value: 0.02, text: '0.02' }, direction: 'higher' },
    ]);
  });

  it('needs margins in statistical mode only', () => {
    const exact = VALID.replace('accuracy: {margin: 0.01}', 'accuracy: {}').replace(
      'seeds: 5',
      'seeds: 2\nmode: exact',
    );
    expect(parseConfig(exact, '/p/r.yml').metrics[0]).toEqual({ name: 'accuracy', direction: 'both' });
    expect(errorOf(VALID.replace('accuracy: {margin: 0.01}', 'accuracy: {}'))).toMatch(
      /metrics\.accuracy\.margin: is required in statistical mode/,
    );
  });

  it('takes seeds as an explicit list', () => {
    expect(parseConfig(VALID.replace('seeds: 5', 'seeds: [3, 7, 11]'), '/p/r.yml').seeds).toEqual([3, 7, 11]);
  });

  it('names a typo in a key, with its line and a suggestion', () => {
    expect(errorOf(VALID.replace('command:', 'comand:'))).toBe(
      'repro-gate.yml:3:3: unknown key "train.comand" — did you mean "command"?',
    );
    expect(errorOf(VALID.replace('accuracy: {margin', 'accuracy: {margn'))).toMatch(
      /unknown key "metrics\.accuracy\.margn" — did you mean "margin"\?/,
    );
    expect(errorOf(`${VALID}seed: 3\n`)).toMatch(/:14:1: unknown key "seed" — did you mean "seeds"\?/);
  });

  it('explains bad values with the key path', () => {
    expect(errorOf(VALID.replace('2%', '-3'))).toMatch(/metrics\.loss\.margin: expected a positive number .* got -3/);
    expect(errorOf(VALID.replace('2%', '"150%"'))).toMatch(/metrics\.loss\.margin/);
    expect(errorOf(VALID.replace('seeds: 5', 'seeds: [1, 1]'))).toMatch(/seeds: seeds must not repeat/);
    expect(errorOf(VALID.replace('timeout: 2m', 'timeout: soon'))).toMatch(
      /train\.timeout: expected a duration like 90s, 30m or 1h30m, got "soon"/,
    );
    expect(errorOf(`${VALID}mode: fast\n`)).toMatch(/mode: expected one of "exact", "statistical"/);
    expect(errorOf(`${VALID}alpha: 0.7\n`)).toMatch(/alpha:/);
    expect(errorOf(VALID.replace('direction: lower', 'direction: up'))).toMatch(
      /metrics\.loss\.direction: expected one of "both", "higher", "lower"/,
    );
    expect(
      errorOf(VALID.replace('[python3, train.py, --seed, "{seed}", --out, "{out}"]', '"python3 train.py"')),
    ).toMatch(/train\.command:/);
  });

  it('takes container settings, with no network by default', () => {
    const c = parseConfig(
      VALID.replace('  timeout: 2m', `  timeout: 2m\n  image: ghcr.io/acme/train@sha256:${'a'.repeat(64)}`),
      '/p/r.yml',
    );
    expect(c.train).toMatchObject({
      image: `ghcr.io/acme/train@sha256:${'a'.repeat(64)}`,
      network: 'none',
      'allow-unpinned': false,
    });
    expect(errorOf(VALID.replace('  timeout: 2m', '  timeout: 2m\n  network: internet'))).toMatch(
      /train\.network: expected one of "none", "bridge", "host"/,
    );
  });

  it('lists every problem when there are several, and reports what is missing', () => {
    const msg = errorOf('version: 2\ntrain: {}\n');
    expect(msg).toMatch(/has 3 problems/);
    expect(msg).toMatch(/train\.command: is required/);
    expect(msg).toMatch(/metrics: is required/);
  });

  it('reports YAML syntax errors with a position', () => {
    expect(errorOf('version: 1\ntrain: [\n')).toMatch(/^repro-gate\.yml:\d+:\d+: invalid YAML/);
    expect(errorOf('- just\n- a list\n')).toMatch(/expected a YAML mapping/);
    expect(errorOf(`${VALID}seeds: 3\n`)).toMatch(/invalid YAML: Map keys must be unique/);
  });

  it('says when the file is missing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-config-'));
    await expect(loadConfig('nope.yml', dir)).rejects.toThrow(/Config file not found: .*nope\.yml/);
    await writeFile(path.join(dir, 'repro-gate.yml'), VALID);
    expect((await loadConfig('repro-gate.yml', dir)).root).toBe(dir);
  });

  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration(12)).toBe(12_000);
    expect(parseDuration('10 minutes')).toBeUndefined();
    expect(parseDuration(0)).toBeUndefined();
  });
});
