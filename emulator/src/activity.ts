import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { MANAGEMENT_AUDIENCES, normalizeAudience } from "./audiences";
import {
  type BlobPlan,
  blobRecordIds,
  type Catalogue,
  CONTENT_TYPES,
  DLP_SENSITIVE_TYPES,
  renderBlob,
} from "./generator";
import {
  delay,
  queryParam,
  type RequestContext,
  type Router,
  readBody,
  sendEmpty,
  sendJson,
} from "./http";
import { bearerToken, type TokenClaims } from "./jwt";
import { knobFires, seededGuid, seededUnit } from "./random";
import type { EmulatorState } from "./state";
import { type NotificationEntry, sendNotification, validateWebhook } from "./webhooks";

/**
 * Emulated Office 365 Management Activity API (reference `management-activity-api.md`):
 * subscriptions, content listing with the window rules and NextPageUri paging, blob retrieval,
 * notifications, webhooks, throttling per PublisherIdentifier and the error shapes, plus the
 * ground truth of what a correct collector can deliver.
 */

/** Blobs per listing page; the real page size is not documented. */
export const DEFAULT_PAGE_SIZE = 50;
/** After a start request, wait this long before another (reference §2.1, added 2025-08). */
export const START_GUARD_MS = 15 * 60 * 1000;
/** The API reaches back at most 7 days (reference §2.5). */
export const MAX_LOOKBACK_MS = 7 * 24 * 60 * 60 * 1000;
/** A listing window spans at most 24 hours (reference §2.5). */
export const MAX_WINDOW_MS = 24 * 60 * 60 * 1000;
/** PublisherIdentifier of requests that send none: they share one quota (reference §5). */
export const ANONYMOUS_PUBLISHER = "00000000-0000-0000-0000-000000000000";
/** Consecutive failed notification deliveries after which a webhook is disabled. */
export const WEBHOOK_MAX_FAILURES = 5;
/** Entries per notification POST (the service's bodies are "size-limited, variable length"). */
const NOTIFICATION_BATCH = 100;
const MAX_START_BODY_BYTES = 64 * 1024;
const CONTENT_ID_PATTERN = /^[A-Za-z0-9_.-]+(?:\$[A-Za-z0-9_.-]+)+$/;
const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DLP = "DLP.All";

/** The documented response headers of the service (reference §2.10). */
const API_HEADERS: Record<string, string> = {
  "Cache-Control": "no-cache",
  Pragma: "no-cache",
  Expires: "-1",
  Server: "Microsoft-IIS/10.0",
  "X-AspNet-Version": "4.0.30319",
  "X-Powered-By": "ASP.NET",
};

/** Method names the service puts into AF429 messages. */
type ApiMethod =
  | "StartSubscription"
  | "StopSubscription"
  | "ListSubscriptions"
  | "ListContent"
  | "ListNotifications"
  | "GetBlob"
  | "GetDlpSensitiveTypes";

interface WebhookState {
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

interface Subscription {
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

/** The `startTime`/`endTime` of a listing; `given` is false when the defaults applied. */
interface ListingWindow {
  startMs: number;
  endMs: number;
  given: boolean;
}

interface NotificationRecord extends NotificationEntry {
  notificationSent: string;
  notificationStatus: "success" | "failed";
  sentMs: number;
}

/** Metadata of one blob, as ground truth. */
export interface BlobTruth {
  contentType: string;
  contentId: string;
  /** The URI a correct collector fetches (the listed one may be wrong when badContentUriRate fires). */
  contentUri: string;
  listedContentUri: string;
  contentCreated: string;
  contentExpiration: string;
  availableAtMs: number;
  recordCount: number;
  late: boolean;
  malformed: boolean;
  truncatedOnFirstFetch: boolean;
  badContentUri: boolean;
}

type ApiError = { status: number; code: string; message: string };

function apiError(status: number, code: string, message: string): ApiError {
  return { status, code, message };
}

const WINDOW_RULE_AF20030 =
  "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time no more than 7 days in the past.";
const WINDOW_RULE_AF20055 =
  "Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time and start time no more than 7 days in the past.";

/** Parses the API's time formats (UTC, optional seconds, fraction and `Z`). */
export function parseApiTime(value: string): number | undefined {
  const match =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?(Z|[+-]00:?00)?$/i.exec(
      value.trim(),
    );
  if (!match) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", fraction = ""] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const date = new Date(ms);
  if (
    date.getUTCFullYear() !== Number(y) ||
    date.getUTCMonth() !== Number(mo) - 1 ||
    date.getUTCDate() !== Number(d) ||
    Number(h) > 23 ||
    Number(mi) > 59 ||
    Number(s) > 59
  ) {
    return undefined;
  }
  return ms + Math.floor(Number(`0.${fraction || "0"}`) * 1000);
}

/** `YYYY-MM-DDTHH:MM:SS` (UTC), the format the emulator writes into NextPageUri. */
export function formatApiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function canonicalContentType(value: string): string | undefined {
  const lower = value.toLowerCase();
  return CONTENT_TYPES.find((ct) => ct.toLowerCase() === lower);
}

/** The Management Activity API of one emulated tenant. */
export class ActivityFeed {
  private readonly byType = new Map<string, BlobPlan[]>();
  private readonly positionOf = new Map<string, number>();
  private readonly byAvailability: BlobPlan[];
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly fetchAttempts = new Map<string, number>();
  /** Bodies rendered ahead of time (`prerenderBlobs`), by contentId. */
  private readonly rendered = new Map<string, Buffer[]>();
  private readonly throttleBuckets = new Map<string, { minute: number; count: number }>();
  private readonly notifications = new Map<string, NotificationRecord[]>();
  private pumping: Promise<void> | undefined;

  constructor(
    private readonly state: EmulatorState,
    private readonly catalogue: Catalogue,
    private readonly pageSize: number,
    private readonly caPem: string,
  ) {
    for (const ct of CONTENT_TYPES) this.byType.set(ct, []);
    for (const plan of catalogue.blobs) {
      const list = this.byType.get(plan.contentType)!;
      this.positionOf.set(plan.contentId, list.length);
      list.push(plan);
    }
    this.byAvailability = [...catalogue.blobs].sort((a, b) => a.availableAtMs - b.availableAtMs);
  }

  /**
   * Renders the body of every blob listable now into memory, so serving one costs only TLS and
   * the socket. For benchmarks, where rendering would compete with the collector for the same
   * cores; the bytes are the same as rendered on demand.
   */
  prerenderBlobs(): { blobs: number; bytes: number } {
    const nowMs = this.state.now();
    let bytes = 0;
    for (const plan of this.catalogue.blobs) {
      if (plan.availableAtMs > nowMs || this.rendered.has(plan.contentId)) continue;
      const chunks: Buffer[] = [];
      for (const chunk of renderBlob(plan)) {
        const data = Buffer.from(chunk, "utf8");
        bytes += data.length;
        chunks.push(data);
      }
      this.rendered.set(plan.contentId, chunks);
    }
    return { blobs: this.rendered.size, bytes };
  }

  // ---------------------------------------------------------------- ground truth

  /** The URI a correct collector uses for a blob. */
  contentUri(plan: BlobPlan): string {
    return `${this.state.url}/api/v1.0/${this.state.tenant.tenantId}/activity/feed/audit/${plan.contentId}`;
  }

  isMalformed(plan: BlobPlan): boolean {
    return knobFires(
      this.state.seed,
      "malformed",
      plan.contentId,
      this.state.knobs.malformedBlobRate,
    );
  }

  /** Whether the first download of a blob is cut mid-stream (later downloads succeed). */
  isTruncatedOnFirstFetch(plan: BlobPlan): boolean {
    return knobFires(this.state.seed, "truncate", plan.contentId, this.state.knobs.truncateRate);
  }

  hasBadContentUri(plan: BlobPlan): boolean {
    return knobFires(
      this.state.seed,
      "badContentUri",
      plan.contentId,
      this.state.knobs.badContentUriRate,
    );
  }

  /** The contentUri the listing shows (another host or tenant when badContentUriRate fires). */
  listedContentUri(plan: BlobPlan): string {
    if (!this.hasBadContentUri(plan)) return this.contentUri(plan);
    if (seededUnit(this.state.seed, "badContentUriKind", plan.contentId) < 0.5) {
      // .invalid never resolves (RFC 6761), so a collector that follows it fails fast.
      return `https://manage.office.invalid/api/v1.0/${this.state.tenant.tenantId}/activity/feed/audit/${plan.contentId}`;
    }
    const otherTenant = seededGuid(this.state.seed, "other-tenant");
    return `${this.state.url}/api/v1.0/${otherTenant}/activity/feed/audit/${plan.contentId}`;
  }

  private inLostInterval(plan: BlobPlan): boolean {
    const sub = this.subscriptions.get(plan.contentType);
    if (!sub) return false;
    for (const [from, to] of sub.lostIntervals) {
      if (plan.contentCreatedMs >= from && plan.contentCreatedMs < to) return true;
    }
    return sub.stoppedSinceMs !== null && plan.contentCreatedMs >= sub.stoppedSinceMs;
  }

  /** Listable now by a window inside the last 7 days (ignoring subscription state). */
  private isListableContent(plan: BlobPlan, nowMs: number): boolean {
    return (
      plan.availableAtMs <= nowMs &&
      plan.contentCreatedMs >= nowMs - MAX_LOOKBACK_MS &&
      !this.inLostInterval(plan)
    );
  }

  private isExpired(plan: BlobPlan, nowMs: number): boolean {
    return plan.expirationMs <= nowMs;
  }

  /** Blobs a correct collector can list and download right now. */
  private deliverableBlobs(contentTypes?: readonly string[]): BlobPlan[] {
    const { knobs } = this.state;
    if (knobs.auditDisabled) return [];
    const nowMs = this.state.now();
    const wanted = new Set(
      (contentTypes ?? CONTENT_TYPES).map((ct) => canonicalContentType(ct) ?? ct),
    );
    const result: BlobPlan[] = [];
    for (const ct of wanted) {
      if (this.isAdminDisabled(ct)) continue;
      for (const plan of this.byType.get(ct) ?? []) {
        if (!this.isListableContent(plan, nowMs) || this.isExpired(plan, nowMs)) continue;
        if (this.isMalformed(plan)) continue;
        result.push(plan);
      }
    }
    return result;
  }

  /** Unique record Ids a correct collector delivers now (see GroundTruth.expectedRecordIds). */
  expectedRecordIds(contentTypes?: readonly string[]): Set<string> {
    const ids = new Set<string>();
    for (const plan of this.deliverableBlobs(contentTypes)) {
      for (const id of blobRecordIds(plan)) ids.add(id);
    }
    return ids;
  }

  /** Metadata of the blobs listable now (including malformed ones, flagged). */
  listedBlobs(contentType?: string): BlobTruth[] {
    const nowMs = this.state.now();
    const types = contentType
      ? [canonicalContentType(contentType) ?? contentType]
      : [...CONTENT_TYPES];
    const result: BlobTruth[] = [];
    for (const ct of types) {
      for (const plan of this.byType.get(ct) ?? []) {
        if (!this.isListableContent(plan, nowMs)) continue;
        result.push({
          contentType: plan.contentType,
          contentId: plan.contentId,
          contentUri: this.contentUri(plan),
          listedContentUri: this.listedContentUri(plan),
          contentCreated: iso(plan.contentCreatedMs),
          contentExpiration: iso(plan.expirationMs),
          availableAtMs: plan.availableAtMs,
          recordCount: plan.recordCount,
          late: plan.late,
          malformed: this.isMalformed(plan),
          truncatedOnFirstFetch: this.isTruncatedOnFirstFetch(plan),
          badContentUri: this.hasBadContentUri(plan),
        });
      }
    }
    return result;
  }

  // ---------------------------------------------------------------- routes

  register(router: Router): void {
    const root = "^/api/v1(?:\\.0)?/(?<tenant>[^/]+)/activity/feed";
    const route = (method: string, suffix: string, apiMethod: ApiMethod, handler: ApiHandler) =>
      router.add(method, new RegExp(`${root}${suffix}$`, "i"), (ctx) =>
        this.guarded(ctx, apiMethod, handler),
      );
    route("POST", "/subscriptions/start", "StartSubscription", (ctx, claims) =>
      this.start(ctx, claims),
    );
    route("POST", "/subscriptions/stop", "StopSubscription", (ctx, claims) =>
      this.stop(ctx, claims),
    );
    route("GET", "/subscriptions/list", "ListSubscriptions", (ctx) => this.list(ctx));
    route("GET", "/subscriptions/content", "ListContent", (ctx, claims) =>
      this.content(ctx, claims),
    );
    route("GET", "/subscriptions/notifications", "ListNotifications", (ctx, claims) =>
      this.listNotifications(ctx, claims),
    );
    route("GET", "/audit/(?<contentId>[^/]+)", "GetBlob", (ctx, claims) => this.blob(ctx, claims));
    route("GET", "/resources/dlpSensitiveTypes", "GetDlpSensitiveTypes", (ctx) =>
      this.dlpSensitiveTypes(ctx),
    );
  }

  private sendError(
    ctx: RequestContext,
    error: ApiError,
    headers: Record<string, string> = {},
  ): void {
    sendJson(
      ctx,
      error.status,
      { error: { code: error.code, message: error.message } },
      { ...API_HEADERS, ...headers },
    );
  }

  /**
   * Everything every API call goes through, in the order the service appears to apply it:
   * latency, token, tenant, throttling, injected faults, audit state, then the operation.
   */
  private async guarded(
    ctx: RequestContext,
    apiMethod: ApiMethod,
    handler: ApiHandler,
  ): Promise<void> {
    const { state } = this;
    const { knobs } = state;
    await delay(knobs.latencyMs);
    const requestIndex = state.counters.apiRequests++;
    const nowMs = state.now();

    const check = state.signer.verify(bearerToken(ctx.req.headers.authorization), nowMs);
    if (!check.ok || !MANAGEMENT_AUDIENCES.has(normalizeAudience(String(check.claims.aud)))) {
      const reason = !check.ok
        ? {
            missing: "Authorization header with a Bearer token is missing.",
            malformed: "The access token is malformed.",
            "bad-signature": "The access token signature is invalid.",
            expired: "The access token has expired.",
            "not-yet-valid": "The access token is not yet valid.",
          }[check.problem]
        : `The access token audience '${String(check.claims.aud)}' is not valid for this API.`;
      // The body for a bad token is undocumented; the emulator answers 401 with a challenge.
      return this.sendError(ctx, apiError(401, "InvalidAuthenticationToken", reason), {
        "WWW-Authenticate": `Bearer realm="", error="invalid_token", error_description="${reason}"`,
      });
    }
    const claims = check.claims;
    const urlTenant = ctx.params.tenant!;
    if (!GUID_PATTERN.test(urlTenant)) {
      return this.sendError(
        ctx,
        apiError(
          400,
          "AF20013",
          `The tenant ID passed in the URL (${urlTenant}) is not a valid GUID.`,
        ),
      );
    }
    if (urlTenant.toLowerCase() !== claims.tid.toLowerCase()) {
      return this.sendError(
        ctx,
        apiError(
          401,
          "AF20010",
          `The tenant ID passed in the URL (${urlTenant}) does not match the tenant ID passed in the access token (${claims.tid}).`,
        ),
      );
    }

    const publisher = (
      queryParam(ctx.url, "PublisherIdentifier") || ANONYMOUS_PUBLISHER
    ).toLowerCase();
    if (this.isThrottled(publisher, nowMs)) {
      state.counters.throttled++;
      return this.sendError(
        ctx,
        apiError(403, "AF429", `Too many requests. Method=${apiMethod}, PublisherId=${publisher}`),
      );
    }
    if (knobFires(state.seed, "serverError", requestIndex, knobs.serverErrorRate)) {
      state.counters.injectedErrors++;
      ctx.code = "503";
      ctx.res.writeHead(503, { "Content-Type": "text/html", ...API_HEADERS });
      ctx.res.end("<html><body><h1>503 Service Unavailable</h1></body></html>");
      return;
    }
    if (knobFires(state.seed, "af50000", requestIndex, knobs.af50000Rate)) {
      state.counters.injectedErrors++;
      return this.sendError(
        ctx,
        apiError(500, "AF50000", "An internal error occurred. Retry the request."),
      );
    }
    if (knobs.auditDisabled) return this.sendAuditDisabled(ctx, apiMethod);
    const roles = Array.isArray(claims.roles) ? claims.roles : [];
    if (!roles.includes("ActivityFeed.Read"))
      return this.sendMissingRole(ctx, roles, "ActivityFeed.Read");
    await handler(ctx, claims);
  }

  /** Counts the request against its publisher's per-minute budget and any AF429 burst. */
  private isThrottled(publisher: string, nowMs: number): boolean {
    const { knobs } = this.state;
    const minute = Math.floor(nowMs / 60_000);
    let bucket = this.throttleBuckets.get(publisher);
    if (!bucket || bucket.minute !== minute) {
      bucket = { minute, count: 0 };
      this.throttleBuckets.set(publisher, bucket);
    }
    bucket.count++;
    if (knobs.af429Burst > 0) {
      knobs.af429Burst--;
      return true;
    }
    return knobs.throttle !== null && bucket.count > knobs.throttle.requestsPerMinute;
  }

  private sendMissingRole(ctx: RequestContext, roles: string[], expected: string): void {
    this.sendError(
      ctx,
      apiError(
        401,
        "AF10001",
        `The permission set (${roles.join(" ")}) sent in the request did not include the expected permission ${expected}.`,
      ),
    );
  }

  /** DLP.All needs ActivityFeed.ReadDlp on top of ActivityFeed.Read. Returns false when answered. */
  private checkDlpRole(ctx: RequestContext, claims: TokenClaims, contentType: string): boolean {
    if (contentType !== DLP) return true;
    const roles = Array.isArray(claims.roles) ? claims.roles : [];
    if (roles.includes("ActivityFeed.ReadDlp")) return true;
    this.sendMissingRole(ctx, roles, "ActivityFeed.ReadDlp");
    return false;
  }

  /** The HTTP 400 answer of a tenant whose unified audit log is off (reference §6.2). */
  private sendAuditDisabled(ctx: RequestContext, apiMethod: ApiMethod): void {
    const { tenant } = this.state;
    const contentType = queryParam(ctx.url, "contentType") ?? "";
    const publisher = queryParam(ctx.url, "PublisherIdentifier") ?? ANONYMOUS_PUBLISHER;
    // The service cuts the diagnostic prefix mid-token into `code`; the rest continues in `message`.
    const code = `${apiMethod} [CorrId=${randomUUID()}][TenantId=${tenant.tenantId},ContentType=${contentType},ApplicationId=${tenant.clientId},PublisherId=${publisher}][AppId`;
    const message = `${tenant.clientId.slice(1)}] failed. Exception: Microsoft.Office.Compliance.Audit.DataServiceException: Tenant ${tenant.tenantId} does not exist.\r\n   at Microsoft.Office.Compliance.Audit.API.AzureManager.<GetSubscriptionTableClientForTenantAsync>d__50.MoveNext() in D:\\dbs\\sh\\audit\\src\\AzureManager.cs:line 1786\r\n   at Microsoft.Office.Compliance.Audit.API.SubscriptionManager.<${apiMethod}Async>d__12.MoveNext()`;
    ctx.code = "DataServiceException";
    sendJson(ctx, 400, { error: { code, message } }, API_HEADERS);
  }

  /** Reads and checks `contentType`; answers AF20001/AF20020 and returns undefined on error. */
  private requireContentType(
    ctx: RequestContext,
  ): { canonical: string; asSent: string } | undefined {
    const asSent = queryParam(ctx.url, "contentType");
    if (!asSent) {
      this.sendError(ctx, apiError(400, "AF20001", "Missing parameter: contentType."));
      return undefined;
    }
    const canonical = canonicalContentType(asSent);
    if (!canonical) {
      this.sendError(ctx, apiError(400, "AF20020", "The specified content type is not valid."));
      return undefined;
    }
    return { canonical, asSent };
  }

  private isAdminDisabled(contentType: string): boolean {
    return this.state.knobs.subscriptionsDisabled.some(
      (ct) => canonicalContentType(ct) === contentType,
    );
  }

  /** Answers AF20022/AF20023 unless the content type's subscription is enabled. */
  private requireEnabled(ctx: RequestContext, contentType: string): Subscription | undefined {
    const sub = this.subscriptions.get(contentType);
    if (!sub) {
      this.sendError(
        ctx,
        apiError(400, "AF20022", "No subscription found for the specified content type."),
      );
      return undefined;
    }
    if (this.isAdminDisabled(contentType)) {
      this.sendError(
        ctx,
        apiError(400, "AF20023", "The subscription was disabled by a tenant admin."),
      );
      return undefined;
    }
    if (sub.status !== "enabled") {
      this.sendError(ctx, apiError(400, "AF20023", "The subscription was disabled."));
      return undefined;
    }
    return sub;
  }

  private webhookView(webhook: WebhookState | null): unknown {
    if (!webhook) return null;
    return {
      status: webhook.status,
      address: webhook.address,
      authId: webhook.authId,
      expiration: webhook.expiration,
    };
  }

  private async start(ctx: RequestContext, claims: TokenClaims): Promise<void> {
    const contentType = this.requireContentType(ctx);
    if (!contentType) return;
    if (!this.checkDlpRole(ctx, claims, contentType.canonical)) return;
    const nowMs = this.state.now();

    const raw = (await readBody(ctx.req, { maxWireBytes: MAX_START_BODY_BYTES }))
      .toString("utf8")
      .trim();
    let body: { webhook?: unknown } = {};
    if (raw !== "") {
      try {
        body = JSON.parse(raw) as { webhook?: unknown };
      } catch {
        return this.sendError(
          ctx,
          apiError(
            400,
            "AF20002",
            "Invalid parameter type: request body. Expected type: JSON object",
          ),
        );
      }
      if (body === null || typeof body !== "object" || Array.isArray(body)) {
        return this.sendError(
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
        return this.sendError(
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
          return this.sendError(
            ctx,
            apiError(400, "AF20002", "Invalid parameter type: expiration. Expected type: datetime"),
          );
        }
        if (parsed <= nowMs) {
          return this.sendError(
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

    const existing = this.subscriptions.get(contentType.canonical);
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
      return this.sendError(
        ctx,
        apiError(400, "AF20024", "The subscription is already enabled. No property change."),
      );
    }

    const echo = (webhook: WebhookState | null) =>
      sendJson(
        ctx,
        200,
        { contentType: contentType.asSent, status: "enabled", webhook: this.webhookView(webhook) },
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
        return this.sendError(
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
    this.subscriptions.set(contentType.canonical, sub);
    echo(webhook);
  }

  private stop(ctx: RequestContext, claims: TokenClaims) {
    const contentType = this.requireContentType(ctx);
    if (!contentType) return;
    if (!this.checkDlpRole(ctx, claims, contentType.canonical)) return;
    const sub = this.subscriptions.get(contentType.canonical);
    if (!sub) {
      return this.sendError(
        ctx,
        apiError(400, "AF20022", "No subscription found for the specified content type."),
      );
    }
    if (sub.status === "enabled") {
      sub.status = "disabled";
      sub.stoppedSinceMs = this.state.now();
    }
    sendEmpty(ctx, 200, API_HEADERS);
  }

  private list(ctx: RequestContext): void {
    const result = [];
    for (const ct of CONTENT_TYPES) {
      const sub = this.subscriptions.get(ct);
      if (!sub || sub.hidden) continue;
      result.push({
        contentType: ct,
        status: this.isAdminDisabled(ct) ? "disabled" : sub.status,
        webhook: this.webhookView(sub.webhook),
      });
    }
    sendJson(ctx, 200, result, API_HEADERS);
  }

  /**
   * Validates startTime/endTime (reference §2.5). Returns the window, or undefined after
   * answering AF20002/AF20030/AF20055.
   */
  private parseWindow(ctx: RequestContext): ListingWindow | undefined {
    const nowMs = this.state.now();
    const startText = queryParam(ctx.url, "startTime");
    const endText = queryParam(ctx.url, "endTime");
    if (startText === undefined && endText === undefined) {
      return { startMs: nowMs - MAX_WINDOW_MS, endMs: nowMs, given: false };
    }
    if (startText === undefined || endText === undefined) {
      this.sendError(ctx, apiError(400, "AF20030", WINDOW_RULE_AF20030));
      return undefined;
    }
    const startMs = parseApiTime(startText);
    if (startMs === undefined) {
      this.sendError(
        ctx,
        apiError(400, "AF20002", "Invalid parameter type: startTime. Expected type: datetime"),
      );
      return undefined;
    }
    const endMs = parseApiTime(endText);
    if (endMs === undefined) {
      this.sendError(
        ctx,
        apiError(400, "AF20002", "Invalid parameter type: endTime. Expected type: datetime"),
      );
      return undefined;
    }
    if (startMs >= endMs) {
      this.sendError(ctx, apiError(400, "AF20055", WINDOW_RULE_AF20055));
      return undefined;
    }
    if (endMs - startMs > MAX_WINDOW_MS || startMs < nowMs - MAX_LOOKBACK_MS) {
      this.sendError(ctx, apiError(400, "AF20030", WINDOW_RULE_AF20030));
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

  private content(ctx: RequestContext, claims: TokenClaims) {
    const contentType = this.requireContentType(ctx);
    if (!contentType) return;
    if (!this.checkDlpRole(ctx, claims, contentType.canonical)) return;
    const window = this.parseWindow(ctx);
    if (!window) return;
    if (!this.requireEnabled(ctx, contentType.canonical)) return;

    const list = this.byType.get(contentType.canonical)!;
    const nowMs = this.state.now();
    this.sendPage(ctx, {
      kind: "content",
      contentType: contentType.canonical,
      window,
      items: list,
      from: lowerBound(list, window.startMs),
      select: (plan) => {
        if (plan.contentCreatedMs >= window.endMs) return "stop";
        return this.isListableContent(plan, nowMs) ? "take" : "skip";
      },
      timeOfMs: (plan) => plan.contentCreatedMs,
      render: (plan) => ({
        contentType: plan.contentType,
        contentId: plan.contentId,
        contentUri: this.listedContentUri(plan),
        contentCreated: iso(plan.contentCreatedMs),
        contentExpiration: iso(plan.expirationMs),
      }),
    });
  }

  private listNotifications(ctx: RequestContext, claims: TokenClaims) {
    const contentType = this.requireContentType(ctx);
    if (!contentType) return;
    if (!this.checkDlpRole(ctx, claims, contentType.canonical)) return;
    const window = this.parseWindow(ctx);
    if (!window) return;
    if (!this.requireEnabled(ctx, contentType.canonical)) return;
    this.sendPage(ctx, {
      kind: "notifications",
      contentType: contentType.canonical,
      window,
      items: this.notifications.get(contentType.canonical) ?? [],
      from: 0,
      select: (record) =>
        record.sentMs < window.startMs || record.sentMs >= window.endMs ? "skip" : "take",
      timeOfMs: (record) => record.sentMs,
      render: ({ sentMs: _sentMs, ...record }) => record,
    });
  }

  /**
   * Sends one page of a listing: scans `items` from `from` (or from just after the position of
   * the request's `nextPage` token), letting `select` take an item, pass over it or end the
   * listing. When more would follow, `NextPageUri` carries a token that resumes after the last
   * item sent. A token that is not ours is the API's AF20031.
   */
  private sendPage<T>(
    ctx: RequestContext,
    listing: {
      kind: "content" | "notifications";
      contentType: string;
      window: ListingWindow;
      items: readonly T[];
      from: number;
      select: (item: T) => "take" | "skip" | "stop";
      timeOfMs: (item: T) => number;
      render: (item: T) => unknown;
    },
  ): void {
    const { kind, contentType, window, items } = listing;
    let from = listing.from;
    const nextPage = queryParam(ctx.url, "nextPage");
    if (nextPage !== undefined) {
      const position = this.parsePageToken(kind, contentType, nextPage, items.length);
      if (position === undefined) {
        this.sendError(ctx, apiError(400, "AF20031", `Invalid nextPage Input: ${nextPage}.`));
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

  private dlpSensitiveTypes(ctx: RequestContext) {
    const header = ctx.req.headers["accept-language"];
    if (header !== undefined && header.trim() !== "") {
      const languages = header
        .split(",")
        .map((part) => part.trim())
        .filter((part) => part !== "");
      if (languages.length > 1) {
        return this.sendError(
          ctx,
          apiError(
            400,
            "AF20053",
            "Only one language may be present in the Accept-Language header.",
          ),
        );
      }
      if (
        !/^(?:\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)(?:;q=[01](?:\.\d{0,3})?)?$/.test(
          languages[0] ?? "",
        )
      ) {
        return this.sendError(
          ctx,
          apiError(400, "AF20054", "Invalid syntax in Accept-Language header."),
        );
      }
    }
    sendJson(ctx, 200, DLP_SENSITIVE_TYPES, API_HEADERS);
  }

  private async blob(ctx: RequestContext, claims: TokenClaims): Promise<void> {
    const contentId = ctx.params.contentId!;
    if (!CONTENT_ID_PATTERN.test(contentId)) {
      return this.sendError(
        ctx,
        apiError(400, "AF20052", `Content ID ${contentId} in the URL is invalid.`),
      );
    }
    const nowMs = this.state.now();
    const plan = this.catalogue.get(contentId);
    if (!plan || plan.availableAtMs > nowMs || this.inLostInterval(plan)) {
      return this.sendError(
        ctx,
        apiError(404, "AF20050", `The specified content (${contentId}) does not exist.`),
      );
    }
    if (!this.checkDlpRole(ctx, claims, plan.contentType)) return;
    if (this.isExpired(plan, nowMs)) {
      return this.sendError(
        ctx,
        apiError(
          400,
          "AF20051",
          `Content requested with the key ${contentId} has already expired. Content older than 7 days cannot be retrieved.`,
        ),
      );
    }
    if (!this.requireEnabled(ctx, plan.contentType)) return;

    const attempt = (this.fetchAttempts.get(contentId) ?? 0) + 1;
    this.fetchAttempts.set(contentId, attempt);
    const truncate = attempt === 1 && this.isTruncatedOnFirstFetch(plan);
    const malformed = this.isMalformed(plan);
    await this.streamBlob(ctx, plan, { truncate, malformed });
  }

  /** Streams the rendered blob with backpressure; never holds more than one chunk. */
  private async streamBlob(
    ctx: RequestContext,
    plan: BlobPlan,
    fault: { truncate: boolean; malformed: boolean },
  ): Promise<void> {
    const { res } = ctx;
    const { counters } = this.state;
    // Render the first chunk before the status line, so a generator failure is a clean 500.
    const chunks = (this.rendered.get(plan.contentId) ?? renderBlob(plan))[Symbol.iterator]();
    let next = chunks.next();
    res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", ...API_HEADERS });
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    let bytes = 0;
    let first = true;
    for (; !next.done; next = chunks.next()) {
      if (closed) return;
      // renderBlob may yield text or already-encoded bytes; the socket takes bytes.
      const chunk = next.value as string | Uint8Array;
      let data =
        typeof chunk === "string"
          ? Buffer.from(chunk, "utf8")
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (first && fault.malformed) {
        // Break the very first record, so no parser can deliver any record of this blob.
        const brace = data.indexOf(0x7b);
        data = Buffer.concat([
          data.subarray(0, brace + 1),
          Buffer.from(","),
          data.subarray(brace + 1),
        ]);
      }
      if (first && fault.truncate) {
        // Send part of the body, then drop the connection: the client sees a cut-off response.
        const part = data.subarray(0, Math.max(1, Math.floor(data.length / 2)));
        counters.truncatedBlobs++;
        ctx.code = "truncated";
        await new Promise<void>((resolve) => res.write(part, () => resolve()));
        res.destroy();
        return;
      }
      first = false;
      bytes += data.length;
      if (!res.write(data)) {
        await drainOrClose(res);
      }
    }
    if (closed) return;
    res.end();
    counters.blobsServed++;
    counters.blobBytesServed += bytes;
    if (fault.malformed) {
      counters.malformedBlobsServed++;
      ctx.code = "malformed";
    } else {
      counters.recordsServed += plan.recordCount;
    }
  }

  // ---------------------------------------------------------------- notifications

  /**
   * Queues blobs that became available since the last pump for every enabled webhook and
   * delivers due batches. Called on a timer and by `emulator.flushNotifications()`.
   */
  pumpNotifications(): Promise<void> {
    this.pumping ??= this.pumpOnce().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async pumpOnce(): Promise<void> {
    const nowMs = this.state.now();
    const deliveries: Promise<void>[] = [];
    for (const sub of this.subscriptions.values()) {
      const webhook = sub.webhook;
      if (!webhook || sub.status !== "enabled" || this.isAdminDisabled(sub.contentType)) continue;
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
          if (plan.contentType === sub.contentType && !this.inLostInterval(plan))
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
      contentUri: this.listedContentUri(plan),
      contentCreated: iso(plan.contentCreatedMs),
      contentExpiration: iso(plan.expirationMs),
    }));
    const sentMs = this.state.now();
    const result = await sendNotification(webhook.address, webhook.authId, entries, this.caPem);
    const records = this.notifications.get(sub.contentType) ?? [];
    this.notifications.set(sub.contentType, records);
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
    // Retried at exponentially growing intervals; disabled after too many failures (reference §4).
    webhook.nextAttemptMs =
      sentMs + Math.min(60_000, 1_000 * 2 ** (webhook.consecutiveFailures - 1));
    if (webhook.consecutiveFailures >= WEBHOOK_MAX_FAILURES) webhook.status = "disabled";
  }
}

type ApiHandler = (ctx: RequestContext, claims: TokenClaims) => Promise<void> | void;

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

/** Resolves when the response can take more data or the connection is gone. */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
