/**
 * How Management Activity API requests are retried: by their classification, with clamped
 * exponential backoff and full jitter, `Retry-After` honoured, one token renewal after a 401,
 * and every run bounded by attempts and a deadline. After AF429 the request pacer has already
 * lowered its rate, so the request goes again at once through the pacer (which spaces it) and
 * the retry does not use up an attempt; only when the pacer's rate is at its floor does the
 * retry wait out a throttling backoff of seconds. Two presets: the collector's (patient: it runs
 * unattended) and the interactive one `verify` uses (it must answer in seconds).
 */
import {
  DEFAULT_BASE_DELAY_IN_MS,
  DEFAULT_MAX_DELAY_IN_MS,
  isRetryExhaustedError,
  type RetryDecision,
  retryAsync,
} from "../backoff";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import { isManagementApiError, ManagementApiError } from "./apiError";
import type { ApiOperation } from "./classifier";
import type { RequestPacer } from "./pacer";

/** Attempts per request, the first included. */
export const DEFAULT_MAX_ATTEMPTS = 6;
/** A request and its retries give up after this long. */
export const DEFAULT_REQUEST_DEADLINE_IN_MS = 5 * 60_000;
/**
 * First wait after AF429 once the request pacer's rate is at its floor (pacing alone did not
 * help); the API documents no Retry-After, so throttling waits start longer.
 */
export const DEFAULT_THROTTLE_BASE_DELAY_IN_MS = 5_000;
/** Longest wait after AF429. */
export const DEFAULT_THROTTLE_MAX_DELAY_IN_MS = 60_000;

/** The knobs of {@link ManagementRetryPolicy}; every one has a default. */
export interface RetryPreset {
  /** One request (headers, or the gap between two body chunks) may take this long. */
  fetchTimeoutInMs?: number;
  maxAttempts?: number;
  deadlineInMs?: number;
  retryBaseDelayInMs?: number;
  retryMaxDelayInMs?: number;
  throttleBaseDelayInMs?: number;
  throttleMaxDelayInMs?: number;
}

/**
 * For a person waiting at a terminal (`verify`): three attempts within 10 s, short waits even
 * after throttling, so a transient AF429 or 5xx is ridden out and a lasting one is reported.
 */
export const INTERACTIVE_RETRY_PRESET: Readonly<Required<RetryPreset>> = Object.freeze({
  fetchTimeoutInMs: 10_000,
  maxAttempts: 3,
  deadlineInMs: 10_000,
  retryBaseDelayInMs: 400,
  retryMaxDelayInMs: 2_000,
  throttleBaseDelayInMs: 1_000,
  throttleMaxDelayInMs: 4_000,
});

/** Options for {@link ManagementRetryPolicy}. */
export interface ManagementRetryPolicyOptions extends RetryPreset {
  /** The pacer the requests go through; without one, every AF429 waits out a backoff. */
  pacer?: RequestPacer;
  metrics?: Pick<CollectorMetrics, "throttleWaitSeconds">;
  logger?: Logger;
  /** Uniform random in [0, 1) for backoff jitter; injectable for tests. */
  random?: () => number;
  /** Clock, epoch ms. */
  nowMs?: () => number;
}

/** Options for one retried operation. */
export interface RetryRunOptions {
  abortSignal?: AbortSignal;
  /** Shown in logs and error messages, e.g. the content type. */
  context?: string;
}

/** Runs one operation's attempts; see the module comment for the rules. */
export class ManagementRetryPolicy {
  constructor(private readonly options: ManagementRetryPolicyOptions = {}) {}

  /**
   * Calls `attemptFn` until it succeeds or its error's classification says stop. After a 401
   * the next attempt gets `forceRefresh: true`, once. Retries that run out throw a
   * {@link ManagementApiError} carrying the attempts and the reason; a token rejected twice
   * becomes a configuration error.
   */
  async run<T>(
    operation: ApiOperation,
    options: RetryRunOptions,
    attemptFn: (forceRefresh: boolean) => Promise<T>,
  ): Promise<T> {
    const o = this.options;
    const { context } = options;
    let refreshed = false;
    let refreshNext = false;
    try {
      return await retryAsync(
        async () => {
          const force = refreshNext;
          refreshNext = false;
          return attemptFn(force);
        },
        {
          maxAttempts: o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          deadlineInMs: o.deadlineInMs ?? DEFAULT_REQUEST_DEADLINE_IN_MS,
          abortSignal: options.abortSignal,
          baseDelayInMs: o.retryBaseDelayInMs ?? DEFAULT_BASE_DELAY_IN_MS,
          maxDelayInMs: o.retryMaxDelayInMs ?? DEFAULT_MAX_DELAY_IN_MS,
          random: o.random,
          nowMs: o.nowMs,
          shouldRetry: (error): RetryDecision => {
            if (!isManagementApiError(error)) return { retry: false };
            const { action, throttled } = error.classification;
            if (action === "refresh-token") {
              if (refreshed) return { retry: false };
              refreshed = true;
              refreshNext = true;
              return { retry: true, delayInMs: 0 };
            }
            if (action !== "retry") return { retry: false };
            const throttleMax = o.throttleMaxDelayInMs ?? DEFAULT_THROTTLE_MAX_DELAY_IN_MS;
            if (error.retryAfterInMs !== undefined) {
              return { retry: true, delayInMs: Math.min(error.retryAfterInMs, throttleMax) };
            }
            if (throttled && o.pacer !== undefined && !o.pacer.atFloor) {
              // The transport has told the pacer, whose lower rate spaces the next attempt.
              return { retry: true, delayInMs: 0, paced: true };
            }
            return throttled
              ? {
                  retry: true,
                  backoff: {
                    baseDelayInMs: o.throttleBaseDelayInMs ?? DEFAULT_THROTTLE_BASE_DELAY_IN_MS,
                    maxDelayInMs: throttleMax,
                  },
                }
              : { retry: true };
          },
          onRetry: ({ attempt, error, delayInMs, paced }) => {
            const apiError = error as ManagementApiError;
            if (apiError.classification.throttled && delayInMs > 0) {
              o.metrics?.throttleWaitSeconds.inc({ target: "management-api" }, delayInMs / 1000);
            }
            // A paced retry after AF429 is routine (the pacer logs its rate cuts); the others
            // are worth a warning.
            const fields = {
              operation,
              context,
              attempt,
              delayInMs,
              status: apiError.status,
              code: apiError.code,
              reason: apiError.classification.reason,
            };
            const message = "Management API request failed; retrying";
            if (paced) o.logger?.debug(fields, message);
            else o.logger?.warn(fields, message);
          },
          onGiveUp: (exhausted) => {
            o.logger?.warn(
              { operation, context, attempts: exhausted.attempts, giveUp: exhausted.reason },
              `Management API request gave up: ${exhausted.message}`,
            );
          },
        },
      );
    } catch (error) {
      if (isRetryExhaustedError(error) && isManagementApiError(error.lastError)) {
        const last = error.lastError;
        throw new ManagementApiError({
          operation: last.operation,
          status: last.status,
          code: last.code,
          apiMessage: last.apiMessage,
          classification: last.classification,
          serverDateMs: last.serverDateMs,
          retryAfterInMs: last.retryAfterInMs,
          attempts: error.attempts,
          giveUp: error.reason,
          context,
          cause: last,
        });
      }
      if (isManagementApiError(error) && error.classification.action === "refresh-token") {
        throw new ManagementApiError({
          operation: error.operation,
          status: error.status,
          code: error.code,
          apiMessage: error.apiMessage,
          classification: {
            action: "fatal-config",
            reason:
              "the API rejected a freshly issued token (HTTP 401): check AZURE_TENANT_ID, AZURE_CLIENT_ID and O365_CLOUD (token audience)",
          },
          context,
          cause: error,
        });
      }
      throw error;
    }
  }
}
