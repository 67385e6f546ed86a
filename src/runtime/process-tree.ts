/**
 * The descendants of a training, found through /proc. A process group is not enough for
 * multi-process trainings: torchrun ≥ 2.0 starts every rank in a session of its own
 * (`start_new_session`), so a rank that ignores SIGTERM survives a signal to the launcher's group
 * and, once the launcher is gone, is nobody's child. The tree is therefore watched while the run
 * lasts (each pid kept with its start time, so a reused pid is never signalled) and every process
 * of it is signalled with the group. Without /proc (macOS) it stays empty: the group alone is used.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface ProcStat {
  ppid: number;
  pgid: number;
  /** Clock ticks since boot (field 22): with the pid, it names one process for good. */
  started: string;
}

/** Fields of /proc/<pid>/stat, or null when the process is gone (or there is no /proc). */
export function procStat(pid: number): ProcStat | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // A zombie has exited; only its parent's wait is missing.
    if (fields[0] === 'Z' || fields[19] === undefined) return null;
    return { ppid: Number(fields[1]), pgid: Number(fields[2]), started: fields[19] };
  } catch {
    return null;
  }
}

/** Every live descendant of `root` (pid → start time). */
function descendants(root: number): Map<number, string> {
  let pids: number[];
  try {
    pids = readdirSync('/proc')
      .filter((n) => /^\d+$/.test(n))
      .map(Number);
  } catch {
    return new Map();
  }
  const children = new Map<number, Array<[number, string]>>();
  for (const pid of pids) {
    const s = procStat(pid);
    if (!s) continue;
    const list = children.get(s.ppid) ?? [];
    list.push([pid, s.started]);
    children.set(s.ppid, list);
  }
  const out = new Map<number, string>();
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    for (const [child, started] of children.get(pid) ?? []) {
      if (out.has(child)) continue;
      out.set(child, started);
      queue.push(child);
    }
  }
  return out;
}

export class ProcessTree {
  private readonly known = new Map<number, string>();

  constructor(private readonly root: number) {}

  /**
   * Adds the descendants alive now and forgets those that have exited (a long training that starts
   * many short-lived helpers keeps a short list); returns whether the list changed.
   */
  refresh(): boolean {
    let changed = false;
    const now = descendants(this.root);
    for (const [pid, started] of now) {
      if (this.known.get(pid) !== started) changed = true;
      this.known.set(pid, started);
    }
    for (const [pid, started] of this.known) {
      // Not a descendant any more: either gone, or orphaned (its parent died) and still ours.
      if (now.has(pid) || procStat(pid)?.started === started) continue;
      this.known.delete(pid);
      changed = true;
    }
    return changed;
  }

  /** The processes seen so far, for the record a later gate reaps from. */
  members(): Array<{ pid: number; started: string }> {
    return [...this.known].map(([pid, started]) => ({ pid, started }));
  }

  /**
   * Signals every descendant ever seen that is still the same process, and the group of each that
   * leads one (a rank's own workers). Call after signalling the root's group.
   */
  signal(sig: NodeJS.Signals): void {
    this.refresh();
    for (const [pid, started] of this.known) {
      const s = procStat(pid);
      if (!s || s.started !== started) {
        this.known.delete(pid);
        continue;
      }
      for (const target of s.pgid === pid ? [-pid, pid] : [pid]) {
        try {
          process.kill(target, sig);
        } catch {
          // gone meanwhile
        }
      }
    }
  }
}
