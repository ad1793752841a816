import { randomUUID } from "node:crypto";
import { MANAGEMENT_AUDIENCES, normalizeAudience } from "../audiences";
import { delay, queryParam, type RequestContext, sendJson } from "../http";
import { bearerToken, type TokenClaims } from "../jwt";
import { DEFAULT_TOKEN_BUCKET_CAPACITY, type ThrottleKnob } from "../knobs";
import { DLP_CONTENT_TYPE } from "../microsoft/contentTypes";
import { knobFires } from "../random";
import type { EmulatorState } from "../state";
import { API_HEADERS, type ApiMethod, apiError, sendApiError } from "./wire";

/**
 * What every Management Activity API call passes before its operation runs: latency, the bearer
 * token and its tenant, throttling per PublisherIdentifier (counted per calendar minute or in a
 * token bucket: knobs.ts), injected faults, the tenant's audit
 * state and the app's permissions. Errors as documented:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#errors
 */

/**
 * PublisherIdentifier of requests that send none: they share one quota:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api
 */
export const ANONYMOUS_PUBLISHER = "00000000-0000-0000-0000-000000000000";
const GUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An operation that runs once the guard has let the request through. */
export type ApiHandler = (ctx: RequestContext, claims: TokenClaims) => Promise<void> | void;

/** One PublisherIdentifier's count under the `perMinuteWindow` model. */
interface MinuteWindow {
  minute: number;
  count: number;
}

/** One PublisherIdentifier's bucket under the `tokenBucket` model. */
interface TokenBucket {
  tokens: number;
  refilledAtMs: number;
}

/** The checks in front of every operation of one emulated tenant's API. */
export class Guard {
  private readonly minuteWindows = new Map<string, MinuteWindow>();
  private readonly tokenBuckets = new Map<string, TokenBucket>();

  constructor(private readonly state: EmulatorState) {}

  /**
   * Everything every API call goes through, in the order the service appears to apply it:
   * latency, token, tenant, throttling, injected faults, audit state, then the operation.
   */
  async guarded(ctx: RequestContext, apiMethod: ApiMethod, handler: ApiHandler): Promise<void> {
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
      return sendApiError(ctx, apiError(401, "InvalidAuthenticationToken", reason), {
        "WWW-Authenticate": `Bearer realm="", error="invalid_token", error_description="${reason}"`,
      });
    }
    const claims = check.claims;
    const urlTenant = ctx.params.tenant!;
    if (!GUID_PATTERN.test(urlTenant)) {
      return sendApiError(
        ctx,
        apiError(
          400,
          "AF20013",
          `The tenant ID passed in the URL (${urlTenant}) is not a valid GUID.`,
        ),
      );
    }
    if (urlTenant.toLowerCase() !== claims.tid.toLowerCase()) {
      return sendApiError(
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
      return sendApiError(
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
      return sendApiError(
        ctx,
        apiError(500, "AF50000", "An internal error occurred. Retry the request."),
      );
    }
    if (knobs.auditDisabled) return this.sendAuditDisabled(ctx, apiMethod);
    const roles = Array.isArray(claims.roles) ? claims.roles : [];
    if (!roles.includes("ActivityFeed.Read"))
      return sendMissingRole(ctx, roles, "ActivityFeed.Read");
    await handler(ctx, claims);
  }

  /**
   * Whether the request is refused with AF429: an injected burst first, then the publisher's
   * limit under the configured counting model (see `THROTTLE_MODELS` in knobs.ts; Microsoft
   * documents the limit, not how it counts).
   */
  private isThrottled(publisher: string, nowMs: number): boolean {
    const { knobs } = this.state;
    const throttle = knobs.throttle;
    // Every request counts in its minute whatever the model, so switching models mid-run
    // starts the window from what was really sent.
    const overMinute = this.countInMinute(publisher, nowMs, throttle);
    if (knobs.af429Burst > 0) {
      knobs.af429Burst--;
      return true;
    }
    if (throttle === null) return false;
    return throttle.model === "tokenBucket"
      ? !this.takeToken(publisher, nowMs, throttle)
      : overMinute;
  }

  /** `perMinuteWindow`: counts the request in its calendar minute; true past the limit. */
  private countInMinute(publisher: string, nowMs: number, throttle: ThrottleKnob | null): boolean {
    const minute = Math.floor(nowMs / 60_000);
    let window = this.minuteWindows.get(publisher);
    if (!window || window.minute !== minute) {
      window = { minute, count: 0 };
      this.minuteWindows.set(publisher, window);
    }
    window.count++;
    return throttle !== null && window.count > throttle.requestsPerMinute;
  }

  /** `tokenBucket`: refills at limit / 60 a second up to the capacity; false when empty. */
  private takeToken(publisher: string, nowMs: number, throttle: ThrottleKnob): boolean {
    const capacity = throttle.bucketCapacity ?? DEFAULT_TOKEN_BUCKET_CAPACITY;
    let bucket = this.tokenBuckets.get(publisher);
    if (!bucket) {
      bucket = { tokens: capacity, refilledAtMs: nowMs };
      this.tokenBuckets.set(publisher, bucket);
    }
    const elapsedMs = Math.max(0, nowMs - bucket.refilledAtMs);
    bucket.tokens = Math.min(
      capacity,
      bucket.tokens + (elapsedMs * throttle.requestsPerMinute) / 60_000,
    );
    bucket.refilledAtMs = nowMs;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /**
   * The HTTP 400 answer of a tenant whose unified audit log is off. The troubleshooting page names
   * its `DataServiceException: Tenant <id> does not exist.` text
   * (https://learn.microsoft.com/en-us/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api);
   * the wire shape is as users report it (https://github.com/MicrosoftDocs/office-365-management-api/issues/89).
   */
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
}

function sendMissingRole(ctx: RequestContext, roles: string[], expected: string): void {
  sendApiError(
    ctx,
    apiError(
      401,
      "AF10001",
      `The permission set (${roles.join(" ")}) sent in the request did not include the expected permission ${expected}.`,
    ),
  );
}

/**
 * DLP.All needs ActivityFeed.ReadDlp on top of ActivityFeed.Read. Returns false when it has
 * answered the request (AF10001).
 */
export function checkDlpRole(
  ctx: RequestContext,
  claims: TokenClaims,
  contentType: string,
): boolean {
  if (contentType !== DLP_CONTENT_TYPE) return true;
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  if (roles.includes("ActivityFeed.ReadDlp")) return true;
  sendMissingRole(ctx, roles, "ActivityFeed.ReadDlp");
  return false;
}
