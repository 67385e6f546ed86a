import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readBaseline } from '../src/baseline/io.js';
import { parseConfigText } from '../src/fingerprint/config.js';
import { readMetrics } from '../src/train/metrics.js';
import { jsonErrorOffset, jsonErrorWhere, lineCol } from '../src/util/json-position.js';

describe('jsonErrorOffset', () => {
  it('is undefined for valid JSON, whatever it holds', () => {
    for (const ok of [
      '1',
      ' "x" ',
      '{}',
      '[]',
      '{"a": [1, 2.5e-3, -0, true, false, null, "\\u00e9\\n"]}',
      '\n{\n}\n',
    ]) {
      expect(jsonErrorOffset(ok), ok).toBeUndefined();
    }
  });

  it('gives line, column and a reason for the first error', () => {
    expect(jsonErrorOffset('{\n  "a": 1,\n  "b": }\n')).toMatchObject({
      line: 3,
      column: 8,
      reason: 'expected a value',
    });
    expect(jsonErrorOffset('{\n  "a": 1,\n}')).toMatchObject({
      line: 3,
      column: 1,
      reason: 'expected a key in double quotes',
    });
    expect(jsonErrorOffset('{"a": 1')).toMatchObject({ line: 1, column: 8, reason: 'unexpected end of input' });
    expect(jsonErrorOffset('[1 2]')).toMatchObject({ column: 4, reason: 'expected "," or "]"' });
    expect(jsonErrorOffset('{"a" 1}')).toMatchObject({ column: 6, reason: 'expected ":" after a key' });
    expect(jsonErrorOffset('"abc')).toMatchObject({ reason: 'unterminated string' });
    expect(jsonErrorOffset('{} x')).toMatchObject({
      column: 4,
      reason: 'unexpected text after the end of the JSON document',
    });
    expect(jsonErrorOffset('')).toMatchObject({ offset: 0, reason: 'unexpected end of input' });
  });

  it('takes Python NaN/Infinity only when lenient', () => {
    expect(jsonErrorOffset('{"a": NaN}')).toMatchObject({ column: 7 });
    expect(jsonErrorOffset('{"a": NaN, "b": -Infinity}', { lenient: true })).toBeUndefined();
  });

  it('scans any nesting depth without recursion', () => {
    const deep = 200_000;
    expect(jsonErrorOffset('['.repeat(deep) + ']'.repeat(deep))).toBeUndefined();
    expect(jsonErrorOffset(`${'['.repeat(deep)}x${']'.repeat(deep)}`)).toMatchObject({ offset: deep });
  });

  it('counts lines and columns from 1', () => {
    expect(lineCol('ab\ncd', 4)).toEqual([2, 2]);
    expect(jsonErrorWhere('{\n"a": }')).toBe('at line 2, column 6 (expected a value)');
    expect(jsonErrorWhere('{}')).toBe('');
  });
});

describe('invalid JSON in files is described, never quoted', () => {
  it('names the position in a metrics file and leaves its content out', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-json-'));
    const file = path.join(dir, 'metrics.json');
    await writeFile(file, '{"accuracy": 0.9,\n "token": SECRET-CONTENT}');
    const err = await readMetrics(file, ['accuracy'], "seed 0's metrics.json").catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toBe(
      "seed 0's metrics.json is not valid JSON at line 2, column 11 (expected a value).",
    );
    expect((err as Error).message).not.toContain('SECRET');
  });

  it('names the position in a baseline and leaves its content out', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rg-json-'));
    const file = path.join(dir, 'baseline.json');
    await writeFile(file, '{"schemaVersion": 1, SECRET-CONTENT');
    const err = await readBaseline(file).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      `The baseline ${file} is not valid JSON at line 1, column 22 (expected a key in double quotes); it may be truncated or hand-edited.`,
    );
    expect((err as Error).message).not.toContain('SECRET');
  });

  it('names the position in a config: file and leaves its content out', () => {
    let message = '';
    try {
      parseConfigText('{\n  "lr": SECRET-CONTENT\n}', 'params.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe('Invalid JSON in params.json at line 2, column 9: expected a value');
  });
});
