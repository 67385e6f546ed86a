/**
 * examples/torch-pyconfig end to end, gated with no change to its code: a Python config file,
 * --key=value overrides, losses only printed, and a torch checkpoint that stores its config dict
 * with its own output folder. Needs Debian's python3-torch for /usr/bin/python3 (.ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../src/fingerprint/checkpoint.js';
import { HostRuntime } from '../src/runtime/host.js';
import { copyProject, git, parseJson, REPO_ROOT, runCli, withEdit } from './helpers/project.js';

const EXAMPLE = path.join(REPO_ROOT, 'examples', 'torch-pyconfig');
/** Each training is ~3 s, mostly `import torch`; generous for a busy 2-core CI machine. */
const SLOW = 240_000;

describe('examples/torch-pyconfig: a training gated as it is', () => {
  let dir: string;

  beforeAll(async () => {
    if (spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0) {
      throw new Error("Debian's python3-torch is not installed for /usr/bin/python3: run `sudo bash .ci/run`.");
    }
    dir = await copyProject(EXAMPLE);
    const r = await runCli(['record', '--json'], dir);
    if (r.code !== 0) throw new Error(`record exited ${r.code}:\n${r.stderr.slice(-3000)}`);
    const report = parseJson(r);
    // Metrics from the printed losses; the checkpoint read by content, its own output folder recognised.
    expect(report.recorded.map((m: { name: string }) => m.name)).toEqual(['train_loss', 'val_loss']);
    expect(report.warnings).toContainEqual({
      code: 'embeds-output-path',
      message:
        'ckpt.pt embeds its output path (config.out_dir); it is compared as "{out}", so the folder a run wrote to is no difference.',
    });
    git(dir, 'add', '.repro-gate/baseline.json');
    git(dir, 'commit', '-qm', 'baseline');
  }, SLOW);

  it('records the Python config and the command-line overrides as config', async () => {
    const baseline = parseJson({
      code: 0,
      stderr: '',
      stdout: await import('node:fs/promises').then((fs) =>
        fs.readFile(path.join(dir, '.repro-gate', 'baseline.json'), 'utf8'),
      ),
    });
    expect(baseline.fingerprints.config['config/train_tiny.py']).toMatchObject({
      n_layer: 2,
      learning_rate: 0.003,
      dataset: 'data/input.txt',
    });
    expect(baseline.fingerprints.config['command-line']).toEqual({ learning_rate: '3e-3', max_iters: '60' });
    const ckpt = baseline.runs[0].artifacts['ckpt.pt'];
    expect(ckpt.content).toMatchObject({ format: 'torch', embedsOut: ['config.out_dir'] });
    expect(ckpt.content.leaves['config.out_dir']).toBe('"{out}"');
    expect(ckpt.content.leaves['model.lm_head.weight']).toMatch(/^float32\[\d+,32\] [0-9a-f]{64}$/);
  });

  it(
    'reproduces in exact mode (check exits 0)',
    async () => {
      const r = await runCli(['check', '--json'], dir);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(parseJson(r)).toMatchObject({ verdict: 'reproducible', mismatches: [] });
    },
    SLOW,
  );

  it(
    'fails on a changed command-line override with config drift naming it',
    async () => {
      await withEdit(
        path.join(dir, 'repro-gate.yml'),
        (t) => t.replace('--learning_rate=3e-3', '--learning_rate=2e-3'),
        async () => {
          const r = await runCli(['check', '--json'], dir);
          expect(r.code).toBe(1);
          const report = parseJson(r);
          expect(report.verdict).toBe('mismatch');
          expect(report.drift.config).toEqual([
            { file: 'command-line', key: 'learning_rate', change: 'modified', before: '3e-3', after: '2e-3' },
          ]);
          expect(report.cause).toBe('config');
          expect(report.causeEvidence).toMatch(/^command-line\.learning_rate 3e-3 → 2e-3, and /);
        },
      );
    },
    SLOW,
  );

  it(
    'fails on a changed value in the Python config file with drift naming the key',
    async () => {
      await withEdit(
        path.join(dir, 'config', 'train_tiny.py'),
        (t) => t.replace('n_embd = 32', 'n_embd = 16'),
        async () => {
          const r = await runCli(['check', '--json'], dir);
          expect(r.code).toBe(1);
          const report = parseJson(r);
          expect(report.drift.config).toEqual([
            { file: 'config/train_tiny.py', key: 'n_embd', change: 'modified', before: 32, after: 16 },
          ]);
          expect(report.cause).toBe('config');
          // The checkpoint's tensors changed shape (listed first, at most 20 keys a seed, then a count).
          const lmHead = report.mismatches.find(
            (m: { seed: number; key?: string }) => m.seed === 0 && m.key === 'model.lm_head.weight',
          );
          expect(lmHead.baseline).toMatch(/^float32\[45,32\] /);
          expect(lmHead.candidate).toMatch(/^float32\[45,16\] /);
          expect(report.mismatches).toContainEqual(
            expect.objectContaining({ seed: 0, name: 'ckpt.pt', key: expect.stringMatching(/^… \d+ more keys$/) }),
          );
        },
      );
    },
    SLOW,
  );

  it(
    'fails on a real weight change naming the tensors, and blames the code',
    async () => {
      await withEdit(
        path.join(dir, 'train.py'),
        (t) =>
          t.replace(
            'model = GPT(len(chars))',
            'model = GPT(len(chars))\nwith torch.no_grad():\n    model.lm_head.weight.mul_(0.5)',
          ),
        async () => {
          git(dir, 'commit', '-qam', 'halve the output layer at init');
          try {
            const r = await runCli(['check', '--json'], dir);
            expect(r.code).toBe(1);
            const report = parseJson(r);
            expect(report.drift).toEqual({ data: [], config: [], environment: [] });
            expect(report.cause).toBe('code');
            const keys = report.mismatches
              .filter((m: { kind: string }) => m.kind === 'artifact')
              .map((m: { key: string }) => m.key);
            expect(keys).toContain('model.lm_head.weight');
            expect(keys).not.toContain('config.out_dir');
            const terminal = await runCli(['check'], dir);
            expect(terminal.stdout).toMatch(
              /^0 +artifact +ckpt\.pt › model\.lm_head\.weight +float32\[45,32\] [0-9a-f]{12} +float32\[45,32\] [0-9a-f]{12}/m,
            );
          } finally {
            git(dir, 'revert', '--no-edit', 'HEAD');
          }
        },
      );
    },
    SLOW,
  );

  it(
    'is deterministic on its own (diagnose exits 0)',
    async () => {
      const r = await runCli(['diagnose', '--json'], dir);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      expect(parseJson(r)).toMatchObject({ deterministic: true, cause: 'none', runs: 2, differences: [] });
    },
    SLOW,
  );

  it(
    'exits 2 naming file, line and column for a syntax error in the Python config',
    async () => {
      await withEdit(
        path.join(dir, 'config', 'train_tiny.py'),
        (t) => t.replace('n_layer = 2', 'n_layer = (2'),
        async () => {
          const r = await runCli(['drift'], dir);
          expect(r.code).toBe(2);
          expect(r.stderr).toMatch(/^repro-gate: config\/train_tiny\.py:\d+:\d+: invalid Python: /m);
        },
      );
    },
    SLOW,
  );

  it(
    'compares a checkpoint that cannot be read safely by its bytes, and says why',
    async () => {
      await writeFile(
        path.join(dir, 'evil.py'),
        'import os, sys, torch\nclass Evil:\n    def __reduce__(self):\n        return (os.system, ("touch PWNED",))\nos.makedirs(sys.argv[1], exist_ok=True)\ntorch.save({"x": Evil()}, os.path.join(sys.argv[1], "ckpt.pt"))\nprint("val loss 1.0, train loss 1.0")\n',
      );
      await writeFile(
        path.join(dir, 'evil.yml'),
        "version: 1\ntrain:\n  command: [/usr/bin/python3, evil.py, '{out}']\nseeds: [0]\nmode: exact\nmetrics:\n  pattern: 'val loss (?<val_loss>[0-9.]+)'\n  val_loss: {}\nartifacts: [ckpt.pt]\nbaseline: .repro-gate/evil.json\n",
      );
      const r = await runCli(['record', '--json', '--config', 'evil.yml'], dir);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      const w = parseJson(r).warnings.find((x: { code: string }) => x.code === 'checkpoint-bytes');
      expect(w.message).toMatch(
        /^ckpt\.pt is compared by its bytes, not by content: it could not be read as a torch checkpoint \(UnpicklingError: it references posix\.system/,
      );
      expect(spawnSync('test', ['-e', path.join(dir, 'PWNED')]).status).toBe(1);
    },
    SLOW,
  );
});

describe('torch checkpoints compared by content', () => {
  const python = {
    runtime: new HostRuntime(),
    command: ['/usr/bin/python3'],
    cwd: os.tmpdir(),
    env: { PATH: process.env.PATH ?? '' },
    timeoutMs: 120_000,
  };

  async function save(dir: string, body: string): Promise<string> {
    await mkdir(dir, { recursive: true });
    const script = `import torch, sys, os\nout = sys.argv[1]\ntorch.manual_seed(0)\n${body}\n`;
    const r = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return path.join(dir, 'ckpt.pt');
  }

  it(
    'reads the same content from runs written to different folders, and tells weights from metadata',
    async () => {
      const root = await mkdtemp(path.join(os.tmpdir(), 'rg-ckpt-'));
      const body = `w = torch.randn(3, 4)\ntorch.save({"model": {"w": w, "h": w.to(torch.bfloat16)}, "config": {"out_dir": out, "log": os.path.join(out, "log.txt"), "lr": 1e-3}, "steps": [1, 2]}, os.path.join(out, "ckpt.pt"))`;
      const a = await readCheckpoint(python, await save(path.join(root, 'a'), body), path.join(root, 'a'));
      const b = await readCheckpoint(python, await save(path.join(root, 'b'), body), path.join(root, 'b'));
      if (!('content' in a) || !('content' in b)) throw new Error(JSON.stringify([a, b]));
      expect(a.content).toEqual(b.content); // the folder each run wrote to is no difference
      expect(a.content.embedsOut).toEqual(['config.log', 'config.out_dir']);
      expect(a.content.leaves).toMatchObject({
        'config.out_dir': '"{out}"',
        'config.log': '"{out}/log.txt"',
        'config.lr': '0.001',
        'steps.0': '1',
      });
      expect(a.content.leaves['model.h']).toMatch(/^bfloat16\[3,4\] [0-9a-f]{64}$/);
      // Same weights, another learning rate in the metadata: only `values` changes.
      const c = await readCheckpoint(
        python,
        await save(path.join(root, 'c'), body.replace('1e-3', '2e-3')),
        path.join(root, 'c'),
      );
      if (!('content' in c)) throw new Error(JSON.stringify(c));
      expect([c.content.tensors === a.content.tensors, c.content.values === a.content.values]).toEqual([true, false]);
    },
    SLOW,
  );

  it(
    'diagnose: a checkpoint that differs only in a timestamp is a deterministic training, and says what to leave out',
    async () => {
      const dir = await copyProject(EXAMPLE);
      await writeFile(
        path.join(dir, 'stamp.py'),
        'import os, sys, time, torch\ntorch.manual_seed(0)\nos.makedirs(sys.argv[1], exist_ok=True)\ntorch.save({"w": torch.randn(4), "saved_at": time.time()}, os.path.join(sys.argv[1], "ckpt.pt"))\nprint("val loss 1.0")\n',
      );
      await writeFile(
        path.join(dir, 'stamp.yml'),
        "version: 1\ntrain:\n  command: [/usr/bin/python3, stamp.py, '{out}']\nseeds: [0]\nmode: exact\nmetrics:\n  pattern: 'val loss (?<val_loss>[0-9.]+)'\n  val_loss: {}\nartifacts: [ckpt.pt]\nbaseline: .repro-gate/stamp.json\n",
      );
      const r = await runCli(['diagnose', '--json', '--config', 'stamp.yml'], dir);
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      const d = parseJson(r);
      expect(d).toMatchObject({ deterministic: true, cause: 'none', runs: 2 });
      expect(d.differences).toEqual([
        expect.objectContaining({
          kind: 'artifact',
          name: 'ckpt.pt',
          detail: 'metadata only: saved_at (every tensor bit-identical)',
        }),
      ]);
      expect(d.evidence).toMatch(
        /only checkpoint metadata differs: ckpt\.pt \(saved_at\)\. The training stores something that changes on every run/,
      );
      expect(d.artifacts[0]).toMatchObject({ name: 'ckpt.pt', format: 'torch', arrays: [], arraysOmitted: 1 });
      expect(d.artifacts[0].notes[0]).toMatch(/^saved_at: \d+\.\d+ → \d+\.\d+$/);
    },
    SLOW,
  );
});
