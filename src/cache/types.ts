/**
 * Where run-cache entries live: a folder under `.repro-gate/cache/runs/` for the CLI, GitHub's
 * cache service in the action. Entries are opaque text here; the gate parses and validates them
 * before trusting anything in them, so a store never needs to.
 */
export interface RunCacheStore {
  /** Named in the report: "local" (a folder) or "actions" (@actions/cache). */
  readonly kind: 'local' | 'actions';
  /** Set when this store only restores (e.g. a pull_request_target run); saves are skipped. */
  readonly readOnlyReason?: string;
  /** The entry stored under `key` (64 hex digits), or undefined on a miss. Never throws. */
  get(key: string): Promise<string | undefined>;
  /** Stores `text` under `key`. Returns a warning when it could not; never throws. */
  put(key: string, text: string): Promise<string | undefined>;
}
