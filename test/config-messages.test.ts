/**
 * One clear message for each kind of pathological or mistaken input to repro-gate.yml and the
 * config: files: alias bombs, absurd nesting, numbers beyond what a double holds, typos under
 * metrics:, curves: and diagnose:, and seeds that are not seeds.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { flatten, parseConfigText } from '../src/fingerprint/config.js';
import { GateError } from '../src/util/errors.js';
import { parseJsonExactIntegers } from '../src/util/lenient-json.js';

const VALID = `version: 1
train:
  command: [python3, train.py]
seeds: 5
metrics:
  accuracy: {margin: 0.01}
`;

function thrown(f: () => unknown): GateError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(GateError);
    return err as GateError;
  }
  throw new Error('expected a GateError');
}

const errorOf = (text: string) => thrown(() => parseConfig(text, '/p/repro-gate.yml')).message;

/** Six levels of nine aliases each: 9^6 = 531,441 strings from a 300-byte file. */
const BILLION_LAUGHS = `a: &a ["x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
`;
const DEEP = 100_000;

describe('alias bombs', () => {
  it('in repro-gate.yml: one message naming the file and the reason', () => {
    expect(errorOf(VALID + BILLION_LAUGHS)).toBe(
      'repro-gate.yml: too many YAML aliases: *references expand into more values than a config holds, as in a "billion laughs" attack; it is not read.',
    );
  });

  it('in a config: file: one message naming it', () => {
    expect(thrown(() => parseConfigText(BILLION_LAUGHS, 'conf/params.yaml')).message).toBe(
      'Invalid YAML in conf/params.yaml: too many aliases: *references expand into more values than a config holds, as in a "billion laughs" attack',
    );
    // Ordinary anchors and merge keys still work.
    expect(flatten(parseConfigText('base: &b {lr: 1}\nrun: {<<: *b, bs: 2}\n', 'p.yaml'))).toEqual({
      'base.lr': 1,
      'run.bs': 2,
      'run.lr': 1,
    });
  });
});

describe('absurd nesting', () => {
  it('in repro-gate.yml: "nested too deeply" with the place, never a stack overflow', () => {
    expect(errorOf(`${VALID}x: ${'['.repeat(DEEP)}${']'.repeat(DEEP)}\n`)).toMatch(
      /^repro-gate\.yml:7:\d+: nested too deeply to read/,
    );
    const block = `${VALID}${Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} 1\n`;
    expect(errorOf(block)).toMatch(/^repro-gate\.yml:\d+:\d+: nested too deeply to read/);
  });

  it('in JSON, YAML and TOML config: files: "nested too deeply", naming the file', () => {
    const nested = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`;
    expect(thrown(() => parseConfigText(nested, 'p.json')).message).toBe(
      'Invalid JSON in p.json: nested too deeply (more than 1,000 levels of mappings and lists)',
    );
    expect(
      thrown(() => parseConfigText(`{"a": ${'{"b": '.repeat(DEEP)}1${'}'.repeat(DEEP)}}`, 'p.json')).message,
    ).toMatch(/nested too deeply/);
    expect(thrown(() => parseConfigText(nested, 'p.yaml')).message).toMatch(
      /^Invalid YAML in p\.yaml at line 1, column \d+: nested too deeply to parse/,
    );
    expect(thrown(() => parseConfigText(`a = ${nested}`, 'p.toml')).message).toMatch(
      /^Invalid TOML in p\.toml at line 1, column \d+: nested too deeply/,
    );
    // 1,000 levels is still a config.
    const ok = flatten(parseConfigText(`${'['.repeat(1000)}1${']'.repeat(1000)}`, 'p.json'));
    expect(Object.values(ok)).toEqual([1]);
  });

  it('flatten itself never recurses', () => {
    let doc: unknown = 1;
    for (let i = 0; i < DEEP; i++) doc = [doc];
    expect(Object.values(flatten(doc))).toEqual([1]);
  });
});

describe('extreme numbers', () => {
  it('in repro-gate.yml: a clear message for infinity, however it is written', () => {
    expect(errorOf(`${VALID}alpha: 1e309\n`)).toBe(
      'repro-gate.yml:7:8: alpha: expected a finite number, got Infinity (YAML reads 1e309, .inf and the like as infinity)',
    );
    expect(errorOf(VALID.replace('margin: 0.01', 'margin: .inf'))).toMatch(
      /metrics\.accuracy\.margin: expected a finite number, got Infinity/,
    );
    expect(errorOf(VALID.replace('[python3, train.py]', '[python3, train.py]\n  timeout: 1e300'))).toBe(
      'repro-gate.yml:4:12: train.timeout: must be at most 24 days (596h), got 1e+300',
    );
  });

  it('in repro-gate.yml: an env integer beyond 2^53 must be quoted, not passed on rounded', () => {
    const big = '123456789012345678901234567890';
    expect(errorOf(VALID.replace('[python3, train.py]', `[python3, train.py]\n  env: {SEED: ${big}}`))).toMatch(
      /train\.env\.SEED: is an integer beyond 2\^53, which YAML reads as 1\.2345678901234568e\+29 .* quote it/,
    );
    const quoted = parseConfig(
      VALID.replace('[python3, train.py]', `[python3, train.py]\n  env: {SEED: "${big}"}`),
      '/p/r.yml',
    );
    expect(quoted.train.env.SEED).toBe(big);
  });

  it('in config: files: infinity and integers beyond 2^53 are kept as exact strings in JSON, YAML and TOML', () => {
    const big = '12345678901234567891';
    expect(
      flatten(parseConfigText(`{"a": ${big}, "b": [-${big}, 1e999, 9007199254740991, 0.5], "s": "${big}"}`, 'p.json')),
    ).toEqual({
      a: big,
      'b.0': `-${big}`,
      'b.1': 'Infinity',
      'b.2': 9007199254740991,
      'b.3': 0.5,
      s: big,
    });
    expect(flatten(parseConfigText(`a: ${big}\nb: 1e309\nc: 5\nd: 0x10\n`, 'p.yaml'))).toEqual({
      a: big,
      b: 'Infinity',
      c: 5,
      d: 16,
    });
    expect(flatten(parseConfigText(`a = ${big.slice(0, 19)}\nb = inf\n`, 'p.toml'))).toEqual({
      a: big.slice(0, 19),
      b: 'Infinity',
    });
  });

  it('parseJsonExactIntegers leaves strings, floats and __proto__ keys alone', () => {
    const doc = parseJsonExactIntegers(
      '{"__proto__": 12345678901234567891, "x": "12345678901234567891", "f": 1.2345678901234567e25}',
    );
    expect(Object.hasOwn(doc as object, '__proto__')).toBe(true);
    expect(Object.entries(doc as object)).toEqual([
      ['__proto__', 12345678901234567891n],
      ['x', '12345678901234567891'],
      ['f', 1.2345678901234567e25],
    ]);
    expect(() => parseJsonExactIntegers('{"a": 12345678901234567891,')).toThrow(SyntaxError);
  });
});

describe('did you mean', () => {
  it('under metrics:, for its file and for a metric setting', () => {
    expect(errorOf(VALID.replace('  accuracy:', '  fiel: out/metrics.json\n  accuracy:'))).toBe(
      'repro-gate.yml:6:3: unknown key "metrics.fiel" — did you mean "file"?',
    );
    expect(errorOf(VALID.replace('{margin: 0.01}', '{margn: 0.01}'))).toBe(
      'repro-gate.yml:6:14: unknown key "metrics.accuracy.margn" — did you mean "margin"?',
    );
    // A metric whose name is merely near "file" but whose value is a number is a metric without settings.
    expect(errorOf(VALID.replace('  accuracy:', '  time: 0.5\n  accuracy:'))).toBe(
      "repro-gate.yml:6:9: metrics.time: expected the metric's settings as a mapping, e.g. {margin: 0.01}, got 0.5",
    );
  });

  it('under curves:, diagnose: and a sequential seeds: plan', () => {
    expect(errorOf(`${VALID}curves: {fil: log.jsonl}\n`)).toBe(
      'repro-gate.yml:7:10: unknown key "curves.fil" — did you mean "file"?',
    );
    expect(errorOf(`${VALID}curves: {file: log.jsonl, setp: it}\n`)).toMatch(
      /unknown key "curves\.setp" — did you mean "step"\?/,
    );
    expect(errorOf(`${VALID}diagnose: {aut: false}\n`)).toBe(
      'repro-gate.yml:7:12: unknown key "diagnose.aut" — did you mean "auto"?',
    );
    expect(errorOf(VALID.replace('seeds: 5', 'seeds: {min: 3, mx: 9}'))).toBe(
      'repro-gate.yml:4:17: unknown key "seeds.mx" — did you mean "max"?',
    );
  });
});

describe('seeds', () => {
  const EXPECTED = 'seeds: expected a whole number of seeds ≥ 1 or a list of non-negative integers, got';
  it.each([
    ['"5"', '"5"'],
    ['0', '0'],
    ['-3', '-3'],
    ['2.5', '2.5'],
    ['~', 'null'],
    ['[]', 'an empty list'],
    ['[0, 1.5]', '1.5 in the list'],
    ['[0, -1]', '-1 in the list'],
    ['["0", 1]', '"0" in the list'],
  ])('seeds: %s is one clear message', (value, got) => {
    expect(errorOf(VALID.replace('seeds: 5', `seeds: ${value}`))).toBe(`repro-gate.yml:4:8: ${EXPECTED} ${got}`);
  });

  it('refuses more than 1000 seeds and repeats', () => {
    expect(errorOf(VALID.replace('seeds: 5', 'seeds: 5000'))).toBe(
      'repro-gate.yml:4:8: seeds: at most 1000 seeds, got 5000',
    );
    expect(errorOf(VALID.replace('seeds: 5', 'seeds: [1, 1]'))).toBe(
      'repro-gate.yml:4:8: seeds: seeds must not repeat',
    );
  });

  it('refuses fewer than 2 seeds in statistical mode, with the reason, and allows 1 in exact mode', () => {
    for (const seeds of ['1', '[3]']) {
      expect(errorOf(VALID.replace('seeds: 5', `seeds: ${seeds}`))).toBe(
        'repro-gate.yml:4:8: seeds: statistical mode needs at least 2 seeds to measure how much a metric varies from seed to seed; train more seeds (e.g. seeds: 5) or use mode: exact',
      );
    }
    expect(parseConfig(VALID.replace('seeds: 5', 'seeds: [3]\nmode: exact'), '/p/r.yml').seeds).toEqual([3]);
  });
});
