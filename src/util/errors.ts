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
