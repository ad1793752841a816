import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../../collector/src/metrics";
import {
  isPipelineError,
  Pipeline,
  type PipelineOptions,
  type PipelineProgressEvent,
} from "../../../collector/src/pipeline/pipeline";
import type { ReceivedRecord } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import { FakeSink, FakeSource, guid, MemoryState, record, records, sleep } from "./fakes";

const AAD: ContentType = "Audit.AzureActiveDirectory";
const EXO: ContentType = "Audit.Exchange";

function setup(overrides: Partial<PipelineOptions> & Pick<PipelineOptions, "source">) {
  const state = (overrides.state as MemoryState | undefined) ?? new MemoryState();
  const sinks = (overrides.sinks as FakeSink[] | undefined) ?? [new FakeSink("file")];
  const metrics = createMetrics(new Registry());
  const events: PipelineProgressEvent[] = [];
  const pipeline = new Pipeline({
    contentTypes: [AAD],
    retry: { initialDelayInMs: 1, maxDelayInMs: 4, random: () => 0.5 },
    metrics,
    onProgress: (event) => events.push(event),
    ...overrides,
    state,
    sinks,
  });
  return { pipeline, state, sinks, metrics, events };
}

async function counter(
  metrics: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string>,
) {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const value = metric?.values.find((v) =>
    Object.entries(labels).every(
      ([key, val]) => (v.labels as Record<string, unknown>)[key] === val,
    ),
  );
  return value?.value ?? 0;
}

describe("Pipeline", () => {
  it("delivers every record once and commits the last blob's checkpoint after the sink acknowledged", async () => {
    const source = new FakeSource({
      [AAD]: [
        { contentId: "b1", minute: 1, records: records(1, 3) },
        { contentId: "b2", minute: 2, records: records(4, 6) },
      ],
    });
    const { pipeline, state, sinks } = setup({ source });
    await pipeline.open();
    const summary = await pipeline.runOnce();
    await pipeline.close();

    expect(sinks[0]!.ids).toEqual(records(1, 6).map((r) => r.id));
    expect(summary.contentTypes[AAD]).toMatchObject({
      ok: true,
      received: 6,
      delivered: 6,
      duplicate: 0,
    });
    expect(state.checkpoints.get(AAD)?.lastContentCreated).toBe("2026-03-01T00:02:00.000Z");
    expect(state.checkpoints.get(AAD)?.updatedAt).not.toBe("source");
    expect(state.positions).toEqual({ file: "6" });
    expect(state.ledger.size).toBe(6);
    expect(sinks[0]!.closed).toBe(true);
  });

  it("keeps every batch inside one blob and splits a large blob into batches of maxBatchRecords", async () => {
    const source = new FakeSource({
      [AAD]: [
        { contentId: "big", minute: 1, records: records(1, 7) },
        { contentId: "small", minute: 2, records: records(8, 9) },
      ],
    });
    const { pipeline, sinks } = setup({ source, maxBatchRecords: 3, blobConcurrency: 1 });
    await pipeline.open();
    await pipeline.runOnce();

    const batches = sinks[0]!.batches.map((b) => [b.blob.contentId, b.records.length]);
    expect(batches).toEqual([
      ["big", 3],
      ["big", 3],
      ["big", 1],
      ["small", 2],
    ]);
  });

  it("hands a batch on before a record would take it past maxBatchBytes, counting rows over text", async () => {
    // Records of 100, 100, 300, 120 and 120 bytes of text; the third and fourth carry a 700-byte row.
    const sized = (n: number, textBytes: number, rowBytes?: number): ReceivedRecord => {
      const base = record(guid(n));
      const sizedRecord = { ...base, raw: base.raw.padEnd(textBytes, " ") };
      return rowBytes === undefined
        ? sizedRecord
        : { ...sizedRecord, row: { bytes: new Uint8Array(rowBytes), fieldLimitBytes: 65_536 } };
    };
    const source = new FakeSource({
      [AAD]: [
        {
          contentId: "mixed",
          minute: 1,
          records: [
            sized(1, 100),
            sized(2, 100),
            sized(3, 300, 700),
            sized(4, 50, 700),
            sized(5, 50),
          ],
        },
      ],
    });
    const { pipeline, sinks } = setup({
      source,
      maxBatchRecords: 100,
      maxBatchBytes: 1_000,
      blobConcurrency: 1,
    });
    await pipeline.open();
    await pipeline.runOnce();

    // Each record counts its size plus one: 101 + 101 + 701 = 903 fit; 903 + 701 does not;
    // 701 + 121 = 822 fit. A record larger than the bound on its own still goes, alone.
    const batches = sinks[0]!.batches.map((b) => b.records.map((r) => r.id));
    expect(batches).toEqual([
      [guid(1), guid(2), guid(3)],
      [guid(4), guid(5)],
    ]);
    expect(() => setup({ source, maxBatchBytes: 0 })).toThrow(/maxBatchBytes=0 is invalid/);
  });

  it("sends a record larger than maxBatchBytes in a batch of its own", async () => {
    const source = new FakeSource({
      [AAD]: [{ contentId: "big", minute: 1, records: records(1, 3) }],
    });
    const { pipeline, sinks } = setup({ source, maxBatchBytes: 10, blobConcurrency: 1 });
    await pipeline.open();
    await pipeline.runOnce();
    expect(sinks[0]!.batches.map((b) => b.records.length)).toEqual([1, 1, 1]);
  });

  it("drops duplicate ids within a blob, across blobs and across runs, and counts them", async () => {
    const dup = record(guid(2));
    const source = new FakeSource({
      [AAD]: [
        { contentId: "b1", minute: 1, records: [...records(1, 3), dup] },
        { contentId: "b2", minute: 2, records: [record(guid(3)), record(guid(4))] },
      ],
    });
    const { pipeline, state, sinks, metrics } = setup({ source });
    await pipeline.open();
    await pipeline.runOnce();
    // Blobs are fetched concurrently, so the order across blobs is free; the set is exact.
    expect([...sinks[0]!.ids].sort()).toEqual([guid(1), guid(2), guid(3), guid(4)]);

    // A re-listed blob (overlap) and a new blob repeating old ids: nothing is delivered twice.
    state.checkpoints.clear();
    const second = setup({ source, state, sinks: [new FakeSink("file")] });
    await second.pipeline.open();
    const summary = await second.pipeline.runOnce();
    expect(second.sinks[0]!.ids).toEqual([]);
    expect(summary.contentTypes[AAD]).toMatchObject({ received: 6, delivered: 0, duplicate: 6 });
    expect(
      await counter(metrics, "auditbridge_records_duplicate_total", { content_type: AAD }),
    ).toBe(2);
  });

  it("commits checkpoints in source order even when later blobs finish first", async () => {
    const source = new FakeSource({
      [AAD]: [
        { contentId: "slow", minute: 1, records: records(1, 2), delayInMs: 60 },
        { contentId: "fast1", minute: 2, records: records(3, 4) },
        { contentId: "fast2", minute: 3, records: records(5, 6) },
      ],
    });
    const { pipeline, state, sinks } = setup({ source, blobConcurrency: 3 });
    await pipeline.open();
    await pipeline.runOnce();

    // The fast blobs were delivered first...
    expect(sinks[0]!.batches.map((b) => b.blob.contentId)).toEqual(["fast1", "fast2", "slow"]);
    // ...their ids could be committed early, but no checkpoint moved until "slow" was delivered.
    const withCheckpoint = state.commits.filter((c) => c.checkpoint);
    for (const commit of withCheckpoint) {
      const delivered = new Set(
        state.commits.slice(0, state.commits.indexOf(commit) + 1).flatMap((c) => c.deliveredIds),
      );
      expect(delivered.has(guid(1))).toBe(true);
    }
    expect(withCheckpoint.at(-1)?.checkpoint?.lastContentCreated).toBe("2026-03-01T00:03:00.000Z");
  });

  it("commits nothing until every sink acknowledged, and redelivers only to the sink that asked to retry", async () => {
    let ledgerAtRetry = -1;
    const state = new MemoryState();
    const retrying = new FakeSink(
      "logs-ingestion",
      [
        { kind: "retryable", error: new Error("429 Too Many Requests") },
        { kind: "retryable", error: new Error("503"), retryAfterInMs: 7 },
      ],
      () => {
        ledgerAtRetry = Math.max(ledgerAtRetry, state.ledger.size);
      },
    );
    const steady = new FakeSink("file");
    const source = new FakeSource({
      [AAD]: [{ contentId: "b1", minute: 1, records: records(1, 3) }],
    });
    const { pipeline, events } = setup({ source, state, sinks: [steady, retrying] });
    await pipeline.open();
    await pipeline.runOnce();

    expect(ledgerAtRetry).toBe(0);
    expect(steady.attempts).toHaveLength(1);
    expect(retrying.attempts).toHaveLength(3);
    expect(retrying.attempts.every((b) => b === retrying.attempts[0])).toBe(true);
    expect(state.ledger.size).toBe(3);
    expect(state.positions).toEqual({ file: "3", "logs-ingestion": "3" });
    const retries = events.filter((e) => e.type === "retry");
    expect(retries.map((e) => e.type === "retry" && e.delayInMs)).toEqual([1, 7]);
  });

  it("stops the run with a PipelineError on a sink failure after committing what was acknowledged", async () => {
    const sink = new FakeSink("logs-ingestion", [
      { kind: "success" },
      { kind: "failure", error: new Error("400 column RecordType has the wrong type") },
    ]);
    const source = new FakeSource({
      [AAD]: [
        { contentId: "b1", minute: 1, records: records(1, 2) },
        { contentId: "b2", minute: 2, records: records(3, 4) },
        { contentId: "b3", minute: 3, records: records(5, 6) },
      ],
    });
    const { pipeline, state } = setup({ source, sinks: [sink], blobConcurrency: 1 });
    await pipeline.open();
    const error = await pipeline.runOnce().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isPipelineError(error)).toBe(true);
    expect((error as Error).message).toContain("sink logs-ingestion failed: 400 column RecordType");
    expect([...state.ledger.keys()]).toEqual([guid(1), guid(2)]);
    expect(state.checkpoints.get(AAD)?.lastContentCreated).toBe("2026-03-01T00:01:00.000Z");
  });

  it("counts records without an Id as skipped and delivers the rest", async () => {
    const source = new FakeSource({
      [AAD]: [{ contentId: "b1", minute: 1, records: [record(undefined), record(guid(1))] }],
    });
    const { pipeline, sinks, metrics } = setup({ source });
    await pipeline.open();
    const summary = await pipeline.runOnce();
    expect(sinks[0]!.ids).toEqual([guid(1)]);
    expect(summary.contentTypes[AAD]).toMatchObject({ received: 2, delivered: 1, skipped: 1 });
    expect(await counter(metrics, "auditbridge_records_skipped_total", { reason: "no-id" })).toBe(
      1,
    );
    expect(
      await counter(metrics, "auditbridge_records_received_total", { content_type: AAD }),
    ).toBe(2);
    expect(
      await counter(metrics, "auditbridge_records_delivered_total", { content_type: AAD }),
    ).toBe(1);
  });

  it("reads a blob again from the start after a failed read without delivering any record twice", async () => {
    const source = new FakeSource({
      [AAD]: [{ contentId: "flaky", minute: 1, records: records(1, 8), failReads: 1 }],
    });
    const { pipeline, sinks, state } = setup({ source, maxBatchRecords: 2 });
    await pipeline.open();
    const summary = await pipeline.runOnce();
    expect(source.reads.get("flaky")).toBe(2);
    expect(sinks[0]!.ids).toEqual(records(1, 8).map((r) => r.id));
    expect(summary.contentTypes[AAD]?.duplicate).toBeGreaterThan(0);
    expect(state.checkpoints.get(AAD)?.lastContentCreated).toBe("2026-03-01T00:01:00.000Z");
  });

  it("stops only the content type whose blob keeps failing and keeps its checkpoint before that blob", async () => {
    const source = new FakeSource({
      [AAD]: [
        { contentId: "ok", minute: 1, records: records(1, 2) },
        { contentId: "broken", minute: 2, records: records(3, 4), alwaysFail: true },
        { contentId: "after", minute: 3, records: records(5, 6) },
      ],
      [EXO]: [{ contentId: "exo", minute: 1, records: records(7, 8) }],
    });
    const { pipeline, state } = setup({ source, contentTypes: [AAD, EXO], blobConcurrency: 1 });
    await pipeline.open();
    const summary = await pipeline.runOnce();
    expect(summary.contentTypes[AAD]?.ok).toBe(false);
    expect(summary.contentTypes[AAD]?.error?.message).toContain("connection reset reading broken");
    expect(summary.contentTypes[EXO]?.ok).toBe(true);
    expect(state.checkpoints.get(AAD)?.lastContentCreated).toBe("2026-03-01T00:01:00.000Z");
    expect(state.checkpoints.get(EXO)?.lastContentCreated).toBe("2026-03-01T00:01:00.000Z");
    expect(source.reads.get("broken")).toBe(3);
  });

  it("moves the checkpoint past skipped items once everything before them is committed", async () => {
    const source = new FakeSource({
      [AAD]: [
        { contentId: "b1", minute: 1, records: records(1, 1) },
        { contentId: "gone", minute: 2, records: [], kind: "skipped" },
      ],
    });
    const { pipeline, state } = setup({ source });
    await pipeline.open();
    await pipeline.runOnce();
    expect(state.checkpoints.get(AAD)?.doneBlobs).toEqual(["gone"]);
    expect(pipeline.progressSnapshot()[AAD]).toMatchObject({
      blobsDone: 1,
      blobsSkipped: 1,
      delivered: 1,
    });
  });

  it("finishes the in-flight batch on a graceful stop, commits it, and repeats nothing after a restart", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const state = new MemoryState();
    const first = new FakeSink("file", [{ kind: "wait", until: gate }]);
    const blobs = [
      { contentId: "b1", minute: 1, records: records(1, 3) },
      { contentId: "b2", minute: 2, records: records(4, 6) },
      { contentId: "b3", minute: 3, records: records(7, 9) },
    ];
    const controller = new AbortController();
    const run1 = setup({ source: new FakeSource({ [AAD]: blobs }), state, sinks: [first] });
    await run1.pipeline.open();
    const running = run1.pipeline.runOnce({ abortSignal: controller.signal });
    await sleep(20);
    controller.abort();
    release();
    const summary = await running;
    await run1.pipeline.close();
    expect(summary.aborted).toBe(true);
    expect(first.ids).toEqual(records(1, 3).map((r) => r.id));
    expect(state.ledger.size).toBe(3);

    const second = new FakeSink("file");
    const run2 = setup({ source: new FakeSource({ [AAD]: blobs }), state, sinks: [second] });
    await run2.pipeline.open();
    await run2.pipeline.runOnce();
    expect(second.startedWith).toBe("3");
    expect(second.ids).toEqual(records(4, 9).map((r) => r.id));
  });

  it("abandons a batch still retrying when the shutdown grace runs out, committing nothing of it", async () => {
    const state = new MemoryState();
    const down = new FakeSink("logs-ingestion", [
      { kind: "retryable", error: new Error("503 outage"), retryAfterInMs: 60_000 },
    ]);
    const controller = new AbortController();
    const { pipeline } = setup({
      source: new FakeSource({ [AAD]: [{ contentId: "b1", minute: 1, records: records(1, 2) }] }),
      state,
      sinks: [down],
      shutdownGraceInMs: 30,
    });
    await pipeline.open();
    const running = pipeline.runOnce({ abortSignal: controller.signal });
    await sleep(10);
    controller.abort();
    const started = Date.now();
    const summary = await running;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(summary.aborted).toBe(true);
    expect(state.ledger.size).toBe(0);
    expect(state.checkpoints.size).toBe(0);
  });

  it("gives up on a sink after sinkRetryTimeoutInMs with an error naming the sink", async () => {
    const sink = new FakeSink(
      "logs-ingestion",
      Array.from({ length: 50 }, () => ({
        kind: "retryable" as const,
        error: new Error("403 role not yet propagated"),
      })),
    );
    const { pipeline } = setup({
      source: new FakeSource({ [AAD]: [{ contentId: "b1", minute: 1, records: records(1, 1) }] }),
      sinks: [sink],
      sinkRetryTimeoutInMs: 20,
    });
    await pipeline.open();
    await expect(pipeline.runOnce()).rejects.toThrow(
      /gave up delivering to logs-ingestion .*403 role/,
    );
  });

  it("stops with a PipelineError when the state store cannot commit", async () => {
    const state = new MemoryState();
    state.failCommits = true;
    const { pipeline } = setup({
      source: new FakeSource({ [AAD]: [{ contentId: "b1", minute: 1, records: records(1, 1) }] }),
      state,
    });
    await pipeline.open();
    await expect(pipeline.runOnce()).rejects.toThrow(/state commit failed: disk full/);
  });

  it("coalesces commits of small blobs while more batches are queued", async () => {
    const blobs = Array.from({ length: 40 }, (_, i) => ({
      contentId: `b${i}`,
      minute: i + 1,
      records: records(i * 2 + 1, i * 2 + 2),
    }));
    const { pipeline, state, sinks } = setup({
      source: new FakeSource({ [AAD]: blobs }),
      blobConcurrency: 4,
    });
    await pipeline.open();
    await pipeline.runOnce();
    expect(sinks[0]!.ids).toHaveLength(80);
    expect(state.commits.length).toBeLessThan(40);
    expect(state.checkpoints.get(AAD)?.doneBlobs).toEqual(["b39"]);
  });

  it("bounds a delivery round and the lane's queue by commitMaxBytes", async () => {
    class RoundLog extends MemoryState {
      readonly rounds: number[] = [];
      override async seen(ids: readonly string[]): Promise<Set<string>> {
        this.rounds.push(ids.length);
        return super.seen(ids);
      }
    }
    const run = async (commitMaxBytes: number) => {
      // Twelve one-record blobs whose rows are 400 bytes; the first delivery is held for 50 ms
      // so the others queue up behind it.
      const blobs = Array.from({ length: 12 }, (_, i) => {
        const base = record(guid(i + 1));
        return {
          contentId: `b${i}`,
          minute: i + 1,
          records: [{ ...base, row: { bytes: new Uint8Array(400), fieldLimitBytes: 65_536 } }],
        };
      });
      const state = new RoundLog();
      const { pipeline, sinks } = setup({
        source: new FakeSource({ [AAD]: blobs }),
        blobConcurrency: 12,
        commitMaxBytes,
        state,
        sinks: [new FakeSink("file", [{ kind: "wait", until: sleep(50) }])],
      });
      await pipeline.open();
      await pipeline.runOnce();
      expect(sinks[0]!.ids).toHaveLength(12);
      return state.rounds;
    };
    // A round stops taking entries once it holds 1,000 bytes: three rows of 400.
    const bounded = await run(1_000);
    expect(Math.max(...bounded)).toBe(3);
    expect(Math.max(...(await run(1_000_000)))).toBeGreaterThan(3);
  });

  it("delivers the next rounds while a commit is in flight, one commit at a time, and still drops their repeats", async () => {
    const sink = new FakeSink("file");
    class SlowState extends MemoryState {
      active = 0;
      maxActive = 0;
      deliveredDuringCommits = 0;
      override async commit(update: Parameters<MemoryState["commit"]>[0]): Promise<void> {
        this.active += 1;
        this.maxActive = Math.max(this.maxActive, this.active);
        const before = sink.ids.length;
        await sleep(40);
        this.deliveredDuringCommits += sink.ids.length - before;
        await super.commit(update);
        this.active -= 1;
      }
    }
    const state = new SlowState();
    // Each blob repeats the previous blob's records: they are acknowledged but, while the
    // commit runs, not yet in the ledger.
    const blobs = Array.from({ length: 12 }, (_, i) => ({
      contentId: `b${i}`,
      minute: i + 1,
      records: [...records(i * 10 + 1, i * 10 + 10), ...(i > 0 ? records(i * 10 - 9, i * 10) : [])],
    }));
    const { pipeline, metrics } = setup({
      source: new FakeSource({ [AAD]: blobs }),
      state,
      sinks: [sink],
      blobConcurrency: 1,
      commitEveryRecords: 10,
      commitMaxRecords: 20,
    });
    await pipeline.open();
    await pipeline.runOnce();
    await pipeline.close();
    expect(sink.ids).toEqual(records(1, 120).map((r) => r.id));
    expect(state.ledger.size).toBe(120);
    expect(state.maxActive).toBe(1);
    expect(state.deliveredDuringCommits).toBeGreaterThan(0);
    expect(
      await counter(metrics, "auditbridge_records_duplicate_total", { content_type: AAD }),
    ).toBe(110);
    expect(state.checkpoints.get(AAD)?.doneBlobs).toContain("b11");
  });

  it("reports lag and checkpoint age from the clock and emits commit progress", async () => {
    let now = Date.UTC(2026, 2, 1, 0, 10);
    const source = new FakeSource({
      [AAD]: [{ contentId: "b1", minute: 4, records: records(1, 1) }],
    });
    const { pipeline, metrics, events } = setup({ source, nowMs: () => now });
    await pipeline.open();
    await pipeline.runOnce();
    expect(await counter(metrics, "auditbridge_lag_seconds", { content_type: AAD })).toBe(360);
    now += 30_000;
    pipeline.refreshGauges();
    expect(await counter(metrics, "auditbridge_lag_seconds", { content_type: AAD })).toBe(390);
    expect(
      await counter(metrics, "auditbridge_checkpoint_age_seconds", { content_type: AAD }),
    ).toBe(30);
    const commit = events.find((e) => e.type === "commit");
    expect(commit?.type === "commit" && commit.byContentType[AAD]?.delivered).toBe(1);
    expect(events.at(-1)).toEqual({ type: "poll-done", contentType: AAD, ok: true });
  });

  it("starts every sink at the position committed with the state", async () => {
    const state = new MemoryState();
    state.positions = { file: "42" };
    const sink = new FakeSink("file");
    const { pipeline } = setup({ source: new FakeSource({}), state, sinks: [sink] });
    await pipeline.open();
    expect(sink.startedWith).toBe("42");
  });

  it("rejects options that cannot work with a message naming the option", () => {
    const source = new FakeSource({});
    expect(() => setup({ source, sinks: [] })).toThrow(/at least one sink; set AUDIT_SINK/);
    expect(() => setup({ source, blobConcurrency: 0 })).toThrow(/blobConcurrency=0 is invalid/);
    expect(() => setup({ source, commitMaxBytes: 1.5 })).toThrow(/commitMaxBytes=1.5 is invalid/);
    expect(() => setup({ source, sinks: [new FakeSink("a"), new FakeSink("a")] })).toThrow(
      /distinct names/,
    );
  });
});
