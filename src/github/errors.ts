/**
 * What a failed GitHub REST call means. A plain 403 ("Resource not accessible by integration") is
 * the read-only / fork token signal, which the caller turns into a warning; a 403 or 429 that is a
 * rate limit is not (the throttling plugin waits for those, within the retry budget).
 */

/** The parts of an Octokit RequestError we look at (kept structural so tests can build one). */
interface HttpErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | number | undefined>; data?: unknown };
}

function header(err: HttpErrorLike, name: string): string | undefined {
  const v = err.response?.headers?.[name];
  return v === undefined ? undefined : String(v);
}

function apiMessage(err: HttpErrorLike): string {
  const data = err.response?.data as { message?: unknown } | undefined;
  return typeof data?.message === 'string' ? data.message : (err.message ?? '');
}

/** A primary or secondary rate limit (GitHub answers 403 or 429 for both). */
export function isRateLimited(err: unknown): boolean {
  const e = err as HttpErrorLike;
  if (e?.status !== 403 && e?.status !== 429) return false;
  return (
    header(e, 'retry-after') !== undefined ||
    header(e, 'x-ratelimit-remaining') === '0' ||
    /rate limit/i.test(apiMessage(e))
  );
}

/** A 403 that is not a rate limit: the token may read but not write (fork PRs, missing `permissions:`). */
export function isPermissionDenied(err: unknown): boolean {
  return (err as HttpErrorLike)?.status === 403 && !isRateLimited(err);
}
