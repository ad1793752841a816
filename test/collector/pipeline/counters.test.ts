import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../../collector/src/metrics";
import { PipelineCounters } from "../../../collector/src/pipeline/counters";
import type { ContentType } from "../../../domain/contentTypes";

const AAD: ContentType = "Audit.AzureActiveDirectory";

async function value(
  metrics: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const found = metric?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => (v.labels as Record<string, unknown>)[k] === l),
  );
  return found?.value ?? 0;
}

describe("PipelineCounters", () => {
  it("moves the metrics, the cumulative progress and the run summary together", async () => {
    const metrics = createMetrics(new Registry());
    const counters = new PipelineCounters([AAD], metrics);
    for (const run of [1, 2]) {
      counters.beginRun();
      counters.received(AAD, { received: 5, skipped: 1, duplicate: 2 });
      counters.committed({
        checkpoints: [],
        records: 2,
        delivered: new Map([[AAD, 2]]),
        blobsDone: new Map([[AAD, 1]]),
        newestContentCreatedMs: new Map([[AAD, Date.UTC(2026, 2, 1, 0, run)]]),
      });
      expect(counters.settle(AAD)).toEqual({
        ok: true,
        received: 5,
        delivered: 2,
        duplicate: 2,
        skipped: 1,
      });
    }
    expect(counters.snapshot()[AAD]).toMatchObject({
      received: 10,
      delivered: 4,
      duplicate: 4,
      skipped: 2,
      blobsDone: 2,
      newestContentCreated: "2026-03-01T00:02:00.000Z",
    });
    const labels = { content_type: AAD };
    expect(await value(metrics, "auditbridge_records_received_total", labels)).toBe(10);
    expect(await value(metrics, "auditbridge_records_delivered_total", labels)).toBe(4);
    expect(await value(metrics, "auditbridge_records_duplicate_total", labels)).toBe(4);
    expect(
      await value(metrics, "auditbridge_records_skipped_total", { ...labels, reason: "no-id" }),
    ).toBe(2);
  });

  it("keeps the first failure of a run and shows it as the last error", () => {
    const counters = new PipelineCounters([AAD], createMetrics(new Registry()));
    counters.beginRun();
    expect(counters.pollFailed(AAD, new Error("first"))).toBe(true);
    expect(counters.pollFailed(AAD, new Error("second"))).toBe(false);
    expect(counters.settle(AAD)).toMatchObject({ ok: false, error: new Error("first") });
    expect(counters.snapshot()[AAD]?.lastError).toBe("first");

    counters.beginRun();
    expect(counters.settle(AAD).ok).toBe(true);
    expect(counters.snapshot()[AAD]?.lastError).toBeUndefined();
  });
});
