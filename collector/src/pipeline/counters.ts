import type { ContentType } from "../../../domain/contentTypes";
import type { CollectorMetrics } from "../metrics";
import type { Checkpoint } from "../types";
import type { LandedCommit } from "./frontier";

/** Counters of one content type, cumulative since the pipeline was opened. */
export interface ContentTypeProgress {
  received: number;
  delivered: number;
  duplicate: number;
  skipped: number;
  /** Blob items fully delivered and committed. */
  blobsDone: number;
  /** Items the source skipped (expired, missing, malformed, refused-uri). */
  blobsSkipped: number;
  /** Newest `contentCreated` delivered, ISO-8601. */
  newestContentCreated?: string;
  /** `windowStart` of the committed checkpoint. */
  windowStart?: string;
  /** Error of the last poll, if it failed. */
  lastError?: string;
}

/** Counters of one content type for one `runOnce`, and whether its poll completed. */
export interface ContentTypeRunSummary {
  ok: boolean;
  received: number;
  delivered: number;
  duplicate: number;
  skipped: number;
  error?: Error;
}

/** Records of one lane entry, sorted by what became of them before delivery. */
export interface ReceivedCounts {
  received: number;
  /** Without an Id: cannot be deduplicated, so never delivered. */
  skipped: number;
  /** Already delivered (in the ledger, pending or committing) or repeated in the round. */
  duplicate: number;
}

/**
 * Every counter the pipeline keeps, updated in one place: the Prometheus metrics, the
 * cumulative progress per content type (`/healthz`, the progress events) and the summary of the
 * current run. Each method is one event of the pipeline and updates all three together, so they
 * cannot drift apart.
 */
export class PipelineCounters {
  private readonly progress = new Map<ContentType, ContentTypeProgress>();
  private readonly newestDeliveredMs = new Map<ContentType, number>();
  private run = new Map<ContentType, ContentTypeRunSummary>();

  constructor(
    private readonly contentTypes: readonly ContentType[],
    private readonly metrics: CollectorMetrics,
  ) {
    for (const contentType of contentTypes) this.progress.set(contentType, emptyProgress());
  }

  /** A committed checkpoint loaded at open: where the progress of its content type stands. */
  restored(checkpoint: Checkpoint): void {
    const progress = this.progress.get(checkpoint.contentType);
    if (progress) {
      progress.windowStart = checkpoint.windowStart;
      progress.newestContentCreated = checkpoint.lastContentCreated;
    }
    const newest = Date.parse(checkpoint.lastContentCreated ?? "");
    if (Number.isFinite(newest)) this.newestDeliveredMs.set(checkpoint.contentType, newest);
  }

  /** Starts the summaries of a new run at zero. */
  beginRun(): void {
    this.run = new Map();
    for (const contentType of this.contentTypes) {
      this.run.set(contentType, { ok: true, received: 0, delivered: 0, duplicate: 0, skipped: 0 });
    }
  }

  /** Records of one lane entry went through dedup. */
  received(contentType: ContentType, counts: ReceivedCounts): void {
    const labels = { content_type: contentType };
    const result = this.run.get(contentType)!;
    const progress = this.progress.get(contentType)!;
    result.received += counts.received;
    result.skipped += counts.skipped;
    result.duplicate += counts.duplicate;
    progress.received += counts.received;
    progress.skipped += counts.skipped;
    progress.duplicate += counts.duplicate;
    this.metrics.recordsReceived.inc(labels, counts.received);
    if (counts.duplicate > 0) this.metrics.recordsDuplicate.inc(labels, counts.duplicate);
    if (counts.skipped > 0)
      this.metrics.recordsSkipped.inc({ ...labels, reason: "no-id" }, counts.skipped);
  }

  /** The source skipped a blob (it counts the reason in its own metric). */
  blobSkipped(contentType: ContentType): void {
    this.progress.get(contentType)!.blobsSkipped += 1;
  }

  /** A sink asked to retry and the lane waits `delayInMs` before redelivering. */
  sinkRetryWaited(sink: string, delayInMs: number): void {
    this.metrics.throttleWaitSeconds.inc({ target: `sink:${sink}` }, delayInMs / 1000);
  }

  /** A commit landed: its records count as delivered and its checkpoints as progress. */
  committed(commit: LandedCommit): void {
    for (const [contentType, count] of commit.delivered) {
      this.metrics.recordsDelivered.inc({ content_type: contentType }, count);
      this.run.get(contentType)!.delivered += count;
      this.progress.get(contentType)!.delivered += count;
    }
    for (const [contentType, count] of commit.blobsDone)
      this.progress.get(contentType)!.blobsDone += count;
    for (const checkpoint of commit.checkpoints) {
      this.progress.get(checkpoint.contentType)!.windowStart = checkpoint.windowStart;
    }
    for (const [contentType, newest] of commit.newestContentCreatedMs) {
      const previous = this.newestDeliveredMs.get(contentType) ?? Number.NEGATIVE_INFINITY;
      if (newest > previous) {
        this.newestDeliveredMs.set(contentType, newest);
        this.progress.get(contentType)!.newestContentCreated = new Date(newest).toISOString();
      }
    }
  }

  /**
   * The poll of `contentType` failed in this run. Only the first failure counts; returns
   * whether this one did.
   */
  pollFailed(contentType: ContentType, error: unknown): boolean {
    const result = this.run.get(contentType)!;
    if (result.error) return false;
    result.ok = false;
    result.error = error instanceof Error ? error : new Error(String(error));
    return true;
  }

  /** The first failure of `contentType` in this run, if any. */
  pollError(contentType: ContentType): Error | undefined {
    return this.run.get(contentType)!.error;
  }

  /** Ends the run for `contentType`: keeps its last error in the progress, returns its summary. */
  settle(contentType: ContentType): ContentTypeRunSummary {
    const result = this.run.get(contentType)!;
    this.progress.get(contentType)!.lastError = result.error?.message;
    return result;
  }

  /** Cumulative counters per content type (a copy). */
  snapshot(): Record<string, ContentTypeProgress> {
    return Object.fromEntries([...this.progress].map(([key, value]) => [key, { ...value }]));
  }

  /** Sets the lag and checkpoint-age gauges for the time `nowMs`. */
  refreshGauges(nowMs: number, checkpoints: ReadonlyMap<ContentType, Checkpoint>): void {
    for (const contentType of this.contentTypes) {
      const newest = this.newestDeliveredMs.get(contentType);
      if (newest !== undefined) {
        this.metrics.lagSeconds.set(
          { content_type: contentType },
          Math.max(0, (nowMs - newest) / 1000),
        );
      }
      const updated = Date.parse(checkpoints.get(contentType)?.updatedAt ?? "");
      if (Number.isFinite(updated)) {
        this.metrics.checkpointAgeSeconds.set(
          { content_type: contentType },
          Math.max(0, (nowMs - updated) / 1000),
        );
      }
    }
  }
}

function emptyProgress(): ContentTypeProgress {
  return { received: 0, delivered: 0, duplicate: 0, skipped: 0, blobsDone: 0, blobsSkipped: 0 };
}
