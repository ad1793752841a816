/**
 * The Office 365 Management Activity API operations AuditBridge calls. Errors, tokens, single
 * attempts and retries each live in their own module (`apiError`, `tokenCache`, `transport`,
 * `retryPolicy`); this one says which requests the operations send and what their answers mean.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference
 */
import type { TokenCredential } from "@azure/identity";
import { NEXT_PAGE_URI_HEADER } from "../../../domain/apiLimits";
import { scopeFor } from "../../../domain/clouds";
import type { ContentBlob } from "../../../domain/records";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import type { OperationOptions } from "../types";
import { isManagementApiError, ManagementApiError } from "./apiError";
import { type ApiOperation, classifyApiResponse } from "./classifier";
import { RequestPacer } from "./pacer";
import { ManagementRetryPolicy, type RetryPreset } from "./retryPolicy";
import { TokenCache } from "./tokenCache";
import { ManagementTransport } from "./transport";
import { type ApiLocation, checkNextPageUri, feedRoot, normalizeBaseUrl } from "./urls";
import type { ListingWindow } from "./windows";

/** Options for {@link ManagementApiClient}; retry knobs default to the collector's preset. */
export interface ManagementApiClientOptions extends RetryPreset {
  /** API base, e.g. `https://manage.office.com` (the cloud's, or `O365_MANAGEMENT_ENDPOINT`). */
  baseUrl: string;
  /** The Microsoft 365 tenant GUID. */
  tenantId: string;
  /** `PublisherIdentifier`, sent on every call (it names whose request quota is used). */
  publisherId: string;
  /** The app's credential; tokens are requested for `audience` + `/.default`. */
  credential: TokenCredential;
  /** Token audience of the Management API in this cloud, e.g. `https://manage.office.com`. */
  audience: string;
  /**
   * Budget of the client's own request pacer (AUDIT_API_REQUESTS_PER_MINUTE); default
   * `DEFAULT_API_REQUESTS_PER_MINUTE` (pacer.ts). Ignored when `pacer` is given.
   */
  requestsPerMinute?: number;
  /**
   * A pacer to share: clients of the same tenant and PublisherIdentifier in one process spend
   * one budget. Its rate gauge is the creator's to wire.
   */
  pacer?: RequestPacer;
  metrics?: Pick<
    CollectorMetrics,
    | "apiRequests"
    | "requestDurationSeconds"
    | "throttleWaitSeconds"
    | "apiPacerRequestsPerMinute"
    | "apiPacerWaitSeconds"
    | "apiThrottled"
  >;
  logger?: Logger;
  /** Uniform random in [0, 1) for backoff jitter; injectable for tests. */
  random?: () => number;
  /** Clock, epoch ms. */
  nowMs?: () => number;
}

/** A subscription as `GET /subscriptions/list` reports it. */
export interface SubscriptionStatus {
  contentType: string;
  status: string;
  webhook: unknown;
}

/** One page of `GET /subscriptions/content`. */
export interface ContentPage {
  blobs: ContentBlob[];
  /** The `NextPageUri` header, unchecked; absent on the last page. */
  nextPageUri?: string;
}

/** What to do with a `NextPageUri` header, by {@link resolveNextPageUri}. */
export type NextPageVerdict =
  | { kind: "verbatim"; url: string }
  | { kind: "rebuilt"; url: string; problem: string }
  | { kind: "dropped"; problem: string };

/**
 * The next page to request: the header verbatim when it points at the configured API and
 * tenant; rebuilt on the configured root when it points elsewhere but carries a `nextPage`
 * token (the token, not the host, identifies the page); otherwise dropped. The bearer token
 * never follows a link to another host or tenant.
 */
export function resolveNextPageUri(raw: string, location: ApiLocation): NextPageVerdict {
  const check = checkNextPageUri(raw, location);
  if (check.ok) return { kind: "verbatim", url: check.url };
  let search = "";
  try {
    const url = new URL(raw.trim());
    if ([...url.searchParams.keys()].some((k) => k.toLowerCase() === "nextpage")) {
      search = url.search;
    }
  } catch {
    // Not a URL at all: dropped below.
  }
  if (search !== "") {
    return {
      kind: "rebuilt",
      url: `${feedRoot(location)}/subscriptions/content${search}`,
      problem: check.problem,
    };
  }
  return { kind: "dropped", problem: check.problem };
}

/**
 * Client of the Office 365 Management Activity API over `fetch`: bearer tokens from an
 * `@azure/identity` credential (cached, renewed before expiry, renewed once more on a 401),
 * `PublisherIdentifier` on every request, every request (retries, pages and blob GETs included)
 * paced by one {@link RequestPacer}, classified errors, retries bounded by attempts and a
 * deadline, and metrics per request. It sends the token only to the configured API origin and
 * tenant.
 */
export class ManagementApiClient {
  readonly location: ApiLocation;
  readonly root: string;
  /** Spaces every request of this client; AF429 answers lower its rate. */
  readonly pacer: RequestPacer;
  private readonly transport: ManagementTransport;
  private readonly retries: ManagementRetryPolicy;

  constructor(options: ManagementApiClientOptions) {
    normalizeBaseUrl(options.baseUrl);
    if (!options.tenantId) throw new TypeError("ManagementApiClient needs a tenantId");
    if (!options.publisherId) throw new TypeError("ManagementApiClient needs a publisherId");
    this.location = { baseUrl: options.baseUrl, tenantId: options.tenantId };
    this.root = feedRoot(this.location);
    const tokens = new TokenCache({
      credential: options.credential,
      scope: scopeFor(options.audience),
      nowMs: options.nowMs,
    });
    const gauge = options.metrics?.apiPacerRequestsPerMinute;
    this.pacer =
      options.pacer ??
      new RequestPacer({
        requestsPerMinute: options.requestsPerMinute,
        onRateChange: gauge ? (rate) => gauge.set(Math.round(rate)) : undefined,
      });
    this.transport = new ManagementTransport({
      location: this.location,
      publisherId: options.publisherId,
      tokens,
      pacer: this.pacer,
      fetchTimeoutInMs: options.fetchTimeoutInMs,
      metrics: options.metrics,
      logger: options.logger,
      nowMs: options.nowMs,
    });
    this.retries = new ManagementRetryPolicy({ ...options, pacer: this.pacer });
  }

  /** `GET /subscriptions/list`. */
  async listSubscriptions(options: OperationOptions = {}): Promise<SubscriptionStatus[]> {
    const { body } = await this.requestJson(
      "subscriptions/list",
      "GET",
      `${this.root}/subscriptions/list`,
      options,
      { expectArray: true },
    );
    return (body as unknown[]).filter(
      (item): item is SubscriptionStatus =>
        item !== null &&
        typeof item === "object" &&
        typeof (item as SubscriptionStatus).contentType === "string",
    );
  }

  /**
   * `POST /subscriptions/start`. AF20024 (already enabled, nothing changed) is success; the
   * answer says which happened.
   */
  async startSubscription(
    contentType: string,
    options: OperationOptions = {},
  ): Promise<{ alreadyEnabled: boolean; status?: string }> {
    const url = `${this.root}/subscriptions/start?contentType=${encodeURIComponent(contentType)}`;
    try {
      const { body } = await this.requestJson("subscriptions/start", "POST", url, options, {
        context: contentType,
      });
      const status = (body as { status?: unknown } | null)?.status;
      return { alreadyEnabled: false, status: typeof status === "string" ? status : undefined };
    } catch (error) {
      if (isManagementApiError(error) && error.code?.toUpperCase() === "AF20024") {
        return { alreadyEnabled: true, status: "enabled" };
      }
      throw error;
    }
  }

  /** First page of `GET /subscriptions/content` for a window. */
  async listContent(
    contentType: string,
    window: Pick<ListingWindow, "startTime" | "endTime">,
    options: OperationOptions = {},
  ): Promise<ContentPage> {
    const query = new URLSearchParams({
      contentType,
      startTime: window.startTime,
      endTime: window.endTime,
    });
    // `:` stays readable; the API accepts it either way.
    const url = `${this.root}/subscriptions/content?${query.toString().replace(/%3A/gi, ":")}`;
    return this.requestContentPage(url, options, contentType);
  }

  /** A later page: the `NextPageUri` verbatim (the caller has checked it with `checkNextPageUri`). */
  async listContentPage(nextPageUri: string, options: OperationOptions = {}): Promise<ContentPage> {
    return this.requestContentPage(nextPageUri, options, "next page");
  }

  /**
   * Streams a blob's bytes. The request (and its retries for status errors) starts on the first
   * `next()`; a connection cut mid-body surfaces as a `ManagementApiError` with code
   * `truncated-body`, which the caller may retry from the start.
   */
  async *streamBlob(url: string, options: OperationOptions = {}): AsyncGenerator<Uint8Array> {
    const { response, scope } = await this.retries.run("blob", options, (forceRefresh) =>
      this.transport.send("blob", "GET", url, { ...options, forceRefresh }),
    );
    try {
      const body = response.body;
      if (body === null) return;
      try {
        for await (const chunk of body) {
          scope.touch();
          yield chunk;
        }
      } catch (error) {
        if (options.abortSignal?.aborted) throw options.abortSignal.reason;
        const code = scope.timedOut ? "timeout" : "truncated-body";
        throw new ManagementApiError({
          operation: "blob",
          status: response.status,
          code,
          classification: classifyApiResponse({ networkError: code, operation: "blob" }),
          context: "reading the body",
          cause: error,
        });
      }
    } finally {
      scope.close();
    }
  }

  private async requestContentPage(
    url: string,
    options: OperationOptions,
    context: string,
  ): Promise<ContentPage> {
    const { body, headers } = await this.requestJson("subscriptions/content", "GET", url, options, {
      context,
      expectArray: true,
    });
    const blobs = (body as unknown[]).filter(
      (item): item is ContentBlob =>
        item !== null &&
        typeof item === "object" &&
        typeof (item as ContentBlob).contentId === "string" &&
        typeof (item as ContentBlob).contentUri === "string",
    );
    // The documented header is NextPageUri; an old revision of Microsoft's reference said NextPageUrl.
    const next = headers.get(NEXT_PAGE_URI_HEADER) ?? headers.get("NextPageUrl") ?? undefined;
    return { blobs, nextPageUri: next && next.trim() !== "" ? next : undefined };
  }

  /** A JSON operation; retries cover the status, the body read and the body's shape. */
  private requestJson(
    operation: ApiOperation,
    method: string,
    url: string,
    options: OperationOptions,
    expect: { context?: string; expectArray?: boolean } = {},
  ): Promise<{ body: unknown; headers: Headers }> {
    const context = expect.context;
    return this.retries.run(
      operation,
      { abortSignal: options.abortSignal, context },
      (forceRefresh) =>
        this.transport.readJson(operation, method, url, {
          abortSignal: options.abortSignal,
          context,
          forceRefresh,
          expectArray: expect.expectArray,
        }),
    );
  }
}
