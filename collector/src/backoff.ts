/**
 * The one home of backoff, abortable waits and bounded retries for the whole codebase.
 * Backoff is clamped exponential with jitter (full jitter for API calls, equal jitter for the
 * pipeline's sink retries, where the delay must keep growing); waits end at once on abort.
 */
import { AuditBridgeError } from "../../domain/errors";

/** API client: first retry waits up to this long (before jitter). */
export const DEFAULT_BASE_DELAY_IN_MS = 500;
/** API client: no single wait is longer than this. */
export const DEFAULT_MAX_DELAY_IN_MS = 30_000;
/** Pipeline: first retry delay after a retryable sink outcome or a failed blob read, in ms. */
export const DEFAULT_RETRY_INITIAL_DELAY_IN_MS = 1_000;
/** Pipeline: ceiling of the exponential backoff, in ms: an outage of minutes is probed every minute. */
export const DEFAULT_RETRY_MAX_DELAY_IN_MS = 60_000;
/** A `Retry-After` beyond this is treated as this (a bogus header must not park us for hours). */
export const MAX_RETRY_AFTER_IN_MS = 10 * 60_000;

/** Backoff with full jitter ({@link computeBackoffDelay}), used by the API client and `retryAsync`. */
export interface BackoffOptions {
  /** Upper bound of the first wait; doubles per attempt. */
  baseDelayInMs?: number;
  /** Clamp for any single wait. */
  maxDelayInMs?: number;
  /** Uniform random in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/** Backoff with equal jitter ({@link backoffDelayInMs}), used by the pipeline. */
export interface RetryDelayOptions {
  initialDelayInMs?: number;
  maxDelayInMs?: number;
  /** Source of jitter in [0, 1); seed it in tests. Default `Math.random`. */
  random?: () => number;
}

/** `min(max, base · 2^retryIndex)`, for retry number `retryIndex` (0 for the first retry). */
function clampedExponentialInMs(retryIndex: number, baseInMs: number, maxInMs: number): number {
  // 2^n overflows to Infinity long after it passed any sane clamp; cap the exponent anyway.
  return Math.min(maxInMs, baseInMs * 2 ** Math.min(Math.max(retryIndex, 0), 30));
}

/**
 * Clamped exponential backoff with full jitter: a uniform wait in [0, min(max, base · 2^n)]
 * for retry number `retryIndex` (0 for the first retry). Full jitter spreads replicas that
 * were throttled together instead of sending them back in lockstep.
 */
export function computeBackoffDelay(retryIndex: number, options: BackoffOptions = {}): number {
  const ceiling = clampedExponentialInMs(
    retryIndex,
    options.baseDelayInMs ?? DEFAULT_BASE_DELAY_IN_MS,
    options.maxDelayInMs ?? DEFAULT_MAX_DELAY_IN_MS,
  );
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/**
 * Delay before retry number `attempt` (1-based): exponential from `initialDelayInMs`, clamped
 * to `maxDelayInMs`, with "equal jitter" (half fixed, half random) so that replicas hit by the
 * same outage do not retry in lockstep while the delay still grows.
 */
export function backoffDelayInMs(attempt: number, options: RetryDelayOptions = {}): number {
  const clamped = clampedExponentialInMs(
    attempt - 1,
    options.initialDelayInMs ?? DEFAULT_RETRY_INITIAL_DELAY_IN_MS,
    options.maxDelayInMs ?? DEFAULT_RETRY_MAX_DELAY_IN_MS,
  );
  return Math.round(clamped / 2 + (clamped / 2) * (options.random ?? Math.random)());
}

/** The delay to wait after a retryable outcome: the server's `Retry-After` wins when present. */
export function retryDelayInMs(
  attempt: number,
  retryAfterInMs: number | undefined,
  options: RetryDelayOptions = {},
): number {
  if (retryAfterInMs !== undefined && Number.isFinite(retryAfterInMs) && retryAfterInMs >= 0) {
    return Math.min(retryAfterInMs, MAX_RETRY_AFTER_IN_MS);
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

/**
 * The one abortable wait of AuditBridge: waits `delayInMs`, rejecting with an AbortError
 * ({@link abortError}) as soon as `signal` aborts. {@link sleep} is the same wait for callers
 * that want the signal's own reason.
 */
export function abortableDelay(delayInMs: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolveDelay, rejectDelay) => {
    const onAbort = () => {
      clearTimeout(timer);
      rejectDelay(abortError(signal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolveDelay();
    }, delayInMs);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Waits `delayInMs`, or rejects with the signal's reason as soon as it aborts. Never outlives
 * the caller: no timer keeps running after an abort.
 */
export async function sleep(delayInMs: number, abortSignal?: AbortSignal): Promise<void> {
  abortSignal?.throwIfAborted();
  if (delayInMs <= 0) {
    return;
  }
  try {
    await abortableDelay(delayInMs, abortSignal);
  } catch (error) {
    // abortableDelay rejects with an AbortError; surface the caller's reason instead.
    if (abortSignal?.aborted) {
      throw abortSignal.reason;
    }
    throw error;
  }
}

/** Why `retryAsync` stopped trying. */
export type GiveUpReason = "attempts" | "deadline";

/** Thrown when retries ran out; the last error is the `cause`; `code` is `retry-exhausted`. */
export class RetryExhaustedError extends AuditBridgeError<"retry-exhausted"> {
  override readonly name = "RetryExhaustedError";
  constructor(
    readonly reason: GiveUpReason,
    readonly attempts: number,
    readonly lastError: unknown,
  ) {
    super(
      `gave up after ${attempts} attempt${attempts === 1 ? "" : "s"} (${
        reason === "attempts" ? "attempt limit reached" : "deadline reached"
      }): ${errorMessage(lastError)}`,
      { code: "retry-exhausted", cause: lastError },
    );
  }
}

/** Type guard for {@link RetryExhaustedError}. */
export function isRetryExhaustedError(error: unknown): error is RetryExhaustedError {
  return error instanceof RetryExhaustedError;
}

/** A decision about one failed attempt. */
export type RetryDecision =
  | { retry: false }
  | {
      retry: true;
      /** Wait this long instead of the computed backoff (e.g. a Retry-After header). */
      delayInMs?: number;
      /** Use these backoff parameters for this wait (e.g. longer ones after throttling). */
      backoff?: BackoffOptions;
      /**
       * The next attempt is paced elsewhere (a request pacer spaces it): it does not use up one
       * of `maxAttempts`; the deadline still bounds it.
       */
      paced?: boolean;
    };

export interface RetryAttemptInfo {
  /** 1-based number of the attempt that failed. */
  attempt: number;
  error: unknown;
  delayInMs: number;
  /** The retry is paced elsewhere and does not use up an attempt. */
  paced: boolean;
}

export interface RetryOptions extends BackoffOptions {
  /** Total attempts including the first; at least 1. */
  maxAttempts: number;
  /** Stop retrying once this much time has passed since the first attempt started. */
  deadlineInMs: number;
  abortSignal?: AbortSignal;
  /** Decides whether an error is worth another attempt. Default: retry everything. */
  shouldRetry?: (error: unknown, attempt: number) => RetryDecision;
  /** Called before each wait (for logs and metrics). */
  onRetry?: (info: RetryAttemptInfo) => void;
  /** Called once when retries run out, before `RetryExhaustedError` is thrown. */
  onGiveUp?: (error: RetryExhaustedError) => void;
  /** Clock, epoch ms; injectable for tests. */
  nowMs?: () => number;
}

/**
 * Runs `fn` until it succeeds, the decision says stop (the error is rethrown unchanged), the
 * attempts or the deadline run out (`RetryExhaustedError` with the reason), or the signal aborts
 * (the signal's reason is thrown). A wait that would end past the deadline is not started.
 * Retries the decision marks `paced` do not count against `maxAttempts`.
 */
export async function retryAsync<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const now = options.nowMs ?? Date.now;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  const startedAtMs = now();
  // Failed attempts that count against maxAttempts (all but paced ones).
  let counted = 0;
  for (let attempt = 1; ; attempt++) {
    options.abortSignal?.throwIfAborted();
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.abortSignal?.aborted) {
        throw options.abortSignal.reason;
      }
      const decision = options.shouldRetry?.(error, attempt) ?? { retry: true };
      if (!decision.retry) {
        throw error;
      }
      if (!decision.paced) counted++;
      if (counted >= maxAttempts) {
        throw giveUp(options, new RetryExhaustedError("attempts", attempt, error));
      }
      const waitInMs =
        decision.delayInMs ??
        computeBackoffDelay(Math.max(0, counted - 1), {
          baseDelayInMs: options.baseDelayInMs,
          maxDelayInMs: options.maxDelayInMs,
          random: options.random,
          ...decision.backoff,
        });
      if (now() + waitInMs - startedAtMs > options.deadlineInMs) {
        throw giveUp(options, new RetryExhaustedError("deadline", attempt, error));
      }
      options.onRetry?.({ attempt, error, delayInMs: waitInMs, paced: decision.paced === true });
      await sleep(waitInMs, options.abortSignal);
    }
  }
}

function giveUp(options: RetryOptions, error: RetryExhaustedError): RetryExhaustedError {
  options.onGiveUp?.(error);
  return error;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
