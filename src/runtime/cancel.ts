/**
 * SIGINT/SIGTERM to the gate (Ctrl-C, or the runner cancelling the job): stop every live training
 * first (SIGTERM, then SIGKILL after a grace), wait until they are gone, then let the entry point
 * finish: it reports the cancellation (one JSON document with --json) and exits 130 or 143.
 */

type Stopper = () => Promise<void>;

const stoppers = new Set<Stopper>();
let cancelled: NodeJS.Signals | undefined;
let finish: ((signal: NodeJS.Signals) => void) | undefined;
let installed = false;

/** How long the entry point gets to unwind on its own after the trainings are stopped. */
const UNWIND_MS = 2_000;
/** Never hang the runner's cancellation, whatever a training or cleanup does. */
const HARD_LIMIT_MS = 20_000;

/** The signal that cancelled this gate, if any. */
export function cancelledBy(): NodeJS.Signals | undefined {
  return cancelled;
}

/** Registers a way to stop something live; returns its unregistration. */
export function whileRunning(stop: Stopper): () => void {
  stoppers.add(stop);
  return () => stoppers.delete(stop);
}

/**
 * Installs the handlers once. `onCancelled` runs after every training is stopped and the entry point
 * had a moment to unwind; it must end the process (the default exits with 130 or 143).
 */
export function handleCancellation(onCancelled?: (signal: NodeJS.Signals) => void): void {
  if (onCancelled) finish = onCancelled;
  if (installed) return;
  installed = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (cancelled) return; // a second signal while stopping: the hard limit still applies
      cancelled = sig;
      process.stderr.write(`repro-gate: ${sig} received; stopping the training\n`);
      const end = () => (finish ? finish(sig) : process.exit(sig === 'SIGINT' ? 130 : 143));
      setTimeout(end, HARD_LIMIT_MS).unref();
      void Promise.allSettled([...stoppers].map((stop) => stop())).then(() => setTimeout(end, UNWIND_MS).unref());
    });
  }
}
