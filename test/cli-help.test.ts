/**
 * The CLI's front door, run in-process through main(): help in every spelling, per-command help
 * with examples, the version, no command (usage on stderr, exit 2), and --json always giving exactly
 * one JSON document on stdout, usage errors included.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';
import { COMMAND_NAMES } from '../src/cli-help.js';
import { TOOL_VERSION } from '../src/util/version.js';

async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: process.cwd() });
  return { code, stdout, stderr };
}

/** stdout parsed as exactly one JSON document (JSON.parse refuses two, or trailing text). */
const oneDocument = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe('help', () => {
  it.each([['--help'], ['-h'], ['help']])('%s prints the overview on stdout, exit 0', async (...argv) => {
    const r = await cli(...argv);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(new RegExp(`^repro-gate ${TOOL_VERSION.replaceAll('.', '\\.')} — `));
    expect(r.stdout).toContain('Usage: repro-gate <command> [options]');
    for (const name of ['init', 'record', 'check', 'drift', 'equivalence', 'diagnose', 'help'])
      expect(r.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
  });

  it.each(COMMAND_NAMES)('has a page for %s, with usage, examples and exit codes', async (name) => {
    const viaHelp = await cli('help', name);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toMatch(new RegExp(`^Usage: repro-gate ${name}\\b`));
    expect(viaHelp.stdout).toMatch(new RegExp(`\\nExamples:\\n(  repro-gate ${name}.*\\n)+\\nExit: \\d`));
    // `CMD --help` and `CMD -h` give the same page.
    expect((await cli(name, '--help')).stdout).toBe(viaHelp.stdout);
    expect((await cli(name, '-h')).stdout).toBe(viaHelp.stdout);
  });

  it('refuses help for a command that does not exist, naming the real ones', async () => {
    const r = await cli('help', 'chek');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `repro-gate: No help for "chek": there is no such command.\n  → Commands: ${COMMAND_NAMES.join(', ')}.\n`,
    );
  });
});

describe('--version', () => {
  it('prints the version alone, or as {"version"} with --json', async () => {
    expect(await cli('--version')).toEqual({ code: 0, stdout: `${TOOL_VERSION}\n`, stderr: '' });
    const json = await cli('--version', '--json');
    expect(oneDocument(json.stdout)).toEqual({ version: TOOL_VERSION });
  });
});

describe('no command', () => {
  it('prints the usage on stderr and exits 2, leaving stdout empty', async () => {
    const r = await cli();
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('Usage: repro-gate <command> [options]');
    expect(r.stderr).toMatch(/repro-gate: No command given\.\n {2}→ Run `repro-gate init` to start/);
  });
});

describe('--json', () => {
  it.each([
    [[], 'No command given.'],
    [['chek'], 'Unknown command "chek".'],
    [['check', '--bogus'], "Unknown option '--bogus'"],
    [['check', 'extra'], 'Unexpected argument "extra".'],
    [['help', 'chek'], 'No help for "chek"'],
    [['diagnose', '--seed', 'x'], '--seed must be a non-negative integer'],
  ])('gives one {"error": {message, hint}} document for usage errors: %j', async (argv, message) => {
    const r = await cli(...argv, '--json');
    expect(r.code).toBe(2);
    const doc = oneDocument(r.stdout);
    expect(Object.keys(doc)).toEqual(['error']);
    expect(doc.error).toEqual({ message: expect.stringContaining(message), hint: expect.any(String) });
  });

  it('gives help as one {"help"} document', async () => {
    const r = await cli('help', 'check', '--json');
    expect(r.code).toBe(0);
    expect(oneDocument(r.stdout)).toEqual({ help: expect.stringMatching(/^Usage: repro-gate check/) });
  });
});
