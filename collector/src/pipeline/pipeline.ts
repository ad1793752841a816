import { setMaxListeners } from "node:events";
import type { ContentType } from "../../../domain/contentTypes";
import {
  abortableDelay,
  abortError,
  isAbortError,
  type RetryDelayOptions,
  retryDelayInMs,
} from "../backoff";
import type { Logger } from "../log";
import { type CollectorMetrics, createMetrics } from "../metrics";
import type {
  Batch,
  Checkpoint,
  DeliveryOutcome,
  OperationOptions,
  ReceivedRecord,
  Sink,
  Source,
  SourceItem,
  StateStore,
} from "../types";

/**
 * Blobs fetched at once across all content types (API etiquette and a memory bound). Eight keeps
 * a backlog drain near the request budget when each request takes ~80 ms (the drain benchmark).
 */
export const DEFAULT_BLOB_CONCURRENCY = 8;
/** Records per sink batch; a blob with more records is delivered in several batches. */
export const DEFAULT_MAX_BATCH_RECORDS = 1_000;
/**
 * The most records a delivery round takes and the lane's queue budget. Queued records are held
 * whole (their text, and parsed when a sink reads the parsed form: several KB each), so this
 * number is the collector's main memory knob.
 */
export const DEFAULT_COMMIT_MAX_RECORDS = 5_000;
/**
 * Acknowledged records (only their Ids are held) that share one commit while more batches are
 * queued. Each SQLite commit rewrites every ledger page it touches, and random GUIDs touch
 * pages all over the ledger, so fewer, larger commits cost much less per Id: with a million Ids
 * in the ledger, commits of 5,000 Ids took about 19 µs per Id and commits of 20,000 about 8 µs.
 * It is also the most acknowledged-but-uncommitted records a crash can repeat at a sink that
 * cannot undo (Logs Ingestion), together with one round.
 */
export const DEFAULT_COMMIT_EVERY_RECORDS = 20_000;
/** Longest an acknowledged batch waits for its commit while more batches are queued, in ms. */
export const DEFAULT_COMMIT_MAX_DELAY_MS = 1_000;
/** On a graceful stop, the in-flight batch gets this long to finish (retries included), in ms. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 20_000;
/** Ledger entries older than this are pruned: 8 days, one more than the API's 7-day window. */
export const DEFAULT_LEDGER_HORIZON_MS = 8 * 24 * 3_600_000;
/** The ledger is pruned at most this often, in ms. */
export const DEFAULT_PRUNE_INTERVAL_MS = 3_600_000;
/** Batches handed to the sinks together in one lane round. */
const MAX_ROUND_BATCHES = 64;
/** Reads of one blob before the content type's poll gives up for this run. */
export const DEFAULT_BLOB_ATTEMPTS = 3;

export interface PipelineOptions {
  source: Source;
  /** Every sink must acknowledge a batch before it is committed. At least one. */
  sinks: readonly Sink[];
  state: StateStore;
  contentTypes: readonly ContentType[];
  metrics?: CollectorMetrics;
  logger?: Logger;
  /** Blobs fetched concurrently across content types (default {@link DEFAULT_BLOB_CONCURRENCY}). */
  blobConcurrency?: number;
  /** Records per sink batch (default {@link DEFAULT_MAX_BATCH_RECORDS}). */
  maxBatchRecords?: number;
  /** Records per delivery round and queued in the lane (default {@link DEFAULT_COMMIT_MAX_RECORDS}). */
  commitMaxRecords?: number;
  /** Coalesce commits up to this many acknowledged records (default {@link DEFAULT_COMMIT_EVERY_RECORDS}). */
  commitEveryRecords?: number;
  /** ... or up to this age of the oldest uncommitted acknowledgement (default 1 s). */
  commitMaxDelayInMs?: number;
  /** Backoff after retryable sink outcomes and failed blob reads. */
  retry?: RetryDelayOptions;
  /**
   * Give up on a batch a sink keeps refusing after this long, in ms (the run then fails).
   * Default: never — an outage of minutes or hours just waits, logging every retry.
   */
  sinkRetryTimeoutInMs?: number;
  /** Grace for the in-flight batch on a graceful stop (default {@link DEFAULT_SHUTDOWN_GRACE_MS}). */
  shutdownGraceInMs?: number;
  /** Reads of one blob before giving up on it for this run (default {@link DEFAULT_BLOB_ATTEMPTS}). */
  blobAttempts?: number;
  /** Ledger horizon (default {@link DEFAULT_LEDGER_HORIZON_MS}). */
  ledgerHorizonInMs?: number;
  /** Called after commits, retries and polls; must not throw or block. */
  onProgress?: (event: PipelineProgressEvent) => void;
  /** Clock, epoch ms (default `Date.now`). */
  nowMs?: () => number;
}

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

/** What `onProgress` receives. */
export type PipelineProgressEvent =
  | {
      type: "commit";
      records: number;
      byContentType: Readonly<Record<string, ContentTypeProgress>>;
    }
  | { type: "retry"; sink: string; attempt: number; delayInMs: number; error: string }
  | { type: "poll-done"; contentType: ContentType; ok: boolean; error?: string };

/** The outcome of one `runOnce`. */
export interface RunSummary {
  /** Per content type: counters for this run and whether its poll completed. */
  contentTypes: Partial<Record<ContentType, ContentTypeRunSummary>>;
  /** The run stopped early because the abort signal fired. */
  aborted: boolean;
}

export interface ContentTypeRunSummary {
  ok: boolean;
  received: number;
  delivered: number;
  duplicate: number;
  skipped: number;
  error?: Error;
}

/** A sink answered `failure`, a sink threw, or the state store failed: the run stopped. */
export class PipelineError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PipelineError";
  }
}

/** Type guard for {@link PipelineError}. */
export function isPipelineError(error: unknown): error is PipelineError {
  return error instanceof Error && error.name === "PipelineError";
}

/**
 * The collector's engine: source → dedup → sinks → commit. It knows no API details.
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
  private readonly metrics: CollectorMetrics;
  private readonly nowMs: () => number;
  private readonly checkpoints = new Map<ContentType, Checkpoint>();
  private readonly progress = new Map<ContentType, ContentTypeProgress>();
  private readonly newestDeliveredMs = new Map<ContentType, number>();
  private opened = false;
  private lastPruneMs = Number.NEGATIVE_INFINITY;
  private running = false;

  constructor(options: PipelineOptions) {
    if (options.sinks.length === 0)
      throw new Error("pipeline needs at least one sink; set AUDIT_SINK");
    const names = new Set(options.sinks.map((sink) => sink.name));
    if (names.size !== options.sinks.length) {
      throw new Error("pipeline sinks need distinct names (their positions are stored by name)");
    }
    if (options.contentTypes.length === 0) {
      throw new Error("pipeline needs at least one content type; set O365_CONTENT_TYPES");
    }
    for (const [key, value] of Object.entries({
      blobConcurrency: options.blobConcurrency,
      maxBatchRecords: options.maxBatchRecords,
      commitMaxRecords: options.commitMaxRecords,
      blobAttempts: options.blobAttempts,
    })) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
        throw new Error(`pipeline option ${key}=${value} is invalid; use an integer of at least 1`);
      }
    }
    this.options = options;
    this.metrics = options.metrics ?? createMetrics();
    this.nowMs = options.nowMs ?? Date.now;
    for (const contentType of options.contentTypes) this.progress.set(contentType, emptyProgress());
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
      const progress = this.progress.get(contentType);
      if (progress) {
        progress.windowStart = checkpoint.windowStart;
        progress.newestContentCreated = checkpoint.lastContentCreated;
      }
      const newest = Date.parse(checkpoint.lastContentCreated ?? "");
      if (Number.isFinite(newest)) this.newestDeliveredMs.set(contentType, newest);
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
    return Object.fromEntries([...this.progress].map(([key, value]) => [key, { ...value }]));
  }

  /** Sets the lag and checkpoint-age gauges from the clock; call before serving /metrics. */
  refreshGauges(): void {
    const now = this.nowMs();
    for (const contentType of this.options.contentTypes) {
      const newest = this.newestDeliveredMs.get(contentType);
      if (newest !== undefined) {
        this.metrics.lagSeconds.set(
          { content_type: contentType },
          Math.max(0, (now - newest) / 1000),
        );
      }
      const updated = Date.parse(this.checkpoints.get(contentType)?.updatedAt ?? "");
      if (Number.isFinite(updated)) {
        this.metrics.checkpointAgeSeconds.set(
          { content_type: contentType },
          Math.max(0, (now - updated) / 1000),
        );
      }
    }
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
      const run = new Run(this.options, this.metrics, this.nowMs, options.abortSignal, {
        onCommitted: (update) => this.onCommitted(update),
        progress: this.progress,
      });
      const polls = this.options.contentTypes.map((contentType) =>
        run.pollContentType(contentType, this.checkpoints.get(contentType)),
      );
      await Promise.all(polls);
      await run.finish();
      this.refreshGauges();
      const summary: RunSummary = {
        contentTypes: {},
        aborted: options.abortSignal?.aborted ?? false,
      };
      for (const contentType of this.options.contentTypes) {
        const result = run.results.get(contentType)!;
        summary.contentTypes[contentType] = result;
        const progress = this.progress.get(contentType)!;
        progress.lastError = result.error?.message;
        this.options.onProgress?.({
          type: "poll-done",
          contentType,
          ok: result.ok,
          ...(result.error ? { error: result.error.message } : {}),
        });
      }
      if (run.fatal) throw run.fatal;
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

  private onCommitted(update: CommittedUpdate): void {
    for (const checkpoint of update.checkpoints) {
      this.checkpoints.set(checkpoint.contentType, checkpoint);
      const progress = this.progress.get(checkpoint.contentType)!;
      progress.windowStart = checkpoint.windowStart;
    }
    for (const [contentType, newest] of update.newestContentCreated) {
      const previous = this.newestDeliveredMs.get(contentType) ?? Number.NEGATIVE_INFINITY;
      if (newest > previous) {
        this.newestDeliveredMs.set(contentType, newest);
        this.progress.get(contentType)!.newestContentCreated = new Date(newest).toISOString();
      }
    }
    this.refreshGauges();
    this.options.onProgress?.({
      type: "commit",
      records: update.records,
      byContentType: this.progressSnapshot(),
    });
  }

  private async pruneIfDue(): Promise<void> {
    const now = this.nowMs();
    if (now - this.lastPruneMs < DEFAULT_PRUNE_INTERVAL_MS) return;
    this.lastPruneMs = now;
    const horizon = this.options.ledgerHorizonInMs ?? DEFAULT_LEDGER_HORIZON_MS;
    const pruned = await this.options.state.prune(now - horizon);
    if (pruned > 0) this.options.logger?.info({ pruned }, "ledger: pruned ids past the horizon");
  }
}

function emptyProgress(): ContentTypeProgress {
  return { received: 0, delivered: 0, duplicate: 0, skipped: 0, blobsDone: 0, blobsSkipped: 0 };
}

/** One source item in a run, tracked until its checkpoint is committed. */
interface ItemState {
  readonly item: SourceItem;
  /** Every record of the item was acknowledged by every sink (and is in the pending commit). */
  done: boolean;
}

/** Items of one content type in source order; `head` is the first not yet committed. */
interface ItemQueue {
  items: ItemState[];
  head: number;
}

/** A lane entry: records of one blob to deliver, or an item with nothing to deliver. */
interface LaneEntry {
  contentType: ContentType;
  state: ItemState;
  /** Undefined for a marker (skipped/advance item). */
  records?: readonly ReceivedRecord[];
  /** This entry completes the item. */
  last: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface CommittedUpdate {
  checkpoints: Checkpoint[];
  newestContentCreated: Map<ContentType, number>;
  records: number;
}

/** Counting semaphore for blob slots; `acquire` is abortable. */
class Slots {
  private free: number;
  private readonly waiters: Array<() => void> = [];
  constructor(count: number) {
    this.free = count;
  }
  async acquire(signal: AbortSignal): Promise<void> {
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
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.free += 1;
  }
}

/**
 * The state of one `runOnce`: pollers and fetchers feed a single serial delivery lane, which
 * dedups, delivers to every sink, and commits. Serial delivery keeps sink positions and the
 * ledger consistent without locks: the ledger lookup for a batch always sees every earlier
 * batch either committed or in the pending set.
 */
class Run {
  readonly results = new Map<ContentType, ContentTypeRunSummary>();
  fatal: PipelineError | undefined;

  private readonly queues = new Map<ContentType, ItemQueue>();
  private readonly slots: Slots;
  /** Aborts fetching: the caller's graceful stop, or a fatal lane error. */
  private readonly fetchController = new AbortController();
  /** Aborts the in-flight delivery: fired `shutdownGraceInMs` after a graceful stop. */
  private readonly hardController = new AbortController();
  private hardTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  private readonly lane: LaneEntry[] = [];
  private queuedRecords = 0;
  private readonly roomWaiters: Array<() => void> = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly laneDone: Promise<void>;
  private stateBroken = false;

  private pendingIds = new Set<string>();
  /** Ids of the commit in flight (still deduplicated against until it lands). */
  private committingIds = new Set<string>();
  /** The commit in flight, if any; at most one runs at a time. */
  private committing: Promise<void> | undefined;
  private pendingPositions: Record<string, string> = {};
  private pendingRecords = 0;
  private pendingSinceMs: number | undefined;
  private pendingDelivered = new Map<ContentType, number>();

  constructor(
    private readonly options: PipelineOptions,
    private readonly metrics: CollectorMetrics,
    private readonly nowMs: () => number,
    private readonly abortSignal: AbortSignal | undefined,
    private readonly hooks: {
      onCommitted: (update: CommittedUpdate) => void;
      progress: Map<ContentType, ContentTypeProgress>;
    },
  ) {
    // Every blob fetch, sink upload (the Azure SDK adds one per request) and sleep listens on
    // these signals at once; more than Node's default of 10 listeners is expected, not a leak.
    setMaxListeners(0, this.fetchController.signal, this.hardController.signal);
    this.slots = new Slots(options.blobConcurrency ?? DEFAULT_BLOB_CONCURRENCY);
    for (const contentType of options.contentTypes) {
      this.queues.set(contentType, { items: [], head: 0 });
      this.results.set(contentType, {
        ok: true,
        received: 0,
        delivered: 0,
        duplicate: 0,
        skipped: 0,
      });
    }
    if (abortSignal?.aborted) this.beginStop();
    else abortSignal?.addEventListener("abort", this.onAbort, { once: true });
    this.laneDone = this.laneLoop();
  }

  /** Polls one content type to the end (or until stopped), feeding the lane. */
  async pollContentType(
    contentType: ContentType,
    checkpoint: Checkpoint | undefined,
  ): Promise<void> {
    const typeController = new AbortController();
    const signal = AbortSignal.any([this.fetchController.signal, typeController.signal]);
    const queue = this.queues.get(contentType)!;
    const result = this.results.get(contentType)!;
    const fetches = new Set<Promise<void>>();
    const failType = (error: unknown) => {
      if (result.error || isStopError(error, signal)) return;
      result.ok = false;
      result.error = error instanceof Error ? error : new Error(String(error));
      this.options.logger?.warn(
        { contentType, err: result.error.message },
        "poll stopped; the checkpoint stays before the failed item and the next poll retries it",
      );
      typeController.abort();
    };
    try {
      for await (const item of this.options.source.poll(contentType, checkpoint, {
        abortSignal: signal,
      })) {
        if (signal.aborted) break;
        const state: ItemState = { item, done: false };
        queue.items.push(state);
        if (item.kind !== "blob") {
          if (item.kind === "skipped") this.hooks.progress.get(contentType)!.blobsSkipped += 1;
          this.submit({ contentType, state, last: true }).then(
            ({ done }) => done.catch(() => {}),
            () => {},
          );
          continue;
        }
        await this.slots.acquire(signal);
        let released = false;
        const releaseSlot = () => {
          if (released) return;
          released = true;
          this.slots.release();
        };
        const fetch = this.fetchBlob(contentType, state, item, signal, releaseSlot)
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
    if (this.fatal && !result.error) {
      result.ok = false;
      result.error = this.fatal;
    }
  }

  /** Closes the lane after the pollers ended; resolves when everything acknowledged is committed. */
  async finish(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.laneDone;
    if (this.hardTimer) clearTimeout(this.hardTimer);
    this.abortSignal?.removeEventListener("abort", this.onAbort);
  }

  private readonly onAbort = () => this.beginStop();

  private beginStop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.fetchController.abort(this.abortSignal?.reason);
    const grace = this.options.shutdownGraceInMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    this.hardTimer = setTimeout(() => this.hardController.abort(), grace);
    this.hardTimer.unref?.();
    this.wake?.();
    this.notifyRoom();
  }

  private async fetchBlob(
    contentType: ContentType,
    state: ItemState,
    item: Extract<SourceItem, { kind: "blob" }>,
    signal: AbortSignal,
    releaseSlot: () => void,
  ): Promise<void> {
    const maxBatch = this.options.maxBatchRecords ?? DEFAULT_MAX_BATCH_RECORDS;
    const attempts = this.options.blobAttempts ?? DEFAULT_BLOB_ATTEMPTS;
    for (let attempt = 1; ; attempt++) {
      let inFlight: Promise<void> | undefined;
      try {
        let buffer: ReceivedRecord[] = [];
        for await (const record of item.records({ abortSignal: signal })) {
          buffer.push(record);
          if (buffer.length >= maxBatch) {
            // One batch of this blob may be in the lane while the next one is read.
            if (inFlight) await inFlight;
            inFlight = (await this.submit({ contentType, state, records: buffer, last: false }))
              .done;
            buffer = [];
          }
        }
        if (inFlight) await inFlight;
        const last = (await this.submit({ contentType, state, records: buffer, last: true })).done;
        // Reading is over: the slot goes to the next blob while this one waits in the lane
        // (bounded by the lane's record budget), so many small blobs fill one round.
        releaseSlot();
        await last;
        return;
      } catch (error) {
        if (inFlight) await inFlight.catch(() => {});
        if (isStopError(error, signal) || this.fatal || attempt >= attempts) throw error;
        const delay = retryDelayInMs(attempt, undefined, this.options.retry);
        this.options.logger?.warn(
          {
            contentType,
            contentId: item.blob.contentId,
            attempt,
            delayInMs: delay,
            err: errorText(error),
          },
          "blob read failed; reading it again from the start (delivered records are deduplicated)",
        );
        await abortableDelay(delay, signal);
      }
    }
  }

  /**
   * Queues an entry for the lane once the lane has room for it (back-pressure: resolves only
   * after the entry is accepted, so a reader holding a full buffer keeps its blob slot until
   * then) and returns `done`, which settles when the entry was delivered or failed.
   */
  private async submit(
    entry: Omit<LaneEntry, "resolve" | "reject">,
  ): Promise<{ done: Promise<void> }> {
    const budget = this.options.commitMaxRecords ?? DEFAULT_COMMIT_MAX_RECORDS;
    while (this.queuedRecords >= budget && !this.fatal && !this.stopping) {
      await new Promise<void>((resolveRoom) => this.roomWaiters.push(resolveRoom));
    }
    if (this.fatal) throw this.fatal;
    if (this.stopping) throw abortError(this.abortSignal);
    this.queuedRecords += entry.records?.length ?? 0;
    const done = new Promise<void>((resolveEntry, rejectEntry) => {
      this.lane.push({ ...entry, resolve: resolveEntry, reject: rejectEntry });
      this.wake?.();
    });
    return { done };
  }

  /** Wakes submitters waiting for room in the lane (they re-check the budget). */
  private notifyRoom(): void {
    const waiters = this.roomWaiters.splice(0);
    for (const waiter of waiters) waiter();
  }

  /**
   * The serial delivery lane. Each turn takes every queued entry (up to the round limits) as
   * one round: one ledger lookup for the round, every batch handed to every sink at once (sinks
   * see them in lane order; the file sink shares one fsync among them), then acknowledgements
   * applied in order. A round is all or nothing: if any batch in it is not acknowledged by
   * every sink, none of the round is committed, so committed sink positions never cover
   * uncommitted records. Exits after `finish()` once the queue is empty and committed.
   */
  private async laneLoop(): Promise<void> {
    const maxRoundRecords = this.options.commitMaxRecords ?? DEFAULT_COMMIT_MAX_RECORDS;
    for (;;) {
      if (this.lane.length === 0) {
        // Idle: nothing else is waiting, so commit now rather than hold acknowledgements back.
        await this.commitPending();
        if (this.lane.length > 0) continue;
        if (this.closed) return;
        await new Promise<void>((resolveWake) => {
          this.wake = resolveWake;
        });
        this.wake = undefined;
        continue;
      }
      const round: LaneEntry[] = [];
      let roundRecords = 0;
      while (
        this.lane.length > 0 &&
        round.length < MAX_ROUND_BATCHES &&
        roundRecords < maxRoundRecords
      ) {
        const entry = this.lane.shift()!;
        round.push(entry);
        roundRecords += entry.records?.length ?? 0;
      }
      this.queuedRecords -= roundRecords;
      this.notifyRoom();
      if (this.fatal || this.stopping) {
        for (const entry of round) entry.reject(this.fatal ?? abortError(this.abortSignal));
        continue;
      }
      try {
        await this.processRound(round);
        for (const entry of round) entry.resolve();
      } catch (error) {
        for (const entry of round) entry.reject(error);
        if (!isAbortError(error)) this.fail(error);
      }
      const ageMs = this.pendingSinceMs === undefined ? 0 : this.nowMs() - this.pendingSinceMs;
      if (
        this.pendingRecords >= (this.options.commitEveryRecords ?? DEFAULT_COMMIT_EVERY_RECORDS) ||
        ageMs >= (this.options.commitMaxDelayInMs ?? DEFAULT_COMMIT_MAX_DELAY_MS)
      ) {
        // The commit runs while the next round is delivered: SQLite's work and fsync then
        // overlap the sinks' instead of stopping the lane.
        await this.startCommit();
      }
    }
  }

  private fail(error: unknown): void {
    if (this.fatal) return;
    this.fatal =
      error instanceof PipelineError
        ? error
        : new PipelineError(`pipeline stopped: ${errorText(error)}`, { cause: error });
    this.options.logger?.error(
      { err: this.fatal.message },
      "pipeline stopped; acknowledged batches are committed",
    );
    this.fetchController.abort(this.fatal);
    this.notifyRoom();
  }

  /** Dedups a round's records, delivers them to every sink and adds them to the pending commit. */
  private async processRound(round: readonly LaneEntry[]): Promise<void> {
    // 1. Drop records without Id, and ids repeated in the round or in the pending commit.
    const inRound = new Set<string>();
    const prepared = round.map((entry) => {
      const candidates: ReceivedRecord[] = [];
      let skipped = 0;
      let duplicate = 0;
      for (const record of entry.records ?? []) {
        const id = record.id;
        if (typeof id !== "string" || id === "") skipped += 1;
        else if (inRound.has(id) || this.pendingIds.has(id) || this.committingIds.has(id))
          duplicate += 1;
        else {
          inRound.add(id);
          candidates.push(record);
        }
      }
      return { entry, candidates, skipped, duplicate, fresh: candidates };
    });
    // 2. One ledger lookup for the whole round.
    let seen: Set<string> = new Set();
    if (inRound.size > 0) {
      try {
        seen = await this.options.state.seen([...inRound]);
      } catch (error) {
        throw new PipelineError(`state store lookup failed: ${errorText(error)}`, { cause: error });
      }
    }
    const batches: Batch[] = [];
    for (const item of prepared) {
      if (seen.size > 0) item.fresh = item.candidates.filter((record) => !seen.has(record.id));
      item.duplicate += item.candidates.length - item.fresh.length;
      const { entry } = item;
      const received = entry.records?.length ?? 0;
      if (received > 0) this.count(entry, received, item.skipped, item.duplicate);
      if (item.fresh.length > 0) {
        const blob = (entry.state.item as Extract<SourceItem, { kind: "blob" }>).blob;
        batches.push({ contentType: entry.contentType, blob, records: item.fresh });
      }
    }
    // 3. Every batch to every sink; nothing of the round is pending until all acknowledged.
    const positions = batches.length > 0 ? await this.deliverRound(batches) : {};
    // 4. Acknowledged: add to the pending commit, in order.
    Object.assign(this.pendingPositions, positions);
    for (const { entry, fresh } of prepared) {
      if (fresh.length > 0) {
        for (const record of fresh) this.pendingIds.add(record.id);
        this.pendingRecords += fresh.length;
        this.pendingDelivered.set(
          entry.contentType,
          (this.pendingDelivered.get(entry.contentType) ?? 0) + fresh.length,
        );
      }
      if (entry.last) entry.state.done = true;
    }
    this.pendingSinceMs ??= this.nowMs();
  }

  private count(entry: LaneEntry, received: number, skipped: number, duplicate: number): void {
    const { contentType } = entry;
    const labels = { content_type: contentType };
    const result = this.results.get(contentType)!;
    const progress = this.hooks.progress.get(contentType)!;
    result.received += received;
    result.skipped += skipped;
    result.duplicate += duplicate;
    progress.received += received;
    progress.skipped += skipped;
    progress.duplicate += duplicate;
    this.metrics.recordsReceived.inc(labels, received);
    if (duplicate > 0) this.metrics.recordsDuplicate.inc(labels, duplicate);
    if (skipped > 0) {
      this.metrics.recordsSkipped.inc({ ...labels, reason: "no-id" }, skipped);
      const item = entry.state.item;
      this.options.logger?.warn(
        {
          contentType,
          contentId: item.kind === "advance" ? undefined : item.blob.contentId,
          skipped,
        },
        "records without Id skipped (they cannot be deduplicated)",
      );
    }
  }

  /**
   * Delivers a round's batches to every sink, retrying retryable outcomes (only the sink and
   * batch pairs that were not acknowledged). Resolves with each sink's position of its
   * last-completed delivery; rejects with an AbortError when abandoned (graceful stop past its
   * grace) or a PipelineError on a failure or when `sinkRetryTimeoutInMs` runs out.
   */
  private async deliverRound(batches: readonly Batch[]): Promise<Record<string, string>> {
    const positions: Record<string, string> = {};
    const signal = this.hardController.signal;
    const startedMs = this.nowMs();
    let pending = this.options.sinks.flatMap((sink) => batches.map((batch) => ({ sink, batch })));
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
      let retryAfter: number | undefined;
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
            retryAfter = Math.max(retryAfter ?? 0, outcome.retryAfterInMs);
        }
      }
      if (retry.length === 0) return positions;
      if (signal.aborted) throw abortError(signal);
      pending = retry;
      const sinks = [...new Set(retry.map(({ sink }) => sink.name))];
      const delay = retryDelayInMs(attempt, retryAfter, this.options.retry);
      const message = [...messages].join("; ");
      const timeout = this.options.sinkRetryTimeoutInMs;
      if (timeout !== undefined && this.nowMs() + delay - startedMs > timeout) {
        throw new PipelineError(
          `gave up delivering to ${sinks.join(", ")} after ${attempt} attempts (sinkRetryTimeoutInMs=${timeout}): ${message}`,
        );
      }
      for (const sink of sinks) {
        this.metrics.throttleWaitSeconds.inc({ target: `sink:${sink}` }, delay / 1000);
        this.options.onProgress?.({
          type: "retry",
          sink,
          attempt,
          delayInMs: delay,
          error: message,
        });
      }
      this.options.logger?.warn(
        { attempt, delayInMs: delay, sinks, err: message },
        "sink asked to retry; waiting",
      );
      await abortableDelay(delay, signal);
    }
  }

  /** Commits everything pending and waits for it (and for a commit already in flight). */
  private async commitPending(): Promise<void> {
    await this.startCommit();
    await this.committing;
  }

  /**
   * Starts a commit of the pending ids, positions and every checkpoint that can move, after the
   * one in flight (if any) has landed; resolves once it has started. Never rejects: a failed
   * commit stops the pipeline.
   */
  private async startCommit(): Promise<void> {
    if (this.committing) await this.committing;
    if (this.stateBroken) return;
    const checkpoints: Checkpoint[] = [];
    const newest = new Map<ContentType, number>();
    const blobsDone = new Map<ContentType, number>();
    const nowMs = this.nowMs();
    const updatedAt = new Date(nowMs).toISOString();
    for (const [contentType, queue] of this.queues) {
      let advanced: Checkpoint | undefined;
      while (queue.head < queue.items.length && queue.items[queue.head]!.done) {
        const { item } = queue.items[queue.head]!;
        advanced = item.checkpointAfter;
        if (item.kind === "blob") {
          blobsDone.set(contentType, (blobsDone.get(contentType) ?? 0) + 1);
          const created = Date.parse(item.blob.contentCreated);
          if (
            Number.isFinite(created) &&
            created > (newest.get(contentType) ?? Number.NEGATIVE_INFINITY)
          ) {
            newest.set(contentType, created);
          }
        }
        queue.head += 1;
      }
      if (queue.head > 1024) {
        queue.items.splice(0, queue.head);
        queue.head = 0;
      }
      if (advanced) checkpoints.push({ ...advanced, updatedAt });
    }
    if (
      checkpoints.length === 0 &&
      this.pendingRecords === 0 &&
      Object.keys(this.pendingPositions).length === 0
    ) {
      return;
    }
    // Everything pending now belongs to this commit; rounds delivered meanwhile start anew.
    const ids = this.pendingIds;
    const positions = this.pendingPositions;
    const records = this.pendingRecords;
    const delivered = this.pendingDelivered;
    this.committingIds = ids;
    this.pendingIds = new Set();
    this.pendingPositions = {};
    this.pendingRecords = 0;
    this.pendingSinceMs = undefined;
    this.pendingDelivered = new Map();
    const run = async (): Promise<void> => {
      try {
        // Ids and positions go with the first commit; further checkpoints follow on their own,
        // each atomic. A crash between them only leaves a checkpoint behind, which is safe.
        await this.options.state.commit({
          checkpoint: checkpoints[0],
          deliveredIds: [...ids],
          sinkPositions: positions,
          nowMs,
        });
        for (const checkpoint of checkpoints.slice(1)) {
          await this.options.state.commit({
            checkpoint,
            deliveredIds: [],
            sinkPositions: {},
            nowMs,
          });
        }
      } catch (error) {
        this.stateBroken = true;
        this.fail(new PipelineError(`state commit failed: ${errorText(error)}`, { cause: error }));
        return;
      }
      for (const [contentType, count] of delivered) {
        this.metrics.recordsDelivered.inc({ content_type: contentType }, count);
        this.results.get(contentType)!.delivered += count;
        this.hooks.progress.get(contentType)!.delivered += count;
      }
      for (const [contentType, count] of blobsDone)
        this.hooks.progress.get(contentType)!.blobsDone += count;
      this.hooks.onCommitted({ checkpoints, newestContentCreated: newest, records });
    };
    // No other commit can start before this one is done (see the top), so both are its own.
    this.committing = run().finally(() => {
      // The ids are in the ledger now (or the pipeline has stopped).
      this.committingIds = new Set();
      this.committing = undefined;
    });
  }
}

function isStopError(error: unknown, signal: AbortSignal): boolean {
  return signal.aborted && (isAbortError(error) || error === signal.reason);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
