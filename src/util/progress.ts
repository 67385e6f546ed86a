/**
 * Progress over a verb's seeds: "seed 3/10 · 2m14s elapsed · ~5m left". It counts starts and
 * finishes by seed, never by position, so seeds that run concurrently or finish out of order are
 * counted right; the estimate is the finished seeds' mean duration times the work still to do,
 * less what the running seeds have already done, shared over the seeds that run at once. Pure:
 * the caller passes the clock.
 */

export class SeedProgress {
  private readonly started = new Map<number, number>();
  private readonly durations: number[] = [];

  /**
   * @param total     seeds this verb trains
   * @param startedAt when the verb started (ms)
   * @param parallel  how many seeds train at once
   * @param before    seeds an earlier stage already trained (a sequential plan's looks): counted
   *                  in "seed k/total", not timed here
   */
  constructor(
    private readonly total: number,
    private readonly startedAt: number,
    private readonly parallel = 1,
    private readonly before = 0,
  ) {}

  start(seed: number, now: number): void {
    this.started.set(seed, now);
  }

  finish(seed: number, now: number): void {
    const t0 = this.started.get(seed);
    if (t0 === undefined) return;
    this.started.delete(seed);
    this.durations.push(now - t0);
  }

  get finished(): number {
    return this.durations.length;
  }

  /** Milliseconds still to go, or undefined before any seed has finished (nothing to estimate from). */
  remainingMs(now: number): number | undefined {
    if (!this.durations.length) return undefined;
    const mean = this.durations.reduce((a, b) => a + b, 0) / this.durations.length;
    const left = this.total - this.before - this.durations.length;
    let running = 0;
    // A running seed that has taken longer than the mean still needs a moment; never count it as done.
    for (const t0 of this.started.values()) running += Math.min(now - t0, mean * 0.95);
    return Math.max(0, (mean * left - running) / Math.max(1, Math.min(this.parallel, left || 1)));
  }

  /** The line to show: the seed being worked on (how many have started) of all, time so far, and the estimate. */
  line(now: number): string {
    const done = this.before + this.durations.length;
    const current = Math.min(this.total, done + this.started.size);
    const parts = [
      done === this.total ? `${this.total}/${this.total} seeds done` : `seed ${Math.max(1, current)}/${this.total}`,
      `${clock(now - this.startedAt)} elapsed`,
    ];
    const left = done === this.total ? undefined : this.remainingMs(now);
    if (left !== undefined) parts.push(`~${estimate(left)} left`);
    return parts.join(' · ');
  }
}

/** Elapsed time to the second: 9s, 2m14s, 1h05m. */
export function clock(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** An estimate, as precise as it deserves: 40s, 5m, 1h20m. */
export function estimate(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${Math.max(1, Math.round(s / 10) * 10 || s)}s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
