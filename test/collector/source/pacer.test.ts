import { describe, expect, it } from "vitest";
import { DEFAULT_API_REQUESTS_PER_MINUTE, RequestPacer } from "../../../collector/src/source/pacer";

/** A fake clock whose sleeps move time forward (and honour aborts). */
function fakeTime(startMs = 1_000_000) {
  let now = startMs;
  return {
    nowMs: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleep: async (ms: number, abortSignal?: AbortSignal) => {
      abortSignal?.throwIfAborted();
      now += ms;
      await Promise.resolve();
      abortSignal?.throwIfAborted();
    },
  };
}

describe("RequestPacer", () => {
  it("defaults to a budget under the API's 2,000 requests a minute", () => {
    expect(DEFAULT_API_REQUESTS_PER_MINUTE).toBeLessThan(2_000);
    expect(new RequestPacer().budgetPerMinute).toBe(DEFAULT_API_REQUESTS_PER_MINUTE);
  });

  it("spreads requests evenly at the budget once the burst is spent", async () => {
    const time = fakeTime();
    const pacer = new RequestPacer({ requestsPerMinute: 600, burst: 1, ...time });
    const start = time.nowMs();
    const grantedAt: number[] = [];
    for (let i = 0; i < 11; i++) {
      await pacer.acquire();
      grantedAt.push(time.nowMs() - start);
    }
    // 600 a minute is one every 100 ms; the first goes at once.
    expect(grantedAt[0]).toBe(0);
    for (let i = 1; i < grantedAt.length; i++) {
      expect(grantedAt[i]! - grantedAt[i - 1]!).toBe(100);
    }
  });

  it("lets a small burst through at once after a quiet spell, and no more", async () => {
    const time = fakeTime();
    const pacer = new RequestPacer({ requestsPerMinute: 600, burst: 5, ...time });
    time.advance(60_000);
    const start = time.nowMs();
    for (let i = 0; i < 5; i++) await pacer.acquire();
    expect(time.nowMs()).toBe(start);
    await pacer.acquire();
    expect(time.nowMs()).toBeGreaterThan(start);
  });

  it("never grants more than the budget plus the burst in any minute", async () => {
    const time = fakeTime();
    const pacer = new RequestPacer({ requestsPerMinute: 1_800, burst: 10, ...time });
    const start = time.nowMs();
    while (time.nowMs() - start < 60_000) await pacer.acquire();
    expect(pacer.stats.granted).toBeLessThanOrEqual(1_800 + 10 + 1);
    expect(pacer.stats.granted).toBeGreaterThanOrEqual(1_800);
  });

  it("cuts the rate at once on AF429, with no multi-second sleep, then probes back up to the budget and no further", async () => {
    const time = fakeTime();
    const pacer = new RequestPacer({
      requestsPerMinute: 1_200,
      burst: 1,
      probeIntervalInMs: 5_000,
      ...time,
    });
    await pacer.acquire();
    pacer.onThrottled();
    expect(pacer.currentRequestsPerMinute).toBe(840);
    const before = time.nowMs();
    await pacer.acquire();
    const waited = time.nowMs() - before;
    // One interval at the lowered rate (60,000 / 840 ≈ 72 ms), not seconds.
    expect(waited).toBeGreaterThanOrEqual(71);
    expect(waited).toBeLessThan(150);
    time.advance(5_000);
    await pacer.acquire();
    expect(pacer.currentRequestsPerMinute).toBe(900);
    time.advance(60_000);
    await pacer.acquire();
    expect(pacer.currentRequestsPerMinute).toBe(1_200);
    time.advance(60_000);
    await pacer.acquire();
    expect(pacer.currentRequestsPerMinute).toBe(1_200);
  });

  it("keeps lowering the rate under repeated AF429, down to a floor", () => {
    const pacer = new RequestPacer({ requestsPerMinute: 1_000, ...fakeTime() });
    for (let i = 0; i < 50; i++) pacer.onThrottled();
    expect(pacer.currentRequestsPerMinute).toBe(50);
    expect(pacer.stats.throttled).toBe(50);
  });

  it("serves waiting callers in order, and an aborted wait does not block the next", async () => {
    const time = fakeTime();
    const pacer = new RequestPacer({ requestsPerMinute: 60, burst: 1, ...time });
    await pacer.acquire();
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    const order: string[] = [];
    const aborted = pacer.acquire(controller.signal).then(
      () => order.push("aborted-granted"),
      () => order.push("aborted"),
    );
    const next = pacer.acquire().then(() => order.push("next"));
    await Promise.all([aborted, next]);
    expect(order).toEqual(["aborted", "next"]);
  });

  it("cuts once for answers to requests let through before the last cut, and again for later ones", async () => {
    const time = fakeTime();
    const pacer = new RequestPacer({ requestsPerMinute: 1_000, burst: 5, ...time });
    const sentTogether = await Promise.all([1, 2, 3].map(() => pacer.acquire()));
    for (const permit of sentTogether) pacer.onThrottled(permit);
    expect(pacer.currentRequestsPerMinute).toBe(700);
    expect(pacer.stats).toMatchObject({ throttled: 3, cuts: 1 });
    const retry = await pacer.acquire();
    pacer.onThrottled(retry);
    expect(pacer.currentRequestsPerMinute).toBeCloseTo(490, 9);
    expect(pacer.stats).toMatchObject({ throttled: 4, cuts: 2 });
  });

  it("says when it is at its floor, and reports every rate change", async () => {
    const rates: number[] = [];
    const time = fakeTime();
    const pacer = new RequestPacer({
      requestsPerMinute: 1_000,
      onRateChange: (rate) => rates.push(Math.round(rate)),
      ...time,
    });
    expect(pacer.atFloor).toBe(false);
    for (let i = 0; i < 9; i++) pacer.onThrottled();
    expect(pacer.atFloor).toBe(true);
    expect(rates.slice(0, 4)).toEqual([1_000, 700, 490, 343]);
    expect(rates.at(-1)).toBe(50);
    time.advance(5_000);
    await pacer.acquire();
    expect(rates.at(-1)).toBe(100);
    expect(pacer.atFloor).toBe(false);
  });

  it("rejects an aborted wait at once, even behind other waiting callers", async () => {
    const pacer = new RequestPacer({ requestsPerMinute: 1, burst: 1 });
    await pacer.acquire();
    // Real time: the next permit is a minute away, so both below would wait that long.
    const aheadController = new AbortController();
    const ahead = pacer.acquire(aheadController.signal).catch((error: unknown) => error);
    const controller = new AbortController();
    const behind = pacer.acquire(controller.signal);
    controller.abort(new Error("stop"));
    await expect(behind).rejects.toThrow("stop");
    // The caller ahead is still waiting; nothing was granted to the aborted one.
    expect(pacer.stats.granted).toBe(1);
    aheadController.abort(new Error("done"));
    expect(await ahead).toEqual(new Error("done"));
  });

  it("refuses a budget that is not a positive number", () => {
    expect(() => new RequestPacer({ requestsPerMinute: 0 })).toThrow(/positive number/);
  });
});
