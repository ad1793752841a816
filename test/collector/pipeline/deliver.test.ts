import { describe, expect, it } from "vitest";
import { deliverToEverySink, type SinkRetry } from "../../../collector/src/pipeline/deliver";
import { isPipelineError } from "../../../collector/src/pipeline/errors";
import type { Batch } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import { blobMeta, FakeSink, records } from "./fakes";

const AAD: ContentType = "Audit.AzureActiveDirectory";

function batch(contentId: string, from: number, to: number): Batch {
  return {
    contentType: AAD,
    blob: blobMeta(AAD, { contentId, minute: 1, records: [] }),
    records: records(from, to),
  };
}

const retry = { initialDelayInMs: 1, maxDelayInMs: 4, random: () => 0.5 };

describe("deliverToEverySink", () => {
  it("redelivers only the sink and batch pairs that were not acknowledged and returns each sink's last position", async () => {
    const steady = new FakeSink("file");
    const flaky = new FakeSink("logs-ingestion", [
      { kind: "success" },
      { kind: "retryable", error: new Error("429"), retryAfterInMs: 3 },
    ]);
    const retries: SinkRetry[] = [];
    const positions = await deliverToEverySink([batch("b1", 1, 2), batch("b2", 3, 5)], {
      sinks: [steady, flaky],
      abortSignal: new AbortController().signal,
      retry,
      nowMs: Date.now,
      onRetry: (r) => retries.push(r),
    });
    expect(steady.attempts.map((b) => b.blob.contentId)).toEqual(["b1", "b2"]);
    expect(flaky.attempts.map((b) => b.blob.contentId)).toEqual(["b1", "b2", "b2"]);
    // b2 was the last delivery to complete at each sink, so its position is the one kept.
    expect(positions).toEqual({ file: "5", "logs-ingestion": "5" });
    expect(retries).toEqual([
      { sink: "logs-ingestion", attempt: 1, delayInMs: 3, error: "logs-ingestion: 429" },
    ]);
  });

  it("rejects with a PipelineError naming the sink when a sink fails or throws", async () => {
    const failing = new FakeSink("splunk-hec", [
      { kind: "failure", error: new Error("400 bad index") },
    ]);
    const error = await deliverToEverySink([batch("b1", 1, 1)], {
      sinks: [failing],
      abortSignal: new AbortController().signal,
      nowMs: Date.now,
    }).catch((e: unknown) => e);
    expect(isPipelineError(error)).toBe(true);
    expect((error as Error).message).toBe("sink splunk-hec failed: 400 bad index");

    const throwing = new FakeSink("syslog");
    throwing.deliver = async () => {
      throw new Error("bug");
    };
    await expect(
      deliverToEverySink([batch("b1", 1, 1)], {
        sinks: [throwing],
        abortSignal: new AbortController().signal,
        nowMs: Date.now,
      }),
    ).rejects.toThrow("sink syslog failed: bug");
  });

  it("gives up once the next wait would pass sinkRetryTimeoutInMs, and stops waiting when aborted", async () => {
    let nowMs = 0;
    const down = new FakeSink(
      "logs-ingestion",
      Array.from({ length: 10 }, () => ({
        kind: "retryable" as const,
        error: new Error("503"),
        retryAfterInMs: 40,
      })),
    );
    const onRetry = () => {
      nowMs += 40;
    };
    await expect(
      deliverToEverySink([batch("b1", 1, 1)], {
        sinks: [down],
        abortSignal: new AbortController().signal,
        sinkRetryTimeoutInMs: 100,
        nowMs: () => nowMs,
        onRetry,
      }),
    ).rejects.toThrow(
      "gave up delivering to logs-ingestion after 3 attempts (sinkRetryTimeoutInMs=100): logs-ingestion: 503",
    );
    expect(down.attempts).toHaveLength(3);

    const controller = new AbortController();
    const waiting = deliverToEverySink([batch("b1", 1, 1)], {
      sinks: [
        new FakeSink("logs-ingestion", [
          { kind: "retryable", error: new Error("503"), retryAfterInMs: 60_000 },
        ]),
      ],
      abortSignal: controller.signal,
      nowMs: Date.now,
      onRetry: () => controller.abort(),
    });
    await expect(waiting).rejects.toMatchObject({ name: "AbortError" });
  });
});
