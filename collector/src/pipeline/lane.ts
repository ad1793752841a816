import { isAbortError } from "../backoff";
import type { Logger } from "../log";
import type { Batch, ReceivedRecord, StateStore } from "../types";
import type { RunControl } from "./control";
import type { PipelineCounters } from "./counters";
import { errorText, PipelineError } from "./errors";
import type { CommitFrontier, TrackedItem } from "./frontier";
import {
  DEFAULT_COMMIT_MAX_BYTES,
  DEFAULT_COMMIT_MAX_RECORDS,
  MAX_ROUND_BATCHES,
  recordSizeBytes,
} from "./options";

/** Work for the lane: records of one blob to deliver, or an item with nothing to deliver. */
export interface LaneSubmission {
  item: TrackedItem;
  /** Undefined for a marker (skipped/advance item). */
  records?: readonly ReceivedRecord[];
  /** This entry completes the item. */
  last: boolean;
}

interface LaneEntry extends LaneSubmission {
  /** The records' size as {@link recordSizeBytes} counts it. */
  bytes: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Options of a {@link DeliveryLane}. */
export interface DeliveryLaneOptions {
  /** The ledger asked which Ids of a round were delivered before. */
  state: Pick<StateStore, "seen">;
  frontier: CommitFrontier;
  counters: PipelineCounters;
  control: RunControl;
  /** Hands a round's batches to every sink; resolves with the sinks' positions. */
  deliver: (batches: readonly Batch[]) => Promise<Record<string, string>>;
  /** Records per round and queued at most (default {@link DEFAULT_COMMIT_MAX_RECORDS}). */
  commitMaxRecords?: number;
  /** Bytes per round and queued at most (default {@link DEFAULT_COMMIT_MAX_BYTES}). */
  commitMaxBytes?: number;
  logger?: Logger;
}

/**
 * The serial delivery lane. Each turn takes every queued entry (up to the round limits) as one
 * round: one ledger lookup for the round, every batch handed to every sink at once (sinks see
 * them in lane order; the file sink shares one fsync among them), then acknowledgements applied
 * in order. A round is all or nothing: if any batch in it is not acknowledged by every sink,
 * none of the round is committed, so committed sink positions never cover uncommitted records.
 *
 * Serial delivery keeps sink positions and the ledger consistent without locks: the ledger
 * lookup for a batch always sees every earlier batch either committed or held by the frontier.
 */
export class DeliveryLane {
  private readonly queue: LaneEntry[] = [];
  private queuedRecords = 0;
  private queuedBytes = 0;
  private readonly roomWaiters: Array<() => void> = [];
  private wake: (() => void) | undefined;
  private closed = false;
  private readonly done: Promise<void>;
  private readonly budget: number;
  private readonly byteBudget: number;

  constructor(private readonly options: DeliveryLaneOptions) {
    this.budget = options.commitMaxRecords ?? DEFAULT_COMMIT_MAX_RECORDS;
    this.byteBudget = options.commitMaxBytes ?? DEFAULT_COMMIT_MAX_BYTES;
    options.control.onStop(() => {
      this.wake?.();
      this.notifyRoom();
    });
    options.control.onFail(() => this.notifyRoom());
    this.done = this.loop();
  }

  /**
   * Queues an entry once the lane has room for it (back-pressure: resolves only after the
   * entry is accepted, so a reader holding a full buffer keeps its blob slot until then) and
   * returns `done`, which settles when the entry was delivered or failed.
   */
  async submit(entry: LaneSubmission): Promise<{ done: Promise<void> }> {
    const { control } = this.options;
    while (
      (this.queuedRecords >= this.budget || this.queuedBytes >= this.byteBudget) &&
      !control.fatal &&
      !control.stopping
    ) {
      await new Promise<void>((resolveRoom) => this.roomWaiters.push(resolveRoom));
    }
    if (control.fatal) throw control.fatal;
    if (control.stopping) throw control.stopError();
    let bytes = 0;
    for (const record of entry.records ?? []) bytes += recordSizeBytes(record);
    this.queuedRecords += entry.records?.length ?? 0;
    this.queuedBytes += bytes;
    const done = new Promise<void>((resolveEntry, rejectEntry) => {
      this.queue.push({ ...entry, bytes, resolve: resolveEntry, reject: rejectEntry });
      this.wake?.();
    });
    // A reader awaits `done` only when it hands on its next batch or finishes the blob, so a
    // stop can reject it while nobody listens yet. Node would take that for an unhandled
    // rejection and the collector would exit 1 on a clean SIGTERM; the reader still sees the
    // rejection when it awaits.
    done.catch(() => {});
    return { done };
  }

  /** Closes the lane after the last submission; resolves when everything acknowledged is committed. */
  async finish(): Promise<void> {
    this.closed = true;
    this.wake?.();
    await this.done;
  }

  /** Wakes submitters waiting for room in the lane (they re-check the budget). */
  private notifyRoom(): void {
    const waiters = this.roomWaiters.splice(0);
    for (const waiter of waiters) waiter();
  }

  /** Takes rounds until `finish()` was called and the queue is empty and committed. */
  private async loop(): Promise<void> {
    const { control, frontier } = this.options;
    for (;;) {
      if (this.queue.length === 0) {
        // Idle: nothing else is waiting, so commit now rather than hold acknowledgements back.
        await frontier.commitPending();
        if (this.queue.length > 0) continue;
        if (this.closed) return;
        await new Promise<void>((resolveWake) => {
          this.wake = resolveWake;
        });
        this.wake = undefined;
        continue;
      }
      const round: LaneEntry[] = [];
      let roundRecords = 0;
      let roundBytes = 0;
      while (
        this.queue.length > 0 &&
        round.length < MAX_ROUND_BATCHES &&
        roundRecords < this.budget &&
        roundBytes < this.byteBudget
      ) {
        const entry = this.queue.shift()!;
        round.push(entry);
        roundRecords += entry.records?.length ?? 0;
        roundBytes += entry.bytes;
      }
      this.queuedRecords -= roundRecords;
      this.queuedBytes -= roundBytes;
      this.notifyRoom();
      if (control.fatal || control.stopping) {
        for (const entry of round) entry.reject(control.fatal ?? control.stopError());
        continue;
      }
      try {
        await this.processRound(round);
        for (const entry of round) entry.resolve();
      } catch (error) {
        for (const entry of round) entry.reject(error);
        if (!isAbortError(error)) control.fail(error);
      }
      if (frontier.isCommitDue()) {
        // The commit runs while the next round is delivered: SQLite's work and fsync then
        // overlap the sinks' instead of stopping the lane.
        await frontier.startCommit();
      }
    }
  }

  /** Dedups a round's records, delivers them to every sink and hands them to the frontier. */
  private async processRound(round: readonly LaneEntry[]): Promise<void> {
    const { frontier } = this.options;
    // 1. Drop records without Id, and ids repeated in the round or held by the frontier.
    const inRound = new Set<string>();
    const prepared = round.map((entry) => {
      const candidates: ReceivedRecord[] = [];
      let skipped = 0;
      let duplicate = 0;
      for (const record of entry.records ?? []) {
        const id = record.id;
        if (typeof id !== "string" || id === "") skipped += 1;
        else if (inRound.has(id) || frontier.holds(id)) duplicate += 1;
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
    for (const prepare of prepared) {
      if (seen.size > 0)
        prepare.fresh = prepare.candidates.filter((record) => !seen.has(record.id));
      prepare.duplicate += prepare.candidates.length - prepare.fresh.length;
      const { entry } = prepare;
      const received = entry.records?.length ?? 0;
      if (received > 0) this.count(entry, received, prepare.skipped, prepare.duplicate);
      if (prepare.fresh.length > 0 && entry.item.item.kind === "blob") {
        const { blob } = entry.item.item;
        batches.push({ contentType: entry.item.contentType, blob, records: prepare.fresh });
      }
    }
    // 3. Every batch to every sink; nothing of the round is pending until all acknowledged.
    const positions = batches.length > 0 ? await this.options.deliver(batches) : {};
    // 4. Acknowledged: the frontier holds the records until they are committed, in order.
    frontier.acknowledge(
      prepared.map(({ entry, fresh }) => ({
        item: entry.item,
        records: fresh,
        completesItem: entry.last,
      })),
      positions,
    );
  }

  private count(entry: LaneEntry, received: number, skipped: number, duplicate: number): void {
    const { contentType, item } = entry.item;
    this.options.counters.received(contentType, { received, skipped, duplicate });
    if (skipped > 0) {
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
}
