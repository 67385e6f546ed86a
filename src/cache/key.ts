/**
 * The run cache's key (pure). A seed's result is reused only when everything that could change it
 * is identical, so the key hashes all of it: the code, the data and config fingerprints, the
 * settings that shape a run, the whole environment fingerprint, and the seed. What only decides
 * how runs are compared (margins, alpha, mode, the seed list) is left out: changing it re-judges
 * the same runs instead of retraining them.
 */
import type { Fingerprints } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import { canonicalJson, sha256Hex } from '../util/canonical-json.js';

/** Bumped when a cached entry's meaning changes, so older entries simply miss. */
const RUN_CACHE_FORMAT = 1;

export interface RunKeyInput {
  config: GateConfig;
  /** Hash of the code tree (fingerprint/git.ts codeTree). */
  code: string;
  fingerprints: Fingerprints;
  /** Facts the runtime adds (image digest and id), already part of the environment fingerprint. */
  toolVersion: string;
}

/** The parts of the key, each hashed, as documented in the README. */
export function runKeyParts(input: RunKeyInput): Record<string, string> {
  const { config, fingerprints } = input;
  const t = config.train;
  return {
    format: String(RUN_CACHE_FORMAT),
    tool: input.toolVersion,
    code: input.code,
    data: sha256Hex(canonicalJson(fingerprints.data)),
    config: sha256Hex(canonicalJson(fingerprints.config)),
    environment: sha256Hex(canonicalJson(fingerprints.environment)),
    training: sha256Hex(
      canonicalJson({
        command: t.command,
        image: t.image ?? null,
        env: t.env,
        gpus: t.gpus,
        network: t.network,
        parallel: t.parallel,
        launcher: t.launcher ?? null,
        distributed: t.distributed ?? null,
        // What a run record holds: a changed list of metrics or artifacts needs new runs.
        metricsFile: config.metricsFile,
        metricPatterns: config.metricPatterns,
        metrics: config.metrics.map((m) => m.name),
        artifacts: config.artifacts,
        resolvedConfig: config.resolvedConfig,
      }),
    ),
  };
}

/** One key for the whole set of runs (shown in the report); each seed's entry key derives from it. */
export function runKey(parts: Record<string, string>): string {
  return sha256Hex(canonicalJson(parts));
}

export function seedKey(key: string, seed: number): string {
  return sha256Hex(`${key}\0seed ${seed}`);
}
