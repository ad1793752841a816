/**
 * The run loop contract:
 * - Each round polls every content type from its checkpoint up to now, then waits
 *   `AUDIT_POLL_INTERVAL`.
 * - A configuration error only an operator can fix (audit log off, AF10001, unknown tenant,
 *   wrong secret) is logged, shown in `/healthz`, and retried every
 *   {@link DEFAULT_CONFIG_ERROR_RETRY_MS}; the other content types keep going.
 * - On abort the pipeline finishes the batch in flight and commits; the caller closes.
 */
import type { ContentType } from "../../../domain/contentTypes";
import { formatDuration } from "../../../domain/validators";
import type { HealthMonitor } from "../http";
import type { Logger } from "../log";
import type { Pipeline, PipelineProgressEvent, RunSummary } from "../pipeline/pipeline";
import { type ConfigErrorGate, DEFAULT_CONFIG_ERROR_RETRY_MS } from "./configErrorGate";
import { type CollectorRunResult, isStateOwnershipLost, judgeFailure } from "./failure";
import { pause } from "./pause";

/** Options of {@link runRounds}. */
export interface RunRoundsOptions {
  pipeline: Pipeline;
  /** The source the pipeline polls, gated on configuration errors. */
  source: ConfigErrorGate;
  contentTypes: readonly ContentType[];
  /** `run --once`: one round, then the verdict. */
  once: boolean;
  /** Pause between rounds at the live edge. */
  pollIntervalInMs: number;
  /** Pause after a configuration error or a failed round (default {@link DEFAULT_CONFIG_ERROR_RETRY_MS}). */
  configErrorRetryInMs?: number;
  health: HealthMonitor;
  logger: Logger;
  abortSignal: AbortSignal;
  /** Clock, epoch ms (default `Date.now`). */
  nowMs?: () => number;
}

/**
 * An `onProgress` handler that keeps `/healthz` green through a long catch-up round: a content
 * type counts as healthy as long as its commits keep moving.
 */
export function healthOnCommit(health: HealthMonitor): (event: PipelineProgressEvent) => void {
  const lastProgress = new Map<string, string>();
  return (event) => {
    if (event.type !== "commit") return;
    health.recordDelivered(event.records);
    for (const [contentType, progress] of Object.entries(event.byContentType)) {
      const mark = `${progress.delivered}/${progress.blobsDone}/${progress.blobsSkipped}/${progress.windowStart ?? ""}`;
      if (lastProgress.get(contentType) !== mark) {
        lastProgress.set(contentType, mark);
        health.recordSuccess(contentType as ContentType);
      }
    }
  };
}

/**
 * Polls round after round until the abort signal fires (or once, with `once`), and judges the
 * outcome. Resolves with the exit code the rounds earned; the caller closes everything.
 */
export async function runRounds(options: RunRoundsOptions): Promise<CollectorRunResult> {
  const { pipeline, source, once, health, logger, abortSignal } = options;
  const nowMs = options.nowMs ?? Date.now;
  const configErrorRetryInMs = options.configErrorRetryInMs ?? DEFAULT_CONFIG_ERROR_RETRY_MS;
  // Subscriptions are ensured before the first round; a failure (say, AF10001 for DLP.All
  // only) does not hold back the other content types: every poll then reports its own cause.
  let subscribed = false;
  let startRetryAtMs = 0;
  while (!abortSignal.aborted) {
    if (!subscribed && nowMs() >= startRetryAtMs) {
      try {
        await source.start({ abortSignal });
        subscribed = true;
      } catch (error) {
        if (abortSignal.aborted) break;
        const verdict = judgeFailure(error);
        if (verdict.misconfigured) {
          startRetryAtMs = nowMs() + configErrorRetryInMs;
          // Visible at once; each content type's poll below replaces it with its own outcome.
          for (const contentType of options.contentTypes) {
            health.recordFailure(contentType, verdict.cause, true);
          }
        }
        logger.warn(
          { err: verdict.cause, misconfigured: verdict.misconfigured },
          "could not ensure every subscription; polling anyway, each content type reports its own cause",
        );
      }
    }

    const roundStartedMs = nowMs();
    let failedRound: string | undefined;
    try {
      const summary = await pipeline.runOnce({ abortSignal });
      health.setGlobalCause(undefined);
      failedRound = reportRound(summary, { ...options, configErrorRetryInMs });
      if (summary.aborted) break;
    } catch (error) {
      if (abortSignal.aborted) break;
      // A sink refused for good, or the state store failed: nothing moved past the last commit.
      const message = error instanceof Error ? error.message : String(error);
      if (isStateOwnershipLost(error)) {
        logger.error({ err: message }, "lost ownership of the state; stopping");
        return { exitCode: 1, reason: `stopped: ${message}` };
      }
      health.setGlobalCause(message);
      logger.error(
        { err: message, retryInMs: configErrorRetryInMs },
        "round failed; nothing was lost",
      );
      if (once) return { exitCode: 1, reason: `could not complete: ${message}` };
      await pause(configErrorRetryInMs, { abortSignal });
      continue;
    }

    if (once) {
      if (failedRound) return { exitCode: 1, reason: `could not complete: ${failedRound}` };
      logger.info("caught up; every content type checkpointed");
      return { exitCode: 0 };
    }
    logger.debug({ elapsedInMs: nowMs() - roundStartedMs }, "round done");
    await pause(options.pollIntervalInMs, { abortSignal });
  }
  return { exitCode: 0 };
}

/**
 * Shows each content type's outcome in `/healthz` and the log. Returns the failures of the
 * round in one line, or undefined when every poll completed.
 */
function reportRound(
  summary: RunSummary,
  options: RunRoundsOptions & { configErrorRetryInMs: number },
): string | undefined {
  const { source, health, logger, once } = options;
  const failures: string[] = [];
  for (const contentType of options.contentTypes) {
    const outcome = summary.contentTypes[contentType];
    if (!outcome) continue;
    if (outcome.ok && source.wasDeferred(contentType)) continue; // keeps its cause
    if (outcome.ok) {
      if (!summary.aborted) health.recordSuccess(contentType);
      if (outcome.received > 0 || outcome.delivered > 0) {
        logger.info(
          {
            contentType,
            received: outcome.received,
            delivered: outcome.delivered,
            duplicate: outcome.duplicate,
            skipped: outcome.skipped,
          },
          "poll done",
        );
      }
      continue;
    }
    const verdict = judgeFailure(outcome.error);
    health.recordFailure(contentType, verdict.cause, verdict.misconfigured);
    failures.push(`${contentType}: ${verdict.cause}`);
    logger.error(
      { contentType, err: verdict.cause, misconfigured: verdict.misconfigured },
      once
        ? "poll failed; the checkpoint stays before the failed item"
        : verdict.misconfigured
          ? `configuration error; this content type is retried in ${formatDuration(options.configErrorRetryInMs)}`
          : "poll failed; retrying next round from the checkpoint",
    );
  }
  return failures.length > 0 ? failures.join("; ") : undefined;
}
