import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { INPUT_NAMES, parseInputs } from '../src/action/inputs.js';
import { REPO_ROOT } from './helpers/run-action.js';

const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
  runs: { using: string; main: string };
  inputs: Record<string, { description: string; default?: string }>;
  outputs: Record<string, { description: string }>;
  branding: { icon: string; color: string };
};

describe('action.yml', () => {
  it('runs the bundle on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(action.branding.icon && action.branding.color).toBeTruthy();
  });

  it('declares exactly the inputs the code parses, each described', () => {
    expect(Object.keys(action.inputs).sort()).toEqual([...INPUT_NAMES].sort());
    for (const input of Object.values(action.inputs)) expect(input.description.length).toBeGreaterThan(10);
    expect(action.inputs['github-token']!.default).toBe('${{ github.token }}');
  });

  it('has the same defaults as the code', () => {
    const fromYaml = parseInputs((n) => (n === 'github-token' ? 'x' : (action.inputs[n]!.default ?? '')));
    const fromCode = parseInputs((n) => (n === 'github-token' ? 'x' : ''));
    expect(fromYaml).toEqual(fromCode);
  });

  it('declares exactly the outputs the action sets, each described', () => {
    const sources = readdirSync(join(REPO_ROOT, 'src', 'action')).map((f) =>
      readFileSync(join(REPO_ROOT, 'src', 'action', f), 'utf8'),
    );
    const set = new Set(
      sources.flatMap((text) => [...text.matchAll(/core\.setOutput\('([a-z-]+)'/g)].map((m) => m[1]!)),
    );
    expect(set.size).toBeGreaterThan(0);
    expect(Object.keys(action.outputs).sort()).toEqual([...set].sort());
    for (const output of Object.values(action.outputs)) expect(output.description.length).toBeGreaterThan(10);
  });
});
