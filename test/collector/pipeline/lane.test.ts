import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { abortError } from "../../../collector/src/backoff";
import { createMetrics } from "../../../collector/src/metrics";
import { RunControl } from "../../../collector/src/pipeline/control";
import { PipelineCounters } from "../../../collector/src/pipeline/counters";
import { CommitFrontier } from "../../../collector/src/pipeline/frontier";
import { DeliveryLane } from "../../../collector/src/pipeline/lane";
import type { Batch, SourceItem } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import { blobMeta, MemoryState, records } from "./fakes";

const AAD: ContentType = "Audit.AzureActiveDirectory";

function blobItem(contentId: string): SourceItem {
  return {
    kind: "blob",
    blob: blobMeta(AAD, { contentId, minute: 1, records: [] }),
    checkpointAfter: {
      contentType: AAD,
      windowStart: "2026-03-01T00:00:00.000Z",
      lastContentCreated: "2026-03-01T00:01:00.000Z",
      doneBlobs: [contentId],
      updatedAt: "source",
    },
    records: async function* () {},
  };
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A lane whose sinks hold every round until the caller's stop, then refuse it as aborted. */
function stoppableLane() {
  const caller = new AbortController();
  const control = new RunControl({ abortSignal: caller.signal });
  const state = new MemoryState();
  const frontier = new CommitFrontier({ contentTypes: [AAD], state });
  const delivered: Batch[][] = [];
  const counters = new PipelineCounters([AAD], createMetrics(new Registry()));
  counters.beginRun();
  const lane = new DeliveryLane({
    state,
    frontier,
    counters,
    control,
    deliver: (batches) => {
      delivered.push([...batches]);
      return new Promise((_resolve, reject) => {
        caller.signal.addEventListener("abort", () => reject(abortError(caller.signal)), {
          once: true,
        });
      });
    },
  });
  cleanups.push(async () => {
    await lane.finish().catch(() => {});
    control.dispose();
  });
  return { caller, control, frontier, lane, delivered };
}

describe("DeliveryLane", () => {
  it("does not leave a stopped batch's rejection unhandled while its reader is still reading", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    cleanups.push(() => {
      process.off("unhandledRejection", onUnhandled);
    });
    const { caller, frontier, lane, delivered } = stoppableLane();

    const item = frontier.track(AAD, blobItem("blob-1"));
    // The reader hands a batch on and goes back to reading its blob, holding `done` unawaited.
    const { done } = await lane.submit({ item, records: records(0, 3), last: false });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(delivered).toHaveLength(1);
    caller.abort(new Error("received SIGTERM"));
    // Node reports unhandled rejections once the microtasks run dry; give it several turns.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));

    expect(unhandled).toEqual([]);
    // The reader still learns that its batch was not delivered when it awaits.
    await expect(done).rejects.toThrow(/aborted/);
  });

  it("refuses new batches once the caller stopped, with the stop as the reason", async () => {
    const { caller, frontier, lane } = stoppableLane();
    caller.abort(new Error("received SIGTERM"));
    const item = frontier.track(AAD, blobItem("blob-2"));
    await expect(lane.submit({ item, records: records(0, 1), last: true })).rejects.toThrow(
      /aborted/,
    );
  });
});
