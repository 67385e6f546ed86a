import { describe, expect, it, vi } from 'vitest';
import { type InputName, parseInputs, readInputs } from '../src/action/inputs.js';
import { GateError } from '../src/util/errors.js';

const inputs = (raw: Partial<Record<InputName, string>>) => parseInputs((n) => raw[n] ?? '');
const errorOf = (raw: Partial<Record<InputName, string>>) => {
  try {
    inputs(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(GateError);
    return (err as Error).message;
  }
  throw new Error('expected an error');
};

describe('parseInputs', () => {
  it('applies the documented defaults', () => {
    expect(inputs({})).toEqual({
      command: 'check',
      config: 'repro-gate.yml',
      workingDirectory: '.',
      token: '',
      comment: 'on-change',
      commentAuthor: undefined,
      failOn: ['mismatch', 'not-equivalent', 'inconclusive', 'drift'],
      reportFile: undefined,
      report: undefined,
      prNumber: undefined,
      baselineLabel: 'baseline-update',
      cache: true,
    });
  });

  it('parses cache as true or false, naming the input otherwise', () => {
    expect(inputs({ cache: 'false' }).cache).toBe(false);
    expect(inputs({ cache: 'true' }).cache).toBe(true);
    expect(errorOf({ cache: 'yes' })).toBe('Input "cache": unknown value "yes"; expected one of true, false');
  });

  it('parses every input', () => {
    const r = inputs({
      command: 'drift',
      config: 'ml/gate.yml',
      'working-directory': 'services/train',
      'github-token': 'ghs_x',
      comment: 'always',
      'comment-author': 'my-app[bot]',
      'fail-on': 'drift,\n mismatch , drift',
      'report-file': 'out/report.json',
    });
    expect(r).toMatchObject({
      command: 'drift',
      config: 'ml/gate.yml',
      workingDirectory: 'services/train',
      token: 'ghs_x',
      comment: 'always',
      commentAuthor: 'my-app[bot]',
      failOn: ['drift', 'mismatch'],
      reportFile: 'out/report.json',
    });
  });

  it('accepts fail-on: none', () => {
    expect(inputs({ 'fail-on': 'none' }).failOn).toEqual([]);
  });

  it('names the input and the accepted values in errors', () => {
    expect(errorOf({ 'fail-on': 'mismatch,mismach' })).toBe(
      'Input "fail-on": unknown verdict "mismach"; expected one of reproducible, equivalent, not-equivalent, inconclusive, mismatch, no-drift, drift, recorded',
    );
    expect(errorOf({ command: 'train' })).toBe(
      'Input "command": unknown command "train"; expected one of check, record, drift, aggregate, comment',
    );
    expect(errorOf({ comment: 'yes' })).toMatch(
      /^Input "comment": unknown comment mode "yes"; expected one of on-change, always, never$/,
    );
    expect(errorOf({ 'comment-author': 'a b' })).toMatch(/^Input "comment-author": /);
  });

  it('requires what command: comment needs', () => {
    const ok = inputs({ command: 'comment', report: 'r.json', 'pr-number': '17', 'github-token': 't' });
    expect(ok).toMatchObject({ command: 'comment', report: 'r.json', prNumber: 17 });
    expect(errorOf({ command: 'comment', 'github-token': 't' })).toMatch(/^Input "report": required/);
    expect(errorOf({ command: 'comment', report: 'r.json' })).toMatch(/^Input "github-token": required/);
    expect(errorOf({ command: 'comment', report: 'r.json', 'github-token': 't', comment: 'never' })).toMatch(
      /^Input "comment"/,
    );
  });

  it('takes shard for check and record, results for aggregate, and refuses them elsewhere', () => {
    expect(inputs({ shard: '2/4' })).toMatchObject({ command: 'check', shard: '2/4' });
    expect(inputs({ command: 'record', shard: '1/2' }).shard).toBe('1/2');
    expect(inputs({ command: 'aggregate', results: 'shards' })).toMatchObject({
      command: 'aggregate',
      results: 'shards',
    });
    expect(errorOf({ shard: 'two' })).toMatch(/^Input "shard": expected INDEX\/COUNT, e\.g\. 2\/4/);
    expect(errorOf({ command: 'drift', shard: '1/2' })).toMatch(/^Input "shard": only for command check or record/);
    expect(errorOf({ command: 'aggregate' })).toMatch(/^Input "results": required when command is "aggregate"/);
    expect(errorOf({ results: 'x' })).toMatch(/^Input "results": only for command aggregate/);
  });

  it('accepts only positive integers as pr-number', () => {
    for (const bad of ['0', '-3', '1.5', '12abc', '1e3', '99999999999999999']) {
      expect(errorOf({ 'pr-number': bad })).toMatch(/^Input "pr-number": /);
    }
  });
});

describe('readInputs', () => {
  it('masks the token before parsing anything else', () => {
    const writes: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
      writes.push(String(s));
      return true;
    });
    try {
      expect(() => readInputs((n) => ({ 'github-token': 'ghs_secret123', command: 'bogus' })[n] ?? '')).toThrow(
        /Input "command"/,
      );
    } finally {
      spy.mockRestore();
    }
    expect(writes.join('')).toContain('::add-mask::ghs_secret123');
  });
});
