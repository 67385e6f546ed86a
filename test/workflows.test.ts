/**
 * The example workflows (examples/workflows/) and this repository's own (.github/workflows/) are
 * documentation people copy, so they are linted here: every use of this action passes only inputs
 * action.yml declares (and what command: comment requires), every workflow declares permissions,
 * no run: script interpolates attacker-controlled event fields, and the privileged workflow_run
 * workflow never checks out code. The rules are plain functions over parsed YAML, so each one is
 * also shown to fire on an in-memory workflow that breaks it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from './helpers/run-action.js';

type Obj = Record<string, unknown>;
interface Step extends Obj {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Obj;
}
interface Job extends Obj {
  permissions?: unknown;
  steps?: Step[];
}
interface Workflow extends Obj {
  on?: unknown;
  permissions?: unknown;
  jobs?: Record<string, Job>;
}

const action = parse(readFileSync(join(REPO_ROOT, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { required?: boolean }>;
};
const ACTION_INPUTS = new Set(Object.keys(action.inputs));

/** `uses:` that runs this action: the published name or the repository's own root (`./`). */
function isThisAction(uses: string | undefined): boolean {
  return uses !== undefined && (/^org\/repro-gate@[^/\s]+$/.test(uses) || uses === './' || uses === '.');
}

/** The trigger names, whatever form `on:` takes (string, list or map). */
function triggers(wf: Workflow): string[] {
  const on = wf.on ?? (wf as Obj).true; // YAML 1.1 parsers read `on` as true; `yaml` (1.2) does not
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.map(String);
  return on && typeof on === 'object' ? Object.keys(on) : [];
}

function steps(wf: Workflow): Array<{ job: string; step: Step; index: number }> {
  return Object.entries(wf.jobs ?? {}).flatMap(([job, j]) =>
    (j.steps ?? []).map((step, index) => ({ job, step, index })),
  );
}

/**
 * Contexts an outsider controls (GitHub Security Lab's list, and then some): PR/issue titles and
 * bodies, comments, commit messages and authors, branch names. In a `run:` script they are pasted
 * into the shell source before it runs — pass them through `env:` instead.
 */
const UNTRUSTED = [
  /github\.event\.(?:issue|pull_request|discussion)\.(?:title|body)\b/,
  /github\.event\.(?:comment|review|review_comment)\.body\b/,
  /github\.event\.pages\b.*\.page_name\b/,
  /github\.event\.(?:commits\b.*|head_commit)\.(?:message|author)\b/,
  /github\.event\.pull_request\.head\.(?:ref|label|repo\.default_branch)\b/,
  /github\.event\.workflow_run\.(?:head_branch|head_commit|display_title|pull_requests)\b/,
  /github\.head_ref\b/,
];

/** Every `${{ … }}` expression in a string. */
function expressions(s: string): string[] {
  return [...s.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]!.trim());
}

/** Problems with one parsed workflow; `name` prefixes each message. */
function lintWorkflow(wf: Workflow, name: string): string[] {
  const problems: string[] = [];
  const where = (job: string, i: number, step: Step) =>
    `${name}: jobs.${job}.steps[${i}]${step.name ? ` (${String(step.name)})` : ''}`;

  if (!wf || typeof wf !== 'object' || !wf.jobs || typeof wf.jobs !== 'object') return [`${name}: no jobs`];

  // Least privilege starts with saying what you need: top level, or on every job.
  const unscoped = Object.entries(wf.jobs)
    .filter(([, j]) => j.permissions === undefined)
    .map(([id]) => id);
  if (wf.permissions === undefined && unscoped.length) {
    problems.push(`${name}: no top-level permissions and none on job(s) ${unscoped.join(', ')}`);
  }
  for (const [scope, perms] of [
    ['top level', wf.permissions],
    ...Object.entries(wf.jobs).map(([id, j]) => [`jobs.${id}`, j.permissions]),
  ] as const) {
    if (perms === 'write-all') problems.push(`${name}: ${scope} grants write-all`);
  }

  for (const { job, step, index } of steps(wf)) {
    if (isThisAction(step.uses)) {
      const inputs = step.with ?? {};
      for (const key of Object.keys(inputs)) {
        if (!ACTION_INPUTS.has(key))
          problems.push(
            `${where(job, index, step)}: unknown input "${key}" for ${step.uses} (action.yml declares ${[...ACTION_INPUTS].join(', ')})`,
          );
      }
      if (inputs.command === 'comment' && !String(inputs.report ?? '').trim()) {
        problems.push(
          `${where(job, index, step)}: command: comment needs the "report" input (the downloaded report JSON)`,
        );
      }
    }
    const scripts: Array<[string, unknown]> = [['run', step.run]];
    if (step.uses?.startsWith('actions/github-script@')) scripts.push(['with.script', step.with?.script]);
    for (const [field, script] of scripts) {
      if (typeof script !== 'string') continue;
      for (const expr of expressions(script)) {
        if (UNTRUSTED.some((re) => re.test(expr))) {
          problems.push(
            `${where(job, index, step)}: ${field} interpolates untrusted \${{ ${expr} }}; pass it through env: and quote "$VAR"`,
          );
        }
      }
    }
  }

  // workflow_run runs with a writable token on behalf of whatever triggered it (a fork's PR):
  // it must treat the PR's files as data and never check out, fetch or run them.
  if (triggers(wf).includes('workflow_run')) {
    for (const { job, step, index } of steps(wf)) {
      if (step.uses?.startsWith('actions/checkout@'))
        problems.push(`${where(job, index, step)}: a workflow_run workflow must not check out code`);
      if (
        typeof step.run === 'string' &&
        /\bgit\s+(?:clone|fetch|checkout|switch|pull)\b|\bgh\s+(?:pr|repo)\s+(?:checkout|clone)\b/.test(step.run)
      ) {
        problems.push(`${where(job, index, step)}: a workflow_run workflow must not fetch or check out code`);
      }
      if (step.uses?.startsWith('./'))
        problems.push(
          `${where(job, index, step)}: a workflow_run workflow must not run a local action (that needs a checkout)`,
        );
    }
  }
  return problems;
}

function workflowFiles(dir: string): string[] {
  let names: string[] = [];
  try {
    names = readdirSync(join(REPO_ROOT, dir));
  } catch {
    return [];
  }
  return names.filter((n) => /\.ya?ml$/.test(n)).map((n) => join(dir, n));
}

/** The release workflow: runs on version tags only, and may write contents (the release, the major tag). */
function isRelease(wf: Workflow): boolean {
  const on = wf.on as { push?: { tags?: string[]; branches?: unknown } } | undefined;
  return triggers(wf).join() === 'push' && !!on?.push?.tags?.length && on.push.branches === undefined;
}

const FILES = [...workflowFiles('examples/workflows'), ...workflowFiles('.github/workflows')];
const load = (rel: string) => parse(readFileSync(join(REPO_ROOT, rel), 'utf8')) as Workflow;
const byTrigger = (rel: string[], pred: (t: string[]) => boolean) => rel.filter((f) => pred(triggers(load(f))));

describe('workflow files', () => {
  it('exist in examples/workflows and .github/workflows', () => {
    expect(workflowFiles('examples/workflows').length).toBeGreaterThanOrEqual(5);
    expect(workflowFiles('.github/workflows')).toContain('.github/workflows/ci.yml');
  });

  it.each(FILES)('%s passes the lint', (file) => {
    expect(lintWorkflow(load(file), file)).toEqual([]);
  });

  it.each(FILES)('%s pins every other action by full commit SHA', (file) => {
    for (const { step } of steps(load(file))) {
      if (!step.uses || isThisAction(step.uses) || step.uses.startsWith('./') || step.uses.startsWith('docker://'))
        continue;
      expect(step.uses, `${file}: ${step.uses}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
    }
  });

  it.each(FILES)('%s checks out full history wherever it runs command: check', (file) => {
    for (const [id, job] of Object.entries(load(file).jobs ?? {})) {
      const js = job.steps ?? [];
      if (!js.some((s) => isThisAction(s.uses) && (s.with?.command ?? 'check') === 'check')) continue;
      const checkout = js.find((s) => s.uses?.startsWith('actions/checkout@'));
      expect(checkout?.with?.['fetch-depth'], `${file}: jobs.${id}`).toBe(0);
    }
  });
});

describe('the example workflows', () => {
  const examples = workflowFiles('examples/workflows');
  const uses = (wf: Workflow) => steps(wf).map((s) => s.step);
  const gate = (wf: Workflow) => uses(wf).find((s) => isThisAction(s.uses));

  it('include a PR check that uploads the report-json output', () => {
    const pr = byTrigger(examples, (t) => t.includes('pull_request'))
      .map(load)
      .filter((wf) => gate(wf)?.with?.command === 'check' && gate(wf)?.with?.shard === undefined);
    expect(pr.length).toBeGreaterThanOrEqual(1);
    for (const wf of pr) {
      const step = gate(wf)!;
      const upload = uses(wf).find((s) => s.uses?.startsWith('actions/upload-artifact@'));
      expect(step.id, 'the gate step needs an id to read its outputs').toMatch(/^[A-Za-z_][\w-]*$/);
      expect(String(upload?.with?.path)).toContain(`steps.${step.id}.outputs.report-json`);
      expect(String(upload?.if)).toMatch(/!cancelled\(\)|always\(\)/); // also when the gate failed
    }
  });

  it('include a sharded check: a matrix of shards uploads results, one aggregate job comments', () => {
    const wf = load('examples/workflows/repro-gate-sharded.yml');
    const jobs = wf.jobs as Record<string, Job & { needs?: string; strategy?: { matrix: { shard: number[] } } }>;
    const shardJob = jobs.shard!;
    const count = shardJob.strategy!.matrix.shard.length;
    const shardStep = shardJob.steps!.find((s) => s.uses?.startsWith('org/repro-gate@'))!;
    expect(shardStep.with).toMatchObject({ command: 'check', shard: `\${{ matrix.shard }}/${count}` });
    const upload = shardJob.steps!.find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(String(upload.with?.path)).toContain(`steps.${shardStep.id}.outputs.shard-result`);
    expect(String(upload.with?.name)).toMatch(/^repro-gate-shard-/);
    const agg = jobs.aggregate!;
    expect(agg.needs).toBe('shard');
    const download = agg.steps!.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect(download.with?.pattern).toBe('repro-gate-shard-*');
    const gateStep = agg.steps!.find((s) => s.uses?.startsWith('org/repro-gate@'))!;
    expect(gateStep.with).toMatchObject({ command: 'aggregate', results: download.with?.path });
  });

  it('include nightly drift and retraining checks, also startable by hand, that write only their issue', () => {
    const nightly = byTrigger(examples, (t) => t.includes('schedule')).map(load);
    expect(nightly.map((wf) => gate(wf)?.with?.command).sort()).toEqual(['check', 'drift']);
    for (const wf of nightly) {
      expect(triggers(wf)).toContain('workflow_dispatch');
      expect((wf.on as { schedule: Array<{ cron: string }> }).schedule[0]!.cron).toMatch(/^\S+ \S+ \S+ \S+ \S+$/);
      expect(gate(wf)?.with?.issue).toBe('on-failure');
      // A retraining nightly exists to train: reusing cached seeds would hide what it looks for.
      if (gate(wf)?.with?.command === 'check') expect(String(gate(wf)?.with?.cache)).toBe('false');
      const history = gate(wf)?.with?.['history-artifact'];
      expect(wf.permissions).toEqual({ contents: 'read', issues: 'write', ...(history ? { actions: 'read' } : {}) });
      if (!history) continue;
      // The history it restores is the one it uploads after the run, hidden folder included.
      const upload = uses(wf).find((s) => s.uses?.startsWith('actions/upload-artifact@') && s.with?.name === history);
      expect(upload?.with).toMatchObject({ 'include-hidden-files': true, 'retention-days': 90 });
    }
  });

  it('include the fork-safe pair: unprivileged check + privileged workflow_run comment', () => {
    const [commentFile, ...more] = byTrigger(examples, (t) => t.includes('workflow_run'));
    expect(more).toEqual([]);
    const comment = load(commentFile!);
    const on = comment.on as { workflow_run: { workflows: string[]; types: string[] } };
    expect(on.workflow_run.types).toEqual(['completed']);
    expect(comment.permissions).toEqual({ actions: 'read', 'pull-requests': 'write' });

    // Part 1: the workflow part 2 names, a pull_request check with a read-only token that uploads the report.
    const check = examples.map(load).find((wf) => on.workflow_run.workflows.includes(String(wf.name)));
    expect(check, `no workflow named ${on.workflow_run.workflows.join(', ')}`).toBeDefined();
    expect(triggers(check!)).toEqual(['pull_request']);
    expect(check!.permissions).toEqual({ contents: 'read' });
    const checkGate = gate(check!)!;
    expect(checkGate.with).toMatchObject({ command: 'check', comment: 'never' });
    const upload = uses(check!).find((s) => s.uses?.startsWith('actions/upload-artifact@'))!;
    expect(String(upload.with?.path)).toContain(`steps.${String(checkGate.id)}.outputs.report-json`);

    // Part 2: downloads that artifact from the triggering run, then posts it.
    const download = uses(comment).find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect(download.with).toMatchObject({
      name: upload.with?.name,
      'run-id': '${{ github.event.workflow_run.id }}',
      'github-token': '${{ github.token }}',
    });
    const post = gate(comment)!;
    expect(post.with?.command).toBe('comment');
    expect(String(post.with?.report)).toContain(String(download.with?.path));
    expect(String(post.with?.report)).toMatch(/\/repro-gate-report\.json$/);
    // Both halves key the comment by the same config path.
    expect(post.with?.config ?? 'repro-gate.yml').toBe(checkGate.with?.config ?? 'repro-gate.yml');
    expect(post.with?.['working-directory'] ?? '.').toBe(checkGate.with?.['working-directory'] ?? '.');
  });

  it('include a manual baseline update that records and opens a pull request', () => {
    const files = byTrigger(examples, (t) => t.length === 1 && t[0] === 'workflow_dispatch');
    const wf = files.map(load).find((w) => gate(w)?.with?.command === 'record');
    expect(wf).toBeDefined();
    expect(wf!.permissions).toEqual({ contents: 'read' });
    const [job, ...others] = Object.values(wf!.jobs!);
    expect(others).toEqual([]);
    expect(job!.permissions).toEqual({ contents: 'write', 'pull-requests': 'write' });
    const cpr = uses(wf!).find((s) => s.uses?.startsWith('peter-evans/create-pull-request@'))!;
    expect(cpr.uses).toMatch(/@[0-9a-f]{40}$/);
    expect(String(cpr.with?.['add-paths'])).toMatch(/baseline\.json/);
  });

  it('grant pull-requests: write only where a comment is posted, contents: write only for the baseline PR', () => {
    for (const file of FILES) {
      const wf = load(file);
      const scopes = [wf.permissions, ...Object.values(wf.jobs ?? {}).map((j) => j.permissions)].filter(
        (p): p is Obj => !!p && typeof p === 'object',
      );
      const grants = (perm: string) => scopes.some((p) => p[perm] === 'write');
      const g = gate(wf);
      const comments =
        !!g &&
        (g.with?.command === 'comment' ||
          (['check', undefined].includes(g.with?.command as string) &&
            g.with?.comment !== 'never' &&
            triggers(wf).includes('pull_request')));
      const opensPr = uses(wf).some((s) => s.uses?.startsWith('peter-evans/create-pull-request@'));
      expect(grants('pull-requests'), `${file}: pull-requests: write`).toBe(comments || opensPr);
      expect(grants('contents'), `${file}: contents: write`).toBe(opensPr || isRelease(wf));
      const opensIssue = !!g && g.with?.issue !== 'never' && triggers(wf).includes('schedule');
      expect(grants('issues'), `${file}: issues: write`).toBe(opensIssue);
    }
  });
});

describe('ci.yml', () => {
  const ci = load('.github/workflows/ci.yml');

  it('runs the test suite on ubuntu-latest', () => {
    const runs = Object.values(ci.jobs!)
      .filter((j) => j['runs-on'] === 'ubuntu-latest')
      .flatMap((j) => j.steps ?? [])
      .map((s) => s.run ?? '');
    expect(runs.some((r) => /bash \.ci\/run|npm test/.test(r))).toBe(true);
  });

  it('runs this action on its own example with the config relative to working-directory', () => {
    const job = Object.values(ci.jobs!).find((j) => (j.steps ?? []).some((s) => s.uses === './'))!;
    expect(job.permissions).toEqual({ contents: 'read', 'pull-requests': 'write' });
    const step = job.steps!.find((s) => s.uses === './')!;
    expect(step.with?.command).toBe('check');
    // src/action/inputs.ts: config is relative to working-directory.
    const wd = String(step.with?.['working-directory'] ?? '.');
    const config = String(step.with?.config ?? 'repro-gate.yml');
    expect(join(wd, config)).toBe(join('examples/breast-cancer-logreg', 'repro-gate.yml'));
  });
});

describe('lintWorkflow (rules shown on in-memory workflows)', () => {
  const wf = (stepsList: Step[], extra: Partial<Workflow> = {}): Workflow => ({
    on: { pull_request: {} },
    permissions: { contents: 'read' },
    jobs: { gate: { 'runs-on': 'ubuntu-latest', steps: stepsList } },
    ...extra,
  });
  const gateStep = (inputs: Record<string, unknown>, uses = 'org/repro-gate@v1'): Step => ({ uses, with: inputs });

  it('accepts a correct use of the action', () => {
    expect(
      lintWorkflow(wf([gateStep({ command: 'check', config: 'repro-gate.yml', 'fail-on': 'mismatch' })]), 'ok.yml'),
    ).toEqual([]);
  });

  it('rejects an input name action.yml does not declare, for the published action and for ./', () => {
    for (const uses of ['org/repro-gate@v1', './', 'org/repro-gate@0123456789abcdef0123456789abcdef01234567']) {
      const problems = lintWorkflow(wf([gateStep({ command: 'check', confg: 'repro-gate.yml' }, uses)]), 'typo.yml');
      expect(problems).toEqual([expect.stringMatching(/^typo\.yml: jobs\.gate\.steps\[0\]: unknown input "confg"/)]);
    }
    // Inputs of other actions are not this lint's business.
    expect(
      lintWorkflow(
        wf([{ uses: `actions/setup-python@${'a'.repeat(40)}`, with: { 'python-version': '3.12' } }]),
        'x.yml',
      ),
    ).toEqual([]);
  });

  it('requires report for command: comment', () => {
    expect(lintWorkflow(wf([gateStep({ command: 'comment' })]), 'c.yml')).toEqual([
      expect.stringContaining('needs the "report" input'),
    ]);
    expect(lintWorkflow(wf([gateStep({ command: 'comment', report: '' })]), 'c.yml')).toHaveLength(1);
  });

  it('requires permissions at the top level or on every job', () => {
    const none = wf([gateStep({})], { permissions: undefined });
    expect(lintWorkflow(none, 'p.yml')).toEqual(['p.yml: no top-level permissions and none on job(s) gate']);
    const perJob = wf([gateStep({})], { permissions: undefined });
    perJob.jobs!.gate!.permissions = { contents: 'read' };
    expect(lintWorkflow(perJob, 'p.yml')).toEqual([]);
    expect(lintWorkflow(wf([gateStep({})], { permissions: 'write-all' }), 'p.yml')).toEqual([
      'p.yml: top level grants write-all',
    ]);
  });

  it('rejects untrusted event fields interpolated into run: (but allows them through env:)', () => {
    for (const expr of [
      'github.event.pull_request.title',
      'github.event.pull_request.body',
      'github.event.pull_request.head.ref',
      'github.head_ref',
      'github.event.issue.title',
      'github.event.comment.body',
      'github.event.head_commit.message',
      'github.event.workflow_run.head_branch',
    ]) {
      const problems = lintWorkflow(wf([{ run: `echo "\${{ ${expr} }}"` }]), 'i.yml');
      expect(problems, expr).toEqual([expect.stringContaining(`run interpolates untrusted \${{ ${expr} }}`)]);
    }
    expect(
      lintWorkflow(wf([{ run: 'echo "$TITLE"', env: { TITLE: '${{ github.event.pull_request.title }}' } }]), 'i.yml'),
    ).toEqual([]);
    expect(
      lintWorkflow(wf([{ run: 'echo ${{ github.event.pull_request.number }} ${{ runner.temp }}' }]), 'i.yml'),
    ).toEqual([]);
    const script = {
      uses: `actions/github-script@${'b'.repeat(40)}`,
      with: { script: 'core.info("${{ github.event.pull_request.body }}")' },
    };
    expect(lintWorkflow(wf([script]), 'i.yml')).toEqual([
      expect.stringContaining('with.script interpolates untrusted'),
    ]);
  });

  it('rejects any checkout in a workflow_run workflow', () => {
    const on = { workflow_run: { workflows: ['x'], types: ['completed'] } };
    const comment = gateStep({ command: 'comment', report: 'r.json' });
    expect(lintWorkflow(wf([comment], { on }), 'w.yml')).toEqual([]);
    const withCheckout = wf(
      [
        { uses: `actions/checkout@${'c'.repeat(40)}`, with: { ref: '${{ github.event.workflow_run.head_sha }}' } },
        comment,
      ],
      { on },
    );
    expect(lintWorkflow(withCheckout, 'w.yml')).toEqual([expect.stringContaining('must not check out code')]);
    expect(lintWorkflow(wf([{ run: 'gh pr checkout 7' }, comment], { on }), 'w.yml')).toEqual([
      expect.stringContaining('must not fetch or check out'),
    ]);
    expect(lintWorkflow(wf([{ run: 'git fetch origin pull/7/head' }, comment], { on }), 'w.yml')).toHaveLength(1);
    expect(lintWorkflow(wf([gateStep({ command: 'comment', report: 'r.json' }, './')], { on }), 'w.yml')).toEqual([
      expect.stringContaining('local action'),
    ]);
  });

  it('reads on: as a string, a list or a map', () => {
    expect(triggers({ on: 'push' })).toEqual(['push']);
    expect(triggers({ on: ['push', 'workflow_run'] })).toEqual(['push', 'workflow_run']);
    expect(triggers({ on: { schedule: [], workflow_dispatch: null } })).toEqual(['schedule', 'workflow_dispatch']);
  });
});

describe('release.yml', () => {
  const file = '.github/workflows/release.yml';
  const release = load(file);
  const jobs = release.jobs as Record<string, Job & { needs?: string }>;
  const step = (job: string, name: string) => {
    const found = jobs[job]?.steps?.find((s) => s.name === name);
    if (!found) throw new Error(`${file}: jobs.${job} has no step "${name}"`);
    return found;
  };
  /** Runs one step's script with bash as the runner would (bash -eo pipefail), in `cwd`. */
  const runStep = (s: Step, cwd: string, env: Record<string, string>) =>
    spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', String(s.run)], {
      cwd,
      env: { PATH: process.env.PATH, ...env },
      encoding: 'utf8',
    });
  const project = (version: string, changelog: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'rg-release-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ version }));
    writeFileSync(join(dir, 'CHANGELOG.md'), changelog);
    return dir;
  };
  const CHANGELOG =
    '# Changelog\n\n## [Unreleased]\n\n- next\n\n## [1.2.3] - 2026-12-01\n\n### Added\n- the thing\n\n## [1.2.2] - 2026-11-01\n\n- older\n';

  it('runs on vX.Y.Z tags only, read-only except the job that publishes', () => {
    expect(isRelease(release)).toBe(true);
    expect((release.on as { push: { tags: string[] } }).push.tags).toEqual(['v*.*.*']);
    expect(release.permissions).toEqual({ contents: 'read' });
    expect(jobs.verify?.permissions).toBeUndefined();
    expect(jobs.release?.permissions).toEqual({ contents: 'write' });
    expect(jobs.release?.needs).toBe('verify');
  });

  it('verifies a fresh dist/ and runs the test suite before anything is published', () => {
    const fresh = String(step('verify', 'dist/ is a fresh build of the sources').run);
    expect(fresh).toMatch(/npm ci[\s\S]*npm run build[\s\S]*git diff --exit-code[^\n]*dist\//);
    expect(step('verify', 'The test suite passes').run).toBe('bash .ci/run');
    expect(String(step('release', 'Create the GitHub release').run)).toMatch(/gh release create "\$TAG" --verify-tag/);
  });

  it('moves the major tag through the API, to the tagged commit, for final versions only', () => {
    const move = step('release', 'Move the major tag to this release');
    expect(move.env).toMatchObject({ GH_TOKEN: '${{ github.token }}', TAG: '${{ github.ref_name }}' });
    const script = String(move.run);
    expect(script).toContain('major=${TAG%%.*}');
    expect(script).toMatch(
      /--method PATCH "repos\/\$GITHUB_REPOSITORY\/git\/refs\/tags\/\$major" -f sha="\$GITHUB_SHA" -F force=true/,
    );
    expect(script).toMatch(/--method POST "repos\/\$GITHUB_REPOSITORY\/git\/refs" -f ref="refs\/tags\/\$major"/);
    // The prerelease test is the script's own regular expression, run here on real tags.
    const isFinal = (tag: string) =>
      spawnSync('bash', ['-c', `[[ "$1" =~ ^v[0-9]+\\.[0-9]+\\.[0-9]+$ ]]`, '_', tag]).status === 0;
    expect(script).toContain('=~ ^v[0-9]+\\.[0-9]+\\.[0-9]+$ ]]');
    expect(['v1.2.3', 'v10.0.0'].map(isFinal)).toEqual([true, true]);
    expect(['v1.2.3-rc.1', 'v1.2', 'v1.2.3.4'].map(isFinal)).toEqual([false, false, false]);
  });

  it('passes the tag to scripts through env:, never pasted into them', () => {
    for (const { step: s } of steps(release)) expect(expressions(String(s.run ?? ''))).toEqual([]);
  });

  it('refuses a tag that does not match package.json or has no CHANGELOG.md section (run for real)', () => {
    const check = step('verify', 'The tag matches package.json and CHANGELOG.md');
    const dir = project('1.2.3', CHANGELOG);
    expect(runStep(check, dir, { TAG: 'v1.2.3' }).status).toBe(0);
    const wrong = runStep(check, dir, { TAG: 'v1.2.4' });
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toContain('::error::tag v1.2.4 does not match package.json version 1.2.3');
    const noSection = runStep(check, project('1.3.0', CHANGELOG), { TAG: 'v1.3.0' });
    expect(noSection.status).toBe(1);
    expect(noSection.stdout).toContain("CHANGELOG.md has no '## [1.3.0]' section");
  });

  it("takes the release notes from the version's CHANGELOG.md section (run for real)", () => {
    const notes = step('release', 'Release notes from CHANGELOG.md');
    const dir = project('1.2.3', CHANGELOG);
    const temp = mkdtempSync(join(tmpdir(), 'rg-runner-temp-'));
    expect(runStep(notes, dir, { TAG: 'v1.2.3', RUNNER_TEMP: temp }).status).toBe(0);
    expect(readFileSync(join(temp, 'notes.md'), 'utf8').trim()).toBe('### Added\n- the thing');
    const missing = runStep(notes, dir, { TAG: 'v9.9.9', RUNNER_TEMP: temp });
    expect(missing.status).toBe(1);
    expect(missing.stdout).toContain('::error::CHANGELOG.md has no notes for v9.9.9');
  });
});

describe('dependabot.yml', () => {
  const config = parse(readFileSync(join(REPO_ROOT, '.github/dependabot.yml'), 'utf8')) as {
    version: number;
    updates: Array<{ 'package-ecosystem': string; directory: string; schedule: { interval: string } }>;
  };

  it('updates the npm packages and the SHA-pinned actions', () => {
    expect(config.version).toBe(2);
    expect(config.updates.map((u) => u['package-ecosystem']).sort()).toEqual(['github-actions', 'npm']);
    for (const u of config.updates) {
      expect(u.directory).toBe('/');
      expect(['daily', 'weekly', 'monthly']).toContain(u.schedule.interval);
    }
  });
});

describe('release files', () => {
  it('has an MIT LICENSE matching package.json, a Keep a Changelog CHANGELOG.md and a SECURITY.md', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      license: string;
      files: string[];
    };
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(REPO_ROOT, 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) \d{4} repro-gate contributors\n/,
    );
    const changelog = readFileSync(join(REPO_ROOT, 'CHANGELOG.md'), 'utf8');
    expect(changelog).toContain('[Keep a Changelog](https://keepachangelog.com/');
    expect(changelog).toMatch(/^## \[Unreleased\]$/m);
    const security = readFileSync(join(REPO_ROOT, 'SECURITY.md'), 'utf8');
    expect(security).toMatch(/^## Reporting a vulnerability$/m);
    expect(security).toMatch(/never reach the training/i);
  });
});
