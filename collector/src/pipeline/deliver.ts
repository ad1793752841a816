import { abortableDelay, abortError, type RetryDelayOptions, retryDelayInMs } from "../backoff";
import type { Logger } from "../log";
import type { Batch, DeliveryOutcome, Sink } from "../types";
import { PipelineError } from "./errors";

/** One wait before redelivering to a sink that answered `retryable`. */
export interface SinkRetry {
  sink: string;
  attempt: number;
  delayInMs: number;
  /** The retryable outcomes' messages, joined. */
  error: string;
}

/** Options of {@link deliverToEverySink}. */
export interface DeliverOptions {
  sinks: readonly Sink[];
  /** Abandons the delivery (retries included): it then rejects with an AbortError. */
  abortSignal: AbortSignal;
  /** Backoff after retryable outcomes without `retryAfterInMs`. */
  retry?: RetryDelayOptions;
  /** Give up after this long of retrying, in ms (default: never). */
  sinkRetryTimeoutInMs?: number;
  /** Clock, epoch ms. */
  nowMs: () => number;
  logger?: Logger;
  /** Called per sink before each wait; must not throw or block. */
  onRetry?: (retry: SinkRetry) => void;
}

/**
 * Delivers batches to every sink, retrying retryable outcomes (only the sink and batch pairs
 * that were not acknowledged). Resolves with each sink's position of its last-completed
 * delivery; rejects with an AbortError when abandoned (graceful stop past its grace) or a
 * {@link PipelineError} on a failure or when `sinkRetryTimeoutInMs` runs out.
 */
export async function deliverToEverySink(
  batches: readonly Batch[],
  options: DeliverOptions,
): Promise<Record<string, string>> {
  const positions: Record<string, string> = {};
  const signal = options.abortSignal;
  const startedMs = options.nowMs();
  let pending = options.sinks.flatMap((sink) => batches.map((batch) => ({ sink, batch })));
  for (let attempt = 1; ; attempt++) {
    // Calls start in lane order; each resolution is stamped so the position of the delivery
    // that completed last wins (for the file sink that is the furthest offset).
    const outcomes = await Promise.all(
      pending.map(async ({ sink, batch }) => {
        let outcome: DeliveryOutcome;
        try {
          outcome = await sink.deliver(batch, { abortSignal: signal });
        } catch (error) {
          if (signal.aborted) throw abortError(signal);
          // The contract says sinks answer with outcomes; a throw is a bug worth stopping for.
          outcome = {
            kind: "failure",
            error: error instanceof Error ? error : new Error(String(error)),
          };
        }
        if (outcome.kind === "success" && outcome.position !== undefined)
          positions[sink.name] = outcome.position;
        return { sink, batch, outcome };
      }),
    );
    const retry: typeof pending = [];
    let retryAfterInMs: number | undefined;
    const messages = new Set<string>();
    for (const { sink, batch, outcome } of outcomes) {
      if (outcome.kind === "failure") {
        throw new PipelineError(`sink ${sink.name} failed: ${outcome.error.message}`, {
          cause: outcome.error,
        });
      }
      if (outcome.kind === "retryable") {
        retry.push({ sink, batch });
        messages.add(`${sink.name}: ${outcome.error.message}`);
        if (outcome.retryAfterInMs !== undefined)
          retryAfterInMs = Math.max(retryAfterInMs ?? 0, outcome.retryAfterInMs);
      }
    }
    if (retry.length === 0) return positions;
    if (signal.aborted) throw abortError(signal);
    pending = retry;
    const sinks = [...new Set(retry.map(({ sink }) => sink.name))];
    const delayInMs = retryDelayInMs(attempt, retryAfterInMs, options.retry);
    const message = [...messages].join("; ");
    const timeoutInMs = options.sinkRetryTimeoutInMs;
    if (timeoutInMs !== undefined && options.nowMs() + delayInMs - startedMs > timeoutInMs) {
      throw new PipelineError(
        `gave up delivering to ${sinks.join(", ")} after ${attempt} attempts (sinkRetryTimeoutInMs=${timeoutInMs}): ${message}`,
      );
    }
    for (const sink of sinks) options.onRetry?.({ sink, attempt, delayInMs, error: message });
    options.logger?.warn(
      { attempt, delayInMs, sinks, err: message },
      "sink asked to retry; waiting",
    );
    await abortableDelay(delayInMs, signal);
  }
}
