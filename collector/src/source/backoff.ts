import { setTimeout as delay } from "node:timers/promises";

/** First retry waits up to this long (before jitter). */
export const DEFAULT_BASE_DELAY_IN_MS = 500;
/** No single wait is longer than this. */
export const DEFAULT_MAX_DELAY_IN_MS = 30_000;

export interface BackoffOptions {
  /** Upper bound of the first wait; doubles per attempt. */
  baseDelayInMs?: number;
  /** Clamp for any single wait. */
  maxDelayInMs?: number;
  /** Uniform random in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/**
 * Clamped exponential backoff with full jitter: a uniform wait in [0, min(max, base · 2^n)]
 * for retry number `retryIndex` (0 for the first retry). Full jitter spreads replicas that
 * were throttled together instead of sending them back in lockstep.
 */
export function computeBackoffDelay(retryIndex: number, options: BackoffOptions = {}): number {
  const base = options.baseDelayInMs ?? DEFAULT_BASE_DELAY_IN_MS;
  const max = options.maxDelayInMs ?? DEFAULT_MAX_DELAY_IN_MS;
  const random = options.random ?? Math.random;
  // 2^n overflows to Infinity long after it passed any sane clamp; cap the exponent anyway.
  const ceiling = Math.min(max, base * 2 ** Math.min(Math.max(retryIndex, 0), 30));
  return Math.floor(random() * ceiling);
}

/**
 * Waits `ms`, or rejects with the signal's reason as soon as it aborts. Never outlives the
 * caller: no timer keeps running after an abort.
 */
export async function sleep(ms: number, abortSignal?: AbortSignal): Promise<void> {
  abortSignal?.throwIfAborted();
  if (ms <= 0) {
    return;
  }
  try {
    await delay(ms, undefined, { signal: abortSignal });
  } catch (error) {
    // node:timers/promises rejects with its own AbortError; surface the caller's reason instead.
    if (abortSignal?.aborted) {
      throw abortSignal.reason;
    }
    throw error;
  }
}

/** Why `retryAsync` stopped trying. */
export type GiveUpReason = "attempts" | "deadline";

/** Thrown when retries ran out; the last error is the `cause`. */
export class RetryExhaustedError extends Error {
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
      { cause: lastError },
    );
  }
}

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
    };

export interface RetryAttemptInfo {
  /** 1-based number of the attempt that failed. */
  attempt: number;
  error: unknown;
  delayInMs: number;
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
 */
export async function retryAsync<T>(
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const now = options.nowMs ?? Date.now;
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts));
  const startedAtMs = now();
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
      if (attempt >= maxAttempts) {
        throw giveUp(options, new RetryExhaustedError("attempts", attempt, error));
      }
      const waitInMs =
        decision.delayInMs ??
        computeBackoffDelay(attempt - 1, {
          baseDelayInMs: options.baseDelayInMs,
          maxDelayInMs: options.maxDelayInMs,
          random: options.random,
          ...decision.backoff,
        });
      if (now() + waitInMs - startedAtMs > options.deadlineInMs) {
        throw giveUp(options, new RetryExhaustedError("deadline", attempt, error));
      }
      options.onRetry?.({ attempt, error, delayInMs: waitInMs });
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
