/**
 * Fan-out (AUDIT_SINK=a,b): the pipeline commits a batch only after every sink acknowledged it.
 * A SIEM that is down holds everyone's checkpoint, visibly (retry events, sink_requests_total
 * and throttle wait per sink); once it is back nothing is lost anywhere and the healthy sink
 * sees no repeat. A refusal (`failure`) stops the round with nothing committed: the next round
 * sends that round's batches to the healthy sink again — the documented bound of repeats.
 */
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../../collector/src/metrics";
import {
  isPipelineError,
  Pipeline,
  type PipelineProgressEvent,
} from "../../../collector/src/pipeline/pipeline";
import { withMetrics } from "../../../collector/src/sinks";
import type { Batch, DeliveryOutcome, Sink } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import { FakeSink, FakeSource, MemoryState, records } from "../pipeline/fakes";

const EXO: ContentType = "Audit.Exchange";

/** A SIEM that can be switched down (retryable) or refusing (failure). */
class SwitchableSink implements Sink {
  state: "up" | "down" | "refusing" = "up";
  readonly ids: string[] = [];
  attempts = 0;
  constructor(readonly name: string) {}
  async start(): Promise<void> {}
  async deliver(batch: Batch): Promise<DeliveryOutcome> {
    this.attempts++;
    if (this.state === "down") {
      return { kind: "retryable", error: new Error("connection refused") };
    }
    if (this.state === "refusing") {
      return { kind: "failure", error: new Error("Splunk HEC refused the token") };
    }
    for (const r of batch.records) this.ids.push(r.id);
    return { kind: "success" };
  }
  async close(): Promise<void> {}
}

async function metricValue(
  metrics: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  return (
    metric?.values
      .filter((v) =>
        Object.entries(labels).every(
          ([k, val]) => (v.labels as Record<string, unknown>)[k] === val,
        ),
      )
      .reduce((sum, v) => sum + v.value, 0) ?? 0
  );
}

function setup(siem: SwitchableSink, healthy: FakeSink, source: FakeSource) {
  const metrics = createMetrics(new Registry());
  const state = new MemoryState();
  const events: PipelineProgressEvent[] = [];
  const pipeline = new Pipeline({
    source,
    sinks: [withMetrics(healthy, metrics), withMetrics(siem, metrics)],
    state,
    contentTypes: [EXO],
    retry: { initialDelayInMs: 5, maxDelayInMs: 20, random: () => 0.5 },
    maxBatchRecords: 10,
    metrics,
    onProgress: (event) => events.push(event),
  });
  return { pipeline, state, metrics, events };
}

describe("fan-out to several sinks", () => {
  it("a sink that is down holds the checkpoint, visibly; after it recovers nothing is lost or repeated", async () => {
    const source = new FakeSource({
      [EXO]: [
        { contentId: "b1", minute: 1, records: records(1, 25) },
        { contentId: "b2", minute: 2, records: records(26, 40) },
      ],
    });
    const siem = new SwitchableSink("syslog");
    const healthy = new FakeSink("file");
    const { pipeline, state, metrics, events } = setup(siem, healthy, source);
    siem.state = "down";
    await pipeline.open();
    const run = pipeline.runOnce();

    // While the SIEM is down: the healthy sink has the first batches, nothing is committed.
    while (siem.attempts < 6) await new Promise((resolve) => setTimeout(resolve, 5));
    expect(healthy.ids.length).toBeGreaterThan(0);
    expect(state.commits).toEqual([]);
    expect(state.checkpoints.size).toBe(0);
    expect(events.some((e) => e.type === "retry" && e.sink === "syslog")).toBe(true);
    expect(
      await metricValue(metrics, "auditbridge_sink_requests_total", {
        sink: "syslog",
        outcome: "retryable",
      }),
    ).toBeGreaterThanOrEqual(6);
    expect(
      await metricValue(metrics, "auditbridge_throttle_wait_seconds_total", {
        target: "sink:syslog",
      }),
    ).toBeGreaterThan(0);

    siem.state = "up";
    const summary = await run;
    await pipeline.close();

    const all = records(1, 40).map((r) => r.id);
    expect(summary.contentTypes[EXO]).toMatchObject({ ok: true, delivered: 40 });
    expect([...siem.ids].sort()).toEqual([...all].sort());
    // Only the unacknowledged (sink, batch) pairs are retried: the healthy sink saw each once.
    expect([...healthy.ids].sort()).toEqual([...all].sort());
    expect(state.checkpoints.get(EXO)?.lastContentCreated).toBe("2026-03-01T00:02:00.000Z");
  });

  it("a refusing sink stops the round with nothing committed; the retry repeats only that round at the healthy sink", async () => {
    const source = new FakeSource({
      [EXO]: [{ contentId: "b1", minute: 1, records: records(100, 109) }],
    });
    const siem = new SwitchableSink("splunk-hec");
    const healthy = new FakeSink("file");
    const { pipeline, state } = setup(siem, healthy, source);
    siem.state = "refusing";
    await pipeline.open();
    let error: unknown;
    try {
      const summary = await pipeline.runOnce();
      error = summary.contentTypes[EXO]?.error;
    } catch (thrown) {
      error = thrown;
    }
    expect(isPipelineError(error)).toBe(true);
    expect((error as Error).message).toContain("splunk-hec failed: Splunk HEC refused the token");
    expect(state.commits).toEqual([]);
    const firstRound = [...healthy.ids];
    expect(firstRound).toHaveLength(10);

    // The operator fixes the token; the next round delivers everything.
    siem.state = "up";
    await pipeline.runOnce();
    await pipeline.close();
    const all = records(100, 109).map((r) => r.id);
    expect([...siem.ids].sort()).toEqual(all);
    const counts = new Map<string, number>();
    for (const id of healthy.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(all);
    // Repeats at the healthy sink: at most once more, and only for that round's records.
    for (const [id, n] of counts) {
      expect(n).toBeLessThanOrEqual(2);
      if (n === 2) expect(firstRound).toContain(id);
    }
    expect(state.checkpoints.get(EXO)?.lastContentCreated).toBe("2026-03-01T00:01:00.000Z");
  });
});
