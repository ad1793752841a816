/**
 * One attempt of one Management Activity API request over `fetch`: the target checked against
 * the configured API and tenant, a bearer token and `PublisherIdentifier` attached, a permit
 * from the request pacer, a timeout per request (restarted by every body chunk), metrics, and
 * every failure turned into a classified {@link ManagementApiError}; a throttling answer is
 * reported to the pacer. Retrying is the retry policy's business, not this one's.
 */
import { entraErrorCode } from "../../../domain/apiErrors";
import { describeTokenError, isFatalTokenError } from "../credentials";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import { ManagementApiError, parseApiError } from "./apiError";
import { type ApiOperation, classifyApiResponse } from "./classifier";
import type { PacerPermit, RequestPacer } from "./pacer";
import type { TokenCache } from "./tokenCache";
import { type ApiLocation, isFeedUrl, withPublisherIdentifier } from "./urls";

/** One request (headers, or the gap between two body chunks) may take this long. */
export const DEFAULT_FETCH_TIMEOUT_IN_MS = 60_000;
/** Error bodies are read up to this size; the audit-off error carries a stack trace. */
const MAX_ERROR_BODY_CHARS = 64 * 1024;

/** Options for {@link ManagementTransport}. */
export interface ManagementTransportOptions {
  location: ApiLocation;
  /** `PublisherIdentifier`, sent on every call. */
  publisherId: string;
  tokens: TokenCache;
  fetchTimeoutInMs?: number;
  /** Every attempt takes a permit from it before it is sent, and reports AF429 to it. */
  pacer?: RequestPacer;
  metrics?: Pick<
    CollectorMetrics,
    "apiRequests" | "requestDurationSeconds" | "apiPacerWaitSeconds" | "apiThrottled"
  >;
  logger?: Logger;
  /** Clock, epoch ms (for `Retry-After` dates). */
  nowMs?: () => number;
}

/** Options for one attempt. */
export interface SendOptions {
  abortSignal?: AbortSignal;
  /** Shown in error messages, e.g. the content type. */
  context?: string;
  /** Get a new token first: the API rejected the last one. */
  forceRefresh?: boolean;
}

/** What {@link ManagementTransport.readJson} expects of a 2xx body. */
export interface ReadJsonOptions extends SendOptions {
  expectArray?: boolean;
}

/** A request scoped to one attempt: its own abort (timeout) linked to the caller's signal. */
export class AttemptScope {
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

/** A 2xx answer whose body is still to be read; close the scope when done with it. */
export interface SentRequest {
  response: Response;
  scope: AttemptScope;
}

/** Sends single attempts; the token only ever goes to the configured API origin and tenant. */
export class ManagementTransport {
  private readonly now: () => number;

  constructor(private readonly options: ManagementTransportOptions) {
    this.now = options.nowMs ?? Date.now;
  }

  /** One attempt: checks the target, attaches token and PublisherIdentifier, classifies errors. */
  async send(
    operation: ApiOperation,
    method: string,
    url: string,
    options: SendOptions = {},
  ): Promise<SentRequest> {
    const { abortSignal, context } = options;
    const target = withPublisherIdentifier(url, this.options.publisherId);
    if (!isFeedUrl(new URL(target), this.options.location)) {
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
    const token = await this.token(operation, options);
    // After the token: Entra ID's answer is not the API's budget, and the permit's moment is
    // the moment the request leaves.
    const permit = await this.pace(abortSignal);
    const scope = new AttemptScope(
      abortSignal,
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
      if (abortSignal?.aborted) throw abortSignal.reason;
      const code = timedOut ? "timeout" : networkCode(error);
      this.count(operation, "network", code, startedAt);
      throw networkError(operation, code, error, context);
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
    if (classification.throttled) this.throttled(operation, permit);
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

  /** One attempt of a JSON operation: the status, the body read and the body's shape. */
  async readJson(
    operation: ApiOperation,
    method: string,
    url: string,
    options: ReadJsonOptions = {},
  ): Promise<{ body: unknown; headers: Headers }> {
    const { abortSignal, context } = options;
    const { response, scope } = await this.send(operation, method, url, options);
    try {
      let text: string;
      try {
        text = await response.text();
      } catch (error) {
        if (abortSignal?.aborted) throw abortSignal.reason;
        const code = scope.timedOut ? "timeout" : "truncated-body";
        throw networkError(operation, code, error, context, response.status);
      }
      let body: unknown = null;
      if (text.trim() !== "") {
        try {
          body = JSON.parse(text);
        } catch (error) {
          // A 2xx body cut short or mangled on the way; the same request usually succeeds again.
          throw networkError(operation, "invalid-json", error, context, response.status);
        }
      }
      if (options.expectArray && !Array.isArray(body)) {
        throw networkError(operation, "unexpected-body", undefined, context, response.status);
      }
      return { body, headers: response.headers };
    } finally {
      scope.close();
    }
  }

  /** Waits for the pacer's permit (none without a pacer) and counts the wait. */
  private async pace(abortSignal: AbortSignal | undefined): Promise<PacerPermit | undefined> {
    const { pacer, metrics } = this.options;
    if (pacer === undefined) return undefined;
    const startedAt = performance.now();
    const permit = await pacer.acquire(abortSignal);
    metrics?.apiPacerWaitSeconds.inc((performance.now() - startedAt) / 1000);
    return permit;
  }

  /** A throttling answer: the pacer spends less from now on; counted and, on a cut, logged. */
  private throttled(operation: ApiOperation, permit: PacerPermit | undefined): void {
    const { pacer, metrics, logger } = this.options;
    metrics?.apiThrottled.inc({ operation });
    if (pacer === undefined) return;
    const before = pacer.currentRequestsPerMinute;
    pacer.onThrottled(permit);
    const after = pacer.currentRequestsPerMinute;
    if (after < before) {
      logger?.info(
        {
          operation,
          requestsPerMinute: Math.round(after),
          budgetPerMinute: pacer.budgetPerMinute,
        },
        "throttled by the Management Activity API (AF429); the request pacer lowered its rate",
      );
    }
  }

  /** A token for the API, or a classified error naming what to fix. */
  private async token(operation: ApiOperation, options: SendOptions): Promise<string> {
    try {
      return await this.options.tokens.getToken({
        forceRefresh: options.forceRefresh,
        abortSignal: options.abortSignal,
      });
    } catch (error) {
      if (options.abortSignal?.aborted) throw options.abortSignal.reason;
      throw new ManagementApiError({
        operation,
        code: entraErrorCode(error instanceof Error ? error.message : ""),
        classification: {
          action: isFatalTokenError(error) ? "fatal-config" : "retry",
          reason: describeTokenError(error),
        },
        // No cause: a credential error may quote the request, and these errors get logged.
        context: options.context,
      });
    }
  }

  private count(operation: ApiOperation, status: string, code: string, startedAt: number): void {
    this.options.metrics?.apiRequests.inc({ operation, status, code });
    this.options.metrics?.requestDurationSeconds.observe(
      { operation },
      (performance.now() - startedAt) / 1000,
    );
  }
}

/** A classified network-level failure (no answer, a cut body, a body that is not JSON). */
export function networkError(
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
