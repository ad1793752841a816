/**
 * Exchange Online's admin REST endpoint: the one call path AuditBridge uses to read and set the
 * tenant's unified audit log switch (`UnifiedAuditLogIngestionEnabled`).
 *
 * Microsoft does not document this endpoint as a public API. It is what the Exchange Online
 * PowerShell module (v3) sends its cmdlets to, and the only non-interactive way to run
 * `Get-AdminAuditLogConfig` / `Set-AdminAuditLogConfig` outside PowerShell. Everything AuditBridge
 * relies on is written down here, in one place, so a change on Microsoft's side is a change here:
 *
 * - Request: `POST {exchangeEndpoint}/adminapi/beta/{tenantId}/InvokeCommand`,
 *   `Content-Type: application/json`, body
 *   `{"CmdletInput":{"CmdletName":"<cmdlet>","Parameters":{…}}}`, bearer token for
 *   `{exchangeEndpoint}/.default`.
 * - Answer: `{"value":[{…}, …]}`, more pages behind `@odata.nextLink`.
 * - Error: `{"error":{"code","message","details":[{"code","message"}],…}}`; Exchange's exception
 *   name (e.g. `InvalidOperationInDehydratedContextException`) stands in the message or in a
 *   detail, so errors are recognised by substring over all of them.
 * - Routing: `X-AnchorMailbox` names a system mailbox the request is routed by. Without the
 *   right anchor, `Set-AdminAuditLogConfig` answers HTTP 400 "Cmdlet needs proxy", hence a
 *   per-cmdlet anchor below.
 * - Permissions: a user with the Exchange "Audit Logs" role (Organization Management or
 *   Compliance Management role group), or an app with the `Exchange.ManageAsApp` application
 *   permission plus an Entra role such as Exchange Administrator or Compliance Administrator:
 *   https://learn.microsoft.com/en-us/powershell/exchange/app-only-auth-powershell-v2
 * - The switch itself:
 *   https://learn.microsoft.com/en-us/purview/audit-log-enable-disable
 */
import type { TokenCredential } from "@azure/identity";
import { isRetryExhaustedError, retryAsync } from "../../collector/src/backoff";
import { scopeFor } from "../../domain/clouds";
import { AuditBridgeError } from "../../domain/errors";

/** The system mailbox most cmdlets are routed by. */
export const DEFAULT_ANCHOR_MAILBOX_ID = "bb558c35-97f1-4cb9-8ff7-d53741dc928c";
/** The system mailbox `Set-AdminAuditLogConfig` must be routed by ("Cmdlet needs proxy" otherwise). */
export const AUDIT_CONFIG_ANCHOR_MAILBOX_ID = "8cc370d3-822a-4ab8-a926-bb94bd0641a9";

/** Cmdlets AuditBridge runs, each with the anchor it is routed by. */
const ANCHOR_FOR_CMDLET: Readonly<Record<string, string>> = {
  "Set-AdminAuditLogConfig": AUDIT_CONFIG_ANCHOR_MAILBOX_ID,
};

/** `X-AnchorMailbox` for a cmdlet in a tenant. */
export function anchorMailbox(cmdlet: string, tenantId: string): string {
  const id = ANCHOR_FOR_CMDLET[cmdlet] ?? DEFAULT_ANCHOR_MAILBOX_ID;
  return `APP:SystemMailbox{${id}}@${tenantId}`;
}

/** Pages followed at most: the cmdlets AuditBridge runs answer with one object. */
const MAX_PAGES = 20;
/** Attempts for one call on 429/5xx/network failures, the first included. */
export const DEFAULT_EXCHANGE_MAX_ATTEMPTS = 4;
/** One call and its retries give up after this long. */
export const DEFAULT_EXCHANGE_DEADLINE_IN_MS = 120_000;
/** Error bodies are read up to this size. */
const MAX_ERROR_BODY_CHARS = 16 * 1024;

/** What went wrong, in the terms a user can act on. */
export type ExchangeAdminErrorCode =
  /** The token was refused (HTTP 401). */
  | "unauthorized"
  /** The caller lacks the role or permission (HTTP 403). */
  | "forbidden"
  /** "Cmdlet needs proxy": the request reached a server that cannot run the cmdlet. */
  | "needs-proxy"
  /** The tenant is dehydrated: `Enable-OrganizationCustomization` must run first. */
  | "dehydrated"
  /** The endpoint does not exist here (HTTP 404): wrong host, or not offered in this cloud. */
  | "not-found"
  /** Throttled, server error or network failure, after retries. */
  | "unavailable"
  /** Any other answer. */
  | "failed";

/** A failed Exchange admin call. Messages never contain the token. */
export class ExchangeAdminError extends AuditBridgeError<ExchangeAdminErrorCode> {
  override readonly name: string = "ExchangeAdminError";
  declare readonly code: ExchangeAdminErrorCode;
  constructor(
    code: ExchangeAdminErrorCode,
    message: string,
    readonly cmdlet: string,
    readonly status?: number,
    /** `error.code` of the answer, when it had one. */
    readonly apiCode?: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, { code, ...options });
  }
}

export function isExchangeAdminError(error: unknown): error is ExchangeAdminError {
  return error instanceof ExchangeAdminError;
}

export interface ExchangeAdminClientOptions {
  /** Exchange Online's base URL, e.g. `https://outlook.office365.com` (or EXCHANGE_ADMIN_ENDPOINT). */
  endpoint: string;
  /** Token audience; the cloud's Exchange host. Defaults to `endpoint`. */
  audience?: string;
  /** The Microsoft 365 tenant GUID. */
  tenantId: string;
  credential: TokenCredential;
  maxAttempts?: number;
  deadlineInMs?: number;
  /** Base of the retry backoff; tests shorten it. */
  retryBaseDelayInMs?: number;
}

export interface InvokeOptions {
  abortSignal?: AbortSignal;
}

/** `Get-AdminAuditLogConfig`, as far as AuditBridge reads it. */
export interface AdminAuditLogConfig {
  unifiedAuditLogIngestionEnabled: boolean;
}

/** `Get-OrganizationConfig`, as far as AuditBridge reads it. */
export interface OrganizationConfig {
  isDehydrated: boolean;
}

/** A classified answer that may be retried. */
class RetryableAnswer extends Error {}

/** Runs Exchange Online cmdlets through the admin REST endpoint. */
export class ExchangeAdminClient {
  private readonly url: string;
  private readonly scope: string;

  constructor(private readonly options: ExchangeAdminClientOptions) {
    const base = options.endpoint.replace(/\/+$/, "");
    this.url = `${base}/adminapi/beta/${encodeURIComponent(options.tenantId)}/InvokeCommand`;
    this.scope = scopeFor(options.audience ?? base);
  }

  /** Runs a cmdlet and returns every object it answered with (all pages). */
  async invoke(
    cmdlet: string,
    parameters: Record<string, unknown> = {},
    options: InvokeOptions = {},
  ): Promise<Record<string, unknown>[]> {
    const body = JSON.stringify({ CmdletInput: { CmdletName: cmdlet, Parameters: parameters } });
    const values: Record<string, unknown>[] = [];
    let url: string | undefined = this.url;
    for (let page = 0; url !== undefined && page < MAX_PAGES; page++) {
      const answer = await this.post(cmdlet, url, body, options);
      values.push(...answer.value);
      url = answer.nextLink;
    }
    return values;
  }

  async getAdminAuditLogConfig(options: InvokeOptions = {}): Promise<AdminAuditLogConfig> {
    const [config] = await this.invoke("Get-AdminAuditLogConfig", {}, options);
    const enabled = config?.UnifiedAuditLogIngestionEnabled;
    if (typeof enabled !== "boolean") {
      throw new ExchangeAdminError(
        "failed",
        "Get-AdminAuditLogConfig answered without UnifiedAuditLogIngestionEnabled",
        "Get-AdminAuditLogConfig",
      );
    }
    return { unifiedAuditLogIngestionEnabled: enabled };
  }

  async setUnifiedAuditLogIngestionEnabled(options: InvokeOptions = {}): Promise<void> {
    await this.invoke(
      "Set-AdminAuditLogConfig",
      { UnifiedAuditLogIngestionEnabled: true },
      options,
    );
  }

  async getOrganizationConfig(options: InvokeOptions = {}): Promise<OrganizationConfig> {
    const [config] = await this.invoke("Get-OrganizationConfig", {}, options);
    return { isDehydrated: config?.IsDehydrated === true };
  }

  async enableOrganizationCustomization(options: InvokeOptions = {}): Promise<void> {
    await this.invoke("Enable-OrganizationCustomization", {}, options);
  }

  private async post(
    cmdlet: string,
    url: string,
    body: string,
    options: InvokeOptions,
  ): Promise<{ value: Record<string, unknown>[]; nextLink?: string }> {
    try {
      return await retryAsync(
        async () => {
          const token = await this.options.credential.getToken(this.scope, {
            abortSignal: options.abortSignal,
          });
          if (!token) {
            throw new ExchangeAdminError("unauthorized", "no access token", cmdlet);
          }
          let response: Response;
          try {
            response = await fetch(url, {
              method: "POST",
              headers: {
                authorization: `Bearer ${token.token}`,
                "content-type": "application/json",
                accept: "application/json",
                "x-anchormailbox": anchorMailbox(cmdlet, this.options.tenantId),
                "x-cmdletname": cmdlet,
                "x-responseformat": "json",
                prefer: "odata.maxpagesize=1000",
              },
              body,
              signal: options.abortSignal,
            });
          } catch (error) {
            if (options.abortSignal?.aborted) throw error;
            throw new RetryableAnswer(`network failure (${(error as Error).message})`, {
              cause: error,
            });
          }
          if (response.ok) return parseAnswer(cmdlet, await response.text());
          const text = (await response.text()).slice(0, MAX_ERROR_BODY_CHARS);
          const classified = classifyExchangeError(cmdlet, response.status, text);
          // Exchange reports some refusals as server errors; those are not worth a retry.
          const refusal = classified.code === "dehydrated" || classified.code === "needs-proxy";
          if ((response.status === 429 || response.status >= 500) && !refusal) {
            throw new RetryableAnswer(`HTTP ${response.status}`);
          }
          throw classified;
        },
        {
          maxAttempts: this.options.maxAttempts ?? DEFAULT_EXCHANGE_MAX_ATTEMPTS,
          deadlineInMs: this.options.deadlineInMs ?? DEFAULT_EXCHANGE_DEADLINE_IN_MS,
          baseDelayInMs: this.options.retryBaseDelayInMs ?? 1_000,
          abortSignal: options.abortSignal,
          shouldRetry: (error) =>
            error instanceof RetryableAnswer ? { retry: true } : { retry: false },
        },
      );
    } catch (error) {
      if (error instanceof ExchangeAdminError || options.abortSignal?.aborted) throw error;
      const last = isRetryExhaustedError(error) ? error.lastError : error;
      throw new ExchangeAdminError(
        "unavailable",
        `${cmdlet} could not be run: Exchange Online kept failing (${
          last instanceof Error ? last.message : "no answer"
        }); try again in a few minutes`,
        cmdlet,
        undefined,
        undefined,
        { cause: error },
      );
    }
  }
}

function parseAnswer(
  cmdlet: string,
  text: string,
): { value: Record<string, unknown>[]; nextLink?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ExchangeAdminError(
      "failed",
      `${cmdlet} answered with a body that is not JSON`,
      cmdlet,
    );
  }
  const value = (parsed as { value?: unknown })?.value;
  if (!Array.isArray(value)) {
    throw new ExchangeAdminError("failed", `${cmdlet} answered without a "value" list`, cmdlet);
  }
  const next = (parsed as { "@odata.nextLink"?: unknown })["@odata.nextLink"];
  return {
    value: value.filter((item): item is Record<string, unknown> => typeof item === "object"),
    ...(typeof next === "string" && next !== "" ? { nextLink: next } : {}),
  };
}

/** Maps a non-retryable error answer to an {@link ExchangeAdminError} naming the cause. */
export function classifyExchangeError(
  cmdlet: string,
  status: number,
  bodyText: string,
): ExchangeAdminError {
  let apiCode: string | undefined;
  let texts: string[] = [];
  try {
    const error = (JSON.parse(bodyText) as { error?: Record<string, unknown> }).error;
    if (error && typeof error === "object") {
      apiCode = typeof error.code === "string" ? error.code : undefined;
      texts = [error.message, ...(Array.isArray(error.details) ? error.details : [])].map((item) =>
        typeof item === "string"
          ? item
          : typeof item === "object" && item !== null
            ? String((item as { message?: unknown }).message ?? "")
            : "",
      );
    }
  } catch {
    texts = [bodyText];
  }
  const all = texts.join(" ");
  // The first line of Exchange's message, without its "Ex1234AB|Namespace.Exception|" prefix.
  const summary = (texts[0] ?? "").split(/\r?\n/)[0]!.split("|").pop()!.trim().slice(0, 200);
  const detail = `HTTP ${status}${apiCode ? ` ${apiCode}` : ""}${summary ? `: ${summary}` : ""}`;
  if (/InvalidOperationInDehydratedContext|dehydrated/i.test(all)) {
    return new ExchangeAdminError(
      "dehydrated",
      `${cmdlet} was refused because the tenant is dehydrated (${detail})`,
      cmdlet,
      status,
      apiCode,
    );
  }
  if (/needs proxy/i.test(all)) {
    return new ExchangeAdminError(
      "needs-proxy",
      `${cmdlet} reached an Exchange server that cannot run it ("Cmdlet needs proxy", ${detail})`,
      cmdlet,
      status,
      apiCode,
    );
  }
  const code: ExchangeAdminErrorCode =
    status === 401
      ? "unauthorized"
      : status === 403
        ? "forbidden"
        : status === 404
          ? "not-found"
          : "failed";
  return new ExchangeAdminError(code, `${cmdlet} failed (${detail})`, cmdlet, status, apiCode);
}
