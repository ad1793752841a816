/**
 * The Management API client's request pacer on the wire, against the emulator over HTTPS:
 * requests leave spread at the budget, AF429 lowers the rate and is retried through the pacer
 * instead of after a sleep of seconds, and every kind of call takes a permit.
 */
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics } from "../../../collector/src/metrics";
import { ManagementApiClient } from "../../../collector/src/source/client";
import { DEFAULT_BURST, RequestPacer } from "../../../collector/src/source/pacer";
import { formatApiTime } from "../../../domain/apiLimits";
import { type Emulator, startEmulator } from "../../../emulator/src/index";
import { clientOptionsFor, counterValue, feedRequests } from "./helpers";

let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.stop();
  emulator = undefined;
});

/** The throttling backoff the collector would sleep without a pacer: seconds. */
const COLLECTOR_THROTTLE_BACKOFF = { throttleBaseDelayInMs: 5_000, throttleMaxDelayInMs: 60_000 };

describe("ManagementApiClient's request pacer against the emulator", () => {
  it("spreads requests at the budget: only the burst arrives at once, the rest one interval apart", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    // 1,200 a minute: one request every 50 ms once the burst is spent.
    const client = new ManagementApiClient(
      clientOptionsFor(emulator, { requestsPerMinute: 1_200 }),
    );
    await client.listSubscriptions(); // the token, so that it does not skew the arrival times
    await new Promise((resolve) => setTimeout(resolve, 600)); // the bucket fills again
    const before = feedRequests(emulator).length;
    const count = 40;
    await Promise.all(Array.from({ length: count }, () => client.listSubscriptions()));
    const arrivals = feedRequests(emulator)
      .slice(before)
      .map((entry) => entry.atMs)
      .sort((a, b) => a - b);
    expect(arrivals).toHaveLength(count);
    // Unpaced, 40 requests arrive within a few tens of ms; paced, the 30 after the burst of 10
    // need 30 intervals of 50 ms (a little network jitter allowed).
    expect(arrivals.at(-1)! - arrivals[0]!).toBeGreaterThanOrEqual((count - DEFAULT_BURST) * 45);
    // In any 200 ms, at most the burst plus 200 ms worth of budget (and one for jitter).
    for (let i = 0; i < arrivals.length; i++) {
      const inWindow = arrivals.filter((t) => t >= arrivals[i]! && t < arrivals[i]! + 200).length;
      expect(inWindow).toBeLessThanOrEqual(DEFAULT_BURST + 4 + 1);
    }
  });

  it("lowers the rate at once on AF429 and retries through the pacer, without a sleep of seconds or a spent attempt", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const metrics = createMetrics(new Registry());
    const client = new ManagementApiClient(
      clientOptionsFor(emulator, {
        ...COLLECTOR_THROTTLE_BACKOFF,
        // Three AF429 answers in a row would exhaust two attempts if paced retries counted.
        maxAttempts: 2,
        metrics,
      }),
    );
    await client.listSubscriptions();
    emulator.knobs.af429Burst = 3;
    const started = performance.now();
    await client.listSubscriptions();
    const elapsedMs = performance.now() - started;
    expect(elapsedMs).toBeLessThan(1_000);
    expect(feedRequests(emulator).map((r) => r.code ?? r.status)).toEqual([
      200,
      "AF429",
      "AF429",
      "AF429",
      200,
    ]);
    // Three cuts of 0.7 from the 1,800 default, each at once.
    expect(client.pacer.currentRequestsPerMinute).toBeCloseTo(1_800 * 0.7 ** 3, 6);
    expect(client.pacer.stats.cuts).toBe(3);
    const gauge = await metrics.apiPacerRequestsPerMinute.get();
    expect(gauge.values[0]?.value).toBe(Math.round(1_800 * 0.7 ** 3));
    expect(await counterValue(metrics.apiThrottled, { operation: "subscriptions/list" })).toBe(3);
    expect(await counterValue(metrics.throttleWaitSeconds, { target: "management-api" })).toBe(0);
    const waited = await metrics.apiPacerWaitSeconds.get();
    expect(waited.values[0]?.value).toBeGreaterThan(0);
  });

  it("cuts the rate once for AF429 answers to requests sent together at the old rate", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const client = new ManagementApiClient(clientOptionsFor(emulator));
    await client.listSubscriptions();
    emulator.knobs.af429Burst = 5;
    // Five requests leave together in the burst; all five are refused, one cut follows, and
    // the retries (sent after it) succeed.
    await Promise.all(Array.from({ length: 5 }, () => client.listSubscriptions()));
    expect(client.pacer.stats.throttled).toBe(5);
    expect(client.pacer.stats.cuts).toBe(1);
    expect(client.pacer.currentRequestsPerMinute).toBeCloseTo(1_800 * 0.7, 6);
  });

  it("backs off before retrying only once the pacer's rate is at its floor", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    const metrics = createMetrics(new Registry());
    const pacer = new RequestPacer({ requestsPerMinute: 6_000 });
    for (let i = 0; i < 20; i++) pacer.onThrottled();
    expect(pacer.atFloor).toBe(true);
    const client = new ManagementApiClient(
      clientOptionsFor(emulator, {
        pacer,
        metrics,
        throttleBaseDelayInMs: 300,
        throttleMaxDelayInMs: 300,
        random: () => 0.999,
      }),
    );
    emulator.knobs.af429Burst = 1;
    const started = performance.now();
    await client.listSubscriptions();
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(
      await counterValue(metrics.throttleWaitSeconds, { target: "management-api" }),
    ).toBeCloseTo(0.299, 3);
  });

  it("takes a permit for every kind of call: subscriptions, listings, next pages and blob GETs", async () => {
    emulator = await startEmulator({
      scenario: {
        contentTypes: ["Audit.Exchange"],
        historyHours: 3,
        blobsPerHour: 4,
        recordsPerBlob: [2, 4],
        pageSize: 3,
        lateRate: 0,
      },
    });
    const pacer = new RequestPacer({ requestsPerMinute: 60_000 });
    const client = new ManagementApiClient(clientOptionsFor(emulator, { pacer }));
    await client.startSubscription("Audit.Exchange");
    await client.listSubscriptions();
    const now = emulator.now();
    let page = await client.listContent("Audit.Exchange", {
      startTime: formatApiTime(now - 4 * 3_600_000),
      endTime: formatApiTime(now),
    });
    const blobs = [...page.blobs];
    let pages = 1;
    while (page.nextPageUri !== undefined) {
      page = await client.listContentPage(page.nextPageUri);
      blobs.push(...page.blobs);
      pages++;
    }
    expect(pages).toBeGreaterThan(1);
    for (const blob of blobs.slice(0, 3)) {
      for await (const _chunk of client.streamBlob(blob.contentUri)) {
        // Read to the end.
      }
    }
    const sent = feedRequests(emulator);
    const kinds = new Set(
      sent.map((r) =>
        r.path.endsWith("/subscriptions/start")
          ? "start"
          : r.path.endsWith("/subscriptions/list")
            ? "list"
            : r.path.endsWith("/subscriptions/content")
              ? r.query.includes("nextPage=")
                ? "next page"
                : "content"
              : "blob",
      ),
    );
    expect(kinds).toEqual(new Set(["start", "list", "content", "next page", "blob"]));
    expect(pacer.stats.granted).toBe(sent.length);
  });

  it("gives up a wait for a permit as soon as the caller aborts", async () => {
    emulator = await startEmulator({ scenario: { historyHours: 1 } });
    // One a minute: the second request would wait a minute for its permit.
    const client = new ManagementApiClient(
      clientOptionsFor(emulator, { pacer: new RequestPacer({ requestsPerMinute: 1, burst: 1 }) }),
    );
    await client.listSubscriptions();
    const controller = new AbortController();
    const waiting = client.listSubscriptions({ abortSignal: controller.signal });
    setTimeout(() => controller.abort(new Error("shutting down")), 50);
    const started = performance.now();
    await expect(waiting).rejects.toThrow("shutting down");
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(feedRequests(emulator)).toHaveLength(1);
  });
});
