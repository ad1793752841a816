import type { AccessToken, TokenCredential } from "@azure/identity";
import { scopeFor } from "../../../domain/clouds";
import type { ContentBlob } from "../../../domain/records";
import {
  DEFAULT_BASE_DELAY_IN_MS,
  DEFAULT_MAX_DELAY_IN_MS,
  type GiveUpReason,
  isRetryExhaustedError,
  type RetryDecision,
  retryAsync,
} from "../backoff";
import { describeTokenError, isFatalTokenError } from "../credentials";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import type { OperationOptions } from "../types";
import { type ApiClassification, type ApiOperation, classifyApiResponse } from "./classifier";
import {
  type ApiLocation,
  feedRoot,
  isFeedUrl,
  normalizeBaseUrl,
  withPublisherIdentifier,
} from "./urls";
import type { ListingWindow } from "./windows";

/** One request (headers, or the gap between two body chunks) may take this long. */
export const DEFAULT_FETCH_TIMEOUT_IN_MS = 60_000;
/** Attempts per request, the first included. */
export const DEFAULT_MAX_ATTEMPTS = 6;
/** A request and its retries give up after this long. */
export const DEFAULT_REQUEST_DEADLINE_IN_MS = 5 * 60_000;
/** First wait after AF429; the API documents no Retry-After, so throttling waits start longer. */
export const DEFAULT_THROTTLE_BASE_DELAY_IN_MS = 5_000;
/** Longest wait after AF429. */
export const DEFAULT_THROTTLE_MAX_DELAY_IN_MS = 60_000;
/** Tokens are renewed this long before they expire (Entra tokens live about an hour). */
export const TOKEN_REFRESH_MARGIN_IN_MS = 5 * 60_000;
/** Error bodies are read up to this size; the audit-off error carries a stack trace. */
const MAX_ERROR_BODY_CHARS = 64 * 1024;

export interface ManagementApiClientOptions {
  /** API base, e.g. `https://manage.office.com` (the cloud's, or `O365_MANAGEMENT_ENDPOINT`). */
  baseUrl: string;
  /** The Microsoft 365 tenant GUID. */
  tenantId: string;
  /** `PublisherIdentifier`, sent on every call (reference §2). */
  publisherId: string;
  /** The app's credential; tokens are requested for `audience` + `/.default`. */
  credential: TokenCredential;
  /** Token audience of the Management API in this cloud, e.g. `https://manage.office.com`. */
  audience: string;
  metrics?: Pick<
    CollectorMetrics,
    "apiRequests" | "requestDurationSeconds" | "throttleWaitSeconds"
  >;
  logger?: Logger;
  fetchTimeoutInMs?: number;
  maxAttempts?: number;
  deadlineInMs?: number;
  retryBaseDelayInMs?: number;
  retryMaxDelayInMs?: number;
  throttleBaseDelayInMs?: number;
  throttleMaxDelayInMs?: number;
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

/**
 * A failed exchange with the Management Activity API, classified. Messages name the operation,
 * the status and code and what to do; they never contain the token.
 */
export class ManagementApiError extends Error {
  override readonly name = "ManagementApiError";
  readonly operation: ApiOperation;
  readonly status?: number;
  /** `error.code` from the body, or the network error code. */
  readonly code?: string;
  /** `error.message` from the body (first line, shortened). */
  readonly apiMessage?: string;
  readonly classification: ApiClassification;
  /** The server's clock (`Date` header), for clock-skew correction of listing windows. */
  readonly serverDateMs?: number;
  /** `Retry-After`, when the server sent one. */
  readonly retryAfterInMs?: number;
  /** Attempts made before giving up, when retries ran out. */
  readonly attempts?: number;

  constructor(init: {
    operation: ApiOperation;
    status?: number;
    code?: string;
    apiMessage?: string;
    classification: ApiClassification;
    serverDateMs?: number;
    retryAfterInMs?: number;
    attempts?: number;
    giveUp?: GiveUpReason;
    context?: string;
    cause?: unknown;
  }) {
    const detail = [
      init.status !== undefined ? `HTTP ${init.status}` : undefined,
      init.code,
      init.apiMessage ? `"${init.apiMessage}"` : undefined,
    ]
      .filter((part) => part !== undefined && part !== "")
      .join(" ");
    const tries =
      init.attempts !== undefined
        ? ` after ${init.attempts} attempt${init.attempts === 1 ? "" : "s"}${
            init.giveUp === "deadline" ? " (deadline reached)" : " (attempt limit reached)"
          }`
        : "";
    super(
      `Management API ${init.operation}${init.context ? ` (${init.context})` : ""} failed${tries}: ${
        init.classification.reason
      }${detail ? ` [${detail}]` : ""}`,
      init.cause !== undefined ? { cause: init.cause } : undefined,
    );
    this.operation = init.operation;
    this.status = init.status;
    this.code = init.code;
    this.apiMessage = init.apiMessage;
    this.classification = init.classification;
    this.serverDateMs = init.serverDateMs;
    this.retryAfterInMs = init.retryAfterInMs;
    this.attempts = init.attempts;
  }
}

export function isManagementApiError(error: unknown): error is ManagementApiError {
  return error instanceof ManagementApiError;
}

/**
 * Reads the API's error JSON: `{"error":{"code":…,"message":…}}`, also the single-quoted AF429
 * variant (reference §5) and bodies that are not JSON at all (a proxy's HTML page).
 */
export function parseApiError(body: string): { code?: string; message?: string } {
  const text = body.trim();
  if (text === "") {
    return {};
  }
  try {
    const parsed: unknown = JSON.parse(text);
    const error = (parsed as { error?: unknown } | null)?.error;
    if (typeof error === "string") {
      return { message: oneLine(error) };
    }
    if (error !== null && typeof error === "object") {
      const { code, message } = error as { code?: unknown; message?: unknown };
      return {
        code: typeof code === "string" ? code : undefined,
        message: typeof message === "string" ? oneLine(message) : undefined,
      };
    }
  } catch {
    // Not JSON: try the quote-agnostic form below.
  }
  const code = /["']code["']\s*:\s*["']([^"']*)["']/.exec(text)?.[1];
  const message = /["']message["']\s*:\s*["']([^"']*)["']/.exec(text)?.[1];
  if (code !== undefined || message !== undefined) {
    return { code, message: message === undefined ? undefined : oneLine(message) };
  }
  return { message: oneLine(text) };
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 500 ? `${flat.slice(0, 500)}…` : flat;
}

function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** The error code undici puts on the cause of a failed fetch or body read. */
function networkCode(error: unknown): string {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && code !== "") return code;
    current = current.cause;
  }
  return error instanceof Error && error.name === "TimeoutError" ? "timeout" : "fetch-failed";
}

/** A request scoped to one attempt: its own abort (timeout) linked to the caller's signal. */
class AttemptScope {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onCallerAbort = () => this.controller.abort(this.callerSignal?.reason);

  constructor(
    private readonly callerSignal: AbortSignal | undefined,
    timeoutInMs: number,
  ) {
    callerSignal?.addEventListener("abort", this.onCallerAbort, { once: true });
    this.timer = setTimeout(() => {
      this.controller.abort(new DOMException("request timed out", "TimeoutError"));
    }, timeoutInMs);
  }

  /** Restarts the timeout (a body chunk arrived). */
  touch(): void {
    this.timer?.refresh();
  }

  get timedOut(): boolean {
    return this.controller.signal.aborted && !this.callerSignal?.aborted;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.callerSignal?.removeEventListener("abort", this.onCallerAbort);
  }
}

/**
 * Client of the Office 365 Management Activity API over `fetch`: bearer tokens from an
 * `@azure/identity` credential (cached, renewed before expiry, renewed once more on a 401),
 * `PublisherIdentifier` on every request, classified errors, retries with backoff bounded by
 * attempts and a deadline, and metrics per request. It sends the token only to the configured
 * API origin and tenant.
 */
export class ManagementApiClient {
  readonly location: ApiLocation;
  readonly root: string;
  private readonly scope: string;
  private readonly now: () => number;
  private cachedToken: AccessToken | undefined;
  private pendingToken: Promise<AccessToken> | undefined;

  constructor(private readonly options: ManagementApiClientOptions) {
    normalizeBaseUrl(options.baseUrl);
    if (!options.tenantId) throw new TypeError("ManagementApiClient needs a tenantId");
    if (!options.publisherId) throw new TypeError("ManagementApiClient needs a publisherId");
    this.location = { baseUrl: options.baseUrl, tenantId: options.tenantId };
    this.root = feedRoot(this.location);
    this.scope = scopeFor(options.audience);
    this.now = options.nowMs ?? Date.now;
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
    const { response, scope } = await this.withRetries("blob", options, undefined, (forceRefresh) =>
      this.sendOnce("blob", "GET", url, options, undefined, forceRefresh),
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
    // The documented header is NextPageUri; an old doc revision said NextPageUrl (reference §2.5).
    const next = headers.get("NextPageUri") ?? headers.get("NextPageUrl") ?? undefined;
    return { blobs, nextPageUri: next && next.trim() !== "" ? next : undefined };
  }

  /** A JSON operation; retries cover the status, the body read and the body's shape. */
  private async requestJson(
    operation: ApiOperation,
    method: string,
    url: string,
    options: OperationOptions,
    expect: { context?: string; expectArray?: boolean } = {},
  ): Promise<{ body: unknown; headers: Headers }> {
    const context = expect.context;
    return this.withRetries(operation, options, context, async (forceRefresh) => {
      const { response, scope } = await this.sendOnce(
        operation,
        method,
        url,
        options,
        context,
        forceRefresh,
      );
      try {
        let text: string;
        try {
          text = await response.text();
        } catch (error) {
          if (options.abortSignal?.aborted) throw options.abortSignal.reason;
          const code = scope.timedOut ? "timeout" : "truncated-body";
          throw this.networkError(operation, code, error, context, response.status);
        }
        let body: unknown = null;
        if (text.trim() !== "") {
          try {
            body = JSON.parse(text);
          } catch (error) {
            // A 2xx body cut short or mangled on the way; the same request usually succeeds again.
            throw this.networkError(operation, "invalid-json", error, context, response.status);
          }
        }
        if (expect.expectArray && !Array.isArray(body)) {
          throw this.networkError(
            operation,
            "unexpected-body",
            undefined,
            context,
            response.status,
          );
        }
        return { body, headers: response.headers };
      } finally {
        scope.close();
      }
    });
  }

  /** One attempt: checks the target, attaches token and PublisherIdentifier, classifies errors. */
  private async sendOnce(
    operation: ApiOperation,
    method: string,
    url: string,
    options: OperationOptions,
    context: string | undefined,
    forceRefresh: boolean,
  ): Promise<{ response: Response; scope: AttemptScope }> {
    const target = withPublisherIdentifier(url, this.options.publisherId);
    if (!isFeedUrl(new URL(target), this.location)) {
      // Defence in depth: callers check links from the API, but the token never leaves here
      // for another host or tenant whatever they pass.
      throw new ManagementApiError({
        operation,
        classification: {
          action: "fatal-config",
          reason: `refused to send the token to ${new URL(target).host}: not the configured Management API and tenant`,
        },
        context,
      });
    }
    const token = await this.getToken(forceRefresh, options.abortSignal, operation, context);
    const scope = new AttemptScope(
      options.abortSignal,
      this.options.fetchTimeoutInMs ?? DEFAULT_FETCH_TIMEOUT_IN_MS,
    );
    const startedAt = performance.now();
    let response: Response;
    try {
      response = await fetch(target, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          ...(method === "POST" ? { "Content-Type": "application/json; charset=utf-8" } : {}),
        },
        // The API does not redirect; following one could carry the token elsewhere.
        redirect: "manual",
        signal: scope.controller.signal,
      });
    } catch (error) {
      const timedOut = scope.timedOut;
      scope.close();
      if (options.abortSignal?.aborted) throw options.abortSignal.reason;
      this.count(operation, "network", timedOut ? "timeout" : networkCode(error), startedAt);
      throw this.networkError(operation, timedOut ? "timeout" : networkCode(error), error, context);
    }
    if (response.ok) {
      this.count(operation, String(response.status), "none", startedAt);
      return { response, scope };
    }
    let bodyText = "";
    try {
      bodyText = (await response.text()).slice(0, MAX_ERROR_BODY_CHARS);
    } catch {
      // The status alone still classifies the answer; the body was cut on the way.
    } finally {
      scope.close();
    }
    const { code, message } = parseApiError(bodyText);
    this.count(operation, String(response.status), code ?? "none", startedAt);
    const classification =
      response.status >= 300 && response.status < 400
        ? {
            action: "fatal-config" as const,
            reason: `unexpected redirect (HTTP ${response.status}) from the Management API: check O365_MANAGEMENT_ENDPOINT`,
          }
        : classifyApiResponse({ status: response.status, code, message, operation });
    const serverDate = Date.parse(response.headers.get("Date") ?? "");
    throw new ManagementApiError({
      operation,
      status: response.status,
      code,
      apiMessage: message,
      classification,
      serverDateMs: Number.isNaN(serverDate) ? undefined : serverDate,
      retryAfterInMs: parseRetryAfter(response.headers.get("Retry-After"), this.now()),
      context,
    });
  }

  /** Retries one operation by its classification; after a 401 the next attempt gets a new token. */
  private async withRetries<T>(
    operation: ApiOperation,
    options: OperationOptions,
    context: string | undefined,
    attemptFn: (forceRefresh: boolean) => Promise<T>,
  ): Promise<T> {
    const o = this.options;
    let refreshed = false;
    let refreshNext = false;
    try {
      return await retryAsync(
        async () => {
          const force = refreshNext;
          refreshNext = false;
          return attemptFn(force);
        },
        {
          maxAttempts: o.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
          deadlineInMs: o.deadlineInMs ?? DEFAULT_REQUEST_DEADLINE_IN_MS,
          abortSignal: options.abortSignal,
          baseDelayInMs: o.retryBaseDelayInMs ?? DEFAULT_BASE_DELAY_IN_MS,
          maxDelayInMs: o.retryMaxDelayInMs ?? DEFAULT_MAX_DELAY_IN_MS,
          random: o.random,
          nowMs: this.now,
          shouldRetry: (error): RetryDecision => {
            if (!isManagementApiError(error)) return { retry: false };
            const { action, throttled } = error.classification;
            if (action === "refresh-token") {
              if (refreshed) return { retry: false };
              refreshed = true;
              refreshNext = true;
              return { retry: true, delayInMs: 0 };
            }
            if (action !== "retry") return { retry: false };
            const throttleMax = o.throttleMaxDelayInMs ?? DEFAULT_THROTTLE_MAX_DELAY_IN_MS;
            if (error.retryAfterInMs !== undefined) {
              return { retry: true, delayInMs: Math.min(error.retryAfterInMs, throttleMax) };
            }
            return throttled
              ? {
                  retry: true,
                  backoff: {
                    baseDelayInMs: o.throttleBaseDelayInMs ?? DEFAULT_THROTTLE_BASE_DELAY_IN_MS,
                    maxDelayInMs: throttleMax,
                  },
                }
              : { retry: true };
          },
          onRetry: ({ attempt, error, delayInMs }) => {
            const apiError = error as ManagementApiError;
            if (apiError.classification.throttled) {
              o.metrics?.throttleWaitSeconds.inc({ target: "management-api" }, delayInMs / 1000);
            }
            o.logger?.warn(
              {
                operation,
                context,
                attempt,
                delayInMs,
                status: apiError.status,
                code: apiError.code,
                reason: apiError.classification.reason,
              },
              "Management API request failed; retrying",
            );
          },
          onGiveUp: (exhausted) => {
            o.logger?.warn(
              { operation, context, attempts: exhausted.attempts, giveUp: exhausted.reason },
              `Management API request gave up: ${exhausted.message}`,
            );
          },
        },
      );
    } catch (error) {
      if (isRetryExhaustedError(error) && isManagementApiError(error.lastError)) {
        const last = error.lastError;
        throw new ManagementApiError({
          operation: last.operation,
          status: last.status,
          code: last.code,
          apiMessage: last.apiMessage,
          classification: last.classification,
          serverDateMs: last.serverDateMs,
          retryAfterInMs: last.retryAfterInMs,
          attempts: error.attempts,
          giveUp: error.reason,
          context,
          cause: last,
        });
      }
      if (isManagementApiError(error) && error.classification.action === "refresh-token") {
        throw new ManagementApiError({
          operation: error.operation,
          status: error.status,
          code: error.code,
          apiMessage: error.apiMessage,
          classification: {
            action: "fatal-config",
            reason:
              "the API rejected a freshly issued token (HTTP 401): check AZURE_TENANT_ID, AZURE_CLIENT_ID and O365_CLOUD (token audience)",
          },
          context,
          cause: error,
        });
      }
      throw error;
    }
  }

  /** A token for the API audience: cached until near expiry; `force` skips every cache. */
  private async getToken(
    force: boolean,
    abortSignal: AbortSignal | undefined,
    operation: ApiOperation,
    context: string | undefined,
  ): Promise<string> {
    const cached = this.cachedToken;
    if (!force && cached !== undefined && this.isFresh(cached)) {
      return cached.token;
    }
    if (force) {
      this.cachedToken = undefined;
    } else if (this.pendingToken !== undefined) {
      return (await this.pendingToken).token;
    }
    const pending = this.fetchToken(force, abortSignal);
    if (!force) this.pendingToken = pending;
    try {
      const token = await pending;
      this.cachedToken = token;
      return token.token;
    } catch (error) {
      if (abortSignal?.aborted) throw abortSignal.reason;
      throw new ManagementApiError({
        operation,
        code: /AADSTS\d+/.exec(error instanceof Error ? error.message : "")?.[0],
        classification: {
          action: isFatalTokenError(error) ? "fatal-config" : "retry",
          reason: describeTokenError(error),
        },
        context,
      });
    } finally {
      if (this.pendingToken === pending) this.pendingToken = undefined;
    }
  }

  private isFresh(token: AccessToken): boolean {
    const now = this.now();
    const refreshAt = Math.min(
      token.refreshAfterTimestamp ?? Number.POSITIVE_INFINITY,
      token.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_IN_MS,
    );
    return now < refreshAt;
  }

  private async fetchToken(
    force: boolean,
    abortSignal: AbortSignal | undefined,
  ): Promise<AccessToken> {
    // MSAL serves client-credential tokens from its cache until they near expiry, also after
    // the API rejected one (e.g. the clock of one side is off). A claims challenge is how MSAL
    // is told to skip its cache; the claim itself (not-before now) is harmless.
    const claims = force
      ? JSON.stringify({
          access_token: { nbf: { essential: true, value: String(Math.floor(this.now() / 1000)) } },
        })
      : undefined;
    const token = await this.options.credential.getToken(this.scope, {
      abortSignal,
      ...(claims ? { claims } : {}),
    });
    if (token === null) {
      throw new Error(`the credential returned no token for ${this.scope}`);
    }
    return token;
  }

  private count(operation: ApiOperation, status: string, code: string, startedAt: number): void {
    this.options.metrics?.apiRequests.inc({ operation, status, code });
    this.options.metrics?.requestDurationSeconds.observe(
      { operation },
      (performance.now() - startedAt) / 1000,
    );
  }

  private networkError(
    operation: ApiOperation,
    code: string,
    cause: unknown,
    context?: string,
    status?: number,
  ): ManagementApiError {
    return new ManagementApiError({
      operation,
      status,
      code,
      classification: classifyApiResponse({ networkError: code, operation }),
      context,
      cause,
    });
  }
}
