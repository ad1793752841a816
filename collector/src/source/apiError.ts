/**
 * The error of every failed exchange with the Office 365 Management Activity API, and the
 * parser of the API's error bodies. Shared by the collector and `verify`.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#errors
 */

import { AuditBridgeError } from "../../../domain/errors";
import type { GiveUpReason } from "../backoff";
import type { ApiClassification, ApiOperation } from "./classifier";

/** What {@link ManagementApiError} is built from. */
export interface ManagementApiErrorInit {
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
}

/**
 * A failed exchange with the Management Activity API, classified. Messages name the operation,
 * the status and code and what to do; they never contain the token. `code` is the API's
 * `error.code` (an AF code), the AADSTS code of a failed token request, or a network code
 * (`ECONNRESET`, `timeout`, `truncated-body`, …).
 */
export class ManagementApiError extends AuditBridgeError {
  override readonly name = "ManagementApiError";
  readonly operation: ApiOperation;
  readonly status?: number;
  /** `error.message` from the body (first line, shortened). */
  readonly apiMessage?: string;
  readonly classification: ApiClassification;
  /** The server's clock (`Date` header), for clock-skew correction of listing windows. */
  readonly serverDateMs?: number;
  /** `Retry-After`, when the server sent one. */
  readonly retryAfterInMs?: number;
  /** Attempts made before giving up, when retries ran out. */
  readonly attempts?: number;
  /** Why retries stopped, when they ran out. */
  readonly giveUp?: GiveUpReason;

  constructor(init: ManagementApiErrorInit) {
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
      { code: init.code, cause: init.cause },
    );
    this.operation = init.operation;
    this.status = init.status;
    this.apiMessage = init.apiMessage;
    this.classification = init.classification;
    this.serverDateMs = init.serverDateMs;
    this.retryAfterInMs = init.retryAfterInMs;
    this.attempts = init.attempts;
    this.giveUp = init.giveUp;
  }
}

/** Type guard for {@link ManagementApiError}. */
export function isManagementApiError(error: unknown): error is ManagementApiError {
  return error instanceof ManagementApiError;
}

/**
 * Reads the API's error JSON: `{"error":{"code":…,"message":…}}`, also the single-quoted AF429
 * variant and bodies that are not JSON at all (a proxy's HTML page).
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
