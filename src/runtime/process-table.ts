/**
 * The process groups a gate starts, written down so that a later gate can stop what a SIGKILLed one
 * left running (a killed gate cannot clean up after itself). A record is matched by the group
 * leader's start time as well as its pid, so a reused pid is never signalled.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { procStat } from './process-tree.js';

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Field 22 of /proc/<pid>/stat (clock ticks since boot), or null where there is no /proc. */
function startTime(pid: number): string | null {
  return procStat(pid)?.started ?? null;
}

/**
 * Whether process group `pgid` is still the one recorded. While its leader lives, its start time
 * must match (the pid may have been reused). Once the leader is gone but members remain, the
 * group still exists, and Linux never hands out a pid equal to a live group's id: it is ours.
 */
function isSameGroup(pgid: number, started: string): boolean {
  if (!groupExists(pgid)) return false;
  const leader = startTime(pgid);
  return leader === null ? existsSync('/proc/self/stat') : leader === started;
}

function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface GroupRecord {
  pgid: number;
  started: string | null;
  program: string;
  /** Descendants seen outside the group (a launcher's ranks in sessions of their own). */
  members?: Array<{ pid: number; started: string }>;
}

/**
 * Written synchronously right after the spawn: a gate SIGKILLed a moment later must still leave the
 * record behind (a few bytes; the event loop is not held for anything that matters).
 */
export function recordGroup(dir: string, pgid: number, program: string): string {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${pgid}.json`);
  const record: GroupRecord = { pgid, started: startTime(pgid), program: path.basename(program) };
  writeFileSync(file, JSON.stringify(record));
  return file;
}

/** Adds the descendants seen so far to a group's record (synchronously, like the record itself). */
export function recordMembers(file: string, members: Array<{ pid: number; started: string }>): void {
  try {
    const record = JSON.parse(readFileSync(file, 'utf8')) as GroupRecord;
    writeFileSync(file, JSON.stringify({ ...record, members }));
  } catch {
    // The run is over and its record gone; nothing to add.
  }
}

/**
 * Stops every recorded group that is still running (SIGKILL: its gate is gone) and forgets the
 * records. Call only while holding the project lock, so no live gate's groups are listed.
 */
export async function reapGroups(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const stopped: string[] = [];
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, name);
    try {
      const r = JSON.parse(await readFile(file, 'utf8')) as Partial<GroupRecord>;
      const pgid = r.pgid;
      if (typeof pgid === 'number' && pgid > 1 && r.started && isSameGroup(pgid, r.started)) {
        process.kill(-pgid, 'SIGKILL');
        stopped.push(`${r.program ?? 'training'} (process group ${pgid})`);
      }
      // Ranks in sessions of their own, each matched by its start time (never a reused pid).
      const members = (Array.isArray(r.members) ? r.members : []).filter(
        (m) =>
          Number.isSafeInteger(m?.pid) && m.pid > 1 && typeof m.started === 'string' && startTime(m.pid) === m.started,
      );
      for (const m of members) {
        try {
          process.kill(m.pid, 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
      if (members.length) stopped.push(`${members.length} process(es) it had started in sessions of their own`);
    } catch {
      // unreadable record or the group is gone already
    }
    await rm(file, { force: true });
  }
  return stopped;
}
