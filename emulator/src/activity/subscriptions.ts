import { randomUUID } from "node:crypto";
import type { BlobPlan } from "../generator";
import { queryParam, type RequestContext, readBody, sendEmpty, sendJson } from "../http";
import type { TokenClaims } from "../jwt";
import { CONTENT_TYPES, canonicalContentType } from "../microsoft/contentTypes";
import type { EmulatorState } from "../state";
import { validateWebhook } from "../webhooks";
import { checkDlpRole } from "./guard";
import { API_HEADERS, apiError, sendApiError } from "./wire";

/**
 * Subscriptions of the emulated Management Activity API: start (with the webhook handshake), stop
 * and list, per content type, and what a stop costs (content created while stopped is lost).
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#start-a-subscription
 */

/**
 * After a start request, wait this long before another (a rule the reference added in 2025-08):
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#start-a-subscription
 */
export const START_GUARD_MS = 15 * 60 * 1000;
const MAX_START_BODY_BYTES = 64 * 1024;

/** A subscription's webhook and its delivery state. */
export interface WebhookState {
  address: string;
  authId: string | null;
  expiration: string | null;
  expirationMs: number | null;
  status: "enabled" | "disabled" | "expired";
  consecutiveFailures: number;
  /** Blobs that became available up to this instant have been queued. */
  cursorMs: number;
  /** Queued notification entries not yet delivered. */
  pending: BlobPlan[];
  nextAttemptMs: number;
}

/** The subscription of one content type. */
export interface Subscription {
  contentType: string;
  status: "enabled" | "disabled";
  /** Disabled by a start sent inside the 15-minute guard: /list omits it (observed, #479). */
  hidden: boolean;
  webhook: WebhookState | null;
  lastStartMs: number;
  stoppedSinceMs: number | null;
  /** [from, to) intervals of contentCreated lost while the subscription was stopped. */
  lostIntervals: [number, number][];
}

/** The content type a request names, in the API's spelling and as the caller sent it. */
export interface RequestedContentType {
  canonical: string;
  asSent: string;
}

/** Reads and checks `contentType`; answers AF20001/AF20020 and returns undefined on error. */
export function requireContentType(ctx: RequestContext): RequestedContentType | undefined {
  const asSent = queryParam(ctx.url, "contentType");
  if (!asSent) {
    sendApiError(ctx, apiError(400, "AF20001", "Missing parameter: contentType."));
    return undefined;
  }
  const canonical = canonicalContentType(asSent);
  if (!canonical) {
    sendApiError(ctx, apiError(400, "AF20020", "The specified content type is not valid."));
    return undefined;
  }
  return { canonical, asSent };
}

function webhookView(webhook: WebhookState | null): unknown {
  if (!webhook) return null;
  return {
    status: webhook.status,
    address: webhook.address,
    authId: webhook.authId,
    expiration: webhook.expiration,
  };
}

/** The subscriptions of one emulated tenant and the start/stop/list operations. */
export class Subscriptions {
  private readonly byType = new Map<string, Subscription>();

  constructor(
    private readonly state: EmulatorState,
    private readonly caPem: string,
  ) {}

  /** Every subscription ever started, in start order. */
  all(): IterableIterator<Subscription> {
    return this.byType.values();
  }

  /** Whether a tenant admin has disabled this content type's subscription (a knob). */
  isAdminDisabled(contentType: string): boolean {
    return this.state.knobs.subscriptionsDisabled.some(
      (ct) => canonicalContentType(ct) === contentType,
    );
  }

  /** Whether the blob was created while its subscription was stopped: such content is lost. */
  inLostInterval(plan: BlobPlan): boolean {
    const sub = this.byType.get(plan.contentType);
    if (!sub) return false;
    for (const [from, to] of sub.lostIntervals) {
      if (plan.contentCreatedMs >= from && plan.contentCreatedMs < to) return true;
    }
    return sub.stoppedSinceMs !== null && plan.contentCreatedMs >= sub.stoppedSinceMs;
  }

  /** Answers AF20022/AF20023 unless the content type's subscription is enabled. */
  requireEnabled(ctx: RequestContext, contentType: string): Subscription | undefined {
    const sub = this.byType.get(contentType);
    if (!sub) {
      sendApiError(
        ctx,
        apiError(400, "AF20022", "No subscription found for the specified content type."),
      );
      return undefined;
    }
    if (this.isAdminDisabled(contentType)) {
      sendApiError(
        ctx,
        apiError(400, "AF20023", "The subscription was disabled by a tenant admin."),
      );
      return undefined;
    }
    if (sub.status !== "enabled") {
      sendApiError(ctx, apiError(400, "AF20023", "The subscription was disabled."));
      return undefined;
    }
    return sub;
  }

  /** `POST /subscriptions/start`. */
  async start(ctx: RequestContext, claims: TokenClaims): Promise<void> {
    const contentType = requireContentType(ctx);
    if (!contentType) return;
    if (!checkDlpRole(ctx, claims, contentType.canonical)) return;
    const nowMs = this.state.now();

    const raw = (await readBody(ctx.req, { maxWireBytes: MAX_START_BODY_BYTES }))
      .toString("utf8")
      .trim();
    let body: { webhook?: unknown } = {};
    if (raw !== "") {
      try {
        body = JSON.parse(raw) as { webhook?: unknown };
      } catch {
        return sendApiError(
          ctx,
          apiError(
            400,
            "AF20002",
            "Invalid parameter type: request body. Expected type: JSON object",
          ),
        );
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        return sendApiError(
          ctx,
          apiError(
            400,
            "AF20002",
            "Invalid parameter type: request body. Expected type: JSON object",
          ),
        );
      }
    }

    // undefined: leave the webhook as it is; null: remove it; object: set it.
    let requested:
      | {
          address: string;
          authId: string | null;
          expiration: string | null;
          expirationMs: number | null;
        }
      | null
      | undefined;
    if (body.webhook === null) requested = null;
    else if (body.webhook !== undefined) {
      const w = body.webhook as { address?: unknown; authId?: unknown; expiration?: unknown };
      const address = typeof w.address === "string" ? w.address : "";
      if (!/^https:\/\//i.test(address)) {
        return sendApiError(
          ctx,
          apiError(
            400,
            "AF20021",
            `The webhook endpoint ${address} could not be validated. The address must begin with HTTPS.`,
          ),
        );
      }
      const expiration =
        typeof w.expiration === "string" && w.expiration !== "" ? w.expiration : null;
      let expirationMs: number | null = null;
      if (expiration !== null) {
        const parsed = Date.parse(expiration);
        if (Number.isNaN(parsed)) {
          return sendApiError(
            ctx,
            apiError(400, "AF20002", "Invalid parameter type: expiration. Expected type: datetime"),
          );
        }
        if (parsed <= nowMs) {
          return sendApiError(
            ctx,
            apiError(
              400,
              "AF20003",
              `Expiration ${expiration} provided is set to past date and time.`,
            ),
          );
        }
        expirationMs = parsed;
      }
      requested = {
        address,
        authId: typeof w.authId === "string" && w.authId !== "" ? w.authId : null,
        expiration,
        expirationMs,
      };
    }

    const existing = this.byType.get(contentType.canonical);
    const sameWebhook =
      requested === undefined ||
      (requested === null && (existing?.webhook ?? null) === null) ||
      (requested !== null &&
        existing?.webhook != null &&
        existing.webhook.status === "enabled" &&
        existing.webhook.address === requested.address &&
        existing.webhook.authId === requested.authId &&
        existing.webhook.expiration === requested.expiration);

    if (existing && existing.status === "enabled" && sameWebhook) {
      return sendApiError(
        ctx,
        apiError(400, "AF20024", "The subscription is already enabled. No property change."),
      );
    }

    const echo = (webhook: WebhookState | null) =>
      sendJson(
        ctx,
        200,
        { contentType: contentType.asSent, status: "enabled", webhook: webhookView(webhook) },
        API_HEADERS,
      );

    if (
      existing &&
      existing.status === "disabled" &&
      nowMs - existing.lastStartMs < START_GUARD_MS
    ) {
      // Observed (MicrosoftDocs/office-365-management-api#479): a start right after a stop
      // answers 200 "enabled", yet the subscription stays disabled and /list omits it.
      existing.hidden = true;
      return echo(null);
    }

    let webhook: WebhookState | null = existing?.webhook ?? null;
    if (requested === null) webhook = null;
    else if (requested !== undefined && !sameWebhook) {
      const result = await validateWebhook(
        requested.address,
        requested.authId,
        randomUUID(),
        this.caPem,
      );
      if (!result.ok) {
        return sendApiError(
          ctx,
          apiError(
            400,
            "AF20021",
            `The webhook endpoint ${requested.address} could not be validated. The endpoint did not return HTTP 200.`,
          ),
        );
      }
      webhook = {
        ...requested,
        status: "enabled",
        consecutiveFailures: 0,
        cursorMs: this.state.now(),
        pending: [],
        nextAttemptMs: 0,
      };
    }

    const sub: Subscription = existing ?? {
      contentType: contentType.canonical,
      status: "enabled",
      hidden: false,
      webhook: null,
      lastStartMs: nowMs,
      stoppedSinceMs: null,
      lostIntervals: [],
    };
    if (sub.stoppedSinceMs !== null) {
      sub.lostIntervals.push([sub.stoppedSinceMs, nowMs]);
      sub.stoppedSinceMs = null;
    }
    sub.status = "enabled";
    sub.hidden = false;
    sub.lastStartMs = nowMs;
    sub.webhook = webhook;
    this.byType.set(contentType.canonical, sub);
    echo(webhook);
  }

  /** `POST /subscriptions/stop`. */
  stop(ctx: RequestContext, claims: TokenClaims): void {
    const contentType = requireContentType(ctx);
    if (!contentType) return;
    if (!checkDlpRole(ctx, claims, contentType.canonical)) return;
    const sub = this.byType.get(contentType.canonical);
    if (!sub) {
      sendApiError(
        ctx,
        apiError(400, "AF20022", "No subscription found for the specified content type."),
      );
      return;
    }
    if (sub.status === "enabled") {
      sub.status = "disabled";
      sub.stoppedSinceMs = this.state.now();
    }
    sendEmpty(ctx, 200, API_HEADERS);
  }

  /** `GET /subscriptions/list`. */
  list(ctx: RequestContext): void {
    const result = [];
    for (const ct of CONTENT_TYPES) {
      const sub = this.byType.get(ct);
      if (!sub || sub.hidden) continue;
      result.push({
        contentType: ct,
        status: this.isAdminDisabled(ct) ? "disabled" : sub.status,
        webhook: webhookView(sub.webhook),
      });
    }
    sendJson(ctx, 200, result, API_HEADERS);
  }
}
