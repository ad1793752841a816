import type { ContentType } from "../../../domain/contentTypes";
import { abortableDelay, abortError, type RetryDelayOptions, retryDelayInMs } from "../backoff";
import type { Logger } from "../log";
import type { Checkpoint, ReceivedRecord, Source, SourceItem } from "../types";
import type { RunControl } from "./control";
import type { PipelineCounters } from "./counters";
import { errorText, isStopError } from "./errors";
import type { CommitFrontier, TrackedItem } from "./frontier";
import type { DeliveryLane } from "./lane";
import {
  DEFAULT_BLOB_ATTEMPTS,
  DEFAULT_BLOB_CONCURRENCY,
  DEFAULT_MAX_BATCH_BYTES,
  DEFAULT_MAX_BATCH_RECORDS,
  recordSizeBytes,
} from "./options";

/** Counting semaphore for blob slots; `acquire` is abortable. */
class Slots {
  private free: number;
  private readonly waiters: Array<() => void> = [];

  constructor(count: number) {
    this.free = count;
  }

  /** Resolves once a slot is free and taken; rejects with an AbortError when aborted first. */
  async acquire(options: { abortSignal: AbortSignal }): Promise<void> {
    const signal = options.abortSignal;
    if (signal.aborted) throw abortError(signal);
    if (this.free > 0) {
      this.free -= 1;
      return;
    }
    await new Promise<void>((resolveSlot, rejectSlot) => {
      const grant = () => {
        signal.removeEventListener("abort", onAbort);
        resolveSlot();
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(grant);
        if (index >= 0) this.waiters.splice(index, 1);
        rejectSlot(abortError(signal));
      };
      this.waiters.push(grant);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Gives a slot back: to the longest waiter, if any. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free += 1;
  }
}

/** Options of a {@link BlobFetcher}. */
export interface BlobFetcherOptions {
  source: Source;
  lane: DeliveryLane;
  frontier: CommitFrontier;
  counters: PipelineCounters;
  control: RunControl;
  /** Blobs read at once across content types (default {@link DEFAULT_BLOB_CONCURRENCY}). */
  blobConcurrency?: number;
  /** Records per lane entry (default {@link DEFAULT_MAX_BATCH_RECORDS}). */
  maxBatchRecords?: number;
  /** Bytes per lane entry (default {@link DEFAULT_MAX_BATCH_BYTES}). */
  maxBatchBytes?: number;
  /** Reads of one blob before its content type gives up (default {@link DEFAULT_BLOB_ATTEMPTS}). */
  blobAttempts?: number;
  /** Backoff between reads of a blob. */
  retry?: RetryDelayOptions;
  logger?: Logger;
}

/**
 * The receiving end of a run: polls each content type, tracks its items in source order with
 * the frontier, reads blobs (a bounded number at once, shared by all content types) and feeds
 * their records to the lane in batches. A blob whose read fails is read again from the start;
 * the lane drops the records delivered the first time.
 */
export class BlobFetcher {
  private readonly slots: Slots;

  constructor(private readonly options: BlobFetcherOptions) {
    this.slots = new Slots(options.blobConcurrency ?? DEFAULT_BLOB_CONCURRENCY);
  }

  /** Polls one content type to the end (or until stopped), feeding the lane. */
  async pollContentType(
    contentType: ContentType,
    checkpoint: Checkpoint | undefined,
  ): Promise<void> {
    const { control, counters, frontier, lane } = this.options;
    const typeController = new AbortController();
    const signal = AbortSignal.any([control.fetchSignal, typeController.signal]);
    const fetches = new Set<Promise<void>>();
    const failType = (error: unknown) => {
      if (isStopError(error, signal) || !counters.pollFailed(contentType, error)) return;
      this.options.logger?.warn(
        { contentType, err: counters.pollError(contentType)?.message },
        "poll stopped; the checkpoint stays before the failed item and the next poll retries it",
      );
      typeController.abort();
    };
    try {
      for await (const item of this.options.source.poll(contentType, checkpoint, {
        abortSignal: signal,
      })) {
        if (signal.aborted) break;
        const tracked = frontier.track(contentType, item);
        if (item.kind !== "blob") {
          if (item.kind === "skipped") counters.blobSkipped(contentType);
          lane.submit({ item: tracked, last: true }).then(
            ({ done }) => done.catch(() => {}),
            () => {},
          );
          continue;
        }
        await this.slots.acquire({ abortSignal: signal });
        let released = false;
        const releaseSlot = () => {
          if (released) return;
          released = true;
          this.slots.release();
        };
        const fetch = this.fetchBlob(tracked, item, signal, releaseSlot)
          .catch(failType)
          .finally(() => {
            releaseSlot();
            fetches.delete(fetch);
          });
        fetches.add(fetch);
      }
    } catch (error) {
      failType(error);
    }
    await Promise.allSettled([...fetches]);
    // A graceful stop is not a failure (the next poll resumes from the checkpoint); a fatal
    // lane error is, for every content type.
    if (control.fatal) counters.pollFailed(contentType, control.fatal);
  }

  private async fetchBlob(
    tracked: TrackedItem,
    item: Extract<SourceItem, { kind: "blob" }>,
    signal: AbortSignal,
    releaseSlot: () => void,
  ): Promise<void> {
    const { lane } = this.options;
    const maxBatch = this.options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
    const maxBytes = this.options.maxBatchBytes ?? DEFAULT_MAX_BATCH_BYTES;
    const attempts = this.options.blobAttempts ?? DEFAULT_BLOB_ATTEMPTS;
    for (let attempt = 1; ; attempt++) {
      let inFlight: Promise<void> | undefined;
      try {
        let buffer: ReceivedRecord[] = [];
        let bufferBytes = 0;
        // One batch of this blob may be in the lane while the next one is read.
        const handOn = async () => {
          if (inFlight) await inFlight;
          inFlight = (await lane.submit({ item: tracked, records: buffer, last: false })).done;
          buffer = [];
          bufferBytes = 0;
        };
        for await (const record of item.records({ abortSignal: signal })) {
          // Each record counts one more byte: a separator (a comma in a JSON array body).
          const size = recordSizeBytes(record) + 1;
          if (buffer.length > 0 && bufferBytes + size > maxBytes) await handOn();
          buffer.push(record);
          bufferBytes += size;
          if (buffer.length >= maxBatch) await handOn();
        }
        if (inFlight) await inFlight;
        const last = (await lane.submit({ item: tracked, records: buffer, last: true })).done;
        // Reading is over: the slot goes to the next blob while this one waits in the lane
        // (bounded by the lane's record budget), so many small blobs fill one round.
        releaseSlot();
        await last;
        return;
      } catch (error) {
        if (inFlight) await inFlight.catch(() => {});
        if (isStopError(error, signal) || this.options.control.fatal || attempt >= attempts)
          throw error;
        const delayInMs = retryDelayInMs(attempt, undefined, this.options.retry);
        this.options.logger?.warn(
          {
            contentType: tracked.contentType,
            contentId: item.blob.contentId,
            attempt,
            delayInMs,
            err: errorText(error),
          },
          "blob read failed; reading it again from the start (delivered records are deduplicated)",
        );
        await abortableDelay(delayInMs, signal);
      }
    }
  }
}
