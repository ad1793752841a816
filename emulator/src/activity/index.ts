import type { Catalogue } from "../generator";
import type { Router } from "../http";
import type { EmulatorState } from "../state";
import { Blobs } from "./blobs";
import { type ApiHandler, Guard } from "./guard";
import { Listings } from "./listing";
import { Notifications } from "./notifications";
import { sendDlpSensitiveTypes } from "./resources";
import { Subscriptions } from "./subscriptions";
import { type BlobTruth, FeedTruth } from "./truth";
import type { ApiMethod } from "./wire";

/**
 * Emulated Office 365 Management Activity API
 * (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference):
 * subscriptions, content listing with the window rules and NextPageUri paging, blob retrieval,
 * notifications, webhooks, throttling per PublisherIdentifier and the error shapes, plus the
 * ground truth of what a correct collector can deliver. Each of those lives in its own file of
 * this folder; this class wires them to the routes.
 */

export { MAX_LOOKBACK_MS, MAX_WINDOW_MS } from "../microsoft/activityApi";
export { ANONYMOUS_PUBLISHER } from "./guard";
export { DEFAULT_PAGE_SIZE } from "./listing";
export { WEBHOOK_MAX_FAILURES } from "./notifications";
export { START_GUARD_MS } from "./subscriptions";
export type { BlobTruth } from "./truth";
export { formatApiTime, parseApiTime } from "./wire";

/** The Management Activity API of one emulated tenant. */
export class ActivityFeed {
  private readonly guard: Guard;
  private readonly subscriptions: Subscriptions;
  private readonly truth: FeedTruth;
  private readonly listings: Listings;
  private readonly blobs: Blobs;
  private readonly notifications: Notifications;

  constructor(state: EmulatorState, catalogue: Catalogue, pageSize: number, caPem: string) {
    this.guard = new Guard(state);
    this.subscriptions = new Subscriptions(state, caPem);
    this.truth = new FeedTruth(state, catalogue, this.subscriptions);
    this.listings = new Listings(state, this.truth, this.subscriptions, pageSize);
    this.blobs = new Blobs(state, catalogue, this.truth, this.subscriptions);
    this.notifications = new Notifications(
      state,
      catalogue,
      this.truth,
      this.subscriptions,
      this.listings,
      caPem,
    );
  }

  /**
   * Renders the body of every blob listable now into memory, so serving one costs only TLS and
   * the socket (for benchmarks); the bytes are the same as rendered on demand.
   */
  prerenderBlobs(): { blobs: number; bytes: number } {
    return this.blobs.prerender();
  }

  /** Unique record Ids a correct collector delivers now (or at `asOfMs`). */
  expectedRecordIds(contentTypes?: readonly string[], asOfMs?: number): Set<string> {
    return this.truth.expectedRecordIds(contentTypes, asOfMs);
  }

  /** Metadata of the blobs listable now or at `asOfMs` (including malformed ones, flagged). */
  listedBlobs(contentType?: string, asOfMs?: number): BlobTruth[] {
    return this.truth.listedBlobs(contentType, asOfMs);
  }

  /**
   * Queues newly available blobs for every enabled webhook and delivers due batches. Called on a
   * timer and by `emulator.flushNotifications()`.
   */
  pumpNotifications(): Promise<void> {
    return this.notifications.pump();
  }

  /** Adds the API's routes; every one passes the guard before its operation runs. */
  register(router: Router): void {
    const root = "^/api/v1(?:\\.0)?/(?<tenant>[^/]+)/activity/feed";
    const route = (method: string, suffix: string, apiMethod: ApiMethod, handler: ApiHandler) =>
      router.add(method, new RegExp(`${root}${suffix}$`, "i"), (ctx) =>
        this.guard.guarded(ctx, apiMethod, handler),
      );
    route("POST", "/subscriptions/start", "StartSubscription", (ctx, claims) =>
      this.subscriptions.start(ctx, claims),
    );
    route("POST", "/subscriptions/stop", "StopSubscription", (ctx, claims) =>
      this.subscriptions.stop(ctx, claims),
    );
    route("GET", "/subscriptions/list", "ListSubscriptions", (ctx) => this.subscriptions.list(ctx));
    route("GET", "/subscriptions/content", "ListContent", (ctx, claims) =>
      this.listings.content(ctx, claims),
    );
    route("GET", "/subscriptions/notifications", "ListNotifications", (ctx, claims) =>
      this.notifications.list(ctx, claims),
    );
    route("GET", "/audit/(?<contentId>[^/]+)", "GetBlob", (ctx, claims) =>
      this.blobs.blob(ctx, claims),
    );
    route("GET", "/resources/dlpSensitiveTypes", "GetDlpSensitiveTypes", (ctx) =>
      sendDlpSensitiveTypes(ctx),
    );
  }
}
