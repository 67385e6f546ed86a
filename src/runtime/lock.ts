/**
 * One gate at a time per project folder: the training's {out} folders under .repro-gate/ are the
 * same for every run (checkpoints embed their output path), so two concurrent runs would write into
 * each other's seeds. A second run refuses with a message naming the first; a lock left by a gate
 * that died is taken over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GateError } from '../util/errors.js';
import { pidAlive } from './process-table.js';

interface LockRecord {
  pid: number;
  host: string;
  verb: string;
  startedAt: string;
}

export interface ProjectLock {
  release(): Promise<void>;
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const r = JSON.parse(text) as Partial<LockRecord>;
    if (typeof r.pid === 'number' && typeof r.host === 'string') return r as LockRecord;
  } catch {
    // an empty or torn lock file: treated as stale below
  }
  return undefined;
}

export async function acquireLock(stateDir: string, verb: string, warn: (line: string) => void): Promise<ProjectLock> {
  const file = path.join(stateDir, 'lock');
  const record: LockRecord = { pid: process.pid, host: os.hostname(), verb, startedAt: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, 'wx');
      try {
        await fh.writeFile(`${JSON.stringify(record)}\n`);
      } finally {
        await fh.close();
      }
      return { release: () => rm(file, { force: true }) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = parseRecord(await readFile(file, 'utf8').catch(() => ''));
    if (holder && holder.host === record.host && pidAlive(holder.pid)) {
      throw new GateError(
        `Another repro-gate run (${holder.verb}, process ${holder.pid}, started ${holder.startedAt}) is using ${stateDir}.`,
        `Wait for it to finish: runs in one folder share its training output folders. If that process is gone, delete ${file}.`,
      );
    }
    if (holder && holder.host !== record.host) {
      throw new GateError(
        `${file} says repro-gate is running on another machine (${holder.host}, process ${holder.pid}).`,
        `Runs on a shared folder cannot check each other's processes: if that run is over, delete ${file}.`,
      );
    }
    warn(
      `Taking over ${file}, left by a repro-gate run that is no longer running${holder ? ` (process ${holder.pid})` : ''}.`,
    );
    await rm(file, { force: true });
  }
  throw new GateError(
    `Could not take the lock ${file}: another run keeps creating it.`,
    'Let the other run finish first.',
  );
}
