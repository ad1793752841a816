import { randomBytes } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { createDefaultHttpClient, type HttpClient } from "@azure/core-rest-pipeline";
import { ClientSecretCredential } from "@azure/identity";
import { Registry } from "prom-client";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMetrics } from "../../../collector/src/metrics";
import {
  GZIP_CHUNK_BYTES,
  gzipBody,
  LogsIngestionSink,
  type LogsIngestionSinkOptions,
} from "../../../collector/src/sinks/logsIngestionSink";
import type { Batch, ReceivedRecord } from "../../../collector/src/types";
import { type Emulator, startEmulator } from "../../../emulator/src/index";

const BLOB = {
  contentType: "Audit.SharePoint",
  contentId:
    "20260301100000000000000$20260301110000000000000$audit_sharepoint$Audit_SharePoint$emea0012",
  contentUri: "https://api.test/blob",
  contentCreated: "2026-03-01T10:05:00.000Z",
  contentExpiration: "2026-03-08T10:05:00.000Z",
};

function rec(n: number, extra: Record<string, unknown> = {}): ReceivedRecord {
  const body: Record<string, unknown> = {
    CreationTime: "2026-03-01T10:00:00",
    Id: `5a1b2c3d-0000-4000-8000-${n.toString(16).padStart(12, "0")}`,
    Operation: "FileAccessed",
    OrganizationId: "11111111-2222-4333-8444-555555555555",
    RecordType: 6,
    UserKey: "i:0h.f|membership|10032000@live.com",
    UserType: 0,
    Workload: "SharePoint",
    ClientIP: "203.0.113.7",
    UserId: "adele@contoso.test",
    ObjectId: `https://contoso.sharepoint.test/doc-${n}.docx`,
    ...extra,
  };
  const raw = JSON.stringify(body);
  return { id: body.Id as string, raw, record: JSON.parse(raw) };
}

function batch(records: ReceivedRecord[]): Batch {
  return { contentType: "Audit.SharePoint", blob: BLOB, records };
}

describe("LogsIngestionSink against the emulator", () => {
  let emulator: Emulator;
  let credential: ClientSecretCredential;

  beforeAll(async () => {
    emulator = await startEmulator({ seed: 7 });
    credential = new ClientSecretCredential(
      emulator.tenant.tenantId,
      emulator.tenant.clientId,
      emulator.tenant.clientSecret,
      {
        authorityHost: emulator.url,
        disableInstanceDiscovery: true,
      },
    );
  });
  afterAll(async () => {
    await emulator?.stop();
  });
  beforeEach(() => {
    emulator.knobs.ingestionThrottle = null;
    emulator.knobs.ingestionOutage = false;
    emulator.knobs.latencyMs = 0;
  });

  function sink(overrides: Partial<LogsIngestionSinkOptions> = {}) {
    const metrics = createMetrics(new Registry());
    const instance = new LogsIngestionSink({
      endpoint: emulator.url,
      ruleId: emulator.ingestion.ruleId,
      streamName: emulator.ingestion.stream,
      credential,
      metrics,
      // SDK-level retries off where the test is about what the sink does with the answer.
      clientOptions: { retryOptions: { maxRetries: 0 } },
      ...overrides,
    });
    return { sink: instance, metrics };
  }

  function rowsFor(ids: Set<string>) {
    return emulator.truth.ingestedRows().filter((r) => ids.has(r.row.RecordId as string));
  }

  it("maps every record to the table columns the DCR stream declares", async () => {
    const { sink: s } = sink();
    const stringTyped = rec(1, {
      RecordType: "15",
      UserType: "2",
      CreationTime: "2026-03-01T09:59:58",
      ClientIP: null,
    });
    const outcome = await s.deliver(batch([stringTyped, rec(2)]));
    expect(outcome).toEqual({ kind: "success" });
    const [row] = rowsFor(new Set([stringTyped.id])).map((r) => r.row);
    expect(row).toEqual({
      TimeGenerated: "2026-03-01T09:59:58Z",
      RecordId: stringTyped.id,
      RecordType: 15,
      RecordTypeName: "AzureActiveDirectoryStsLogon",
      Operation: "FileAccessed",
      Workload: "SharePoint",
      UserId: "adele@contoso.test",
      UserKey: "i:0h.f|membership|10032000@live.com",
      UserType: 2,
      ClientIP: null,
      ResultStatus: null,
      ObjectId: "https://contoso.sharepoint.test/doc-1.docx",
      OrganizationId: "11111111-2222-4333-8444-555555555555",
      ContentType: "Audit.SharePoint",
      ContentId: BLOB.contentId,
      ContentCreated: BLOB.contentCreated,
      AuditData: JSON.parse(stringTyped.raw),
    });
  });

  it("treats a 429 without Retry-After as retryable and resends only the refused rows", async () => {
    const { sink: s } = sink({ maxConcurrency: 1 });
    // ~1.3 MB of rows: the SDK sends two chunks; the first is throttled without Retry-After.
    const records = Array.from({ length: 40 }, (_, i) =>
      rec(1000 + i, { Padding: "p".repeat(32 * 1024) }),
    );
    const b = batch(records);
    emulator.knobs.ingestionThrottle = { count: 1 };
    const first = await s.deliver(b);
    expect(first.kind).toBe("retryable");
    expect(first.kind === "retryable" && first.retryAfterInMs).toBeUndefined();
    expect(first.kind === "retryable" && first.error.message).toMatch(/HTTP 429/);
    const ids = new Set(records.map((r) => r.id));
    const afterFirst = rowsFor(ids).length;
    expect(afterFirst).toBeGreaterThan(0);
    expect(afterFirst).toBeLessThan(40);

    expect(await s.deliver(b)).toEqual({ kind: "success" });
    const rows = rowsFor(ids);
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((r) => r.row.RecordId)).size).toBe(40);
  });

  it("keeps at most maxConcurrency requests in flight across batches delivered at once", async () => {
    const inner = createDefaultHttpClient();
    let inFlight = 0;
    let most = 0;
    const counting: HttpClient = {
      async sendRequest(request) {
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          return await inner.sendRequest(request);
        } finally {
          inFlight--;
        }
      },
    };
    const { sink: s } = sink({
      maxConcurrency: 2,
      clientOptions: { retryOptions: { maxRetries: 0 }, httpClient: counting },
    });
    emulator.knobs.latencyMs = 30;
    // Three batches of ~1.3 MB: two request bodies each, six in all.
    const batches = [0, 1, 2].map((b) =>
      batch(
        Array.from({ length: 40 }, (_, i) =>
          rec(6000 + b * 100 + i, { Padding: "p".repeat(32 * 1024) }),
        ),
      ),
    );
    const outcomes = await Promise.all(batches.map((b) => s.deliver(b)));
    expect(outcomes).toEqual([{ kind: "success" }, { kind: "success" }, { kind: "success" }]);
    expect(most).toBe(2);
    const ids = new Set(batches.flatMap((b) => b.records.map((r) => r.id)));
    expect(rowsFor(ids)).toHaveLength(120);
  });

  it("passes a 429's Retry-After on as retryAfterInMs", async () => {
    const { sink: s } = sink();
    emulator.knobs.ingestionThrottle = { count: 1, retryAfterSeconds: 7 };
    const outcome = await s.deliver(batch([rec(2000)]));
    expect(outcome.kind === "retryable" && outcome.retryAfterInMs).toBe(7000);
  });

  it("lets the SDK wait out a 429 with Retry-After by itself when its retries are on", async () => {
    const { sink: s } = sink({ clientOptions: {} });
    emulator.knobs.ingestionThrottle = { count: 1, retryAfterSeconds: 1 };
    expect(await s.deliver(batch([rec(2100)]))).toEqual({ kind: "success" });
    expect(rowsFor(new Set([rec(2100).id]))).toHaveLength(1);
  });

  it("treats an outage (503) as retryable", async () => {
    const { sink: s } = sink();
    emulator.knobs.ingestionOutage = true;
    const outcome = await s.deliver(batch([rec(2200)]));
    expect(outcome.kind).toBe("retryable");
    expect(outcome.kind === "retryable" && outcome.error.message).toMatch(/HTTP 503/);
  });

  it("fails with the service's message on a 400", async () => {
    const { sink: s } = sink({ streamName: "Custom-NotDeclared" });
    const outcome = await s.deliver(batch([rec(3000)]));
    expect(outcome.kind).toBe("failure");
    expect(outcome.kind === "failure" && outcome.error.message).toMatch(
      /HTTP 400.*Custom-NotDeclared.*not declared/,
    );
  });

  it("shortens AuditData over 64 KB with markers and a truncation report, and counts it", async () => {
    const { sink: s, metrics } = sink();
    const big = rec(4000, {
      Parameters: [{ Name: "Body", Value: "v".repeat(100_000) }],
      Note: "n".repeat(30_000),
    });
    expect(await s.deliver(batch([big]))).toEqual({ kind: "success" });
    const [row] = rowsFor(new Set([big.id])).map((r) => r.row);
    const data = row!.AuditData as Record<string, unknown>;
    expect(Buffer.byteLength(JSON.stringify(data))).toBeLessThanOrEqual(64 * 1024);
    const value = (data.Parameters as Array<{ Value: string }>)[0]!.Value;
    expect(value).toMatch(/…\[AuditBridge: truncated, \d+ of 100000 characters kept\]$/);
    expect(data.AuditBridgeTruncation).toMatchObject({
      originalBytes: Buffer.byteLength(big.raw),
      method: "strings",
      fields: expect.arrayContaining([{ path: "Parameters[0].Value", originalLength: 100_000 }]),
    });
    expect(data.Id).toBe(big.id);
    const oversize = (
      await metrics.registry.getSingleMetric("auditbridge_records_oversize_total")!.get()
    ).values;
    expect(oversize).toEqual([
      expect.objectContaining({
        value: 1,
        labels: { content_type: "Audit.SharePoint", action: "truncated" },
      }),
    ]);
  });

  it("answers a 413 by reducing a lone oversized row to the field limit and sending it again", async () => {
    // Raising the field limit lets a 1.2 MB row reach the wire, where the 1 MB call limit refuses it.
    const { sink: s } = sink({ maxFieldBytes: 4 * 1024 * 1024 });
    const huge = rec(5000, { Blob: "h".repeat(1_200_000) });
    expect(await s.deliver(batch([huge, rec(5001)]))).toEqual({ kind: "success" });
    const statuses = emulator.truth
      .requestLog()
      .filter((r) => r.path.startsWith("/dataCollectionRules/"))
      .map((r) => r.status);
    expect(statuses).toContain(413);
    const [row] = rowsFor(new Set([huge.id])).map((r) => r.row);
    expect((row!.AuditData as Record<string, unknown>).AuditBridgeTruncation).toMatchObject({
      method: "strings",
    });
    expect(rowsFor(new Set([rec(5001).id]))).toHaveLength(1);
  });

  it("rejects settings that cannot work with a message naming the variable", () => {
    const base = {
      endpoint: "https://x.ingest.monitor.azure.com",
      ruleId: `dcr-${"a".repeat(32)}`,
      credential,
    };
    expect(() => new LogsIngestionSink({ ...base, endpoint: "http://x" })).toThrow(
      /LOGS_INGESTION_ENDPOINT .* must use https/,
    );
    expect(() => new LogsIngestionSink({ ...base, endpoint: "nope" })).toThrow(
      /LOGS_INGESTION_ENDPOINT "nope" is not a URL/,
    );
    expect(() => new LogsIngestionSink({ ...base, ruleId: "my-dcr" })).toThrow(
      /LOGS_INGESTION_RULE_ID "my-dcr" is not a DCR immutable id/,
    );
    expect(() => new LogsIngestionSink({ ...base, streamName: "M365Audit" })).toThrow(
      /LOGS_INGESTION_STREAM/,
    );
  });
});

describe("gzipBody", () => {
  it("compresses a full body of audit rows into less than one zlib output buffer", async () => {
    const rows: string[] = [];
    let size = 2;
    for (let n = 0; size < 999_000; n++) {
      const row = rec(n).raw;
      rows.push(row);
      size += row.length + 1;
    }
    const body = Buffer.from(`[${rows.join(",")}]`);
    const compressed = await gzipBody(body);
    expect(compressed.length).toBeLessThan(GZIP_CHUNK_BYTES);
    expect(gunzipSync(compressed).equals(body)).toBe(true);
  });

  it("keeps a body that does not compress whole across several output buffers", async () => {
    const body = randomBytes(1_000_000);
    const compressed = await gzipBody(body);
    expect(compressed.length).toBeGreaterThan(GZIP_CHUNK_BYTES);
    expect(gunzipSync(compressed).equals(body)).toBe(true);
  });
});
