/**
 * The one place that decides what an answer of the Office 365 Management Activity API means for
 * the collector. Pure and table-tested: every status/code pair the reference documents or that
 * collectors have observed on the wire maps to exactly one action. What each code means lives in
 * `domain/apiErrors.ts`; what the collector does about it lives here.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api
 */
import {
  AUDIT_OFF_MEANING,
  isAuditOffAnswer,
  type ManagementErrorKind,
  managementCodeMeaning,
} from "../../../domain/apiErrors";

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

/** What the collector does about each family of AF codes. */
const ACTION_BY_KIND: Readonly<
  Record<ManagementErrorKind, Pick<ApiClassification, "action" | "throttled" | "skipReason">>
> = {
  // Arrives as HTTP 403, not 429, so status-based retry logic alone would miss it.
  throttled: { action: "retry", throttled: true },
  server: { action: "retry" },
  // Arrives as 401, but a new token carries the same roles, so refreshing does not help.
  permission: { action: "fatal-config" },
  // A request we built wrongly; sending it again cannot succeed.
  "bad-request": { action: "fatal-config" },
  tenant: { action: "fatal-config" },
  "content-type": { action: "fatal-config" },
  webhook: { action: "fatal-config" },
  "no-subscription": { action: "resubscribe" },
  "subscription-disabled": { action: "resubscribe" },
  // Start on an enabled subscription without changes: the wanted state already holds.
  "already-enabled": { action: "skip" },
  // Recompute the window (clock skew) and drop any stale NextPageUri.
  window: { action: "window" },
  "next-page": { action: "window" },
  "content-missing": { action: "skip", skipReason: "missing" },
  "content-expired": { action: "skip", skipReason: "expired" },
};

/** The collector's next step for codes whose meaning alone does not say it. */
const COLLECTOR_HINTS: Readonly<Record<string, string>> = {
  AF10001: ": grant ActivityFeed.Read (and ActivityFeed.ReadDlp for DLP.All) with admin consent",
  AF20010: ": check AZURE_TENANT_ID and the app's home tenant",
  AF20011: ": check AZURE_TENANT_ID",
  AF20013: ": check AZURE_TENANT_ID",
  AF20020: ": check O365_CONTENT_TYPES",
  AF20030: "; recomputing it",
  AF20031: "; re-listing the window",
  AF20055: "; recomputing it",
};

/** The classification of a known AF code, or undefined. */
function classifyCode(code: string): ApiClassification | undefined {
  const meaning = managementCodeMeaning(code);
  if (meaning === undefined) return undefined;
  const key = code.toUpperCase();
  return {
    ...ACTION_BY_KIND[meaning.kind],
    reason: `${meaning.meaning} (${key})${COLLECTOR_HINTS[key] ?? ""}`,
  };
}

const AUDIT_NOT_PROVISIONED_REASON = `${AUDIT_OFF_MEANING}: turn on audit log search in Microsoft Purview; it takes up to 60 minutes`;

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
  const known = classifyCode(code);
  if (known !== undefined) {
    return known;
  }

  const text = `${code} ${facts.message ?? ""}`;
  // Audit log off / tenant not provisioned: a non-AF code cut mid-token, with the exception
  // name in the message, so it is detected by substring.
  if (isAuditOffAnswer(text)) {
    return { action: "fatal-config", reason: AUDIT_NOT_PROVISIONED_REASON };
  }
  // An AF429 body the error parser could not read (e.g. a truncated single-quoted body).
  if (/\bAF429\b/.test(text) || /too many requests/i.test(text)) {
    return classifyCode("AF429")!;
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
