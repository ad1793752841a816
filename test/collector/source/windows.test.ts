import { describe, expect, it } from "vitest";
import {
  cursorAfterWindow,
  DEFAULT_OVERLAP_IN_MS,
  earliestStartMs,
  initialCursorMs,
  planWindows,
} from "../../../collector/src/source/windows";
import { formatApiTime, parseApiTime } from "../../../domain/apiLimits";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MINUTE = 60_000;
const NOW = Date.parse("2026-03-10T12:34:56.789Z");

describe("formatApiTime", () => {
  it("formats UTC without zone suffix or fraction", () => {
    expect(formatApiTime(NOW)).toBe("2026-03-10T12:34:56");
  });
});

describe("parseApiTime", () => {
  it("reads times with and without a zone as UTC", () => {
    expect(parseApiTime("2026-03-10T12:34:56")).toBe(Date.parse("2026-03-10T12:34:56Z"));
    expect(parseApiTime("2026-03-10T12:34:56.000Z")).toBe(Date.parse("2026-03-10T12:34:56Z"));
    expect(parseApiTime("2026-03-10")).toBe(Date.parse("2026-03-10T00:00:00Z"));
    expect(parseApiTime("not a time")).toBeNaN();
  });
});

describe("planWindows", () => {
  it("splits three days of history into 24-hour windows ending at now", () => {
    const cursor = NOW - 3 * DAY - 2 * HOUR;
    const { windows, clampedFromMs } = planWindows(cursor, { nowMs: NOW });
    expect(clampedFromMs).toBeUndefined();
    expect(windows).toHaveLength(4);
    for (const w of windows) {
      expect(w.endMs - w.startMs).toBeLessThanOrEqual(DAY);
      expect(w.endMs).toBeLessThanOrEqual(NOW);
    }
    for (let i = 1; i < windows.length; i++) {
      expect(windows[i]!.startMs).toBe(windows[i - 1]!.endMs);
    }
    expect(windows[0]!.startTime).toBe(formatApiTime(Math.floor(cursor / 1000) * 1000));
    expect(windows.at(-1)!.endTime).toBe("2026-03-10T12:34:56");
  });

  it("honours a smaller maximum window and never exceeds 24 hours", () => {
    expect(planWindows(NOW - 6 * HOUR, { nowMs: NOW, maxWindowInMs: HOUR }).windows).toHaveLength(
      6,
    );
    const wide = planWindows(NOW - 2 * DAY, { nowMs: NOW, maxWindowInMs: 5 * DAY }).windows;
    expect(wide).toHaveLength(2);
  });

  it("moves a cursor older than seven days up to the edge plus the safety margin", () => {
    const cursor = NOW - 9 * DAY;
    const plan = planWindows(cursor, { nowMs: NOW, safetyMarginInMs: 10 * MINUTE });
    expect(plan.clampedFromMs).toBe(Math.floor(cursor / 1000) * 1000);
    const first = plan.windows[0]!;
    expect(first.startMs).toBeGreaterThanOrEqual(NOW - 7 * DAY + 10 * MINUTE);
    expect(first.startMs).toBeLessThan(NOW - 7 * DAY + 10 * MINUTE + 1000);
    expect(plan.windows).toHaveLength(7);
  });

  it("keeps a cursor exactly at the edge as it is", () => {
    const edge = earliestStartMs(NOW);
    const plan = planWindows(edge, { nowMs: NOW });
    expect(plan.clampedFromMs).toBeUndefined();
    expect(plan.windows[0]!.startMs).toBe(edge);
  });

  it("plans nothing when the cursor is ahead of the clock (clock went back)", () => {
    const plan = planWindows(NOW + 5 * MINUTE, { nowMs: NOW });
    expect(plan.windows).toEqual([]);
  });

  it("plans nothing when the cursor is within the same second as now", () => {
    expect(planWindows(NOW - 100, { nowMs: NOW }).windows).toEqual([]);
  });

  it("rejects a maximum window under one second with a message naming the option", () => {
    expect(() => planWindows(NOW - HOUR, { nowMs: NOW, maxWindowInMs: 10 })).toThrow(
      /maxWindowInMs/,
    );
  });
});

describe("cursorAfterWindow", () => {
  it("moves to the window end for a window well behind now", () => {
    const w = planWindows(NOW - 2 * DAY, { nowMs: NOW }).windows[0]!;
    expect(cursorAfterWindow(w, NOW, 15 * MINUTE)).toBe(w.endMs);
  });

  it("stays the overlap behind now at the live edge", () => {
    const w = planWindows(NOW - 2 * HOUR, { nowMs: NOW }).windows[0]!;
    expect(cursorAfterWindow(w, NOW, 15 * MINUTE)).toBe(
      Math.floor((NOW - 15 * MINUTE) / 1000) * 1000,
    );
  });

  it("by default stays far enough behind now that a blob listed 2.5 hours after its creation is re-listed", () => {
    const w = planWindows(NOW - 2 * DAY, { nowMs: NOW }).windows.at(-1)!;
    const cursor = cursorAfterWindow(w, NOW);
    expect(cursor).toBe(Math.floor((NOW - DEFAULT_OVERLAP_IN_MS) / 1000) * 1000);
    // Created 2.5 h ago and listable only now: the next poll's window starts before it.
    expect(cursor).toBeLessThanOrEqual(NOW - 150 * MINUTE);
  });

  it("never moves back behind the window's start when the window is shorter than the overlap", () => {
    const w = planWindows(NOW - 5 * MINUTE, { nowMs: NOW }).windows[0]!;
    expect(cursorAfterWindow(w, NOW, 15 * MINUTE)).toBe(w.startMs);
  });
});

describe("initialCursorMs", () => {
  it("starts the lookback before now", () => {
    expect(initialCursorMs(NOW, 2 * HOUR)).toBe(Math.floor((NOW - 2 * HOUR) / 1000) * 1000);
  });

  it("caps a seven-day lookback at the edge plus the margin", () => {
    expect(initialCursorMs(NOW, 7 * DAY, 10 * MINUTE)).toBe(earliestStartMs(NOW, 10 * MINUTE));
    expect(initialCursorMs(NOW, 30 * DAY)).toBe(earliestStartMs(NOW));
  });
});
