/**
 * The one place that decides what an answer of the Office 365 Management Activity API means for
 * the collector. Pure and table-tested: every status/code pair the reference documents or that
 * collectors have observed on the wire maps to exactly one action.
 * Source of the codes: shared reference `management-activity-api.md` §2, §5 and §6.
 */

/** What the caller does next. */
export type ApiAction =
  /** Transient: back off (with jitter; longer when `throttled`) and send the same request again. */
  | "retry"
  /** The access token was rejected: get a fresh one once, then send the request again. */
  | "refresh-token"
  /** The subscription is missing or disabled: start it (respecting the 15-minute rule), retry. */
  | "resubscribe"
  /** This one blob cannot be had: count it, log it, move on. */
  | "skip"
  /** Configuration or tenant problem no retry fixes soon: report it, retry slowly, stay up. */
  | "fatal-config"
  /** The listing window was refused: recompute it (clock skew) and drop any stale NextPageUri. */
  | "window";

/** The facts of one failed exchange, as far as they are known. */
export interface ApiResponseFacts {
  /** HTTP status; absent when no response arrived. */
  status?: number;
  /** `error.code` from the API's error JSON (an AF code, or a diagnostic prefix). */
  code?: string;
  /** `error.message` from the API's error JSON. */
  message?: string;
  /** A network-level failure: an error code such as `ECONNRESET`, or `truncated-body`. */
  networkError?: string;
  /** Which operation failed; a 404 means "skip" only for a blob GET. */
  operation?: ApiOperation;
}

/** Operations of the Management Activity API the collector calls. */
export type ApiOperation =
  | "subscriptions/list"
  | "subscriptions/start"
  | "subscriptions/content"
  | "blob";

/** Why a blob is skipped, in the vocabulary of `SourceItem`. */
export type BlobSkipReason = "expired" | "missing" | "malformed" | "refused-uri";

export interface ApiClassification {
  action: ApiAction;
  /** One line for logs and `/healthz`: what happened and, for configuration errors, what to fix. */
  reason: string;
  /** True when the server asked us to slow down (AF429, HTTP 429): use the throttle backoff. */
  throttled?: boolean;
  /** For `skip`: the reason recorded with the skipped blob. */
  skipReason?: BlobSkipReason;
}

interface CodeRule {
  action: ApiAction;
  reason: string;
  throttled?: boolean;
  skipReason?: BlobSkipReason;
}

/** AF codes, each with what it means. Looked up before the HTTP status, which the API reuses. */
const CODE_RULES: Readonly<Record<string, CodeRule>> = {
  // Throttled. Arrives as HTTP 403, not 429, so status-based retry logic misses it.
  AF429: {
    action: "retry",
    throttled: true,
    reason: "throttled by the Management Activity API (AF429)",
  },
  // "An internal error occurred. Retry the request." (documented; observed as HTTP 500).
  AF50000: { action: "retry", reason: "internal error in the Management Activity API (AF50000)" },
  // Observed internal-error variants; the message also says to retry.
  AF50005: { action: "retry", reason: "internal error in the Management Activity API (AF50005)" },
  AF50006: { action: "retry", reason: "internal error in the Management Activity API (AF50006)" },
  // The token lacks ActivityFeed.Read (or ActivityFeed.ReadDlp for DLP.All). Arrives as 401,
  // but a new token carries the same roles, so refreshing does not help.
  AF10001: {
    action: "fatal-config",
    reason:
      "the app lacks a Management API permission (AF10001): grant ActivityFeed.Read (and ActivityFeed.ReadDlp for DLP.All) with admin consent",
  },
  // "Missing parameter" / "Invalid parameter type" / expiration in the past: a request we built
  // wrongly; retrying the same request cannot succeed.
  AF20001: { action: "fatal-config", reason: "the API reports a missing parameter (AF20001)" },
  AF20002: { action: "fatal-config", reason: "the API reports an invalid parameter (AF20002)" },
  AF20003: { action: "fatal-config", reason: "webhook expiration is in the past (AF20003)" },
  // Tenant in the URL differs from the token's tenant.
  AF20010: {
    action: "fatal-config",
    reason:
      "the tenant id in the URL does not match the token's tenant (AF20010): check AZURE_TENANT_ID and the app's home tenant",
  },
  // Tenant unknown or deleted.
  AF20011: {
    action: "fatal-config",
    reason: "the tenant does not exist or was deleted (AF20011): check AZURE_TENANT_ID",
  },
  // Tenant exists but is misconfigured on Microsoft's side.
  AF20012: {
    action: "fatal-config",
    reason: "the tenant is incorrectly configured in the Management API (AF20012)",
  },
  // Tenant id is not a GUID.
  AF20013: {
    action: "fatal-config",
    reason: "the tenant id is not a valid GUID (AF20013): check AZURE_TENANT_ID",
  },
  // Unknown content type.
  AF20020: {
    action: "fatal-config",
    reason: "the content type is not valid (AF20020): check O365_CONTENT_TYPES",
  },
  // Webhook could not be validated (not HTTPS or did not answer 200).
  AF20021: {
    action: "fatal-config",
    reason: "the webhook endpoint could not be validated (AF20021)",
  },
  // No subscription for this content type.
  AF20022: { action: "resubscribe", reason: "no subscription for the content type (AF20022)" },
  // Subscription disabled by an admin (or after stop).
  AF20023: { action: "resubscribe", reason: "the subscription was disabled (AF20023)" },
  // Start on an enabled subscription without changes: the wanted state already holds.
  AF20024: { action: "skip", reason: "the subscription is already enabled (AF20024)" },
  // Window refused: both or neither bound, ≤ 24 h apart, start ≤ 7 days back (clock skew?).
  AF20030: {
    action: "window",
    reason: "the API refused the listing window (AF20030); recomputing it",
  },
  // A nextPage value the API no longer accepts: drop the page link and re-list the window.
  AF20031: {
    action: "window",
    reason: "the API refused the nextPage link (AF20031); re-listing the window",
  },
  // As AF20030, plus "start before end" (added 2025-07). Also what a stale NextPageUri returns.
  AF20055: {
    action: "window",
    reason: "the API refused the listing window (AF20055); recomputing it",
  },
  // Content id unknown to the API.
  AF20050: {
    action: "skip",
    skipReason: "missing",
    reason: "the content blob does not exist (AF20050)",
  },
  // Content older than 7 days cannot be retrieved.
  AF20051: {
    action: "skip",
    skipReason: "expired",
    reason: "the content blob has expired (AF20051)",
  },
  // Content id in the URL is not a valid id.
  AF20052: {
    action: "skip",
    skipReason: "missing",
    reason: "the content id is invalid (AF20052)",
  },
};

/** Reason given when the API answers that the tenant does not exist: audit logging off or not provisioned yet. */
export const AUDIT_NOT_PROVISIONED_REASON =
  "unified audit logging is off or not yet provisioned for this tenant (DataServiceException: tenant does not exist): turn on audit log search in Microsoft Purview; it takes up to 60 minutes";

/**
 * Maps one failed exchange with the Management Activity API to what the collector does next.
 * Order matters: network failures first, then the AF code (the API reuses HTTP statuses, e.g.
 * 403 for throttling and 401 for a missing role), then the audit-off diagnostic, then the status.
 */
export function classifyApiResponse(facts: ApiResponseFacts): ApiClassification {
  if (facts.networkError !== undefined) {
    // Connection reset or refused, timeouts, a body cut mid-stream, TLS alerts: all more likely
    // transient than a configuration fault, and the caller's retry budget bounds them.
    return { action: "retry", reason: `network failure (${facts.networkError})` };
  }

  const code = facts.code?.trim() ?? "";
  const rule = CODE_RULES[code.toUpperCase()];
  if (rule !== undefined) {
    return { ...rule };
  }

  const text = `${code} ${facts.message ?? ""}`;
  // Audit log off / tenant not provisioned: a non-AF code cut mid-token, with the exception
  // name in the message. Detected by substring, as the reference advises (§6.2).
  if (/DataServiceException/i.test(text) || /\bdoes not exist\b/i.test(text)) {
    return { action: "fatal-config", reason: AUDIT_NOT_PROVISIONED_REASON };
  }
  // An AF429 body the error parser could not read (e.g. a truncated single-quoted body).
  if (/\bAF429\b/.test(text) || /too many requests/i.test(text)) {
    return { ...CODE_RULES.AF429 };
  }

  const status = facts.status;
  if (status === undefined) {
    return { action: "retry", reason: "no response from the Management Activity API" };
  }
  if (status === 401) {
    return { action: "refresh-token", reason: "the access token was rejected (HTTP 401)" };
  }
  if (status === 429) {
    return {
      action: "retry",
      throttled: true,
      reason: "throttled by the Management Activity API (HTTP 429)",
    };
  }
  if (status === 408) {
    return { action: "retry", reason: "request timed out at the server (HTTP 408)" };
  }
  if (status >= 500) {
    return { action: "retry", reason: `server error (HTTP ${status})` };
  }
  if (status === 404 && facts.operation === "blob") {
    return {
      action: "skip",
      skipReason: "missing",
      reason: "the content blob was not found (HTTP 404)",
    };
  }
  if (status === 404) {
    return {
      action: "fatal-config",
      reason:
        "the Management Activity API path was not found (HTTP 404): check O365_MANAGEMENT_ENDPOINT / O365_CLOUD",
    };
  }
  if (status === 403) {
    return {
      action: "fatal-config",
      reason: `access denied by the Management Activity API (HTTP 403${code ? `, ${code}` : ""}): check the app's permissions and admin consent`,
    };
  }
  return {
    action: "fatal-config",
    reason: `unexpected answer from the Management Activity API (HTTP ${status}${code ? `, ${code}` : ""})`,
  };
}
