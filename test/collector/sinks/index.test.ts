import { PassThrough } from "node:stream";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { createMetrics } from "../../../collector/src/metrics";
import { createSink, StdoutSink, withMetrics } from "../../../collector/src/sinks/index";
import type { Batch, DeliveryOutcome, Sink } from "../../../collector/src/types";

const batch: Batch = {
  contentType: "DLP.All",
  blob: {
    contentType: "DLP.All",
    contentId: "c",
    contentUri: "https://x/c",
    contentCreated: "2026-03-01T00:00:00.000Z",
    contentExpiration: "2026-03-08T00:00:00.000Z",
  },
  records: [
    {
      id: "a",
      raw: '{"Id":"a"}',
      record: { Id: "a", CreationTime: "2026-03-01T00:00:00", RecordType: 11 },
    },
    {
      id: "b",
      raw: '{\n"Id":"b"}',
      record: { Id: "b", CreationTime: "2026-03-01T00:00:00", RecordType: 11 },
    },
  ],
};

describe("sinks/index", () => {
  it("writes NDJSON to the given stream with the stdout sink", async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk.toString()));
    const sink = new StdoutSink({ stream });
    expect(await sink.deliver(batch)).toEqual({ kind: "success" });
    expect(chunks.join("")).toBe('{"Id":"a"}\n{ "Id":"b"}\n');
  });

  it("counts every delivery attempt by sink and outcome, passing outcomes through unchanged", async () => {
    const metrics = createMetrics(new Registry());
    const outcomes: DeliveryOutcome[] = [
      { kind: "retryable", error: new Error("429") },
      { kind: "success", position: "7" },
    ];
    const inner: Sink = {
      name: "custom",
      start: async () => {},
      deliver: async () => outcomes.shift()!,
      close: async () => {},
    };
    const wrapped = withMetrics(inner, metrics);
    expect(wrapped.name).toBe("custom");
    expect((await wrapped.deliver(batch)).kind).toBe("retryable");
    expect(await wrapped.deliver(batch)).toEqual({ kind: "success", position: "7" });
    const values = (await metrics.sinkRequests.get()).values.map((v) => [
      v.labels.outcome,
      v.value,
    ]);
    expect(values).toEqual([
      ["retryable", 1],
      ["success", 1],
    ]);
  });

  it("builds sinks by name and names the missing setting or the valid names", () => {
    expect(createSink("stdout", {}).name).toBe("stdout");
    expect(() => createSink("file", {})).toThrow(/AUDIT_SINK=file needs AUDIT_FILE_PATH/);
    expect(() => createSink("logs-ingestion", {})).toThrow(
      /needs LOGS_INGESTION_ENDPOINT and LOGS_INGESTION_RULE_ID/,
    );
    expect(() => createSink("splunk", {})).toThrow(
      /AUDIT_SINK "splunk" is not a known sink; use one of logs-ingestion, file, stdout/,
    );
  });
});
