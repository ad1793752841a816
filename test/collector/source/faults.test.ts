import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TokenCredential } from "@azure/identity";
import { afterEach, describe, expect, it } from "vitest";
import {
  isManagementApiError,
  type ManagementApiError,
} from "../../../collector/src/source/apiError";
import { type ContentPage, ManagementApiClient } from "../../../collector/src/source/client";
import { ParseWorkerPool } from "../../../collector/src/source/parseWorkers";
import type { ReceivedRecord } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import {
  captureLogs,
  clientOptionsFor,
  counterValue,
  credentialFor,
  drain,
  feedRequests,
  HOUR,
  type SourceHarness,
  startHarness,
} from "./helpers";

let harness: SourceHarness | undefined;
let tempDir: string | undefined;
afterEach(async () => {
  await harness?.emulator.stop();
  harness = undefined;
  if (tempDir) await rm(tempDir, { recursive: true, force: true });
  tempDir = undefined;
});

const SP: ContentType = "Audit.SharePoint";
const sorted = (ids: Iterable<string>) => [...new Set(ids)].sort();

describe("ActivitySource with broken blobs", () => {
  it("skips expired blobs (AF20051), counts and logs them, and delivers the rest", async () => {
    harness = await startHarness(
      {
        scenario: {
          contentTypes: [SP],
          historyHours: 20,
          blobsPerHour: 2,
          recordsPerBlob: [1, 4],
          expiredBlobs: 3,
          lateRate: 0,
        },
      },
      { initialLookbackInMs: 21 * HOUR },
    );
    const { source, emulator, metrics, logs } = harness;
    await source.start();
    const result = await drain(source, SP, undefined);
    expect(sorted(result.ids)).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    expect(await counterValue(metrics.blobsSkipped, { reason: "expired" })).toBe(3);
    expect(feedRequests(emulator).filter((r) => r.code === "AF20051")).toHaveLength(3);
    const skippedLogs = logs
      .entries()
      .filter((e) => String(e.msg).startsWith("content blob skipped"));
    expect(skippedLogs).toHaveLength(3);
    expect(skippedLogs[0]).toMatchObject({ reason: "expired", code: "AF20051" });
  });

  it("retries a malformed blob, then quarantines its bytes with metadata and keeps going", async () => {
    tempDir = await mkdtemp(path.join(tmpdir(), "auditbridge-quarantine-"));
    harness = await startHarness(
      {
        scenario: {
          contentTypes: [SP],
          historyHours: 8,
          blobsPerHour: 2,
          recordsPerBlob: [2, 5],
          lateRate: 0,
        },
        knobs: { malformedBlobRate: 0.3 },
      },
      { initialLookbackInMs: 9 * HOUR, quarantineDir: tempDir, blobAttempts: 2 },
    );
    const { source, emulator, metrics } = harness;
    await source.start();
    const result = await drain(source, SP, undefined);
    const malformed = emulator.truth.listedBlobs(SP).filter((b) => b.malformed);
    expect(malformed.length).toBeGreaterThan(0);
    expect(sorted(result.ids)).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    expect(await counterValue(metrics.blobsQuarantined)).toBe(malformed.length);
    expect(await counterValue(metrics.blobsSkipped, { reason: "malformed" })).toBe(
      malformed.length,
    );
    // Two downloads per malformed blob (blobAttempts: 2).
    const downloads = feedRequests(emulator).filter((r) =>
      r.path.includes(malformed[0]!.contentId),
    );
    expect(downloads).toHaveLength(2);

    const files = (await readdir(tempDir)).sort();
    const metaFiles = files.filter((f) => f.endsWith(".meta.json"));
    expect(metaFiles).toHaveLength(malformed.length);
    expect(files.filter((f) => f.endsWith(".partial"))).toEqual([]);
    const meta = JSON.parse(await readFile(path.join(tempDir, metaFiles[0]!), "utf8"));
    expect(malformed.map((b) => b.contentId)).toContain(meta.contentId);
    expect(meta).toMatchObject({ contentType: SP, attempts: 2 });
    expect(meta.problem).toMatch(/not valid JSON/);
    const data = await readFile(
      path.join(tempDir, metaFiles[0]!.replace(".meta.json", ".json")),
      "utf8",
    );
    expect(data.length).toBe(meta.bytes);
    expect(data.startsWith("[")).toBe(true);
  });

  it("parses on worker threads with the same outcome: every record once, bytes kept, cut and malformed bodies retried", async () => {
    tempDir = await mkdtemp(path.join(tmpdir(), "auditbridge-quarantine-"));
    const parseWorkers = new ParseWorkerPool(2);
    try {
      harness = await startHarness(
        {
          scenario: {
            contentTypes: [SP],
            historyHours: 8,
            blobsPerHour: 3,
            recordsPerBlob: [5, 40],
            lateRate: 0,
          },
          knobs: { malformedBlobRate: 0.2, truncateRate: 0.3 },
        },
        {
          initialLookbackInMs: 9 * HOUR,
          quarantineDir: tempDir,
          blobAttempts: 2,
          keepParsedRecords: false,
          parseWorkers,
        },
      );
      const { source, emulator, metrics } = harness;
      await source.start();
      const records: ReceivedRecord[] = [];
      for await (const item of source.poll(SP, undefined)) {
        if (item.kind === "blob") for await (const record of item.records()) records.push(record);
      }
      const listed = emulator.truth.listedBlobs(SP);
      expect(listed.some((b) => b.malformed)).toBe(true);
      expect(emulator.truth.counters.truncatedBlobs).toBeGreaterThan(0);
      expect(sorted(records.map((r) => r.id))).toEqual(
        sorted(emulator.truth.expectedRecordIds([SP])),
      );
      for (const record of records.slice(0, 50)) {
        expect(record.bytes).toBeInstanceOf(Uint8Array);
        expect(Buffer.from(record.bytes!).toString("utf8")).toBe(record.raw);
        expect(record.record.Id).toBe(record.id);
      }
      expect(await counterValue(metrics.blobsQuarantined)).toBe(
        listed.filter((b) => b.malformed).length,
      );
    } finally {
      await parseWorkers.close();
    }
  });

  it("rebuilds contentUris that point at another host or tenant and never calls them", async () => {
    harness = await startHarness(
      {
        scenario: { contentTypes: [SP], historyHours: 6, blobsPerHour: 4, lateRate: 0 },
        knobs: { badContentUriRate: 0.4 },
      },
      { initialLookbackInMs: 7 * HOUR },
    );
    const { source, emulator, logs } = harness;
    await source.start();
    const result = await drain(source, SP, undefined);
    const bad = emulator.truth.listedBlobs(SP).filter((b) => b.badContentUri);
    expect(bad.length).toBeGreaterThan(0);
    expect(sorted(result.ids)).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    const tenantPath = `/api/v1.0/${emulator.tenant.tenantId}/activity/feed/`;
    expect(feedRequests(emulator).every((r) => r.path.startsWith(tenantPath))).toBe(true);
    expect(logs.lines.filter((l) => l.includes("contentUri rebuilt")).length).toBe(bad.length);
  });

  it("counts records without an Id as skipped instead of failing the blob", async () => {
    harness = await startHarness({
      scenario: { contentTypes: [SP], historyHours: 2, blobsPerHour: 1, lateRate: 0 },
    });
    // The listing comes from the emulator; the body is crafted, since a real blob always has Ids.
    class CraftedBodyClient extends ManagementApiClient {
      override async *streamBlob(): AsyncGenerator<Uint8Array> {
        yield new TextEncoder().encode(
          '[{"Id":"a","N":1},{"NoId":true},5,{"Id":""},["x"],{"Id":"b"}]',
        );
      }
    }
    const { ActivitySource } = await import("../../../collector/src/source/activitySource");
    const { metrics } = harness;
    const source = new ActivitySource({
      contentTypes: [SP],
      client: new CraftedBodyClient(clientOptionsFor(harness.emulator)),
      nowMs: harness.clock.now,
      initialLookbackInMs: 3 * HOUR,
      metrics,
    });
    await source.start();
    const result = await drain(source, SP, undefined);
    const blobs = result.items.filter((i) => i.kind === "blob").length;
    expect(blobs).toBeGreaterThan(0);
    expect(result.ids).toEqual(Array.from({ length: blobs }, () => ["a", "b"]).flat());
    expect(await counterValue(metrics.recordsSkipped, { content_type: SP, reason: "no-id" })).toBe(
      4 * blobs,
    );
    expect(await counterValue(metrics.blobsFetched, { content_type: SP })).toBe(blobs);
  });
});

describe("ActivitySource with configuration problems", () => {
  it("reports an audit-disabled tenant as a configuration error with the fix, from start()", async () => {
    harness = await startHarness({
      scenario: { contentTypes: [SP], historyHours: 2 },
      knobs: { auditDisabled: true },
    });
    const error = (await harness.source.start().catch((e: unknown) => e)) as ManagementApiError;
    expect(isManagementApiError(error)).toBe(true);
    expect(error.classification.action).toBe("fatal-config");
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/unified audit logging is off.*turn on audit log search/);
    expect(error.message.split("\n")).toHaveLength(1);
  });

  it("reports DLP.All without ActivityFeed.ReadDlp as AF10001 naming the missing permission", async () => {
    harness = await startHarness(
      {
        scenario: { contentTypes: ["DLP.All"], historyHours: 2 },
        knobs: { grantedRoles: ["ActivityFeed.Read"] },
      },
      { contentTypes: ["DLP.All"] },
    );
    const error = (await harness.source.start().catch((e: unknown) => e)) as ManagementApiError;
    expect(isManagementApiError(error)).toBe(true);
    expect(error).toMatchObject({ status: 401, code: "AF10001" });
    expect(error.classification.action).toBe("fatal-config");
    expect(error.message).toContain("ActivityFeed.ReadDlp");
    // AF10001 is not a stale token: the start is sent once, not retried with a new token.
    const starts = feedRequests(harness.emulator).filter((r) =>
      r.path.endsWith("/subscriptions/start"),
    );
    expect(starts.map((r) => r.status)).toEqual([401]);
  });

  it("fails a poll of a disabled subscription with a clear error once the start guard blocks", async () => {
    harness = await startHarness(
      { scenario: { contentTypes: [SP], historyHours: 2 } },
      { initialLookbackInMs: 3 * HOUR },
    );
    const { source, emulator } = harness;
    await source.start();
    emulator.knobs.subscriptionsDisabled = [SP];
    const error = await drain(source, SP, undefined).catch((e: unknown) => e);
    expect((error as Error).name).toBe("StartGuardError");
    expect((error as Error).message).toMatch(
      /one start per 15 minutes; the next start is possible at/,
    );
  });
});

describe("ActivitySource and the token", () => {
  it("gets a new token when the API rejects an expired one mid-run, and keeps the token out of logs and errors", async () => {
    const tokens: string[] = [];
    const recording = (inner: TokenCredential): TokenCredential => ({
      async getToken(scopes, options) {
        const token = await inner.getToken(scopes, options);
        if (token) tokens.push(token.token);
        return token;
      },
    });
    let inner: TokenCredential | undefined;
    harness = await startHarness(
      { scenario: { contentTypes: [SP], historyHours: 4, blobsPerHour: 3, lateRate: 0 } },
      { initialLookbackInMs: 5 * HOUR },
      {
        credential: { getToken: (scopes, options) => recording(inner!).getToken(scopes, options) },
      },
    );
    inner = credentialFor(harness.emulator);
    const { source, emulator, clock, logs } = harness;
    await source.start();
    const issuedBefore = emulator.truth.counters.tokensIssued;
    const ids: string[] = [];
    let advanced = false;
    for await (const item of source.poll(SP, undefined)) {
      if (item.kind === "blob") for await (const r of item.records()) ids.push(r.id);
      if (!advanced && ids.length > 0) {
        // The emulator's clock passes the token's expiry; MSAL's cache still holds it.
        clock.advance(2 * HOUR);
        advanced = true;
      }
    }
    expect(sorted(ids)).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    const rejected = feedRequests(emulator).filter((r) => r.status === 401);
    expect(rejected).toHaveLength(1);
    expect(emulator.truth.counters.tokensIssued).toBe(issuedBefore + 1);
    expect(new Set(tokens).size).toBe(2);
    const everything = logs.lines.join("\n");
    for (const token of tokens) expect(everything).not.toContain(token);
    expect(logs.lines.some((l) => l.includes("HTTP 401") || l.includes('"status":401'))).toBe(true);
  });
});

describe("ActivitySource paging", () => {
  /** Corrupts the nextPage token of the first page link, as a stale link from an old listing. */
  class StaleLinkClient extends ManagementApiClient {
    tampered = 0;
    override async listContentPage(nextPageUri: string, options = {}): Promise<ContentPage> {
      if (this.tampered === 0) {
        this.tampered++;
        return super.listContentPage(
          nextPageUri.replace(/nextPage=[^&]+/, "nextPage=stale0000"),
          options,
        );
      }
      return super.listContentPage(nextPageUri, options);
    }
  }

  /** Rewrites page links to another host, as a misbehaving proxy would. */
  class ForeignLinkClient extends ManagementApiClient {
    override async listContent(
      ...args: Parameters<ManagementApiClient["listContent"]>
    ): Promise<ContentPage> {
      const page = await super.listContent(...args);
      return {
        ...page,
        nextPageUri: page.nextPageUri?.replace(/^https:\/\/[^/]+/, "https://attacker.example"),
      };
    }
  }

  it("drops a stale NextPageUri the API refuses and re-lists the window once, without repeats", async () => {
    harness = await startHarness({
      scenario: {
        contentTypes: [SP],
        historyHours: 5,
        blobsPerHour: 4,
        recordsPerBlob: [1, 3],
        pageSize: 3,
        lateRate: 0,
      },
    });
    const client = new StaleLinkClient(clientOptionsFor(harness.emulator));
    const { ActivitySource } = await import("../../../collector/src/source/activitySource");
    const source = new ActivitySource({
      contentTypes: [SP],
      client,
      nowMs: harness.clock.now,
      initialLookbackInMs: 6 * HOUR,
    });
    await source.start();
    const result = await drain(source, SP, undefined);
    expect(client.tampered).toBe(1);
    expect(feedRequests(harness.emulator).filter((r) => r.code === "AF20031")).toHaveLength(1);
    expect(sorted(result.ids)).toEqual(sorted(harness.emulator.truth.expectedRecordIds([SP])));
    const blobIds = result.items
      .filter((i) => i.kind === "blob")
      .map((i) => (i.kind === "blob" ? i.blob.contentId : ""));
    expect(new Set(blobIds).size).toBe(blobIds.length);
  });

  it("follows a NextPageUri pointing at another host only on the configured API", async () => {
    harness = await startHarness({
      scenario: {
        contentTypes: [SP],
        historyHours: 5,
        blobsPerHour: 4,
        recordsPerBlob: [1, 3],
        pageSize: 3,
        lateRate: 0,
      },
    });
    const client = new ForeignLinkClient(clientOptionsFor(harness.emulator));
    const { ActivitySource } = await import("../../../collector/src/source/activitySource");
    const { logger, logs } = captureLogs();
    const source = new ActivitySource({
      contentTypes: [SP],
      client,
      nowMs: harness.clock.now,
      initialLookbackInMs: 6 * HOUR,
      logger,
    });
    await source.start();
    const result = await drain(source, SP, undefined);
    expect(sorted(result.ids)).toEqual(sorted(harness.emulator.truth.expectedRecordIds([SP])));
    const followed = feedRequests(harness.emulator).filter((r) => r.query.includes("nextPage="));
    expect(followed.length).toBeGreaterThan(0);
    // The rewritten first-page links were followed on the emulator, and nothing else failed.
    expect(
      logs.lines.some((l) => l.includes("following its nextPage token on the configured API")),
    ).toBe(true);
    expect(feedRequests(harness.emulator).every((r) => r.status === 200)).toBe(true);
  });
});
