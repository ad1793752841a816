/**
 * Listing windows for `GET /subscriptions/content`. Pure: a cursor and a clock in, windows out.
 * The API's rules (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#list-available-content):
 * both bounds given, at most 24 h apart, start no more than
 * 7 days in the past, start before end; the filter is `startTime <= contentCreated < endTime`.
 */

import {
  API_HISTORY_IN_MS,
  DAY_IN_MS,
  formatApiTime,
  HOUR_IN_MS,
  MAX_WINDOW_IN_MS,
  MINUTE_IN_MS,
} from "../../../domain/apiLimits";

/**
 * Kept clear of the 7-day edge so a start computed here is still inside it when the request
 * arrives, even with some clock skew between us and the service.
 */
export const DEFAULT_SAFETY_MARGIN_IN_MS = 10 * MINUTE_IN_MS;
/**
 * At the live edge the next poll re-lists this far back, so a blob that becomes listable after
 * later blobs is still caught. Reference §2.9 gives a typical latency of 60–90 min for the main
 * workloads, longer for others, with no SLA and no ordering guarantee across blobs; a blob listed
 * 2.5 h after its `contentCreated` is within what the service does. An overlap shorter than
 * the latency loses such a blob silently once the cursor has passed it. 3 h covers the observed
 * range with room to spare, and re-listing is cheap: only listing pages are fetched again, since
 * blobs already delivered are skipped by the checkpoint's `doneBlobs`.
 */
export const DEFAULT_OVERLAP_IN_MS = 3 * HOUR_IN_MS;
/** Shortest overlap accepted from configuration (AUDIT_RELIST_OVERLAP). */
export const MIN_OVERLAP_IN_MS = MINUTE_IN_MS;
/**
 * Longest overlap accepted from configuration: one listing window; a longer one would re-list
 * more than a day of pages on every poll for blobs the service has long since published.
 */
export const MAX_OVERLAP_IN_MS = DAY_IN_MS;

/** One listing request's bounds. */
export interface ListingWindow {
  startMs: number;
  endMs: number;
  /** `startTime` as sent: `YYYY-MM-DDTHH:MM:SS`, UTC. */
  startTime: string;
  /** `endTime` as sent: `YYYY-MM-DDTHH:MM:SS`, UTC. */
  endTime: string;
}

export interface WindowPlanOptions {
  /** Clock, epoch ms (already corrected for any known server skew). */
  nowMs: number;
  /** Longest window; clamped to 24 h. */
  maxWindowInMs?: number;
  /** Distance kept from the 7-day edge. */
  safetyMarginInMs?: number;
}

export interface WindowPlan {
  windows: ListingWindow[];
  /** Set when the cursor was older than the API's history and had to move up (data lost). */
  clampedFromMs?: number;
  /** The earliest start the API accepts now, with the margin. */
  earliestStartMs: number;
}

/** Whole seconds: the API format has no fraction, so every bound is floored to a second. */
function floorToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

/** Earliest `startTime` the API accepts at `nowMs`, with the safety margin. */
export function earliestStartMs(nowMs: number, safetyMarginInMs = DEFAULT_SAFETY_MARGIN_IN_MS) {
  // Rounded up so flooring to the second never lands outside the allowed range.
  return Math.ceil((nowMs - API_HISTORY_IN_MS + safetyMarginInMs) / 1000) * 1000;
}

/**
 * Windows from `cursorMs` up to now, each ≤ 24 h, none starting before the 7-day edge (plus
 * margin), none ending after now. A cursor ahead of the clock (clock went back, or skew) gives
 * no windows: the cursor never moves backwards.
 */
export function planWindows(cursorMs: number, options: WindowPlanOptions): WindowPlan {
  const maxWindow = Math.min(options.maxWindowInMs ?? MAX_WINDOW_IN_MS, MAX_WINDOW_IN_MS);
  if (!(maxWindow >= 1000)) {
    throw new RangeError(`maxWindowInMs must be at least 1000 ms, got ${options.maxWindowInMs}`);
  }
  const earliest = earliestStartMs(options.nowMs, options.safetyMarginInMs);
  const end = floorToSecond(options.nowMs);
  let start = floorToSecond(cursorMs);
  let clampedFromMs: number | undefined;
  if (start < earliest) {
    clampedFromMs = start;
    start = earliest;
  }
  const windows: ListingWindow[] = [];
  while (start < end) {
    const windowEnd = Math.min(start + maxWindow, end);
    windows.push({
      startMs: start,
      endMs: windowEnd,
      startTime: formatApiTime(start),
      endTime: formatApiTime(windowEnd),
    });
    start = windowEnd;
  }
  return { windows, clampedFromMs, earliestStartMs: earliest };
}

/**
 * Where the cursor goes once every page of `window` is delivered: to the window's end, except
 * at the live edge, where it stays `overlapInMs` behind now so the next poll re-lists blobs that
 * were listed late. Never behind the window's own start (cursors move forward only).
 */
export function cursorAfterWindow(
  window: ListingWindow,
  nowMs: number,
  overlapInMs = DEFAULT_OVERLAP_IN_MS,
): number {
  return Math.max(window.startMs, Math.min(window.endMs, floorToSecond(nowMs - overlapInMs)));
}

/**
 * Cursor for a content type without a checkpoint: `initialLookbackInMs` before now, but never
 * past the 7-day edge (plus margin).
 */
export function initialCursorMs(
  nowMs: number,
  initialLookbackInMs: number,
  safetyMarginInMs = DEFAULT_SAFETY_MARGIN_IN_MS,
): number {
  return Math.max(
    floorToSecond(nowMs - initialLookbackInMs),
    earliestStartMs(nowMs, safetyMarginInMs),
  );
}
