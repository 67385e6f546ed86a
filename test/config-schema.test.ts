/**
 * schema/repro-gate.schema.json: generated from the zod schema and committed (fresh, like dist/),
 * a description on every field, and — validated with ajv — accepting every example config and the
 * README's, rejecting known-bad ones the way the gate's own loader does.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../src/config/load.js';
import { CONFIG_JSON_SCHEMA_PATH, configJsonSchemaText } from '../src/schema/config-json-schema.js';
import { REPO_ROOT } from './helpers/run-action.js';

const committed = readFileSync(join(REPO_ROOT, CONFIG_JSON_SCHEMA_PATH), 'utf8');
const schema = JSON.parse(committed) as Record<string, unknown>;
const validate = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
const errorsOf = (config: unknown) => {
  validate(config);
  return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
};

/** Every example config, and the README's annotated one. */
const EXAMPLES: Array<[string, string]> = [
  ...readdirSync(join(REPO_ROOT, 'examples'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'workflows')
    .flatMap((d) =>
      readdirSync(join(REPO_ROOT, 'examples', d.name))
        .filter((f) => /^repro-gate.*\.ya?ml$/.test(f))
        .map((f) => join('examples', d.name, f)),
    )
    .map((f): [string, string] => [f, readFileSync(join(REPO_ROOT, f), 'utf8')]),
  [
    'README.md (Configuration)',
    /## Configuration: `repro-gate\.yml`\n```yaml\n([\s\S]*?)```/.exec(
      readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'),
    )?.[1] ?? '',
  ],
];

const MINIMAL = 'version: 1\ntrain: {command: [python3, train.py]}\nmetrics: {accuracy: {margin: 0.01}}\n';

describe('schema/repro-gate.schema.json', () => {
  it('is a fresh generation of the zod schema (run `npm run schema` and commit it)', () => {
    expect(committed === configJsonSchemaText(), `${CONFIG_JSON_SCHEMA_PATH} is stale: run npm run schema`).toBe(true);
  });

  it('describes every field', () => {
    const missing: string[] = [];
    const walk = (node: unknown, where: string) => {
      if (!node || typeof node !== 'object') return;
      const n = node as Record<string, unknown>;
      for (const [key, value] of Object.entries((n.properties ?? {}) as Record<string, Record<string, unknown>>)) {
        if (typeof value.description !== 'string' || value.description.length < 10) missing.push(`${where}.${key}`);
        walk(value, `${where}.${key}`);
      }
      for (const k of ['additionalProperties', 'items']) walk(n[k], `${where}[${k}]`);
      for (const k of ['anyOf', 'oneOf'])
        for (const [i, s] of ((n[k] ?? []) as unknown[]).entries()) walk(s, `${where}|${i}`);
    };
    walk(schema, '');
    expect(missing).toEqual([]);
    expect(EXAMPLES.length).toBeGreaterThanOrEqual(5);
  });

  it.each(EXAMPLES)('accepts %s', (_name, text) => {
    expect(text).toContain('version: 1');
    expect(errorsOf(parse(text))).toEqual([]);
  });

  it('accepts a top-level $schema key and the yaml-language-server comment, as the gate does', () => {
    const text = `# yaml-language-server: $schema=./node_modules/repro-gate/schema/repro-gate.schema.json\n$schema: ./schema.json\n${MINIMAL}`;
    expect(errorsOf(parse(text))).toEqual([]);
    const config = parseConfig(text, '/p/repro-gate.yml');
    expect(config.metrics.map((m) => m.name)).toEqual(['accuracy']);
    expect(Object.keys(config)).not.toContain('$schema');
  });

  it.each([
    ['an unknown top-level key', `${MINIMAL}mdoe: exact\n`, '/ must NOT have additional properties'],
    [
      'a typo under train',
      'version: 1\ntrain: {command: [x], timout: 5m}\nmetrics: {a: {margin: 1}}\n',
      '/train must NOT have additional properties',
    ],
    [
      'a typo under curves',
      `${MINIMAL}curves: {file: log.jsonl, stpe: step}\n`,
      '/curves must NOT have additional properties',
    ],
    ['version 2', MINIMAL.replace('version: 1', 'version: 2'), '/version must be equal to constant'],
    ['no train', 'version: 1\nmetrics: {a: {margin: 1}}\n', "/ must have required property 'train'"],
    [
      'a shell string as command',
      'version: 1\ntrain: {command: python3 train.py}\nmetrics: {a: {margin: 1}}\n',
      '/train/command must be array',
    ],
    ['an unknown mode', `${MINIMAL}mode: fast\n`, '/mode must be equal to one of the allowed values'],
    [
      'a margin that is no number or percentage',
      MINIMAL.replace('0.01', 'wide'),
      '/metrics/accuracy/margin must match pattern',
    ],
    ['a negative margin', MINIMAL.replace('0.01', '-0.01'), '/metrics/accuracy/margin must be > 0'],
    [
      'a malformed timeout',
      'version: 1\ntrain: {command: [x], timeout: 5 minutes}\nmetrics: {a: {margin: 1}}\n',
      '/train/timeout must match pattern',
    ],
    ['repeated seeds', `${MINIMAL}seeds: [1, 1]\n`, '/seeds must NOT have duplicate items'],
    ['alpha out of range', `${MINIMAL}alpha: 0.7\n`, '/alpha must be < 0.5'],
    [
      'a bad environment variable name',
      'version: 1\ntrain: {command: [x], env: {1X: a}}\nmetrics: {a: {margin: 1}}\n',
      '/train/env property name must be valid',
    ],
  ])('rejects %s, as the gate does', (_what, text, message) => {
    expect(errorsOf(parse(text))).toEqual(expect.arrayContaining([expect.stringContaining(message)]));
    expect(() => parseConfig(text, '/p/repro-gate.yml')).toThrow();
  });

  it('leaves "did you mean" to the gate, which reads its keys from the same schema', () => {
    expect(() => parseConfig(`${MINIMAL}curves: {file: log.jsonl, stpe: step}\n`, '/p/repro-gate.yml')).toThrow(
      /unknown key "curves\.stpe" — did you mean "step"\?/,
    );
    expect(() => parseConfig(`${MINIMAL}diagnose: {sed: 1}\n`, '/p/repro-gate.yml')).toThrow(
      /unknown key "diagnose\.sed" — did you mean "seed"\?/,
    );
  });
});
