import { type RequestContext, sendJson } from "../http";

/**
 * How the emulated Office 365 Management Activity API speaks on the wire: its response headers,
 * its error shape and its time formats. Every other part of the API answers through these.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference
 */

/**
 * The response headers the service sends, as its troubleshooting samples show them:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api
 */
export const API_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  "Cache-Control": "no-cache",
  Pragma: "no-cache",
  Expires: "-1",
  Server: "Microsoft-IIS/10.0",
  "X-AspNet-Version": "4.0.30319",
  "X-Powered-By": "ASP.NET",
});

/** Method names the service puts into AF429 messages and diagnostic prefixes. */
export type ApiMethod =
  | "StartSubscription"
  | "StopSubscription"
  | "ListSubscriptions"
  | "ListContent"
  | "ListNotifications"
  | "GetBlob"
  | "GetDlpSensitiveTypes";

/** An error answer: HTTP status, the API's AFnnnnn code and its message. */
export interface ApiError {
  status: number;
  code: string;
  message: string;
}

/** Builds an {@link ApiError}. */
export function apiError(status: number, code: string, message: string): ApiError {
  return { status, code, message };
}

/**
 * Sends an error in the API's `{error:{code,message}}` shape:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#errors
 */
export function sendApiError(
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

/** Full ISO-8601 UTC time, as contentCreated and contentExpiration are written. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
