/** First retry delay after a retryable sink outcome, in ms. */
export const DEFAULT_RETRY_INITIAL_DELAY_MS = 1_000;
/** Ceiling of the exponential backoff, in ms: an outage of minutes is probed every minute. */
export const DEFAULT_RETRY_MAX_DELAY_MS = 60_000;
/** A `Retry-After` beyond this is treated as this (a bogus header must not park us for hours). */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

export interface BackoffOptions {
  initialDelayInMs?: number;
  maxDelayInMs?: number;
  /** Source of jitter in [0, 1); seed it in tests. Default `Math.random`. */
  random?: () => number;
}

/**
 * Delay before retry number `attempt` (1-based): exponential from `initialDelayInMs`, clamped
 * to `maxDelayInMs`, with "equal jitter" (half fixed, half random) so that replicas hit by the
 * same outage do not retry in lockstep while the delay still grows.
 */
export function backoffDelayInMs(attempt: number, options: BackoffOptions = {}): number {
  const initial = options.initialDelayInMs ?? DEFAULT_RETRY_INITIAL_DELAY_MS;
  const max = options.maxDelayInMs ?? DEFAULT_RETRY_MAX_DELAY_MS;
  const random = options.random ?? Math.random;
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const clamped = Math.min(max, initial * 2 ** exponent);
  return Math.round(clamped / 2 + (clamped / 2) * random());
}

/** The delay to wait after a retryable outcome: the server's `Retry-After` wins when present. */
export function retryDelayInMs(
  attempt: number,
  retryAfterInMs: number | undefined,
  options: BackoffOptions = {},
): number {
  if (retryAfterInMs !== undefined && Number.isFinite(retryAfterInMs) && retryAfterInMs >= 0) {
    return Math.min(retryAfterInMs, MAX_RETRY_AFTER_MS);
  }
  return backoffDelayInMs(attempt, options);
}

/** The error an aborted wait rejects with (`name === "AbortError"`, like fetch and the SDKs). */
export function abortError(signal?: AbortSignal): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error && reason.name === "AbortError") return reason;
  const error = new Error("the operation was aborted", { cause: reason });
  error.name = "AbortError";
  return error;
}

/** True for errors produced by an abort (ours, fetch's, the Azure SDK's). */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === "AbortError" || error.name === "AbortErrorImpl");
}

/** Waits `ms`, rejecting with an AbortError as soon as `signal` aborts. */
export function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolveDelay, rejectDelay) => {
    const onAbort = () => {
      clearTimeout(timer);
      rejectDelay(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolveDelay();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
