/**
 * A problem the user can fix: bad config, missing baseline, crashed training, …
 * The CLI prints `message` (and `hint`) without a stack trace and exits 2.
 */
export class GateError extends Error {
  constructor(
    message: string,
    /** How to fix it, shown on its own line after the message. */
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'GateError';
  }
}

export function formatGateError(err: GateError): string {
  return err.hint ? `${err.message}\n  → ${err.hint}` : err.message;
}

/** The gate was stopped by SIGINT or SIGTERM; every training it started has been stopped. */
export class CancelledError extends GateError {
  constructor(readonly signal: NodeJS.Signals) {
    super(`Cancelled by ${signal}: the training was stopped, and no baseline or report was written.`);
    this.name = 'CancelledError';
  }

  /** 130 for SIGINT, 143 for SIGTERM, as a shell reports a process those signals ended. */
  get exitCode(): number {
    return this.signal === 'SIGINT' ? 130 : 143;
  }
}
