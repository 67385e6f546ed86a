import type { Logger } from '../../src/util/logger.js';

/** A logger that keeps every line, for tests that assert on what the gate said. */
export function captureLogger(): Logger & { infos: string[]; warnings: string[] } {
  const infos: string[] = [];
  const warnings: string[] = [];
  return { infos, warnings, info: (l) => void infos.push(l), warn: (l) => void warnings.push(l) };
}
