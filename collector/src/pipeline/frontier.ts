import type { ContentType } from "../../../domain/contentTypes";
import type { Checkpoint, SourceItem, StateStore } from "../types";
import { errorText, PipelineError } from "./errors";
import { DEFAULT_COMMIT_EVERY_RECORDS, DEFAULT_COMMIT_MAX_DELAY_MS } from "./options";

/** One source item of a run, tracked until its checkpoint is committed. */
export interface TrackedItem {
  readonly contentType: ContentType;
  readonly item: SourceItem;
  /**
   * Every record of the item was acknowledged by every sink (and is in the pending commit).
   * Set by {@link CommitFrontier.acknowledge} only.
   */
  done: boolean;
}

/** Records of one lane entry that every sink acknowledged. */
export interface AcknowledgedEntry {
  item: TrackedItem;
  /** The records delivered (duplicates already dropped); only their Ids are kept. */
  records: readonly { readonly id: string }[];
  /** This entry was the item's last: the whole item is now delivered. */
  completesItem: boolean;
}

/** What a landed commit moved, for the counters and the progress events. */
export interface LandedCommit {
  /** Checkpoints written, at most one per content type. */
  checkpoints: readonly Checkpoint[];
  /** Record Ids added to the ledger. */
  records: number;
  /** Records added to the ledger, per content type. */
  delivered: ReadonlyMap<ContentType, number>;
  /** Blob items the checkpoints moved past, per content type. */
  blobsDone: ReadonlyMap<ContentType, number>;
  /** Newest `contentCreated` among those blobs, epoch ms, per content type. */
  newestContentCreatedMs: ReadonlyMap<ContentType, number>;
}

/** Options of a {@link CommitFrontier}. */
export interface CommitFrontierOptions {
  contentTypes: readonly ContentType[];
  state: Pick<StateStore, "commit">;
  /** A commit is due at this many acknowledged records (default {@link DEFAULT_COMMIT_EVERY_RECORDS}). */
  commitEveryRecords?: number;
  /** ... or this long after the first acknowledgement not yet committed (default {@link DEFAULT_COMMIT_MAX_DELAY_MS}). */
  commitMaxDelayInMs?: number;
  /** Clock, epoch ms (default `Date.now`). */
  nowMs?: () => number;
  /** Called once a commit is durable. */
  onCommitted?: (commit: LandedCommit) => void;
  /** Called when the state store could not commit; no commit follows. */
  onFailed?: (error: PipelineError) => void;
}

/** Items of one content type in source order; `head` is the first not yet committed. */
interface ItemQueue {
  items: TrackedItem[];
  head: number;
}

/** Committed items are dropped from a queue's front once this many have piled up. */
const COMPACT_AFTER_ITEMS = 1024;

/**
 * The commit frontier: what is acknowledged but not yet durable, and how far each content
 * type's checkpoint may move.
 *
 * - A checkpoint moves only past items that are done (every record acknowledged by every sink)
 *   and only in source order: an item finished early waits for every item before it.
 * - At most one commit is in flight; the next one starts only after it landed, so a checkpoint
 *   is never written before the Ids of the items it moves past.
 * - Ids acknowledged but not yet in the ledger (pending, or in the commit in flight) are
 *   {@link CommitFrontier.holds | held}, so the lane drops their repeats without asking the
 *   store.
 */
export class CommitFrontier {
  private readonly queues = new Map<ContentType, ItemQueue>();
  private readonly nowMs: () => number;
  private pendingIds = new Set<string>();
  /** Ids of the commit in flight (still deduplicated against until it lands). */
  private committingIds = new Set<string>();
  /** The commit in flight, if any; at most one runs at a time. */
  private committing: Promise<void> | undefined;
  private pendingPositions: Record<string, string> = {};
  private pendingRecordCount = 0;
  private pendingSinceMs: number | undefined;
  private pendingDelivered = new Map<ContentType, number>();
  private broken = false;

  constructor(private readonly options: CommitFrontierOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    for (const contentType of options.contentTypes) {
      this.queues.set(contentType, { items: [], head: 0 });
    }
  }

  /** Appends a source item of `contentType`, in source order. */
  track(contentType: ContentType, item: SourceItem): TrackedItem {
    const tracked: TrackedItem = { contentType, item, done: false };
    this.queues.get(contentType)!.items.push(tracked);
    return tracked;
  }

  /** True when `id` was acknowledged and is not yet in the ledger (pending or committing). */
  holds(id: string): boolean {
    return this.pendingIds.has(id) || this.committingIds.has(id);
  }

  /** Acknowledged records not yet part of a commit. */
  get pendingRecords(): number {
    return this.pendingRecordCount;
  }

  /**
   * Adds a round that every sink acknowledged to the pending commit: its records' Ids, the
   * sinks' positions, and the items it completed.
   */
  acknowledge(
    entries: readonly AcknowledgedEntry[],
    positions: Readonly<Record<string, string>>,
  ): void {
    Object.assign(this.pendingPositions, positions);
    for (const { item, records, completesItem } of entries) {
      if (records.length > 0) {
        for (const record of records) this.pendingIds.add(record.id);
        this.pendingRecordCount += records.length;
        this.pendingDelivered.set(
          item.contentType,
          (this.pendingDelivered.get(item.contentType) ?? 0) + records.length,
        );
      }
      if (completesItem) item.done = true;
    }
    this.pendingSinceMs ??= this.nowMs();
  }

  /** True when enough was acknowledged, or long enough ago, to commit now. */
  isCommitDue(): boolean {
    const ageInMs = this.pendingSinceMs === undefined ? 0 : this.nowMs() - this.pendingSinceMs;
    return (
      this.pendingRecordCount >=
        (this.options.commitEveryRecords ?? DEFAULT_COMMIT_EVERY_RECORDS) ||
      ageInMs >= (this.options.commitMaxDelayInMs ?? DEFAULT_COMMIT_MAX_DELAY_MS)
    );
  }

  /** Commits everything pending and waits for it (and for a commit already in flight). */
  async commitPending(): Promise<void> {
    await this.startCommit();
    await this.committing;
  }

  /**
   * Starts a commit of the pending ids, positions and every checkpoint that can move, after the
   * one in flight (if any) has landed; resolves once it has started. Never rejects: a failed
   * commit is reported to `onFailed` and no commit follows it.
   */
  async startCommit(): Promise<void> {
    if (this.committing) await this.committing;
    if (this.broken) return;
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
      if (queue.head > COMPACT_AFTER_ITEMS) {
        queue.items.splice(0, queue.head);
        queue.head = 0;
      }
      if (advanced) checkpoints.push({ ...advanced, updatedAt });
    }
    if (
      checkpoints.length === 0 &&
      this.pendingRecordCount === 0 &&
      Object.keys(this.pendingPositions).length === 0
    ) {
      return;
    }
    // Everything pending now belongs to this commit; rounds delivered meanwhile start anew.
    const ids = this.pendingIds;
    const positions = this.pendingPositions;
    const records = this.pendingRecordCount;
    const delivered = this.pendingDelivered;
    this.committingIds = ids;
    this.pendingIds = new Set();
    this.pendingPositions = {};
    this.pendingRecordCount = 0;
    this.pendingSinceMs = undefined;
    this.pendingDelivered = new Map();
    const run = async (): Promise<void> => {
      const { state } = this.options;
      try {
        // Ids and positions go with the first commit; further checkpoints follow on their own,
        // each atomic. A crash between them only leaves a checkpoint behind, which is safe.
        await state.commit({
          checkpoint: checkpoints[0],
          deliveredIds: [...ids],
          sinkPositions: positions,
          nowMs,
        });
        for (const checkpoint of checkpoints.slice(1)) {
          await state.commit({ checkpoint, deliveredIds: [], sinkPositions: {}, nowMs });
        }
      } catch (error) {
        this.broken = true;
        this.options.onFailed?.(
          new PipelineError(`state commit failed: ${errorText(error)}`, { cause: error }),
        );
        return;
      }
      this.options.onCommitted?.({
        checkpoints,
        records,
        delivered,
        blobsDone,
        newestContentCreatedMs: newest,
      });
    };
    // No other commit can start before this one is done (see the top), so both are its own.
    this.committing = run().finally(() => {
      // The ids are in the ledger now (or the pipeline has stopped).
      this.committingIds = new Set();
      this.committing = undefined;
    });
  }
}
