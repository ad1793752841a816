import type { BlobPlan, Catalogue } from "../generator";
import type { RequestContext } from "../http";
import type { TokenClaims } from "../jwt";
import type { EmulatorState } from "../state";
import { type NotificationEntry, sendNotification } from "../webhooks";
import { checkDlpRole } from "./guard";
import type { Listings } from "./listing";
import {
  requireContentType,
  type Subscription,
  type Subscriptions,
  type WebhookState,
} from "./subscriptions";
import type { FeedTruth } from "./truth";
import { iso } from "./wire";

/**
 * Webhook notifications: queues blobs as they become available for every enabled webhook,
 * delivers them in batches, retries with growing intervals, disables a webhook that keeps
 * failing, and lists what was sent (`GET /subscriptions/notifications`).
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#receiving-notifications
 */

/** Consecutive failed notification deliveries after which a webhook is disabled. */
export const WEBHOOK_MAX_FAILURES = 5;
/** Entries per notification POST (the service's bodies are "size-limited, variable length"). */
const NOTIFICATION_BATCH = 100;

interface NotificationRecord extends NotificationEntry {
  notificationSent: string;
  notificationStatus: "success" | "failed";
  sentMs: number;
}

/** The webhook deliveries of one emulated tenant. */
export class Notifications {
  private readonly byAvailability: BlobPlan[];
  private readonly sent = new Map<string, NotificationRecord[]>();
  private pumping: Promise<void> | undefined;

  constructor(
    private readonly state: EmulatorState,
    catalogue: Catalogue,
    private readonly truth: FeedTruth,
    private readonly subscriptions: Subscriptions,
    private readonly listings: Listings,
    private readonly caPem: string,
  ) {
    this.byAvailability = [...catalogue.blobs].sort((a, b) => a.availableAtMs - b.availableAtMs);
  }

  /**
   * Queues blobs that became available since the last pump for every enabled webhook and
   * delivers due batches. Called on a timer and by `emulator.flushNotifications()`.
   */
  pump(): Promise<void> {
    this.pumping ??= this.pumpOnce().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  /** `GET /subscriptions/notifications`. */
  list(ctx: RequestContext, claims: TokenClaims): void {
    const contentType = requireContentType(ctx);
    if (!contentType) return;
    if (!checkDlpRole(ctx, claims, contentType.canonical)) return;
    const window = this.listings.parseWindow(ctx);
    if (!window) return;
    if (!this.subscriptions.requireEnabled(ctx, contentType.canonical)) return;
    this.listings.sendPage(ctx, {
      kind: "notifications",
      contentType: contentType.canonical,
      window,
      items: this.sent.get(contentType.canonical) ?? [],
      from: 0,
      select: (record) =>
        record.sentMs < window.startMs || record.sentMs >= window.endMs ? "skip" : "take",
      timeOfMs: (record) => record.sentMs,
      render: ({ sentMs: _sentMs, ...record }) => record,
    });
  }

  private async pumpOnce(): Promise<void> {
    const nowMs = this.state.now();
    const deliveries: Promise<void>[] = [];
    for (const sub of this.subscriptions.all()) {
      const webhook = sub.webhook;
      if (
        !webhook ||
        sub.status !== "enabled" ||
        this.subscriptions.isAdminDisabled(sub.contentType)
      )
        continue;
      if (
        webhook.status === "enabled" &&
        webhook.expirationMs !== null &&
        webhook.expirationMs <= nowMs
      ) {
        webhook.status = "expired";
      }
      if (webhook.status !== "enabled") continue;
      if (nowMs > webhook.cursorMs) {
        for (const plan of this.newlyAvailable(webhook.cursorMs, nowMs)) {
          if (plan.contentType === sub.contentType && !this.subscriptions.inLostInterval(plan))
            webhook.pending.push(plan);
        }
        webhook.cursorMs = nowMs;
      }
      if (webhook.pending.length > 0 && webhook.nextAttemptMs <= nowMs) {
        deliveries.push(this.deliver(sub, webhook));
      }
    }
    await Promise.all(deliveries);
  }

  /** Blobs with fromMs < availableAtMs <= toMs. */
  private newlyAvailable(fromMs: number, toMs: number): BlobPlan[] {
    const list = this.byAvailability;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.availableAtMs <= fromMs) lo = mid + 1;
      else hi = mid;
    }
    const result: BlobPlan[] = [];
    for (let i = lo; i < list.length && list[i]!.availableAtMs <= toMs; i++) result.push(list[i]!);
    return result;
  }

  private async deliver(sub: Subscription, webhook: WebhookState): Promise<void> {
    const batch = webhook.pending.slice(0, NOTIFICATION_BATCH);
    const entries: NotificationEntry[] = batch.map((plan) => ({
      tenantId: this.state.tenant.tenantId,
      clientId: this.state.tenant.clientId,
      contentType: plan.contentType,
      contentId: plan.contentId,
      contentUri: this.truth.listedContentUri(plan),
      contentCreated: iso(plan.contentCreatedMs),
      contentExpiration: iso(plan.expirationMs),
    }));
    const sentMs = this.state.now();
    const result = await sendNotification(webhook.address, webhook.authId, entries, this.caPem);
    const records = this.sent.get(sub.contentType) ?? [];
    this.sent.set(sub.contentType, records);
    for (const entry of entries) {
      records.push({
        ...entry,
        notificationSent: iso(sentMs),
        notificationStatus: result.ok ? "success" : "failed",
        sentMs,
      });
    }
    if (result.ok) {
      this.state.counters.notificationsSent++;
      webhook.pending.splice(0, batch.length);
      webhook.consecutiveFailures = 0;
      webhook.nextAttemptMs = 0;
      return;
    }
    this.state.counters.notificationFailures++;
    webhook.consecutiveFailures++;
    // Failed deliveries are retried at exponentially growing intervals and the webhook is
    // disabled after too many failures (the reference's "Receiving notifications", URL above).
    webhook.nextAttemptMs =
      sentMs + Math.min(60_000, 1_000 * 2 ** (webhook.consecutiveFailures - 1));
    if (webhook.consecutiveFailures >= WEBHOOK_MAX_FAILURES) webhook.status = "disabled";
  }
}
