import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type Emulator, knobFires, startEmulator } from "../../emulator/src/index";
import { activityApi, apiTime, manualClock, rawToken, T0 } from "./helpers";

const clock = manualClock(T0);
let emulator: Emulator;
let api: ReturnType<typeof activityApi>;
const CONTENT_TYPES = ["Audit.Exchange", "Audit.AzureActiveDirectory"];

beforeAll(async () => {
  emulator = await startEmulator({
    seed: 51,
    nowMs: clock.now,
    scenario: {
      contentTypes: CONTENT_TYPES,
      historyHours: 6,
      blobsPerHour: 4,
      recordsPerBlob: [10, 30],
      pageSize: 100,
    },
  });
  api = activityApi(emulator, await rawToken(emulator, "https://manage.office.com/.default"));
  for (const ct of CONTENT_TYPES) await api.post(`/subscriptions/start?contentType=${ct}`);
});
afterAll(async () => {
  await emulator.stop();
});
afterEach(() => {
  Object.assign(emulator.knobs, {
    throttle: null,
    af429Burst: 0,
    serverErrorRate: 0,
    af50000Rate: 0,
    truncateRate: 0,
    malformedBlobRate: 0,
    badContentUriRate: 0,
    latencyMs: 0,
  });
});

describe("fault knobs", () => {
  it("throttles each PublisherIdentifier past its per-minute budget with HTTP 403 AF429", async () => {
    clock.set(Math.ceil(clock.now() / 60_000) * 60_000);
    emulator.knobs.throttle = { requestsPerMinute: 3 };
    const a = "aaaaaaaa-0000-4000-8000-000000000001";
    const b = "bbbbbbbb-0000-4000-8000-000000000002";
    for (let i = 0; i < 3; i++)
      expect((await api.get(`/subscriptions/list?PublisherIdentifier=${a}`)).status).toBe(200);
    const throttled = await api.get(`/subscriptions/list?PublisherIdentifier=${a}`);
    expect(throttled.status).toBe(403);
    expect(throttled.json).toEqual({
      error: {
        code: "AF429",
        message: `Too many requests. Method=ListSubscriptions, PublisherId=${a}`,
      },
    });
    // The parameter name is matched case-insensitively, as Elastic sends it in lower case.
    expect(
      (await api.get(`/subscriptions/list?publisheridentifier=${a.toUpperCase()}`)).status,
    ).toBe(403);
    expect((await api.get(`/subscriptions/list?publisherIdentifier=${b}`)).status).toBe(200);
    clock.advance(60_000);
    expect((await api.get(`/subscriptions/list?PublisherIdentifier=${a}`)).status).toBe(200);
  });

  it("makes requests without a PublisherIdentifier share one quota", async () => {
    clock.set(Math.ceil(clock.now() / 60_000) * 60_000);
    emulator.knobs.throttle = { requestsPerMinute: 1 };
    expect((await api.get("/subscriptions/list")).status).toBe(200);
    const second = await api.get("/subscriptions/list");
    expect(second.status).toBe(403);
    expect(second.json.error.message).toBe(
      "Too many requests. Method=ListSubscriptions, PublisherId=00000000-0000-0000-0000-000000000000",
    );
    clock.advance(60_000);
  });

  it("counts per calendar minute under perMinuteWindow: a burst of the whole limit passes, refused requests count too, and the next minute starts afresh", async () => {
    clock.set(Math.ceil(clock.now() / 60_000) * 60_000 + 59_000);
    emulator.knobs.throttle = { requestsPerMinute: 4, model: "perMinuteWindow" };
    const p = "cccccccc-0000-4000-8000-000000000003";
    const list = () => api.get(`/subscriptions/list?PublisherIdentifier=${p}`);
    // Four at once in the last second of a minute, four more at once in the first of the next:
    // eight requests within two seconds, none refused.
    for (let i = 0; i < 4; i++) expect((await list()).status).toBe(200);
    expect((await list()).status).toBe(403);
    clock.advance(1_000);
    for (let i = 0; i < 4; i++) expect((await list()).status).toBe(200);
    expect((await list()).status).toBe(403);
  });

  it("refills a small bucket at limit / 60 a second under tokenBucket, and a refused request takes no token", async () => {
    emulator.knobs.throttle = { requestsPerMinute: 120, model: "tokenBucket", bucketCapacity: 5 };
    const p = "dddddddd-0000-4000-8000-000000000004";
    const q = "eeeeeeee-0000-4000-8000-000000000005";
    const list = (publisher = p) => api.get(`/subscriptions/list?PublisherIdentifier=${publisher}`);
    // The full bucket lets five go at once, far fewer than the 120 a minute.
    for (let i = 0; i < 5; i++) expect((await list()).status).toBe(200);
    const refused = await list();
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("AF429");
    expect((await list()).status).toBe(403);
    // Another publisher has its own bucket.
    expect((await list(q)).status).toBe(200);
    // 120 a minute is two tokens a second; the refusals above took none.
    clock.advance(1_000);
    expect((await list()).status).toBe(200);
    expect((await list()).status).toBe(200);
    expect((await list()).status).toBe(403);
    // Spaced at the refill rate, every request passes, minute boundaries or not.
    for (let i = 0; i < 130; i++) {
      clock.advance(500);
      expect((await list()).status).toBe(200);
    }
    // An idle spell refills the bucket to its capacity and no further.
    clock.advance(60_000);
    for (let i = 0; i < 5; i++) expect((await list()).status).toBe(200);
    expect((await list()).status).toBe(403);
  });

  it("refuses a throttle model or bucket capacity it does not know, naming the knob", async () => {
    await expect(
      startEmulator({
        knobs: { throttle: { requestsPerMinute: 10, model: "slidingLog" as never } },
      }),
    ).rejects.toThrow(
      "knobs.throttle.model must be one of perMinuteWindow, tokenBucket, got slidingLog",
    );
    await expect(
      startEmulator({
        knobs: { throttle: { requestsPerMinute: 10, model: "tokenBucket", bucketCapacity: 0 } },
      }),
    ).rejects.toThrow("knobs.throttle.bucketCapacity must be a whole number of at least 1, got 0");
  });

  it("answers the next N requests with AF429 for an af429Burst", async () => {
    emulator.knobs.af429Burst = 2;
    const blob = emulator.truth.listedBlobs("Audit.Exchange")[0]!;
    const first = await api.get(blob.contentUri);
    expect(first.status).toBe(403);
    expect(first.json.error.message).toMatch(/^Too many requests\. Method=GetBlob, PublisherId=/);
    expect((await api.get("/subscriptions/list")).status).toBe(403);
    expect((await api.get("/subscriptions/list")).status).toBe(200);
    expect(emulator.knobs.af429Burst).toBe(0);
  });

  it("injects 5xx and AF50000 on exactly the requests the seed predicts", async () => {
    emulator.knobs.serverErrorRate = 0.2;
    emulator.knobs.af50000Rate = 0.2;
    const expected: number[] = [];
    const actual: number[] = [];
    for (let i = 0; i < 40; i++) {
      const index = emulator.truth.counters.apiRequests;
      expected.push(
        knobFires(emulator.seed, "serverError", index, 0.2)
          ? 503
          : knobFires(emulator.seed, "af50000", index, 0.2)
            ? 500
            : 200,
      );
      const response = await api.get("/subscriptions/list");
      actual.push(response.status);
      if (response.status === 500) {
        expect(response.json).toEqual({
          error: { code: "AF50000", message: "An internal error occurred. Retry the request." },
        });
      }
    }
    expect(actual).toEqual(expected);
    expect(actual).toContain(503);
    expect(actual).toContain(500);
    expect(actual).toContain(200);
  });

  it("cuts a blob mid-stream on its first download only", async () => {
    emulator.knobs.truncateRate = 1;
    const blob = emulator.truth.listedBlobs("Audit.Exchange")[2]!;
    expect(blob.truncatedOnFirstFetch).toBe(true);
    const first = await api.get(blob.contentUri).then(
      (r) => r.json,
      (error: unknown) => error,
    );
    expect(first).toBeInstanceOf(Error);
    const second = await api.get(blob.contentUri);
    expect(second.status).toBe(200);
    expect(second.json).toHaveLength(blob.recordCount);
    expect(emulator.truth.expectedRecordIds().size).toBeGreaterThan(0);
  });

  it("serves permanently malformed blobs and leaves their records out of the truth", async () => {
    emulator.knobs.malformedBlobRate = 0.5;
    const blobs = emulator.truth.listedBlobs("Audit.Exchange");
    const malformed = blobs.filter((b) => b.malformed);
    const healthy = blobs.filter((b) => !b.malformed);
    expect(malformed.length).toBeGreaterThan(0);
    expect(healthy.length).toBeGreaterThan(0);
    for (let attempt = 0; attempt < 2; attempt++) {
      const response = await api.get(malformed[0]!.contentUri);
      expect(response.status).toBe(200);
      expect(response.json).toBeUndefined();
      expect(() => JSON.parse(response.text)).toThrow();
    }
    const healthyIds = new Set<string>();
    for (const blob of healthy) {
      for (const record of (await api.get(blob.contentUri)).json as { Id: string }[])
        healthyIds.add(record.Id);
    }
    expect(emulator.truth.expectedRecordIds(["Audit.Exchange"])).toEqual(healthyIds);
  });

  it("lists wrong contentUris that a collector must rebuild from the contentId", async () => {
    emulator.knobs.badContentUriRate = 1;
    const listing = await api.get(
      `/subscriptions/content?contentType=Audit.Exchange&startTime=${apiTime(clock.now() - 5 * 3_600_000)}&endTime=${apiTime(clock.now())}`,
    );
    const listed = listing.json as { contentId: string; contentUri: string }[];
    expect(listed.length).toBeGreaterThan(4);
    const hosts = new Set(listed.map((b) => new URL(b.contentUri).host));
    expect(hosts).toContain("manage.office.invalid");
    const sameHost = listed.find((b) => new URL(b.contentUri).origin === emulator.url)!;
    expect(sameHost.contentUri).not.toContain(emulator.tenant.tenantId);
    expect(api.code((await api.get(sameHost.contentUri)).json)).toBe("AF20010");
    const rebuilt = await api.get(`${api.root}/audit/${sameHost.contentId}`);
    expect(rebuilt.status).toBe(200);
    expect(emulator.truth.listedBlobs("Audit.Exchange").every((b) => b.badContentUri)).toBe(true);
  });

  it("delays API answers by latencyMs", async () => {
    emulator.knobs.latencyMs = 150;
    const started = performance.now();
    await api.get("/subscriptions/list");
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it("shifts the emulator clock by clockOffsetMs", async () => {
    const before = emulator.now();
    emulator.knobs.clockOffsetMs = 20 * 60_000;
    try {
      expect(emulator.now() - before).toBe(20 * 60_000);
      // Tokens issued before the shift are now nearer expiry but still valid.
      expect((await api.get("/subscriptions/list")).status).toBe(200);
    } finally {
      emulator.knobs.clockOffsetMs = 0;
    }
  });

  it("sends the Date header from the emulator clock, offset included, on every endpoint", async () => {
    const headerMs = (response: { headers: Headers }) =>
      Date.parse(response.headers.get("date") ?? "");
    clock.set(T0 + 3 * 60 * 60_000 + 42_000);
    const plain = await api.get("/subscriptions/list");
    expect(headerMs(plain)).toBe(T0 + 3 * 60 * 60_000 + 42_000);
    emulator.knobs.clockOffsetMs = -45 * 60_000;
    try {
      const expected = T0 + 3 * 60 * 60_000 + 42_000 - 45 * 60_000;
      expect(headerMs(await api.get("/subscriptions/list"))).toBe(expected);
      const token = await fetch(`${emulator.url}/${emulator.tenant.tenantId}/oauth2/v2.0/token`, {
        method: "POST",
        body: new URLSearchParams({ grant_type: "password" }),
      });
      expect(token.status).toBe(400);
      expect(headerMs(token)).toBe(expected);
      expect(headerMs(await fetch(`${emulator.url}/no/such/endpoint`))).toBe(expected);
    } finally {
      emulator.knobs.clockOffsetMs = 0;
    }
  });
});
