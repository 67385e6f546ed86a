/**
 * The metrics history around a check or record (history: {file} in repro-gate.yml): read it
 * (skipping lines that cannot be trusted, with a warning), append this run's line when the caller
 * may (the CLI always; the action only on the default branch), and put the last runs and any
 * slow-decay warning into the report.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, open, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { readZipDirectory, readZipEntry } from '../diagnose/zip.js';
import { slowDecay } from '../history/decay.js';
import { lineFromReport, type ParsedHistory, parseHistory } from '../history/lines.js';
import type { EnvironmentFingerprint } from '../schema/baseline.js';
import type { GateConfig } from '../schema/config.js';
import type { HistoryLine } from '../schema/history.js';
import type { Report } from '../schema/report.js';
import { compareBytes } from '../util/bytes.js';
import { GateError } from '../util/errors.js';
import { readConfinedFile } from '../util/files.js';
import { plural } from '../util/format.js';
import type { Logger } from '../util/logger.js';

/** What the whole environment was, in one hash: equal digests, same environment. */
function environmentDigest(env: EnvironmentFingerprint): string {
  const sorted = Object.entries(env).sort((a, b) => compareBytes(a[0], b[0]));
  return createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
}

/** The history file's lines, or none when the config keeps no history or the file is not there yet. */
async function readHistory(config: GateConfig): Promise<ParsedHistory & { file: string }> {
  const rel = config.history?.file ?? '';
  if (!config.history) return { file: rel, lines: [], skipped: [] };
  const text = await readConfinedFile(config.root, rel, 'history.file', {
    folder: 'the project',
    hint: 'Keep history.file inside the project (default .repro-gate/history.jsonl).',
  });
  return { file: rel, ...parseHistory(text ?? '', rel) };
}

export async function withHistory(
  config: GateConfig,
  report: Report,
  env: EnvironmentFingerprint,
  append: boolean,
  log: Logger,
): Promise<Report> {
  if (!config.history) return report;
  const history = await readHistory(config);
  for (const line of history.skipped) log.warn(line);
  const warnings = [...report.warnings];
  if (history.skipped.length)
    warnings.push({
      code: 'history-skipped',
      message: `${plural(history.skipped.length, 'line')} of ${history.file} could not be read and ${history.skipped.length === 1 ? 'was' : 'were'} skipped: ${history.skipped[0]}${history.skipped.length > 1 ? ', …' : ''}.`,
    });
  const line = lineFromReport(report, environmentDigest(env), new Date());
  const lines = line ? [...history.lines, line] : history.lines;
  if (line && append) {
    const file = path.join(config.root, history.file);
    await mkdir(path.dirname(file), { recursive: true });
    // A line cut short by a killed job must not swallow this one.
    const existing = await readFile(file, 'utf8').catch(() => '');
    await appendFile(file, `${existing && !existing.endsWith('\n') ? '\n' : ''}${JSON.stringify(line)}\n`);
  }
  for (const message of slowDecay(lines, config.history.decay)) {
    log.warn(message);
    warnings.push({ code: 'slow-decay', message });
  }
  return { ...report, warnings, ...(lines.length ? { history: lines.slice(-config.history.runs) } : {}) };
}

export interface HistoryView {
  file: string;
  runs: HistoryLine[];
  skipped: string[];
  /** Slow-decay warnings over the whole history. */
  warnings: string[];
}

/** `repro-gate history [--metric M]`: the history, narrowed to one metric when asked. */
export async function showHistory(req: { configPath: string; cwd: string; metric?: string }): Promise<HistoryView> {
  const config = await loadConfig(req.configPath, req.cwd);
  if (!config.history)
    throw new GateError(
      `${path.basename(config.path)} keeps no metrics history.`,
      'Add history: {file: .repro-gate/history.jsonl} to it; check and record then append one line per run.',
    );
  const history = await readHistory(config);
  let runs = history.lines;
  if (req.metric !== undefined) {
    const metric = req.metric;
    const known = [...new Set(runs.flatMap((l) => Object.keys(l.metrics)))];
    if (!known.includes(metric))
      throw new GateError(
        `No run in ${history.file} has a metric "${metric}".`,
        known.length ? `Use one of: ${known.join(', ')}.` : 'Run check or record first: the history is empty.',
      );
    runs = runs.flatMap((l) => {
      const point = Object.hasOwn(l.metrics, metric) ? l.metrics[metric] : undefined;
      return point ? [{ ...l, metrics: Object.fromEntries([[metric, point]]) }] : [];
    });
  }
  return { file: history.file, runs, skipped: history.skipped, warnings: slowDecay(runs, config.history.decay) };
}

/**
 * Puts the history file from an artifact's zip into the project, unless the project already has
 * one (a committed history wins) or keeps none. The entry is the history file's base name.
 */
export async function restoreHistory(
  req: { configPath: string; cwd: string },
  zipFile: string,
): Promise<'restored' | 'present' | 'not-kept' | 'not-in-artifact'> {
  const config = await loadConfig(req.configPath, req.cwd);
  if (!config.history) return 'not-kept';
  const target = path.join(config.root, config.history.file);
  if (await stat(target).catch(() => undefined)) return 'present';
  const fh = await open(zipFile, 'r');
  try {
    const entries = await readZipDirectory(fh, (await fh.stat()).size);
    const entry = entries.find((e) => e.name === path.basename(config.history?.file ?? ''));
    if (!entry || entry.uncompressedSize > 64 * 1024 * 1024) return 'not-in-artifact';
    const text = (await readZipEntry(fh, entry)).toString('utf8');
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, text);
    return 'restored';
  } finally {
    await fh.close();
  }
}
