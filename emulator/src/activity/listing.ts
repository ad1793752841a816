import type { BlobPlan } from "../generator";
import { queryParam, type RequestContext, sendJson } from "../http";
import type { TokenClaims } from "../jwt";
import { MAX_LOOKBACK_MS, MAX_WINDOW_MS } from "../microsoft/activityApi";
import { seededUnit } from "../random";
import type { EmulatorState } from "../state";
import { checkDlpRole } from "./guard";
import { requireContentType, type Subscriptions } from "./subscriptions";
import type { FeedTruth } from "./truth";
import { API_HEADERS, apiError, formatApiTime, iso, parseApiTime, sendApiError } from "./wire";

/**
 * Listings of the emulated Management Activity API: the `startTime`/`endTime` window rules and
 * paging through `NextPageUri`, and the content listing itself.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#list-available-content
 */

/** Blobs per listing page; the real page size is not documented. */
export const DEFAULT_PAGE_SIZE = 50;

const WINDOW_RULE_AF20030 =
  "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.";
const WINDOW_RULE_AF20055 =
  "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time and start time no more than 7 days in the past.";

/** The `startTime`/`endTime` of a listing; `given` is false when the defaults applied. */
export interface ListingWindow {
  startMs: number;
  endMs: number;
  given: boolean;
}

/** One listing to page through; see {@link Listings.sendPage}. */
export interface Listing<T> {
  kind: "content" | "notifications";
  contentType: string;
  window: ListingWindow;
  items: readonly T[];
  from: number;
  select: (item: T) => "take" | "skip" | "stop";
  timeOfMs: (item: T) => number;
  render: (item: T) => unknown;
}

/** Window checks and paging shared by the API's listings, and the content listing. */
export class Listings {
  constructor(
    private readonly state: EmulatorState,
    private readonly truth: FeedTruth,
    private readonly subscriptions: Subscriptions,
    private readonly pageSize: number,
  ) {}

  /**
   * Validates startTime/endTime: both or neither, at most 24 hours apart, start before end and
   * no more than 7 days back. Returns the window, or undefined after answering
   * AF20002/AF20030/AF20055.
   */
  parseWindow(ctx: RequestContext): ListingWindow | undefined {
    const nowMs = this.state.now();
    const startText = queryParam(ctx.url, "startTime");
    const endText = queryParam(ctx.url, "endTime");
    if (startText === undefined && endText === undefined) {
      return { startMs: nowMs - MAX_WINDOW_MS, endMs: nowMs, given: false };
    }
    if (startText === undefined || endText === undefined) {
      sendApiError(ctx, apiError(400, "AF20030", WINDOW_RULE_AF20030));
      return undefined;
    }
    const startMs = parseApiTime(startText);
    if (startMs === undefined) {
      sendApiError(
        ctx,
        apiError(400, "AF20002", "Invalid parameter type: startTime. Expected type: datetime"),
      );
      return undefined;
    }
    const endMs = parseApiTime(endText);
    if (endMs === undefined) {
      sendApiError(
        ctx,
        apiError(400, "AF20002", "Invalid parameter type: endTime. Expected type: datetime"),
      );
      return undefined;
    }
    if (startMs >= endMs) {
      sendApiError(ctx, apiError(400, "AF20055", WINDOW_RULE_AF20055));
      return undefined;
    }
    if (endMs - startMs > MAX_WINDOW_MS || startMs < nowMs - MAX_LOOKBACK_MS) {
      sendApiError(ctx, apiError(400, "AF20030", WINDOW_RULE_AF20030));
      return undefined;
    }
    return { startMs, endMs, given: true };
  }

  /** Opaque page token: a timestamp, the position, and a check that binds it to the listing. */
  private pageToken(kind: string, contentType: string, position: number, atMs: number): string {
    const stamp = formatApiTime(atMs).replace(/\D/g, "");
    const check = Math.floor(
      seededUnit(this.state.seed, "page", kind, contentType, position, stamp) * 0xffffff,
    )
      .toString(16)
      .padStart(6, "0");
    return `${stamp}R${String(position).padStart(9, "0")}${check}`;
  }

  /** The position a page token points at, or undefined when it is not one of ours. */
  private parsePageToken(
    kind: string,
    contentType: string,
    token: string,
    length: number,
  ): number | undefined {
    const match = /^(\d{14})R(\d{9})([0-9a-f]{6})$/.exec(token);
    if (!match) return undefined;
    const position = Number(match[2]);
    if (position >= length) return undefined;
    const check = Math.floor(
      seededUnit(this.state.seed, "page", kind, contentType, position, match[1]!) * 0xffffff,
    )
      .toString(16)
      .padStart(6, "0");
    return check === match[3] ? position : undefined;
  }

  private nextPageUri(ctx: RequestContext, window: ListingWindow, token: string): string {
    const next = new URL(ctx.url.pathname, this.state.url);
    for (const [key, value] of ctx.url.searchParams) {
      if (key.toLowerCase() === "nextpage") continue;
      next.searchParams.append(key, value);
    }
    if (!window.given) {
      next.searchParams.set("startTime", formatApiTime(window.startMs));
      next.searchParams.set("endTime", formatApiTime(window.endMs));
    }
    next.searchParams.set("nextPage", token);
    return next.toString();
  }

  /** `GET /subscriptions/content`. */
  content(ctx: RequestContext, claims: TokenClaims): void {
    const contentType = requireContentType(ctx);
    if (!contentType) return;
    if (!checkDlpRole(ctx, claims, contentType.canonical)) return;
    const window = this.parseWindow(ctx);
    if (!window) return;
    if (!this.subscriptions.requireEnabled(ctx, contentType.canonical)) return;

    const list = this.truth.blobsOf(contentType.canonical);
    const nowMs = this.state.now();
    this.sendPage(ctx, {
      kind: "content",
      contentType: contentType.canonical,
      window,
      items: list,
      from: lowerBound(list, window.startMs),
      select: (plan) => {
        if (plan.contentCreatedMs >= window.endMs) return "stop";
        return this.truth.isListableContent(plan, nowMs) ? "take" : "skip";
      },
      timeOfMs: (plan) => plan.contentCreatedMs,
      render: (plan) => ({
        contentType: plan.contentType,
        contentId: plan.contentId,
        contentUri: this.truth.listedContentUri(plan),
        contentCreated: iso(plan.contentCreatedMs),
        contentExpiration: iso(plan.expirationMs),
      }),
    });
  }

  /**
   * Sends one page of a listing: scans `items` from `from` (or from just after the position of
   * the request's `nextPage` token), letting `select` take an item, pass over it or end the
   * listing. When more would follow, `NextPageUri` carries a token that resumes after the last
   * item sent. A token that is not ours is the API's AF20031.
   */
  sendPage<T>(ctx: RequestContext, listing: Listing<T>): void {
    const { kind, contentType, window, items } = listing;
    let from = listing.from;
    const nextPage = queryParam(ctx.url, "nextPage");
    if (nextPage !== undefined) {
      const position = this.parsePageToken(kind, contentType, nextPage, items.length);
      if (position === undefined) {
        sendApiError(ctx, apiError(400, "AF20031", `Invalid nextPage Input: ${nextPage}.`));
        return;
      }
      from = Math.max(from, position + 1);
    }
    const page: T[] = [];
    let lastPosition = -1;
    let more = false;
    for (let i = from; i < items.length; i++) {
      const item = items[i]!;
      const verdict = listing.select(item);
      if (verdict === "stop") break;
      if (verdict === "skip") continue;
      if (page.length === this.pageSize) {
        more = true;
        break;
      }
      page.push(item);
      lastPosition = i;
    }
    const headers: Record<string, string> = { ...API_HEADERS };
    if (more) {
      const token = this.pageToken(
        kind,
        contentType,
        lastPosition,
        listing.timeOfMs(page[page.length - 1]!),
      );
      headers.NextPageUri = this.nextPageUri(ctx, window, token);
    }
    sendJson(ctx, 200, page.map(listing.render), headers);
  }
}

/** First index whose contentCreatedMs >= t (the list is sorted by contentCreatedMs). */
function lowerBound(list: readonly BlobPlan[], t: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]!.contentCreatedMs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
