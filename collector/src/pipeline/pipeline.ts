import type { ContentType } from "../../../domain/contentTypes";
import type { Logger } from "../log";
import { createMetrics } from "../metrics";
import type { Checkpoint, OperationOptions } from "../types";
import { RunControl } from "./control";
import { type ContentTypeProgress, type ContentTypeRunSummary, PipelineCounters } from "./counters";
import { deliverToEverySink } from "./deliver";
import { BlobFetcher } from "./fetch";
import { CommitFrontier, type LandedCommit } from "./frontier";
import { DeliveryLane } from "./lane";
import {
  checkPipelineOptions,
  DEFAULT_LEDGER_HORIZON_MS,
  DEFAULT_PRUNE_INTERVAL_MS,
  type PipelineOptions,
} from "./options";

export type { ContentTypeProgress, ContentTypeRunSummary } from "./counters";
export { isPipelineError, PipelineError } from "./errors";
export {
  DEFAULT_BLOB_ATTEMPTS,
  DEFAULT_BLOB_CONCURRENCY,
  DEFAULT_COMMIT_EVERY_RECORDS,
  DEFAULT_COMMIT_MAX_DELAY_MS,
  DEFAULT_COMMIT_MAX_RECORDS,
  DEFAULT_LEDGER_HORIZON_MS,
  DEFAULT_MAX_BATCH_RECORDS,
  DEFAULT_PRUNE_INTERVAL_MS,
  DEFAULT_SHUTDOWN_GRACE_MS,
  type PipelineOptions,
  type PipelineProgressEvent,
} from "./options";

/** The outcome of one `runOnce`. */
export interface RunSummary {
  /** Per content type: counters for this run and whether its poll completed. */
  contentTypes: Partial<Record<ContentType, ContentTypeRunSummary>>;
  /** The run stopped early because the abort signal fired. */
  aborted: boolean;
}

/**
 * The collector's engine: source → dedup → sinks → commit. It knows no API details.
 *
 * Each `runOnce` composes its parts: a {@link BlobFetcher} polls the source and reads blobs, a
 * serial {@link DeliveryLane} dedups and hands rounds to every sink
 * ({@link deliverToEverySink}), a {@link CommitFrontier} commits what every sink acknowledged
 * and moves the checkpoints, {@link PipelineCounters} counts it all, and a {@link RunControl}
 * stops it.
 *
 * Guarantees:
 * - A record is committed to the ledger only after every sink acknowledged it; a checkpoint
 *   moves only past items whose records were all acknowledged and committed, in source order
 *   (blobs are fetched concurrently, checkpoints never commit out of order).
 * - Ids already in the ledger, or seen earlier in the same uncommitted window, are dropped,
 *   so duplicates within a blob, across blobs, pages and restarts are delivered once.
 * - Retryable sink outcomes wait (clamped exponential backoff with jitter, or the sink's
 *   `retryAfterInMs`) and retry only the sinks that have not acknowledged; nothing is lost
 *   or reordered, because the delivery lane is serial.
 * - A graceful stop lets the in-flight batch finish (up to `shutdownGraceInMs`), commits what
 *   was acknowledged and stops: after a restart nothing is repeated. A crash repeats at most
 *   the acknowledged-but-uncommitted batches (bounded by `commitMaxRecords` and
 *   `commitMaxDelayInMs`), and sinks that report positions (the file sink) undo even those.
 */
export class Pipeline {
  private readonly options: PipelineOptions;
  private readonly counters: PipelineCounters;
  private readonly logger: Logger | undefined;
  private readonly nowMs: () => number;
  private readonly checkpoints = new Map<ContentType, Checkpoint>();
  private opened = false;
  private lastPruneMs = Number.NEGATIVE_INFINITY;
  private running = false;

  constructor(options: PipelineOptions) {
    checkPipelineOptions(options);
    this.options = options;
    this.counters = new PipelineCounters(options.contentTypes, options.metrics ?? createMetrics());
    this.logger = options.logger;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /**
   * Opens the state store, loads the checkpoints, starts every sink at its committed position
   * and prunes the ledger. Call once before `runOnce`.
   */
  async open(options: OperationOptions = {}): Promise<void> {
    if (this.opened) return;
    const { state, sinks } = this.options;
    await state.open(options);
    for (const [contentType, checkpoint] of await state.loadCheckpoints()) {
      this.checkpoints.set(contentType, checkpoint);
      this.counters.restored(checkpoint);
    }
    const positions = await state.loadSinkPositions();
    for (const sink of sinks) await sink.start(positions[sink.name], options);
    this.opened = true;
    await this.pruneIfDue();
    this.refreshGauges();
  }

  /** The committed checkpoints (a copy). */
  committedCheckpoints(): Map<ContentType, Checkpoint> {
    return new Map(this.checkpoints);
  }

  /** Cumulative counters per content type (a copy). */
  progressSnapshot(): Record<string, ContentTypeProgress> {
    return this.counters.snapshot();
  }

  /** Sets the lag and checkpoint-age gauges from the clock; call before serving /metrics. */
  refreshGauges(): void {
    this.counters.refreshGauges(this.nowMs(), this.checkpoints);
  }

  /**
   * Polls every content type once, from its checkpoint up to now, delivering and committing as
   * it goes. Content types run concurrently and share the blob slots and the delivery lane.
   * Resolves with per-content-type results (a failing poll does not stop the others); rejects
   * with a {@link PipelineError} when a sink fails or the state store cannot commit.
   */
  async runOnce(options: OperationOptions = {}): Promise<RunSummary> {
    if (!this.opened) throw new Error("pipeline.runOnce() called before open()");
    if (this.running) throw new Error("pipeline.runOnce() is already running");
    this.running = true;
    try {
      await this.pruneIfDue();
      const control = await this.runParts(options.abortSignal);
      this.refreshGauges();
      const summary: RunSummary = {
        contentTypes: {},
        aborted: options.abortSignal?.aborted ?? false,
      };
      for (const contentType of this.options.contentTypes) {
        const result = this.counters.settle(contentType);
        summary.contentTypes[contentType] = result;
        this.options.onProgress?.({
          type: "poll-done",
          contentType,
          ok: result.ok,
          ...(result.error ? { error: result.error.message } : {}),
        });
      }
      if (control.fatal) throw control.fatal;
      return summary;
    } finally {
      this.running = false;
    }
  }

  /** Closes the sinks, then the state store. */
  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const sink of this.options.sinks) {
      await sink.close().catch((error: unknown) => errors.push(error));
    }
    await this.options.state.close().catch((error: unknown) => errors.push(error));
    this.opened = false;
    if (errors.length > 0) throw errors[0];
  }

  /**
   * One run's parts, wired: the fetcher feeds the lane, the lane delivers and acknowledges to
   * the frontier, the frontier commits. Resolves once every poll ended and everything
   * acknowledged is committed, with the run's control (its fatal error, if any).
   */
  private async runParts(abortSignal: AbortSignal | undefined): Promise<RunControl> {
    const { options, counters, logger } = this;
    counters.beginRun();
    const control = new RunControl({
      abortSignal,
      shutdownGraceInMs: options.shutdownGraceInMs,
      logger,
    });
    const frontier = new CommitFrontier({
      contentTypes: options.contentTypes,
      state: options.state,
      commitEveryRecords: options.commitEveryRecords,
      commitMaxDelayInMs: options.commitMaxDelayInMs,
      nowMs: this.nowMs,
      onCommitted: (commit) => this.onCommitted(commit),
      onFailed: (error) => control.fail(error),
    });
    const lane = new DeliveryLane({
      state: options.state,
      frontier,
      counters,
      control,
      commitMaxRecords: options.commitMaxRecords,
      commitMaxBytes: options.commitMaxBytes,
      deliver: (batches) =>
        deliverToEverySink(batches, {
          sinks: options.sinks,
          abortSignal: control.deliverySignal,
          retry: options.retry,
          sinkRetryTimeoutInMs: options.sinkRetryTimeoutInMs,
          nowMs: this.nowMs,
          logger,
          onRetry: (retry) => {
            counters.sinkRetryWaited(retry.sink, retry.delayInMs);
            options.onProgress?.({ type: "retry", ...retry });
          },
        }),
      logger,
    });
    const fetcher = new BlobFetcher({
      source: options.source,
      lane,
      frontier,
      counters,
      control,
      blobConcurrency: options.blobConcurrency,
      maxBatchRecords: options.maxBatchRecords,
      maxBatchBytes: options.maxBatchBytes,
      blobAttempts: options.blobAttempts,
      retry: options.retry,
      logger,
    });
    await Promise.all(
      options.contentTypes.map((contentType) =>
        fetcher.pollContentType(contentType, this.checkpoints.get(contentType)),
      ),
    );
    await lane.finish();
    control.dispose();
    return control;
  }

  private onCommitted(commit: LandedCommit): void {
    for (const checkpoint of commit.checkpoints) {
      this.checkpoints.set(checkpoint.contentType, checkpoint);
    }
    this.counters.committed(commit);
    this.refreshGauges();
    this.options.onProgress?.({
      type: "commit",
      records: commit.records,
      byContentType: this.progressSnapshot(),
    });
  }

  private async pruneIfDue(): Promise<void> {
    const nowMs = this.nowMs();
    if (nowMs - this.lastPruneMs < DEFAULT_PRUNE_INTERVAL_MS) return;
    this.lastPruneMs = nowMs;
    const horizonInMs = this.options.ledgerHorizonInMs ?? DEFAULT_LEDGER_HORIZON_MS;
    const pruned = await this.options.state.prune(nowMs - horizonInMs);
    if (pruned > 0) this.logger?.info({ pruned }, "ledger: pruned ids past the horizon");
  }
}
