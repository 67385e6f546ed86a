/**
 * The container runtime against a real Docker engine and a local registry: the example trained in
 * a digest-pinned image built from Debian packages, pulled by digest.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/load.js';
import { ContainerRuntime, mountArg } from '../src/runtime/container.js';
import { ensureTestImages, gateContainers, type TestImages } from './helpers/docker.js';
import { captureLogger } from './helpers/logger.js';
import { CLI, copyExample, git, parseJson, runCli } from './helpers/project.js';

let images: TestImages;
let dir: string;

function config(image: string, extra: Record<string, string> = {}): string {
  const train = { command: '[python3, train.py, --seed, "{seed}", --out, "{out}"]', timeout: '2m', ...extra };
  return `version: 1
train:
  image: ${image}
${Object.entries(train)
  .map(([k, v]) => `  ${k}: ${v}`)
  .join('\n')}
  env: {PYTHONHASHSEED: "0"}
seeds: 2
mode: exact
metrics:
  file: metrics.json
  accuracy: {margin: 0.01}
  loss: {margin: 5%}
artifacts: [model.json]
data: [data/]
config: [params.json]
baseline: .repro-gate/container-baseline.json
`;
}

async function useConfig(name: string, text: string): Promise<string> {
  await writeFile(path.join(dir, name), text);
  return name;
}

beforeAll(async () => {
  images = ensureTestImages();
  dir = await copyExample();
  const recorded = await runCli(['record', '--config', await useConfig('c.yml', config(images.base))], dir);
  expect(recorded.code, recorded.stderr).toBe(0);
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'container baseline');
}, 600_000);

describe('container runtime', () => {
  it('records and checks the example in the pinned image: reproducible, with the image in the fingerprint', async () => {
    const r = await runCli(['check', '--json', '--config', 'c.yml'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r).verdict).toBe('reproducible');
    const baseline = JSON.parse(await readFile(path.join(dir, '.repro-gate', 'container-baseline.json'), 'utf8'));
    expect(baseline.fingerprints.environment).toMatchObject({
      runtime: 'container',
      image: images.base,
      'python.version': '3.11.2',
      os: 'Debian GNU/Linux 12 (bookworm)',
    });
    expect(baseline.fingerprints.environment['image.id']).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The import hook ran inside the container: the standard-library training imports no distribution.
    expect(baseline.runs.map((r: { packages?: string[] }) => r.packages)).toEqual([[], []]);
    expect(gateContainers()).toEqual([]);
  });

  it('shows a second image as drift, with both digests; its extra package, never imported, is folded', async () => {
    const r = await runCli(
      ['drift', '--json', '--config', await useConfig('variant.yml', config(images.variant))],
      dir,
    );
    expect(r.code).toBe(1);
    const env = parseJson(r).drift.environment as { key: string; change: string; before?: string; after?: string }[];
    expect(env[0]).toEqual({ key: 'image', change: 'modified', before: images.base, after: images.variant });
    expect(env).toContainEqual(expect.objectContaining({ key: 'image.id', change: 'modified' }));
    const [name, version] = images.variantDist.split('==');
    expect(env.filter((e) => e.key.startsWith('package.'))).toEqual([]);
    // Nothing else about the Python environment changed; the new package shows, folded.
    expect(parseJson(r).drift.noise).toEqual([
      { key: `package.${name}`, change: 'added', after: version, reason: 'not-imported' },
    ]);
  });

  it('refuses a tag-only image and shows the digest the tag points to now', async () => {
    const tag = images.base.replace(/@sha256:.*/, ':base');
    const r = await runCli(['check', '--config', await useConfig('tag.yml', config(tag))], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`train.image "${tag}" is not pinned by digest`);
    expect(r.stderr).toContain(
      `Pin it in repro-gate.yml: image: ${images.base.replace(/^localhost:5000/, images.registry)}`,
    );
    expect(r.stderr).toContain('allow-unpinned: true');
  });

  it('stops a run past its timeout, exits 2 and leaves no container', async () => {
    const sleepy = config(images.base, {
      command: '[python3, -c, "import time; print(\'training\', flush=True); time.sleep(120)"]',
      timeout: '4s',
    });
    const r = await runCli(['record', '--config', await useConfig('slow.yml', sleepy)], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Seed 0: training timed out after 4\.0s and was stopped\. Last output:\n {4}training/);
    expect(gateContainers()).toEqual([]);
  });

  it('removes the container when the runner cancels the job (SIGTERM)', async () => {
    const sleepy = config(images.base, {
      command: '[python3, -c, "import time; print(\'training\', flush=True); time.sleep(120)"]',
    });
    await useConfig('cancel.yml', sleepy);
    const child = spawn(process.execPath, [CLI, 'record', '--config', 'cancel.yml'], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((res) => child.on('close', res));
    const deadline = Date.now() + 60_000;
    while (!stderr.includes('[seed 0] training') && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 200));
    expect(gateContainers()).toHaveLength(1);
    child.kill('SIGTERM');
    expect(await exited).toBe(143);
    expect(stderr).toContain('SIGTERM received; stopping the training');
    expect(gateContainers()).toEqual([]);
  });

  it('gives the container no network, a read-only workspace and only the config environment', async () => {
    const probe = [
      'import json, os, socket, sys',
      'names = sorted(n for _, n in socket.if_nameindex())',
      'try:',
      '    socket.create_connection(("127.0.0.1", 5000), timeout=3); registry = "reachable"',
      'except OSError as e:',
      '    registry = type(e).__name__',
      'try:',
      '    open("/workspace/params.json", "a"); workspace = "writable"',
      'except OSError:',
      '    workspace = "read-only"',
      // PATH, HOSTNAME and LANG come from Docker and the image itself, not from the runner.
      'env = {k: v for k, v in os.environ.items() if k not in ("PATH", "HOSTNAME", "LANG")}',
      // Every process it can see, with any token found in their environments (host mode would see the runner's).
      'procs, tokens = [], []',
      'for p in filter(str.isdigit, os.listdir("/proc")):',
      '    try:',
      '        procs.append(open("/proc/%s/cmdline" % p, "rb").read().split(b"\\0")[0].decode())',
      '        tokens += [l for l in open("/proc/%s/environ" % p, "rb").read().split(b"\\0") if b"TOKEN" in l]',
      '    except OSError:',
      '        pass',
      'json.dump({"accuracy": 1, "loss": 1, "names": names, "registry": registry, "workspace": workspace, "env": env, "uid": os.getuid(), "procs": procs, "tokens": len(tokens)}, open(sys.argv[1] + "/metrics.json", "w"))',
    ].join('\n');
    const cfg = config(images.base, { command: JSON.stringify(['python3', '-c', probe, '{out}']) }).replace(
      'artifacts: [model.json]',
      'artifacts: []',
    );
    const r = await runCli(['record', '--config', await useConfig('probe.yml', cfg)], dir, {
      ...process.env,
      GITHUB_TOKEN: 'ghs_must_not_leak',
      ACTIONS_RUNTIME_TOKEN: 'nope',
    });
    expect(r.code, r.stderr).toBe(0);
    const seen = JSON.parse(await readFile(path.join(dir, '.repro-gate', 'out', 'seed-0', 'metrics.json'), 'utf8'));
    expect(seen.names).toEqual(['lo']);
    expect(seen.registry).toBe('ConnectionRefusedError'); // the host's registry listens there, but not in this namespace
    expect(seen.workspace).toBe('read-only');
    expect(seen.uid).toBe(process.getuid!());
    // Its own PID namespace: the init shim and itself, never the runner's processes or their tokens.
    expect(seen.procs.sort()).toEqual(['/sbin/docker-init', 'python3']);
    expect(seen.tokens).toBe(0);
    expect(seen.env).toEqual({
      HOME: '/tmp',
      PYTHONUNBUFFERED: '1',
      PYTHONHASHSEED: '0',
      REPRO_GATE_SEED: '0',
      REPRO_GATE_OUT: '/workspace/.repro-gate/out/seed-0',
      // The import hook: first on PYTHONPATH (read-only in the workspace), writing into {out}.
      PYTHONPATH: '/workspace/.repro-gate/out/import-hook',
      REPRO_GATE_IMPORTS: '/workspace/.repro-gate/out/seed-0/.repro-gate-imports',
    });
  });

  it("keeps the image's own PYTHONPATH behind the import hook's folder", async () => {
    // An image whose ENV sets PYTHONPATH to a module the training imports.
    const ctx = await mkdtemp(path.join(os.tmpdir(), 'rg-imgenv-'));
    await writeFile(path.join(ctx, 'imgmod.py'), 'VALUE = 11\n');
    await writeFile(
      path.join(ctx, 'Dockerfile'),
      `FROM ${images.base}\nENV PYTHONPATH=/opt/imglib\nCOPY imgmod.py /opt/imglib/imgmod.py\n`,
    );
    const tag = `${images.base.replace(/@sha256:.*/, '')}:imgenv`;
    execFileSync('docker', ['build', '-q', '-t', tag, ctx], { stdio: 'pipe' });
    execFileSync('docker', ['push', '-q', tag], { stdio: 'pipe' });
    const pinned = execFileSync('docker', ['inspect', '--format', '{{index .RepoDigests 0}}', tag], {
      encoding: 'utf8',
    }).trim();
    const train =
      "import imgmod, json, sys; json.dump({'accuracy': imgmod.VALUE, 'loss': 1}, open(sys.argv[1] + '/metrics.json', 'w'))";
    const cfg = config(pinned, { command: JSON.stringify(['python3', '-c', train, '{out}']) })
      .replace('artifacts: [model.json]', 'artifacts: []')
      .replace('container-baseline.json', 'imgenv-baseline.json');
    const r = await runCli(['record', '--json', '--config', await useConfig('imgenv.yml', cfg)], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(parseJson(r).recorded).toContainEqual(expect.objectContaining({ name: 'accuracy', mean: 11 }));
    const baseline = JSON.parse(await readFile(path.join(dir, '.repro-gate', 'imgenv-baseline.json'), 'utf8'));
    expect(baseline.runs.map((run: { packages?: string[] }) => run.packages)).toEqual([[], []]);
  });

  it('says plainly when GPUs are asked for but the engine has none', async () => {
    const r = await runCli(
      ['record', '--config', await useConfig('gpu.yml', config(images.base, { gpus: 'all' }))],
      dir,
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/train\.gpus is "all", but this Docker engine has no GPU support/);
    expect(r.stderr).toMatch(/NVIDIA Container Toolkit/);
  });
});

describe('container runtime errors', () => {
  const cfg = () => parseConfig(config(images.base), path.join(dir, 'c.yml'));

  it('names the setting when docker is missing', async () => {
    const rt = new ContainerRuntime(cfg(), images.base, captureLogger(), { docker: '/nonexistent/docker' });
    await expect(rt.prepare()).rejects.toMatchObject({
      message: 'train.image is set, but the docker command was not found (/nonexistent/docker).',
      hint: expect.stringMatching(/remove train\.image/),
    });
  });

  it('names the setting when the daemon is unreachable', async () => {
    const rt = new ContainerRuntime(cfg(), images.base, captureLogger(), {
      runnerEnv: { PATH: process.env.PATH, DOCKER_HOST: 'unix:///nonexistent/docker.sock' },
    });
    await expect(rt.prepare()).rejects.toMatchObject({
      message: expect.stringMatching(
        /^train\.image is set, but the Docker daemon cannot be reached: .*nonexistent\/docker\.sock/,
      ),
      hint: expect.stringMatching(/DOCKER_HOST/),
    });
  });

  it('quotes mount paths that would break --mount parsing', () => {
    expect(mountArg('/a/b', '/workspace', true)).toBe('type=bind,src=/a/b,dst=/workspace,readonly');
    expect(mountArg('/a,b/"c"', '/out', false)).toBe('type=bind,"src=/a,b/""c""",dst=/out');
  });
});
