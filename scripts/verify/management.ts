/**
 * The few Management Activity API reads verify needs (subscriptions/list and subscriptions/content
 * with NextPageUri paging), with every failure classified so a check can say what it means.
 * Reference: management-activity-api.md §2.4, §2.5, §6.
 */
import { sleep } from "../../collector/src/backoff";
import { formatApiTime, MAX_WINDOW_IN_MS } from "../../domain/apiLimits";
import type { ContentBlob } from "../../domain/records";

/** Longest window the API accepts for one content listing: the collector's limit (AF20030). */
export const MAX_LISTING_WINDOW_MS = MAX_WINDOW_IN_MS;
/** Guard against a server that never stops handing out NextPageUri. */
export const MAX_LISTING_PAGES = 500;
/** Retries of throttled (AF429) or 5xx answers before a read gives up. */
export const MAX_RETRIES = 2;
/** First retry delay; doubles per attempt. Kept short: verify must finish in seconds. */
export const RETRY_DELAY_MS = 400;

/** What a failed Management API call means for the person running verify. */
export type ManagementErrorKind =
  /** `DataServiceException ... does not exist`: unified audit logging off or not provisioned. */
  | "audit-off"
  /** 401 AF10001: the token lacks the role. */
  | "permission"
  /** AF20022: no subscription for the content type. */
  | "no-subscription"
  /** AF20023: the subscription was disabled. */
  | "subscription-disabled"
  /** AF20010 / AF20011 / AF20012 / AF20013: tenant mismatch or unknown tenant. */
  | "tenant"
  /** AF429 (HTTP 403) after retries. */
  | "throttled"
  /** 5xx / AF50000 after retries. */
  | "server"
  /** The request never got an HTTP answer. */
  | "network"
  | "other";

/** A classified Management Activity API failure. */
export class ManagementApiError extends Error {
  override readonly name = "ManagementApiError";
  constructor(
    readonly kind: ManagementErrorKind,
    /** HTTP status, 0 when no answer arrived. */
    readonly status: number,
    /** The API error code (AF...), null when there was none. */
    readonly code: string | null,
    message: string,
  ) {
    super(message);
  }
}

/** Type guard for {@link ManagementApiError}. */
export function isManagementApiError(error: unknown): error is ManagementApiError {
  return error instanceof Error && error.name === "ManagementApiError";
}

/** One entry of `subscriptions/list`. */
export interface Subscription {
  contentType: string;
  status: string;
  webhook: { status?: string; address?: string } | null;
}

/** Options shared by every call. */
export interface ManagementApiOptions {
  /** API base, e.g. https://manage.office.com. */
  endpoint: string;
  tenantId: string;
  publisherId: string;
  /** Bearer token for the Management API audience. */
  token: string;
  abortSignal?: AbortSignal;
}

/**
 * Maps an HTTP status and body to a {@link ManagementErrorKind}. Pure; exported for tests.
 * The audit-off answer is recognised by its text, not by its code, which is a truncated
 * diagnostic prefix (reference §6.2).
 */
export function classifyManagementError(status: number, bodyText: string): ManagementApiError {
  const code = extractCode(bodyText);
  const message = extractMessage(bodyText);
  if (/DataServiceException/i.test(bodyText) || /Tenant\s+\S+\s+does not exist/i.test(bodyText)) {
    return new ManagementApiError(
      "audit-off",
      status,
      null,
      "DataServiceException: tenant does not exist",
    );
  }
  const known: Record<string, ManagementErrorKind> = {
    AF10001: "permission",
    AF20022: "no-subscription",
    AF20023: "subscription-disabled",
    AF20010: "tenant",
    AF20011: "tenant",
    AF20012: "tenant",
    AF20013: "tenant",
    AF429: "throttled",
    AF50000: "server",
    AF50005: "server",
    AF50006: "server",
  };
  const kind: ManagementErrorKind =
    (code && known[code]) ||
    (status === 401
      ? "permission"
      : status >= 500
        ? "server"
        : status === 429
          ? "throttled"
          : "other");
  return new ManagementApiError(kind, status, code, message ?? `HTTP ${status}`);
}

function extractCode(bodyText: string): string | null {
  // The throttling answer uses single quotes ({'error':{'code':'AF429',...}}), so read the code
  // with a pattern rather than JSON.parse.
  const match = /["']code["']\s*:\s*["'](AF\d+)/i.exec(bodyText);
  return match?.[1]?.toUpperCase() ?? null;
}

function extractMessage(bodyText: string): string | null {
  const match = /["']message["']\s*:\s*["']([^"']*)/.exec(bodyText);
  return match?.[1]?.split(/\r?\n/)[0]?.slice(0, 300) ?? null;
}

function isRetryable(error: ManagementApiError): boolean {
  return error.kind === "throttled" || error.kind === "server" || error.kind === "network";
}

interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** GET with bounded retries on throttling and server errors; throws {@link ManagementApiError}. */
async function get(url: string, options: ManagementApiOptions): Promise<RawResponse> {
  let lastError: ManagementApiError | undefined;
  for (let attempt = 0; attempt <= MAX_RETRIES; attempt++) {
    if (attempt > 0) await sleep(RETRY_DELAY_MS * 2 ** (attempt - 1), options.abortSignal);
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { authorization: `Bearer ${options.token}`, accept: "application/json" },
        signal: options.abortSignal,
      });
    } catch (error) {
      if (options.abortSignal?.aborted) throw error;
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      lastError = new ManagementApiError(
        "network",
        0,
        null,
        `cannot reach ${new URL(url).host}${cause ? ` (${cause})` : ""}`,
      );
      continue;
    }
    const text = await response.text();
    if (response.ok) return { status: response.status, headers: response.headers, text };
    lastError = classifyManagementError(response.status, text);
    if (!isRetryable(lastError)) throw lastError;
  }
  throw lastError ?? new ManagementApiError("other", 0, null, "request failed");
}

function feedRoot(options: ManagementApiOptions): string {
  return `${options.endpoint.replace(/\/+$/, "")}/api/v1.0/${encodeURIComponent(options.tenantId)}/activity/feed`;
}

function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ManagementApiError("other", 200, null, `${what} answered with invalid JSON`);
  }
}

/** `GET subscriptions/list`. */
export async function listSubscriptions(options: ManagementApiOptions): Promise<Subscription[]> {
  const url = new URL(`${feedRoot(options)}/subscriptions/list`);
  url.searchParams.set("PublisherIdentifier", options.publisherId);
  const response = await get(url.toString(), options);
  const body = parseJson<unknown>(response.text, "subscriptions/list");
  if (!Array.isArray(body)) {
    throw new ManagementApiError(
      "other",
      response.status,
      null,
      "subscriptions/list did not return an array",
    );
  }
  return body as Subscription[];
}

/** Splits [startMs, endMs) into consecutive windows no longer than {@link MAX_LISTING_WINDOW_MS}. */
export function listingWindows(startMs: number, endMs: number): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  for (let from = startMs; from < endMs; from += MAX_LISTING_WINDOW_MS) {
    windows.push([from, Math.min(from + MAX_LISTING_WINDOW_MS, endMs)]);
  }
  return windows;
}

/**
 * Lists the content blobs of one content type created in [startMs, endMs), in windows of at most
 * 24 h, following `NextPageUri` until it is absent. A NextPageUri on another origin is refused
 * rather than followed, so the bearer token never leaves the configured API host.
 */
export async function listContent(
  options: ManagementApiOptions,
  contentType: string,
  startMs: number,
  endMs: number,
): Promise<ContentBlob[]> {
  const blobs: ContentBlob[] = [];
  const origin = new URL(options.endpoint).origin;
  for (const [from, to] of listingWindows(startMs, endMs)) {
    const first = new URL(`${feedRoot(options)}/subscriptions/content`);
    first.searchParams.set("contentType", contentType);
    first.searchParams.set("startTime", formatApiTime(from));
    first.searchParams.set("endTime", formatApiTime(to));
    first.searchParams.set("PublisherIdentifier", options.publisherId);
    let next: string | null = first.toString();
    for (let page = 0; next !== null; page++) {
      if (page >= MAX_LISTING_PAGES) {
        throw new ManagementApiError("other", 200, null, `more than ${MAX_LISTING_PAGES} pages`);
      }
      if (new URL(next).origin !== origin) {
        throw new ManagementApiError(
          "other",
          200,
          null,
          `NextPageUri points at another host (${new URL(next).host})`,
        );
      }
      const response = await get(next, options);
      const body = parseJson<unknown>(response.text, "subscriptions/content");
      if (!Array.isArray(body)) {
        throw new ManagementApiError(
          "other",
          response.status,
          null,
          "subscriptions/content did not return an array",
        );
      }
      blobs.push(...(body as ContentBlob[]));
      next = response.headers.get("NextPageUri") ?? response.headers.get("NextPageUrl");
    }
  }
  return blobs;
}
