import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, startEmulator } from "../../emulator/src/index";
import { activityApi, apiTime, manualClock, rawToken, T0 } from "./helpers";

const HOUR = 3_600_000;
const clock = manualClock(T0);
let emulator: Emulator;
let api: ReturnType<typeof activityApi>;

interface Listed {
  contentType: string;
  contentId: string;
  contentUri: string;
  contentCreated: string;
  contentExpiration: string;
}

/** Lists a window, following NextPageUri; returns every page. */
async function listAll(query: string): Promise<{ pages: Listed[][]; nextUris: string[] }> {
  const pages: Listed[][] = [];
  const nextUris: string[] = [];
  let response = await api.get(`/subscriptions/content?${query}`);
  for (;;) {
    expect(response.status).toBe(200);
    pages.push(response.json as Listed[]);
    const next = response.headers.get("NextPageUri");
    if (!next) break;
    nextUris.push(next);
    response = await api.get(next);
  }
  return { pages, nextUris };
}

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 31,
    nowMs: clock.now,
    scenario: {
      contentTypes: ["Audit.Exchange", "Audit.SharePoint", "DLP.All"],
      historyHours: 26,
      blobsPerHour: 4,
      recordsPerBlob: [5, 40],
      duplicateRate: 0.05,
      lateRate: 0.1,
      expiredBlobs: 2,
      liveBlobsPerMinute: 1,
      liveHorizonMinutes: 30,
      pageSize: 7,
    },
  });
  api = activityApi(emulator, await rawToken(emulator, "https://manage.office.com/.default"));
  for (const ct of ["Audit.Exchange", "Audit.SharePoint", "DLP.All"]) {
    expect((await api.post(`/subscriptions/start?contentType=${ct}`)).status).toBe(200);
  }
});
afterAll(async () => {
  await emulator.stop();
});

describe("content listing", () => {
  it("lists exactly the available blobs with start <= contentCreated < end, in order, across pages", async () => {
    const start = T0 - 20 * HOUR;
    const end = T0 - 2 * HOUR;
    const { pages, nextUris } = await listAll(
      `contentType=Audit.Exchange&startTime=${apiTime(start)}&endTime=${apiTime(end)}&PublisherIdentifier=${emulator.tenant.publisherId}`,
    );
    const listed = pages.flat();
    const expected = emulator.truth
      .listedBlobs("Audit.Exchange")
      .filter((b) => Date.parse(b.contentCreated) >= start && Date.parse(b.contentCreated) < end);
    expect(listed.map((b) => b.contentId)).toEqual(expected.map((b) => b.contentId));
    expect(pages.every((page) => page.length <= 7)).toBe(true);
    expect(pages.length).toBeGreaterThan(5);
    for (const uri of nextUris) {
      const url = new URL(uri);
      expect(url.origin).toBe(emulator.url);
      expect(url.searchParams.get("startTime")).toBe(apiTime(start));
      expect(url.searchParams.get("endTime")).toBe(apiTime(end));
      expect(url.searchParams.get("PublisherIdentifier")).toBe(emulator.tenant.publisherId);
      expect(url.searchParams.get("nextPage")).toMatch(/^\d{14}R\d{9}[0-9a-f]{6}$/);
    }
    const first = listed[0]!;
    expect(Object.keys(first)).toEqual([
      "contentType",
      "contentId",
      "contentUri",
      "contentCreated",
      "contentExpiration",
    ]);
    expect(first.contentUri).toBe(
      `${emulator.url}/api/v1.0/${emulator.tenant.tenantId}/activity/feed/audit/${first.contentId}`,
    );
    expect(Date.parse(first.contentExpiration) - Date.parse(first.contentCreated)).toBe(
      7 * 24 * HOUR,
    );
  });

  it("accepts the documented time formats, with or without Z", async () => {
    for (const [s, e] of [
      ["2026-03-10", "2026-03-10T11:00"],
      ["2026-03-10T00:00", "2026-03-10T11:00:00"],
      ["2026-03-10T00:00:00Z", "2026-03-10T11:00:00.000Z"],
    ]) {
      const response = await api.get(
        `/subscriptions/content?contentType=Audit.Exchange&startTime=${s}&endTime=${e}`,
      );
      expect(response.status, `${s} .. ${e}`).toBe(200);
    }
  });

  it("lists the last 24 hours when both times are omitted, with the window written into NextPageUri", async () => {
    const response = await api.get("/subscriptions/content?contentType=Audit.SharePoint");
    expect(response.status).toBe(200);
    const next = new URL(response.headers.get("NextPageUri")!);
    expect(next.searchParams.get("startTime")).toBe(apiTime(T0 - 24 * HOUR));
    expect(next.searchParams.get("endTime")).toBe(apiTime(T0));
  });

  it.each([
    ["only startTime", `startTime=${apiTime(T0 - HOUR)}`, "AF20030"],
    ["only endTime", `endTime=${apiTime(T0)}`, "AF20030"],
    [
      "more than 24 hours",
      `startTime=${apiTime(T0 - 25 * HOUR)}&endTime=${apiTime(T0)}`,
      "AF20030",
    ],
    [
      "a start more than 7 days back",
      `startTime=${apiTime(T0 - 7 * 24 * HOUR - 60_000)}&endTime=${apiTime(T0 - 7 * 24 * HOUR + HOUR)}`,
      "AF20030",
    ],
    [
      "start after end",
      `startTime=${apiTime(T0 - HOUR)}&endTime=${apiTime(T0 - 2 * HOUR)}`,
      "AF20055",
    ],
    [
      "start equal to end",
      `startTime=${apiTime(T0 - HOUR)}&endTime=${apiTime(T0 - HOUR)}`,
      "AF20055",
    ],
    ["an unparseable time", "startTime=yesterday&endTime=today", "AF20002"],
  ])("rejects a window with %s (HTTP 400 %s)", async (_name, query, code) => {
    const response = await api.get(`/subscriptions/content?contentType=Audit.Exchange&${query}`);
    expect(response.status).toBe(400);
    expect(api.code(response.json)).toBe(code);
  });

  it("quotes the documented AF20030 and AF20055 messages", async () => {
    const tooLong = await api.get(
      `/subscriptions/content?contentType=Audit.Exchange&startTime=${apiTime(T0 - 30 * HOUR)}&endTime=${apiTime(T0)}`,
    );
    expect(tooLong.json.error.message).toBe(
      "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.",
    );
    const reversed = await api.get(
      `/subscriptions/content?contentType=Audit.Exchange&startTime=${apiTime(T0)}&endTime=${apiTime(T0 - HOUR)}`,
    );
    expect(reversed.json.error.message).toContain("with the start time prior to end time");
  });

  it("answers AF20031 for a nextPage value it did not issue", async () => {
    const query = `contentType=Audit.Exchange&startTime=${apiTime(T0 - 20 * HOUR)}&endTime=${apiTime(T0)}`;
    for (const bad of [
      "garbage",
      "20260310000000R000000001abcdef",
      "20260310000000R999999999000000",
    ]) {
      const response = await api.get(`/subscriptions/content?${query}&nextPage=${bad}`);
      expect(response.status).toBe(400);
      expect(response.json).toEqual({
        error: { code: "AF20031", message: `Invalid nextPage Input: ${bad}.` },
      });
    }
    const first = await api.get(`/subscriptions/content?${query}`);
    const token = new URL(first.headers.get("NextPageUri")!).searchParams.get("nextPage")!;
    const otherType = await api.get(
      `/subscriptions/content?contentType=Audit.SharePoint&startTime=${apiTime(T0 - 20 * HOUR)}&endTime=${apiTime(T0)}&nextPage=${token}`,
    );
    expect(api.code(otherType.json)).toBe("AF20031");
  });

  it("lists a late blob only once it is available, inside a window the collector already passed", async () => {
    const late = emulator.truth.listedBlobs().find((b) => b.late);
    expect(late).toBeDefined();
    const allLate = [...emulator.truth.listedBlobs()].filter((b) => b.late);
    expect(allLate.length).toBeGreaterThan(0);
    // Find a late blob that is not yet available at some earlier instant, and check it was not listed then.
    const sample = allLate[0]!;
    const created = Date.parse(sample.contentCreated);
    const saved = clock.now();
    clock.set(sample.availableAtMs - 1);
    // Tokens are checked against the emulator clock, so take one issued at that instant.
    const savedApi = api;
    api = activityApi(emulator, await rawToken(emulator, "https://manage.office.com/.default"));
    try {
      const query = `contentType=${sample.contentType}&startTime=${apiTime(created - 1000)}&endTime=${apiTime(created + 1000)}`;
      const before = (await listAll(query)).pages.flat().map((b) => b.contentId);
      expect(before).not.toContain(sample.contentId);
      clock.set(sample.availableAtMs);
      const after = (await listAll(query)).pages.flat().map((b) => b.contentId);
      expect(after).toContain(sample.contentId);
    } finally {
      clock.set(saved);
      api = savedApi;
    }
  });

  it("lists live blobs as the clock moves on", async () => {
    const before = emulator.truth.listedBlobs("Audit.Exchange").length;
    clock.advance(10 * 60_000);
    const after = emulator.truth.listedBlobs("Audit.Exchange");
    expect(after.length).toBeGreaterThan(before);
    const newest = after[after.length - 1]!;
    const listed = (
      await listAll(
        `contentType=Audit.Exchange&startTime=${apiTime(T0)}&endTime=${apiTime(clock.now() + HOUR)}`,
      )
    ).pages.flat();
    expect(listed.map((b) => b.contentId)).toContain(newest.contentId);
  });
});

describe("blob retrieval", () => {
  it("serves a blob as a JSON array whose records carry the ids the truth expects", async () => {
    const blob = emulator.truth.listedBlobs("Audit.SharePoint").find((b) => !b.malformed)!;
    const response = await api.get(
      `${blob.contentUri}?PublisherIdentifier=${emulator.tenant.publisherId}`,
    );
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const records = response.json as { Id: string; OrganizationId: string; CreationTime: string }[];
    if (!Array.isArray(records)) throw new Error(response.text);
    expect(records.length).toBe(blob.recordCount);
    for (const record of records) {
      expect(emulator.truth.expectedRecordIds(["Audit.SharePoint"]).has(record.Id)).toBe(true);
      expect(record.OrganizationId).toBe(emulator.tenant.tenantId);
    }
  });

  it("serves the same bytes from blobs rendered ahead of time (benchmarks) as rendered on demand", async () => {
    const blobs = emulator.truth.listedBlobs("Audit.Exchange").slice(0, 3);
    const fetchAll = () =>
      Promise.all(
        blobs.map(
          async (blob) =>
            (await api.get(`${blob.contentUri}?PublisherIdentifier=${emulator.tenant.publisherId}`))
              .text,
        ),
      );
    const onDemand = await fetchAll();
    const { blobs: held, bytes } = emulator.prerenderBlobs();
    expect(held).toBe(emulator.truth.listedBlobs().length);
    expect(bytes).toBeGreaterThan(0);
    expect(await fetchAll()).toEqual(onDemand);
  });

  it("accepts a URL-encoded content id", async () => {
    const blob = emulator.truth.listedBlobs("Audit.Exchange")[3]!;
    const encoded = `${api.root}/audit/${encodeURIComponent(blob.contentId)}`;
    expect((await api.get(encoded)).status).toBe(200);
  });

  it("answers AF20052 for a malformed content id and 404 AF20050 for an unknown one", async () => {
    const malformed = await api.get("/audit/not%20a%20content%20id");
    expect(malformed.status).toBe(400);
    expect(malformed.json).toEqual({
      error: { code: "AF20052", message: "Content ID not a content id in the URL is invalid." },
    });
    const unknownId =
      "20260310000000000000000$20260310000000000000000$audit_exchange$Audit_Exchange$emea0001";
    const unknown = await api.get(`/audit/${unknownId}`);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({
      error: { code: "AF20050", message: `The specified content (${unknownId}) does not exist.` },
    });
  });

  it("answers AF20051 for a listed blob whose content expired", async () => {
    const expired = emulator.truth
      .listedBlobs()
      .filter((b) => Date.parse(b.contentExpiration) <= clock.now());
    expect(expired.length).toBe(2);
    const response = await api.get(expired[0]!.contentUri);
    expect(response.status).toBe(400);
    expect(response.json.error.code).toBe("AF20051");
    expect(response.json.error.message).toBe(
      `Content requested with the key ${expired[0]!.contentId} has already expired. Content older than 7 days cannot be retrieved.`,
    );
  });

  it("answers a blob that is not available yet with AF20050", async () => {
    const future = emulator.truth.listedBlobs().length;
    expect(future).toBeGreaterThan(0);
    const saved = clock.now();
    const blob = emulator.truth.listedBlobs("Audit.Exchange").at(-1)!;
    clock.set(blob.availableAtMs - 1);
    try {
      expect(api.code((await api.get(blob.contentUri)).json)).toBe("AF20050");
    } finally {
      clock.set(saved);
    }
  });

  it("reports the records that were due at an earlier moment without the blobs listable since", () => {
    const nowMs = clock.now();
    const blob = emulator.truth.listedBlobs("Audit.Exchange").at(-1)!;
    const before = blob.availableAtMs - 1;
    expect(
      emulator.truth.listedBlobs("Audit.Exchange", before).map((b) => b.contentId),
    ).not.toContain(blob.contentId);
    expect(
      emulator.truth.listedBlobs("Audit.Exchange", blob.availableAtMs).map((b) => b.contentId),
    ).toContain(blob.contentId);
    const dueBefore = emulator.truth.expectedRecordIds(["Audit.Exchange"], before);
    const dueNow = emulator.truth.expectedRecordIds(["Audit.Exchange"]);
    expect(dueBefore.size).toBeLessThan(dueNow.size);
    expect([...dueBefore].every((id) => dueNow.has(id))).toBe(true);
    // Without asOfMs the truth is the clock's now.
    expect(emulator.truth.expectedRecordIds(["Audit.Exchange"], nowMs)).toEqual(dueNow);
  });

  it("lets a collector that lists every window and downloads every blob arrive at exactly the expected record ids", async () => {
    const seen = new Set<string>();
    const nowMs = clock.now();
    for (const ct of ["Audit.Exchange", "Audit.SharePoint", "DLP.All"]) {
      for (let start = nowMs - 7 * 24 * HOUR + 60_000; start < nowMs; start += 24 * HOUR) {
        const end = Math.min(start + 24 * HOUR, nowMs + 1000);
        const listed = (
          await listAll(`contentType=${ct}&startTime=${apiTime(start)}&endTime=${apiTime(end)}`)
        ).pages.flat();
        for (const blob of listed) {
          const response = await api.get(blob.contentUri);
          if (response.status !== 200) {
            expect(api.code(response.json)).toBe("AF20051");
            continue;
          }
          for (const record of response.json as { Id: string }[]) seen.add(record.Id);
        }
      }
    }
    const expected = emulator.truth.expectedRecordIds();
    expect(seen.size).toBe(expected.size);
    expect([...seen].every((id) => expected.has(id))).toBe(true);
    const totalRecords = emulator.truth.listedBlobs().reduce((sum, b) => sum + b.recordCount, 0);
    // Duplicates across blobs exist, so there are fewer unique ids than records.
    expect(expected.size).toBeLessThan(totalRecords);
  });
});

describe("big blobs", () => {
  it("streams a multi-megabyte blob completely to a slow reader", async () => {
    const big = await startEmulator({
      seed: 32,
      scenario: {
        contentTypes: ["Audit.SharePoint"],
        historyHours: 1,
        blobsPerHour: 1,
        bigBlobBytes: 4_000_000,
      },
    });
    try {
      const token = await rawToken(big, "https://manage.office.com/.default");
      const bigApi = activityApi(big, token);
      await bigApi.post("/subscriptions/start?contentType=Audit.SharePoint");
      const blob = big.truth
        .listedBlobs("Audit.SharePoint")
        .reduce((a, b) => (b.recordCount > a.recordCount ? b : a));
      const response = await fetch(blob.contentUri, {
        headers: { Authorization: `Bearer ${token}` },
      });
      const reader = response.body!.getReader();
      const parts: Uint8Array[] = [];
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(value);
        // Read slowly so the server has to wait for the socket to drain.
        if (parts.length % 8 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      }
      const text = Buffer.concat(parts).toString("utf8");
      expect(Buffer.byteLength(text)).toBeGreaterThan(3_500_000);
      expect((JSON.parse(text) as unknown[]).length).toBe(blob.recordCount);
      expect(big.truth.counters.recordsServed).toBe(blob.recordCount);
    } finally {
      await big.stop();
    }
  });
});
