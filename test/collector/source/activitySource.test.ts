import { afterEach, describe, expect, it } from "vitest";
import type { Checkpoint } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import {
  counterValue,
  DAY,
  drain,
  feedRequests,
  HOUR,
  MINUTE,
  type SourceHarness,
  startHarness,
} from "./helpers";

let harness: SourceHarness | undefined;
afterEach(async () => {
  await harness?.emulator.stop();
  harness = undefined;
});

const SP: ContentType = "Audit.SharePoint";

function sorted(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort();
}

describe("ActivitySource against the emulator", () => {
  it("delivers every record of 30 hours of history across many pages and a 24-hour window split", async () => {
    harness = await startHarness(
      {
        scenario: {
          contentTypes: [SP],
          historyHours: 30,
          blobsPerHour: 3,
          recordsPerBlob: [2, 6],
          pageSize: 4,
          lateRate: 0,
        },
      },
      { initialLookbackInMs: 31 * HOUR },
    );
    const { source, emulator } = harness;
    await source.start();
    const result = await drain(source, SP, undefined);

    expect(sorted(result.ids)).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    const listings = feedRequests(emulator).filter((r) =>
      r.path.endsWith("/subscriptions/content"),
    );
    expect(listings.length).toBeGreaterThan(15);
    expect(listings.filter((r) => r.query.includes("nextPage=")).length).toBeGreaterThan(10);
    expect(listings.every((r) => r.status === 200)).toBe(true);
    // Two windows (30 h > 24 h), each closed by an advance item.
    const advances = result.items.filter((i) => i.kind === "advance");
    expect(advances).toHaveLength(2);
    const blobItems = result.items.filter((i) => i.kind === "blob");
    expect(new Set(blobItems.map((i) => i.kind === "blob" && i.blob.contentId)).size).toBe(
      blobItems.length,
    );
  });

  it("sends PublisherIdentifier on every API call, blob downloads included", async () => {
    harness = await startHarness(
      { scenario: { contentTypes: [SP], historyHours: 3, blobsPerHour: 2, pageSize: 2 } },
      {
        initialLookbackInMs: 4 * HOUR,
      },
    );
    const { source, emulator } = harness;
    await source.start();
    await drain(source, SP, undefined);
    const requests = feedRequests(emulator);
    expect(requests.some((r) => r.path.includes("/audit/"))).toBe(true);
    for (const request of requests) {
      expect(new URLSearchParams(request.query).get("PublisherIdentifier"), request.path).toBe(
        emulator.tenant.publisherId,
      );
    }
  });

  it("moves a checkpoint older than seven days up to the edge instead of sending a refused window", async () => {
    harness = await startHarness({
      scenario: {
        contentTypes: [SP],
        historyHours: 167,
        blobsPerHour: 0.25,
        recordsPerBlob: [1, 3],
        lateRate: 0,
      },
    });
    const { source, emulator, clock, logs } = harness;
    await source.start();
    const stale = {
      contentType: SP,
      windowStart: new Date(clock.now() - 9 * DAY).toISOString(),
      doneBlobs: [],
      updatedAt: new Date(clock.now() - 9 * DAY).toISOString(),
    };
    const result = await drain(source, SP, stale);
    expect(sorted(result.ids)).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    expect(feedRequests(emulator).filter((r) => r.status !== 200)).toEqual([]);
    expect(result.items.filter((i) => i.kind === "advance")).toHaveLength(7);
    expect(logs.lines.some((l) => l.includes("older than the API's 7-day history"))).toBe(true);
  });

  it("learns the server clock from a refused window's Date header and recomputes, without looping", async () => {
    harness = await startHarness({
      scenario: { contentTypes: [SP], historyHours: 24, blobsPerHour: 1, lateRate: 0 },
      knobs: { clockOffsetMs: 45 * MINUTE },
    });
    const { source, emulator, logs, clock } = harness;
    await source.start();
    const first = await drain(source, SP, undefined);
    const refused = feedRequests(emulator).filter((r) => r.code === "AF20030");
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused.length).toBeLessThanOrEqual(3);
    // The refusal carries the server's Date header, so the source learns the 45-minute skew.
    expect(logs.lines.some((l) => l.includes("correcting for the server's clock"))).toBe(true);
    clock.advance(50 * MINUTE);
    const second = await drain(source, SP, first.checkpoint);
    expect(sorted([...first.ids, ...second.ids])).toEqual(
      sorted(emulator.truth.expectedRecordIds([SP])),
    );
    expect(feedRequests(emulator).filter((r) => r.code === "AF20030")).toHaveLength(refused.length);
  });

  it("catches late-listed blobs by re-listing the overlap, and never hands out a blob twice", async () => {
    harness = await startHarness(
      {
        scenario: {
          contentTypes: [SP],
          historyHours: 6,
          blobsPerHour: 12,
          recordsPerBlob: [1, 3],
          lateRate: 0.3,
          liveBlobsPerMinute: 0.5,
          liveHorizonMinutes: 90,
        },
      },
      { initialLookbackInMs: 7 * HOUR, overlapInMs: 3 * HOUR },
    );
    const { source, emulator, clock } = harness;
    await source.start();
    const seenBlobs: string[] = [];
    const ids: string[] = [];
    let checkpoint: Checkpoint | undefined;
    for (let poll = 0; poll < 6; poll++) {
      const result = await drain(source, SP, checkpoint, (item) => {
        if (item.kind !== "advance") seenBlobs.push(item.blob.contentId);
      });
      ids.push(...result.ids);
      checkpoint = result.checkpoint;
      clock.advance(10 * MINUTE);
    }
    clock.advance(-10 * MINUTE);
    expect(new Set(seenBlobs).size).toBe(seenBlobs.length);
    expect(sorted(ids)).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    expect(emulator.truth.listedBlobs(SP).some((b) => b.late)).toBe(true);
    // The cursor stays the overlap behind now; the done list holds only blobs inside it.
    const cursor = Date.parse(checkpoint!.windowStart);
    expect(cursor).toBeLessThanOrEqual(clock.now() - 3 * HOUR);
    expect(checkpoint!.doneBlobs.length).toBeLessThan(seenBlobs.length);
  });

  it("resumes from a checkpoint taken mid-window without repeating delivered blobs", async () => {
    harness = await startHarness(
      {
        scenario: {
          contentTypes: [SP],
          historyHours: 10,
          blobsPerHour: 4,
          recordsPerBlob: [1, 2],
          pageSize: 3,
          lateRate: 0,
        },
      },
      { initialLookbackInMs: 11 * HOUR },
    );
    const { source, emulator } = harness;
    await source.start();
    const first: string[] = [];
    let midCheckpoint: Checkpoint | undefined;
    for await (const item of source.poll(SP, undefined)) {
      if (item.kind === "blob") for await (const r of item.records()) first.push(r.id);
      midCheckpoint = item.checkpointAfter;
      if (first.length > 10) break;
    }
    expect(midCheckpoint!.doneBlobs.length).toBeGreaterThan(0);
    const rest = await drain(source, SP, midCheckpoint);
    expect(
      rest.items.some(
        (i) => i.kind !== "advance" && midCheckpoint!.doneBlobs.includes(i.blob.contentId),
      ),
    ).toBe(false);
    expect(sorted([...first, ...rest.ids])).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
  });

  it("rides out an AF429 burst (HTTP 403) by lowering the pacer's rate, without backoff sleeps, and counts the throttling", async () => {
    harness = await startHarness(
      { scenario: { contentTypes: [SP], historyHours: 4, blobsPerHour: 3, lateRate: 0 } },
      {
        initialLookbackInMs: 5 * HOUR,
      },
    );
    const { source, emulator, metrics } = harness;
    await source.start();
    emulator.knobs.af429Burst = 4;
    const result = await drain(source, SP, undefined);
    expect(sorted(result.ids)).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    expect(await counterValue(metrics.apiRequests, { status: "403", code: "AF429" })).toBe(4);
    expect(await counterValue(metrics.apiThrottled, {})).toBe(4);
    // Each answer came to a request sent after the previous cut: four cuts of 0.7.
    expect(source.client.pacer.stats.cuts).toBe(4);
    const gauge = await metrics.apiPacerRequestsPerMinute.get();
    expect(gauge.values[0]?.value).toBe(Math.round(1_800 * 0.7 ** 4));
    // The pacer spaced the retries; nothing slept a throttling backoff.
    expect(await counterValue(metrics.throttleWaitSeconds, { target: "management-api" })).toBe(0);
  });

  it("recovers from 5xx answers, AF50000 and bodies cut mid-stream", async () => {
    harness = await startHarness(
      {
        scenario: {
          contentTypes: [SP],
          historyHours: 6,
          blobsPerHour: 4,
          recordsPerBlob: [5, 30],
          lateRate: 0,
        },
        knobs: { serverErrorRate: 0.15, af50000Rate: 0.1, truncateRate: 0.5 },
      },
      { initialLookbackInMs: 7 * HOUR },
      { maxAttempts: 10 },
    );
    const { source, emulator, metrics } = harness;
    await source.start();
    const result = await drain(source, SP, undefined);
    expect(sorted(result.ids)).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    expect(emulator.truth.counters.truncatedBlobs).toBeGreaterThan(0);
    expect(await counterValue(metrics.apiRequests, { status: "503" })).toBeGreaterThan(0);
    expect(await counterValue(metrics.apiRequests, { code: "AF50000" })).toBeGreaterThan(0);
    expect(await counterValue(metrics.blobsQuarantined)).toBe(0);
    // A retried blob hands out each record once: no id repeats beyond the blob's own duplicates.
    const blobs = emulator.truth.listedBlobs(SP);
    expect(result.ids.length).toBe(blobs.reduce((n, b) => n + b.recordCount, 0));
  });

  it("lets records() of several blobs run at once, and again from the start", async () => {
    harness = await startHarness(
      {
        scenario: {
          contentTypes: [SP],
          historyHours: 4,
          blobsPerHour: 3,
          recordsPerBlob: [3, 8],
          lateRate: 0,
        },
        knobs: { truncateRate: 0.3 },
      },
      { initialLookbackInMs: 5 * HOUR },
    );
    const { source, emulator } = harness;
    await source.start();
    const items = [];
    for await (const item of source.poll(SP, undefined)) items.push(item);
    const blobs = items.filter((i) => i.kind === "blob");
    const read = async (item: (typeof blobs)[number]) => {
      const out: string[] = [];
      if (item.kind === "blob") for await (const r of item.records()) out.push(r.id);
      return out;
    };
    const [all, again] = await Promise.all([Promise.all(blobs.map(read)), read(blobs[0]!)]);
    expect(sorted(all.flat())).toEqual(sorted(emulator.truth.expectedRecordIds([SP])));
    expect(again).toEqual(all[0]);
  });

  it("hands out records that keep only their text when no sink reads the parsed form", async () => {
    const scenario = {
      contentTypes: [SP],
      historyHours: 2,
      blobsPerHour: 2,
      recordsPerBlob: [3, 5] as [number, number],
      lateRate: 0,
    };
    const received: Array<{ keys: string[]; raw: string; record: unknown; id: string }> = [];
    for (const keepParsedRecords of [true, false]) {
      harness = await startHarness(
        { scenario },
        { initialLookbackInMs: 3 * HOUR, keepParsedRecords },
      );
      await harness.source.start();
      for await (const item of harness.source.poll(SP, undefined)) {
        if (item.kind !== "blob") continue;
        for await (const record of item.records()) {
          received.push({
            keys: Object.keys(record),
            raw: record.raw,
            record: record.record,
            id: record.id,
          });
        }
      }
      await harness.emulator.stop();
      harness = undefined;
    }
    const kept = received.filter((r) => r.keys.includes("record"));
    const textOnly = received.filter((r) => !r.keys.includes("record"));
    expect(kept.length).toBeGreaterThan(0);
    // Same seed, same records: the text-only ones parse on demand to the same objects.
    expect(textOnly.map((r) => [r.id, r.raw, r.record])).toEqual(
      kept.map((r) => [r.id, r.raw, r.record]),
    );
    for (const r of textOnly) expect(JSON.parse(r.raw)).toEqual(r.record);
  });
});
