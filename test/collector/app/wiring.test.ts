/**
 * The collector's parts as `buildParts` wires them from a configuration, and what a sink then
 * receives from the source: parsed records when some sink reads them and no parse worker runs,
 * raw bytes from the parse workers otherwise (file), and with them each record's encoding for
 * each sink that asks (the Logs Ingestion row, the syslog message).
 */
import { hostname } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildParts, type CollectorParts } from "../../../collector/src/app";
import { loadConfig } from "../../../collector/src/config";
import { createLogger } from "../../../collector/src/log";
import { createMetrics } from "../../../collector/src/metrics";
import { encodedFor } from "../../../collector/src/sinks/recordEncoding";
import { ByteRecord } from "../../../collector/src/source/parseWorkers";
import type { ReceivedRecord } from "../../../collector/src/types";
import { type Emulator, startEmulator } from "../../../emulator/src/index";
import { workspace } from "./harness";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 41,
    scenario: {
      contentTypes: ["Audit.Exchange"],
      historyHours: 2,
      blobsPerHour: 1,
      recordsPerBlob: [3, 5],
      lateRate: 0,
    },
  });
});

afterAll(async () => {
  await emulator?.stop();
});

function partsFor(sink: string, extra: Record<string, string> = {}): CollectorParts {
  const ws = workspace(emulator, {
    AUDIT_SINK: sink,
    AUDIT_PARSE_WORKERS: "1",
    O365_CONTENT_TYPES: "Audit.Exchange",
    ...extra,
  });
  const config = loadConfig({}, ws.env);
  return buildParts(config, createMetrics(), createLogger({ level: "silent" }));
}

/** The records of the first blob the source yields, as the pipeline would hand them to a sink. */
async function firstBlobRecords(parts: CollectorParts): Promise<ReceivedRecord[]> {
  await parts.source.start();
  for await (const item of parts.source.poll("Audit.Exchange", undefined)) {
    if (item.kind !== "blob") continue;
    const records: ReceivedRecord[] = [];
    for await (const record of item.records()) records.push(record);
    return records;
  }
  throw new Error("the emulated tenant listed no blob");
}

describe("buildParts", () => {
  it("gives the Management API client a pacer with the configured budget, its rate on the gauge", async () => {
    const ws = workspace(emulator, {
      AUDIT_API_REQUESTS_PER_MINUTE: "1200",
      O365_CONTENT_TYPES: "Audit.Exchange",
    });
    const metrics = createMetrics();
    const parts = buildParts(loadConfig({}, ws.env), metrics, createLogger({ level: "silent" }));
    try {
      expect(parts.client.pacer.budgetPerMinute).toBe(1_200);
      const gauge = await metrics.apiPacerRequestsPerMinute.get();
      expect(gauge.values.map((v) => v.value)).toEqual([1_200]);
      expect(
        (await metrics.registry.metrics()).includes("auditbridge_api_pacer_requests_per_minute"),
      ).toBe(true);
    } finally {
      await parts.parseWorkers?.close();
    }
  });

  it("keeps a sink's need for parsed records through the metrics wrapper when no parse worker runs", async () => {
    const parts = partsFor("logs-ingestion,syslog", {
      SYSLOG_URL: "tcp://127.0.0.1:6514",
      AUDIT_PARSE_WORKERS: "0",
    });
    try {
      const byName = Object.fromEntries(parts.sinks.map((sink) => [sink.name, sink]));
      expect(byName.syslog?.usesParsedRecords).toBe(true);
      expect(parts.parseWorkers).toBeUndefined();
      const records = await firstBlobRecords(parts);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) {
        expect(record).not.toBeInstanceOf(ByteRecord);
        expect(record.row).toBeUndefined();
        expect(record.encoded).toBeUndefined();
        expect(record.record.Id).toBe(record.id);
      }
    } finally {
      await parts.parseWorkers?.close();
    }
  });

  it("fans one parse out to each sink's encoding: the Logs Ingestion row and the framed syslog message", async () => {
    const parts = partsFor("logs-ingestion,syslog", {
      SYSLOG_URL: "tcp://127.0.0.1:6514",
      SYSLOG_APP_NAME: "m365-audit",
    });
    try {
      const byName = Object.fromEntries(parts.sinks.map((sink) => [sink.name, sink]));
      const syslog = byName.syslog!;
      // The metrics wrapper hands on the sink's own encoding object, which the pool sends.
      expect(syslog.recordEncoding).toMatchObject({
        kind: "syslog",
        format: "cef",
        appName: "m365-audit",
        hostname: hostname(),
        framing: "octet-counting",
      });
      expect(parts.parseWorkers?.encodings).toEqual([syslog.recordEncoding]);
      expect(parts.parseWorkers?.encodings[0]).toBe(syslog.recordEncoding);
      expect(parts.parseWorkers?.auditRows).toEqual({ fieldLimitBytes: 64 * 1024 });
      const records = await firstBlobRecords(parts);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) {
        expect(record).toBeInstanceOf(ByteRecord);
        expect(JSON.parse(Buffer.from(record.row!.bytes).toString("utf8")).RecordId).toBe(
          record.id,
        );
        const message = Buffer.from(encodedFor(record, syslog.recordEncoding!)!.bytes).toString(
          "utf8",
        );
        const [length, rest] = [
          message.slice(0, message.indexOf(" ")),
          message.slice(message.indexOf(" ") + 1),
        ];
        expect(Number(length)).toBe(Buffer.byteLength(rest, "utf8"));
        expect(rest).toMatch(/^<1\d\d>1 \S+ \S+ m365-audit - Audit\.Exchange - CEF:0\|/);
        expect(rest).toContain(`externalId=${record.id}`);
      }
    } finally {
      await parts.parseWorkers?.close();
    }
  });

  it("keeps Logs Ingestion's request for rows through the metrics wrapper, so the parse workers build them", async () => {
    const parts = partsFor("logs-ingestion,file");
    try {
      const byName = Object.fromEntries(parts.sinks.map((sink) => [sink.name, sink]));
      expect(byName["logs-ingestion"]?.usesParsedRecords).not.toBe(true);
      expect(byName["logs-ingestion"]?.auditRows).toEqual({ fieldLimitBytes: 64 * 1024 });
      expect(parts.parseWorkers?.auditRows).toEqual({ fieldLimitBytes: 64 * 1024 });
      const records = await firstBlobRecords(parts);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) {
        expect(record).toBeInstanceOf(ByteRecord);
        const row = JSON.parse(Buffer.from(record.row!.bytes).toString("utf8")) as Record<
          string,
          unknown
        >;
        expect(row.RecordId).toBe(record.id);
        expect(row.ContentType).toBe("Audit.Exchange");
        // The record's own bytes are the row's AuditData, exactly as received.
        expect(row.AuditData).toEqual(JSON.parse(record.raw));
        expect(record.record.Id).toBe(record.id);
      }
    } finally {
      await parts.parseWorkers?.close();
    }
  });

  it("hands the file sink the parse workers' bytes when no sink reads parsed records", async () => {
    const parts = partsFor("file");
    try {
      expect(parts.parseWorkers).toBeDefined();
      const records = await firstBlobRecords(parts);
      expect(records.length).toBeGreaterThan(0);
      for (const record of records) expect(record).toBeInstanceOf(ByteRecord);
    } finally {
      await parts.parseWorkers?.close();
    }
  });
});
