/**
 * A real Docker engine, a local registry and digest-pinned test images, brought up by the same
 * scripts CI runs (idempotent, seconds when already up). Needs root on Debian.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './project.js';

export interface TestImages {
  base: string;
  variant: string;
  variantDist: string;
  registry: string;
}

const IMAGES_ENV = path.join(REPO_ROOT, 'test', '.images.env');

function docker(...args: string[]): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function ensureTestImages(): TestImages {
  const run = (script: string) =>
    execFileSync('bash', [path.join(REPO_ROOT, 'scripts', 'ci', script)], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, REPRO_GATE_TEST_IMAGE_SET: 'base variant' },
    });
  try {
    docker('info', '--format', '{{.ServerVersion}}');
  } catch {
    run('docker-up.sh');
  }
  run('build-test-images.sh');
  if (!existsSync(IMAGES_ENV)) throw new Error(`scripts/ci/build-test-images.sh did not write ${IMAGES_ENV}`);
  const env = Object.fromEntries(
    readFileSync(IMAGES_ENV, 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  return {
    base: env.REPRO_GATE_TEST_IMAGE_BASE!,
    variant: env.REPRO_GATE_TEST_IMAGE_VARIANT!,
    variantDist: env.REPRO_GATE_TEST_IMAGE_VARIANT_EXTRA_DIST!,
    registry: env.REPRO_GATE_TEST_REGISTRY!,
  };
}

/** Containers any gate run started (they all carry this label). */
export function gateContainers(): string[] {
  return docker('ps', '-aq', '--filter', 'label=repro-gate.run').split('\n').filter(Boolean);
}
