import { describe, expect, it } from "vitest";
import { isPipelineError, type PipelineError } from "../../../collector/src/pipeline/errors";
import {
  CommitFrontier,
  type CommitFrontierOptions,
  type LandedCommit,
  type TrackedItem,
} from "../../../collector/src/pipeline/frontier";
import type { Checkpoint, CommitUpdate, SourceItem } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import { blobMeta, guid, MemoryState, records } from "./fakes";

const AAD: ContentType = "Audit.AzureActiveDirectory";
const EXO: ContentType = "Audit.Exchange";
const NOW = Date.UTC(2026, 2, 1, 1, 0);

function checkpointAfter(contentType: ContentType, contentId: string, minute: number): Checkpoint {
  return {
    contentType,
    windowStart: "2026-03-01T00:00:00.000Z",
    lastContentCreated: new Date(Date.UTC(2026, 2, 1) + minute * 60_000).toISOString(),
    doneBlobs: [contentId],
    updatedAt: "source",
  };
}

function blobItem(contentType: ContentType, contentId: string, minute: number): SourceItem {
  return {
    kind: "blob",
    blob: blobMeta(contentType, { contentId, minute, records: [] }),
    checkpointAfter: checkpointAfter(contentType, contentId, minute),
    records: async function* () {},
  };
}

function skippedItem(contentType: ContentType, contentId: string, minute: number): SourceItem {
  return {
    kind: "skipped",
    blob: blobMeta(contentType, { contentId, minute, records: [] }),
    reason: "expired",
    checkpointAfter: checkpointAfter(contentType, contentId, minute),
  };
}

/** A state store whose commits wait for `release()`, so a test can look at a commit in flight. */
class GatedState extends MemoryState {
  started = 0;
  readonly events: string[] = [];
  private gates: Array<() => void> = [];

  override async commit(update: CommitUpdate): Promise<void> {
    this.started += 1;
    const n = this.started;
    this.events.push(`start ${n}`);
    await new Promise<void>((resolve) => this.gates.push(resolve));
    await super.commit(update);
    this.events.push(`landed ${n}`);
  }

  release(): void {
    for (const gate of this.gates.splice(0)) gate();
  }
}

function setup(overrides: Partial<CommitFrontierOptions> = {}) {
  const state = (overrides.state as MemoryState | undefined) ?? new MemoryState();
  const landed: LandedCommit[] = [];
  const failures: PipelineError[] = [];
  let now = NOW;
  const frontier = new CommitFrontier({
    contentTypes: [AAD, EXO],
    nowMs: () => now,
    onCommitted: (commit) => landed.push(commit),
    onFailed: (error) => failures.push(error),
    ...overrides,
    state,
  });
  return {
    frontier,
    state,
    landed,
    failures,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Acknowledges records `from`..`to` of `item` as one lane entry. */
function ack(
  frontier: CommitFrontier,
  item: TrackedItem,
  from: number,
  to: number,
  completesItem = true,
  positions: Record<string, string> = {},
) {
  frontier.acknowledge([{ item, records: records(from, to), completesItem }], positions);
}

/** Lets pending promise callbacks and timers run. */
const settle = () => new Promise<void>((resolve) => setTimeout(resolve, 5));

describe("CommitFrontier", () => {
  it("never moves a checkpoint past an item that is not yet delivered, even when later items are", async () => {
    const { frontier, state } = setup();
    const b1 = frontier.track(AAD, blobItem(AAD, "b1", 1));
    const b2 = frontier.track(AAD, blobItem(AAD, "b2", 2));
    const b3 = frontier.track(AAD, blobItem(AAD, "b3", 3));
    ack(frontier, b2, 3, 4);
    ack(frontier, b3, 5, 6);
    await frontier.commitPending();

    expect(state.commits).toHaveLength(1);
    expect(state.commits[0]!.deliveredIds).toEqual(records(3, 6).map((r) => r.id));
    expect(state.commits[0]!.checkpoint).toBeUndefined();
    expect(state.checkpoints.size).toBe(0);

    ack(frontier, b1, 1, 2);
    await frontier.commitPending();
    expect(state.checkpoints.get(AAD)?.doneBlobs).toEqual(["b3"]);
    expect(state.checkpoints.get(AAD)?.updatedAt).toBe(new Date(NOW).toISOString());
  });

  it("does not move past an item whose first batches were acknowledged but not its last", async () => {
    const { frontier, state } = setup();
    const big = frontier.track(AAD, blobItem(AAD, "big", 1));
    ack(frontier, big, 1, 3, false);
    await frontier.commitPending();
    expect(state.ledger.size).toBe(3);
    expect(state.checkpoints.size).toBe(0);

    ack(frontier, big, 4, 5, true);
    await frontier.commitPending();
    expect(state.checkpoints.get(AAD)?.doneBlobs).toEqual(["big"]);
  });

  it("starts the next commit only after the one in flight landed, so no checkpoint lands before the ids it moves past", async () => {
    const state = new GatedState();
    const { frontier, landed } = setup({ state });
    const b1 = frontier.track(AAD, blobItem(AAD, "b1", 1));
    const b2 = frontier.track(AAD, blobItem(AAD, "b2", 2));
    ack(frontier, b1, 1, 2);
    await frontier.startCommit();
    ack(frontier, b2, 3, 4);
    const second = frontier.startCommit();
    await settle();

    // b2 is delivered, but b1's ids are still committing: nothing about b2 may be written yet.
    expect(state.started).toBe(1);
    expect(landed).toHaveLength(0);
    expect(state.checkpoints.size).toBe(0);

    state.release();
    await second;
    await settle();
    state.release();
    await frontier.commitPending();

    expect(state.events).toEqual(["start 1", "landed 1", "start 2", "landed 2"]);
    expect(state.commits.map((c) => [c.checkpoint?.doneBlobs, c.deliveredIds])).toEqual([
      [["b1"], [guid(1), guid(2)]],
      [["b2"], [guid(3), guid(4)]],
    ]);
    expect(landed.map((c) => c.records)).toEqual([2, 2]);
  });

  it("holds the ids of the commit in flight for dedup until they are in the ledger", async () => {
    const state = new GatedState();
    const { frontier } = setup({ state });
    const b1 = frontier.track(AAD, blobItem(AAD, "b1", 1));
    expect(frontier.holds(guid(1))).toBe(false);
    ack(frontier, b1, 1, 2);
    expect(frontier.holds(guid(1))).toBe(true);
    expect(frontier.pendingRecords).toBe(2);

    await frontier.startCommit();
    // No longer pending, not yet in the ledger: the lane must still drop a repeat of it.
    expect(frontier.pendingRecords).toBe(0);
    expect(state.ledger.has(guid(1))).toBe(false);
    expect(frontier.holds(guid(1))).toBe(true);
    expect(frontier.holds(guid(2))).toBe(true);
    expect(frontier.holds(guid(3))).toBe(false);

    state.release();
    await frontier.commitPending();
    expect(state.ledger.has(guid(1))).toBe(true);
    expect(frontier.holds(guid(1))).toBe(false);
  });

  it("moves each content type on its own, past skipped items, and reports what landed", async () => {
    const { frontier, state, landed } = setup();
    const aadBlob = frontier.track(AAD, blobItem(AAD, "a1", 4));
    const aadGone = frontier.track(AAD, skippedItem(AAD, "gone", 5));
    const exoBlob = frontier.track(EXO, blobItem(EXO, "e1", 1));
    frontier.acknowledge(
      [
        { item: aadBlob, records: records(1, 2), completesItem: true },
        { item: aadGone, records: [], completesItem: true },
        { item: exoBlob, records: records(3, 3), completesItem: false },
      ],
      { file: "3" },
    );
    await frontier.commitPending();

    expect(state.checkpoints.get(AAD)?.doneBlobs).toEqual(["gone"]);
    expect(state.checkpoints.has(EXO)).toBe(false);
    expect(state.positions).toEqual({ file: "3" });
    expect(landed).toHaveLength(1);
    expect(landed[0]!.records).toBe(3);
    expect([...landed[0]!.delivered]).toEqual([
      [AAD, 2],
      [EXO, 1],
    ]);
    expect([...landed[0]!.blobsDone]).toEqual([[AAD, 1]]);
    expect([...landed[0]!.newestContentCreatedMs]).toEqual([[AAD, Date.UTC(2026, 2, 1, 0, 4)]]);
  });

  it("writes the ids with the first checkpoint and each further checkpoint on its own", async () => {
    const { frontier, state } = setup();
    const a = frontier.track(AAD, blobItem(AAD, "a1", 1));
    const e = frontier.track(EXO, blobItem(EXO, "e1", 1));
    ack(frontier, a, 1, 1, true, { file: "1" });
    ack(frontier, e, 2, 2, true, { file: "2" });
    await frontier.commitPending();
    expect(
      state.commits.map((c) => [c.checkpoint?.contentType, c.deliveredIds, c.sinkPositions]),
    ).toEqual([
      [AAD, [guid(1), guid(2)], { file: "2" }],
      [EXO, [], {}],
    ]);
  });

  it("commits nothing when nothing was acknowledged", async () => {
    const { frontier, state, landed } = setup();
    frontier.track(AAD, blobItem(AAD, "b1", 1));
    await frontier.commitPending();
    expect(state.commits).toEqual([]);
    expect(landed).toEqual([]);
  });

  it("reports a failed commit once and commits nothing after it", async () => {
    const state = new MemoryState();
    state.failCommits = true;
    const { frontier, failures, landed } = setup({ state });
    const b1 = frontier.track(AAD, blobItem(AAD, "b1", 1));
    const b2 = frontier.track(AAD, blobItem(AAD, "b2", 2));
    ack(frontier, b1, 1, 1);
    await frontier.commitPending();
    expect(failures).toHaveLength(1);
    expect(isPipelineError(failures[0])).toBe(true);
    expect(failures[0]!.message).toBe("state commit failed: disk full");

    state.failCommits = false;
    ack(frontier, b2, 2, 2);
    await frontier.commitPending();
    expect(state.commits).toEqual([]);
    expect(landed).toEqual([]);
    expect(failures).toHaveLength(1);
  });

  it("is due at commitEveryRecords acknowledged records or once the first is commitMaxDelayInMs old", () => {
    const { frontier, advance } = setup({ commitEveryRecords: 3, commitMaxDelayInMs: 1_000 });
    const b1 = frontier.track(AAD, blobItem(AAD, "b1", 1));
    expect(frontier.isCommitDue()).toBe(false);
    ack(frontier, b1, 1, 2, false);
    expect(frontier.isCommitDue()).toBe(false);
    advance(999);
    expect(frontier.isCommitDue()).toBe(false);
    advance(1);
    expect(frontier.isCommitDue()).toBe(true);

    const other = setup({ commitEveryRecords: 3, commitMaxDelayInMs: 1_000 });
    const item = other.frontier.track(AAD, blobItem(AAD, "b1", 1));
    ack(other.frontier, item, 1, 3, false);
    expect(other.frontier.isCommitDue()).toBe(true);
  });
});
