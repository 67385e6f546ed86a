/**
 * Runs training in the digest-pinned image the config names, through the docker CLI (argv only).
 * Each run gets the workspace read-only at /workspace, its own output folder writable, no network
 * by default, no new privileges, the runner's uid, and only the config's environment. Every
 * container carries labels with this gate run's id and the project's, so all of them can be found
 * and removed: at the end of this run, and by the next gate if this one was killed.
 */
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import type { GateConfig } from '../schema/config.js';
import { GateError } from '../util/errors.js';
import type { Logger } from '../util/logger.js';
import { runProcess } from './process.js';
import { prependPythonPath, type RunResult, type RunSpec, type Runtime } from './types.js';

const WORKSPACE = '/workspace';
/** Host paths outside the workspace (e.g. the probe's scratch folder) appear under this prefix. */
const OUTSIDE = '/mnt/repro-gate';
const LABEL = 'repro-gate.run';
/** Every container of one project folder, so a gate can remove those a killed gate left behind. */
const PROJECT_LABEL = 'repro-gate.project';
const PULL_ATTEMPTS = 3;

const DIGEST_RE = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

function isPinned(image: string): boolean {
  return DIGEST_RE.test(image);
}

/** Variables the docker CLI itself may need to reach the engine; nothing else of the runner's. */
const DOCKER_CLIENT_VARS = [
  'PATH',
  'HOME',
  'DOCKER_HOST',
  'DOCKER_CONFIG',
  'DOCKER_CONTEXT',
  'DOCKER_CERT_PATH',
  'DOCKER_TLS_VERIFY',
];

/** A --mount value, CSV-quoted when the path needs it (--mount is parsed as CSV, -v splits on colons). */
export function mountArg(src: string, dst: string, readonly: boolean): string {
  const field = (s: string) => (/[",]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  return ['type=bind', field(`src=${src}`), field(`dst=${dst}`), ...(readonly ? ['readonly'] : [])].join(',');
}

export interface ContainerOptions {
  /** The docker CLI; tests point it elsewhere to check the "docker missing" message. */
  docker?: string;
  runnerEnv?: NodeJS.ProcessEnv;
  /** Where the docker CLI's process groups are recorded (see process-table.ts). */
  groupsDir?: string;
}

export class ContainerRuntime implements Runtime {
  readonly kind = 'container' as const;
  readonly runId = `${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  private readonly docker: string;
  private readonly clientEnv: Record<string, string>;
  private readonly project: string;
  private readonly groupsDir: string | undefined;
  private imageId = '';
  /** The image's own PYTHONPATH (its ENV), kept behind the import hook's folder. */
  private imagePythonPath: string | undefined;
  private count = 0;

  constructor(
    private readonly config: GateConfig,
    /** config.train.image, which a container runtime cannot be without. */
    private readonly image: string,
    private readonly log: Logger,
    opts: ContainerOptions = {},
  ) {
    this.docker = opts.docker ?? 'docker';
    this.groupsDir = opts.groupsDir;
    this.project = createHash('sha256').update(path.resolve(config.root)).digest('hex').slice(0, 16);
    const runner = opts.runnerEnv ?? process.env;
    this.clientEnv = Object.fromEntries(
      DOCKER_CLIENT_VARS.flatMap((k) => {
        const value = runner[k];
        return value === undefined ? [] : [[k, value]];
      }),
    );
  }

  async prepare(): Promise<void> {
    await this.checkEngine();
    if (!isPinned(this.image)) {
      if (!this.config.train['allow-unpinned']) await this.refuseUnpinned();
      this.log.warn(
        `train.image ${this.image} is not pinned by digest (allow-unpinned: true): results may change whenever the tag moves.`,
      );
    }
    this.imageId = await this.ensureImage();
    this.imagePythonPath = await this.imageEnv('PYTHONPATH');
    await this.reapLeftovers();
  }

  /** Containers of this project still there from a gate that was killed (the caller holds the project lock). */
  private async reapLeftovers(): Promise<void> {
    const ids = (
      await this.dockerText(['ps', '-aq', '--filter', `label=${PROJECT_LABEL}=${this.project}`]).catch(() => '')
    )
      .split('\n')
      .filter(Boolean);
    if (!ids.length) return;
    this.log.warn(
      `Removing ${ids.length} training container(s) left running by an earlier repro-gate run that was stopped.`,
    );
    await this.remove(ids);
  }

  pathFor(hostPath: string): string {
    const rel = path.relative(this.config.root, hostPath);
    if (rel === '') return WORKSPACE;
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return path.posix.join(WORKSPACE, ...rel.split(path.sep));
    return path.posix.join(OUTSIDE, ...path.resolve(hostPath).split(path.sep));
  }

  async run(spec: RunSpec): Promise<RunResult> {
    const name = `repro-gate-${this.runId}-${++this.count}`;
    const env = spec.pythonPathFirst
      ? {
          ...spec.env,
          PYTHONPATH: prependPythonPath(
            this.pathFor(spec.pythonPathFirst),
            spec.env.PYTHONPATH ?? this.imagePythonPath,
          ),
        }
      : spec.env;
    const args = [
      'run',
      '--rm',
      '--init',
      '--name',
      name,
      '--label',
      `${LABEL}=${this.runId}`,
      '--label',
      `${PROJECT_LABEL}=${this.project}`,
      '--network',
      this.config.train.network,
      '--security-opt',
      'no-new-privileges',
      ...(process.getuid && process.getgid ? ['--user', `${process.getuid()}:${process.getgid()}`] : []),
      '--mount',
      mountArg(this.config.root, WORKSPACE, true),
      '--mount',
      mountArg(spec.outDir, this.pathFor(spec.outDir), false),
      '--tmpfs',
      '/tmp:exec',
      '--workdir',
      this.pathFor(spec.cwd),
      // HOME must be writable for tools that cache there; the workspace is read-only.
      ...Object.entries({ HOME: '/tmp', ...env }).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
      ...this.gpuArgs(spec),
      this.image,
      ...spec.argv,
    ];
    const result = await runProcess({
      argv: [this.docker, ...args],
      cwd: spec.cwd,
      env: this.clientEnv,
      timeoutMs: spec.timeoutMs,
      logFile: spec.logFile,
      onLine: spec.onLine,
      groupsDir: this.groupsDir,
      // Killing the docker CLI does not stop the container: remove it by name.
      onStop: () => this.remove([name]),
    });
    const missingGpu = result.tail.find((l) => /could not select device driver .* capabilities: \[\[gpu\]\]/.test(l));
    if (missingGpu) {
      throw new GateError(
        `train.gpus is ${JSON.stringify(this.config.train.gpus)}, but this Docker engine has no GPU support (${missingGpu.trim()}).`,
        'Install the NVIDIA driver and NVIDIA Container Toolkit on the runner (runs-on a GPU runner), or set train.gpus: none.',
      );
    }
    return result;
  }

  async dispose(): Promise<void> {
    const ids = (await this.dockerText(['ps', '-aq', '--filter', `label=${LABEL}=${this.runId}`]).catch(() => ''))
      .split('\n')
      .filter(Boolean);
    await this.remove(ids);
  }

  describe(): Record<string, string> {
    return { runtime: 'container', image: this.image, ...(this.imageId ? { 'image.id': this.imageId } : {}) };
  }

  /** A variable the image's ENV sets, if any (an `--env` of the same name would replace it). */
  private async imageEnv(name: string): Promise<string | undefined> {
    const text = await this.dockerText(['image', 'inspect', '--format', '{{json .Config.Env}}', this.image]).catch(
      () => 'null',
    );
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      return undefined;
    }
    const entry = Array.isArray(list)
      ? list.find((e): e is string => typeof e === 'string' && e.startsWith(`${name}=`))
      : undefined;
    return entry?.slice(name.length + 1);
  }

  private gpuArgs(spec: RunSpec): string[] {
    const { gpus } = this.config.train;
    const cpus = spec.slot ? ['--cpuset-cpus', spec.slot.cpus] : [];
    if (gpus === 'none') return cpus;
    // docker's --gpus takes a CSV field: device=0,1 must be quoted as one value.
    if (spec.slot?.gpus !== undefined) return [...cpus, '--gpus', `"device=${spec.slot.gpus}"`];
    return [...cpus, '--gpus', String(gpus)];
  }

  private async remove(ids: string[]): Promise<void> {
    if (ids.length) await this.exec(['rm', '-f', ...ids], 60_000).catch(() => undefined);
  }

  private async checkEngine(): Promise<void> {
    const r = await this.exec(['version', '--format', '{{.Server.Version}}'], 30_000);
    const output = r.tail.join(' ').trim();
    if (r.exitCode === null && /ENOENT/.test(output)) {
      throw new GateError(
        `train.image is set, but the docker command was not found (${this.docker}).`,
        'Install Docker on the runner, or remove train.image from repro-gate.yml to train on the runner itself.',
      );
    }
    if (r.exitCode !== 0) {
      throw new GateError(
        `train.image is set, but the Docker daemon cannot be reached: ${output || `docker version exited with ${r.exitCode}`}`,
        'Start the Docker daemon (or point DOCKER_HOST at it), or remove train.image from repro-gate.yml to train on the runner itself.',
      );
    }
  }

  private async refuseUnpinned(): Promise<never> {
    // Tell the user the digest the tag points to now, when the image is reachable.
    if ((await this.exec(['image', 'inspect', this.image], 30_000)).exitCode !== 0)
      await this.exec(['pull', '--quiet', this.image], 300_000);
    const repoDigests = await this.dockerText([
      'image',
      'inspect',
      '--format',
      '{{join .RepoDigests "\\n"}}',
      this.image,
    ]).catch(() => '');
    const digest = repoDigests.split('\n').find((d) => d.includes('@sha256:'));
    const pinned = digest ? digest : `${this.image.replace(/:[^/:]+$/, '')}@sha256:<digest>`;
    throw new GateError(
      `train.image "${this.image}" is not pinned by digest, so the environment could change under the same name.`,
      `Pin it in repro-gate.yml: image: ${pinned}${digest ? `   (what ${this.image} points to now)` : ''}` +
        ' — or set train.allow-unpinned: true for an experiment.',
    );
  }

  /** The image's id, pulling it first unless a pinned digest is already local (a digest never changes). */
  private async ensureImage(): Promise<string> {
    const inspectId = () =>
      this.dockerText(['image', 'inspect', '--format', '{{.Id}}', this.image]).then((id) => id.trim());
    if (isPinned(this.image)) {
      const local = await inspectId().catch(() => undefined);
      if (local) return local;
    }
    for (let attempt = 1; ; attempt++) {
      this.log.info(`Pulling ${this.image}${attempt > 1 ? ` (attempt ${attempt} of ${PULL_ATTEMPTS})` : ''}`);
      const r = await this.exec(['pull', '--quiet', this.image], 30 * 60_000);
      if (r.exitCode === 0) return inspectId();
      const output = r.tail.join('\n');
      const permanent = /manifest unknown|not found|unauthorized|denied|invalid reference/i.test(output);
      if (permanent || attempt >= PULL_ATTEMPTS) {
        throw new GateError(
          `Cannot pull train.image ${this.image}: ${r.tail.slice(-3).join(' ').trim()}`,
          permanent
            ? 'Check the image name and digest in repro-gate.yml, and that the runner is logged in to its registry (docker login).'
            : "The registry could not be reached; retry the job, or check the runner's network and registry.",
        );
      }
      await new Promise((res) => setTimeout(res, 2000 * 2 ** (attempt - 1)));
    }
  }

  private exec(args: string[], timeoutMs: number): Promise<RunResult> {
    return runProcess({ argv: [this.docker, ...args], cwd: this.config.root, env: this.clientEnv, timeoutMs });
  }

  private async dockerText(args: string[]): Promise<string> {
    const lines: string[] = [];
    const r = await runProcess({
      argv: [this.docker, ...args],
      cwd: this.config.root,
      env: this.clientEnv,
      timeoutMs: 60_000,
      onLine: (l) => lines.push(l),
    });
    if (r.exitCode !== 0) throw new Error(lines.join('\n'));
    return lines.join('\n');
  }
}
