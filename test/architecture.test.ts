/**
 * The layering in ARCHITECTURE.md, enforced: every import inside src/ points down (or within its own
 * folder), and no file imports itself back through a cycle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/project.js';

const SRC = path.join(REPO_ROOT, 'src');

/** What each layer may import besides itself, lowest first (keep in step with ARCHITECTURE.md). */
const ALLOWED: Record<string, string[]> = {
  util: [],
  schema: ['util'],
  stats: ['util'],
  runtime: ['schema', 'util'],
  report: ['schema', 'util'],
  drift: ['schema', 'util'],
  history: ['schema', 'util'],
  config: ['schema', 'util'],
  baseline: ['schema', 'util'],
  cache: ['schema', 'util'],
  fingerprint: ['runtime', 'schema', 'util'],
  compare: ['stats', 'schema', 'util'],
  train: ['fingerprint', 'runtime', 'schema', 'util'],
  diagnose: ['train', 'fingerprint', 'runtime', 'schema', 'util'],
  gate: [
    'cache',
    'diagnose',
    'train',
    'compare',
    'fingerprint',
    'drift',
    'history',
    'config',
    'baseline',
    'report',
    'runtime',
    'stats',
    'schema',
    'util',
  ],
  github: ['util'],
  action: ['cache', 'gate', 'github', 'report', 'schema', 'util'],
  // The two entry points: src/cli.ts (the bin) and src/index.ts (the action bundle).
  '(entry)': ['action', 'gate', 'report', 'schema', 'util'],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? sourceFiles(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : [],
  );
}

function layerOf(file: string): string {
  const rel = path.relative(SRC, file).split(path.sep);
  return rel.length === 1 ? '(entry)' : rel[0]!;
}

/** Relative imports of a file (type-only imports included: a type points at a layer too), resolved to .ts files. */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts'));
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(SRC))]));
const rel = (f: string) => path.relative(REPO_ROOT, f);

describe('architecture', () => {
  it('knows every folder under src/', () => {
    expect(files.map(layerOf).filter((l) => !(l in ALLOWED))).toEqual([]);
  });

  it('has no upward or sideways imports between layers', () => {
    const bad: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const from = layerOf(file);
        const to = layerOf(target);
        if (from !== to && !ALLOWED[from]!.includes(to)) bad.push(`${rel(file)} (${from}) → ${rel(target)} (${to})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('has no import cycles between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      state.set(f, 'open');
      stack.push(f);
      for (const t of graph.get(f) ?? []) {
        if (state.get(t) === 'open') cycles.push([...stack.slice(stack.indexOf(t)), t].map(rel).join(' → '));
        else if (!state.has(t)) visit(t);
      }
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of files) if (!state.has(f)) visit(f);
    expect(cycles).toEqual([]);
  });

  it('catches a violation (the check itself can fail)', () => {
    // report/ rendering the gate's logic would be an upward import.
    expect(ALLOWED.report).not.toContain('gate');
    expect(layerOf(path.join(SRC, 'report', 'markdown.ts'))).toBe('report');
    expect(importsOf(path.join(SRC, 'gate', 'check.ts')).some((t) => layerOf(t) === 'compare')).toBe(true);
  });
});
