/**
 * Every action input, parsed in one place into a typed object. Errors name the input and the
 * accepted values. Defaults here mirror action.yml, so a missing INPUT_* variable (local runs,
 * tests) behaves like the documented default.
 */
import * as core from '@actions/core';
import { z } from 'zod';
import { FAILING_VERDICTS, VERDICTS, type Verdict } from '../schema/report.js';
import { GateError } from '../util/errors.js';

const COMMANDS = ['check', 'record', 'drift', 'aggregate', 'comment'] as const;
const COMMENT_MODES = ['on-change', 'always', 'never'] as const;
const ISSUE_MODES = ['on-failure', 'never'] as const;

type ActionCommand = (typeof COMMANDS)[number];
type CommentMode = (typeof COMMENT_MODES)[number];

interface CommonInputs {
  /** Path to repro-gate.yml, relative to `workingDirectory`. */
  config: string;
  /** Relative to GITHUB_WORKSPACE. */
  workingDirectory: string;
  /** Empty: no token, so no comment (the summary needs none). */
  token: string;
  comment: CommentMode;
  /** Login the token comments as, for GitHub App tokens other than GITHUB_TOKEN. */
  commentAuthor?: string;
  /** Verdicts that fail the step; empty (`fail-on: none`) never fails on a verdict. */
  failOn: Verdict[];
  /** Where to write the JSON report; undefined = `$RUNNER_TEMP/repro-gate-report.json`. */
  reportFile?: string;
  /** command: comment — the PR to comment on, cross-checked against the report. */
  prNumber?: number;
  /** The pull-request label that accepts a change to the baseline or gate settings. */
  baselineLabel: string;
  /** check/record: train only this shard's seeds ("2/4") and write a partial result. */
  shard?: string;
  /** aggregate: the folder the shards' results were downloaded to. */
  results?: string;
  /** Reuse and save seed results through the GitHub Actions cache. */
  cache: boolean;
  /**
   * on-failure: open (or update) one issue when the run fails, close it when a later run passes;
   * undefined: on-failure for drift, and for check on schedule/workflow_dispatch events; else never.
   */
  issue?: (typeof ISSUE_MODES)[number];
  /** The artifact the metrics history is restored from before the gate runs (when the project has none). */
  historyArtifact?: string;
}

/** Command "comment" cannot run without the report file, so for it the type says the file is there. */
export type ActionInputs = CommonInputs &
  (
    | {
        command: 'comment';
        /** The downloaded report file (untrusted). */
        report: string;
      }
    | { command: Exclude<ActionCommand, 'comment'>; report?: string }
  );

export const INPUT_NAMES = [
  'command',
  'config',
  'working-directory',
  'github-token',
  'comment',
  'comment-author',
  'fail-on',
  'report-file',
  'report',
  'pr-number',
  'baseline-label',
  'shard',
  'results',
  'cache',
  'issue',
  'history-artifact',
] as const;
export type InputName = (typeof INPUT_NAMES)[number];

const oneOf = <T extends string>(values: readonly [T, ...T[]], what: string) =>
  z.enum(values, {
    error: (iss) => `unknown ${what} ${JSON.stringify(iss.input)}; expected one of ${values.join(', ')}`,
  });

const path = z.string().refine((s) => !s.includes('\0'), 'must not contain NUL characters');

const optional = <T extends z.ZodType<unknown, string>>(schema: T) =>
  z
    .string()
    .transform((s) => (s === '' ? undefined : s))
    .pipe(schema.optional());

/** "a, b\nc" → ["a", "b", "c"]; the single word `none` means an empty list. */
const list = (s: string) => {
  const items = s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);
  return items.length === 1 && items[0] === 'none' ? [] : items;
};

const schemas = {
  command: z
    .string()
    .transform((s) => s || 'check')
    .pipe(oneOf(COMMANDS, 'command')),
  config: z
    .string()
    .transform((s) => s || 'repro-gate.yml')
    .pipe(path),
  'working-directory': z
    .string()
    .transform((s) => s || '.')
    .pipe(path),
  'github-token': z.string(),
  comment: z
    .string()
    .transform((s) => s || 'on-change')
    .pipe(oneOf(COMMENT_MODES, 'comment mode')),
  'comment-author': optional(
    z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$/, 'expected a GitHub login such as my-app[bot]'),
  ),
  'fail-on': z
    .string()
    .transform((s) => (s === '' ? [...FAILING_VERDICTS] : list(s)))
    .pipe(z.array(oneOf(VERDICTS, 'verdict'))),
  'report-file': optional(path),
  report: optional(path),
  'pr-number': optional(
    z
      .string()
      .regex(/^[1-9][0-9]{0,15}$/, 'expected a positive integer (the pull request number)')
      .transform(Number)
      .pipe(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)),
  ),
  'baseline-label': z
    .string()
    .transform((s) => s || 'baseline-update')
    .pipe(z.string().max(50, 'a GitHub label has at most 50 characters')),
  shard: optional(
    z.string().regex(/^\d{1,4}\/\d{1,4}$/, 'expected INDEX/COUNT, e.g. 2/4 (the matrix value and the shard count)'),
  ),
  results: optional(path),
  cache: z
    .string()
    .transform((s) => s || 'true')
    .pipe(oneOf(['true', 'false'], 'value'))
    .transform((s) => s === 'true'),
  issue: optional(oneOf(ISSUE_MODES, 'issue mode')),
  'history-artifact': optional(
    z.string().regex(/^[\w.-]{1,100}$/, 'expected an artifact name (letters, digits, ".", "_", "-")'),
  ),
} satisfies Record<InputName, z.ZodType>;

type Parsed = { [K in InputName]: z.output<(typeof schemas)[K]> };

function parseOne<K extends InputName>(name: K, raw: string): Parsed[K] {
  const r = schemas[name].safeParse(raw);
  if (r.success) return r.data as Parsed[K];
  throw new GateError(`Input "${name}": ${r.error.issues[0]?.message ?? 'invalid value'}`);
}

/** Pure: raw strings (as core.getInput returns them, trimmed, '' when unset) → typed inputs. */
export function parseInputs(get: (name: InputName) => string): ActionInputs {
  const p = <K extends InputName>(name: K) => parseOne(name, get(name));
  const { command, report, ...common } = {
    command: p('command'),
    config: p('config'),
    workingDirectory: p('working-directory'),
    token: p('github-token'),
    comment: p('comment'),
    commentAuthor: p('comment-author'),
    failOn: [...new Set(p('fail-on'))],
    reportFile: p('report-file'),
    report: p('report'),
    prNumber: p('pr-number'),
    baselineLabel: p('baseline-label'),
    shard: p('shard'),
    results: p('results'),
    cache: p('cache'),
    issue: p('issue'),
    historyArtifact: p('history-artifact'),
  };
  if (common.shard && command !== 'check' && command !== 'record')
    throw new GateError(`Input "shard": only for command check or record, not "${command}"`);
  if (command === 'aggregate' && !common.results)
    throw new GateError(
      'Input "results": required when command is "aggregate" (the folder the shard artifacts were downloaded to)',
    );
  if (common.results && command !== 'aggregate')
    throw new GateError(`Input "results": only for command aggregate, not "${command}"`);
  if (command !== 'comment') return { ...common, command, report };
  if (!report)
    throw new GateError('Input "report": required when command is "comment" (the downloaded report JSON file)');
  if (common.comment === 'never') throw new GateError('Input "comment": "never" contradicts command "comment"');
  if (!common.token) throw new GateError('Input "github-token": required when command is "comment"');
  return { ...common, command, report };
}

/** Reads the real inputs. The token is masked before anything else can log it. */
export function readInputs(get: (name: string) => string = (n) => core.getInput(n)): ActionInputs {
  const token = get('github-token');
  if (token) core.setSecret(token);
  return parseInputs((name) => (name === 'github-token' ? token : get(name)));
}
