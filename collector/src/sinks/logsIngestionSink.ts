import type { TokenCredential } from "@azure/core-auth";
import {
  isAggregateLogsUploadError,
  LogsIngestionClient,
  type LogsIngestionClientOptions,
} from "@azure/monitor-ingestion";
import { type ContentBlob, recordTypeName } from "../../../domain/records";
import { type AuditRow, DEFAULT_STREAM_NAME } from "../../../domain/table";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import type { Batch, DeliveryOutcome, OperationOptions, ReceivedRecord, Sink } from "../types";
import { fitAuditData, LOG_ANALYTICS_FIELD_LIMIT_BYTES, truncationMarker } from "./fieldLimit";

/** Parallel upload requests per batch; the SDK's default. */
export const DEFAULT_INGESTION_CONCURRENCY = 5;

export interface LogsIngestionSinkOptions {
  /** DCE or DCR logs-ingestion endpoint, e.g. `https://<dce>.<region>.ingest.monitor.azure.com`. */
  endpoint: string;
  /** The DCR's immutable id (`dcr-…`). */
  ruleId: string;
  /** Stream declared in the DCR (default `Custom-M365Audit`). */
  streamName?: string;
  /** Managed identity in Azure, the app credential elsewhere. */
  credential: TokenCredential;
  /** Token audience of the cloud (`https://monitor.azure.com`, `.us` for US Government). */
  audience?: string;
  /** Extra SDK client options (retry policy, TLS for private endpoints). */
  clientOptions?: Omit<LogsIngestionClientOptions, "audience">;
  /** Parallel upload requests per batch (default {@link DEFAULT_INGESTION_CONCURRENCY}). */
  maxConcurrency?: number;
  /**
   * AuditData larger than this (bytes of JSON) is reduced with explicit markers (fieldLimit.ts).
   * Default and maximum useful value: the 64 KB Log Analytics field limit.
   */
  maxFieldBytes?: number;
  metrics?: CollectorMetrics;
  logger?: Logger;
  /** Sink name reported to the pipeline (default `logs-ingestion`). */
  name?: string;
}

/** Maps one audit record to a row of the AuditBridge table (domain/table.ts; docs/table.md lists the fields). */
export function toAuditRow(
  record: ReceivedRecord,
  blob: ContentBlob,
  contentType: string,
): AuditRow {
  const r = record.record;
  return {
    TimeGenerated: utcTimestamp(r.CreationTime) ?? blob.contentCreated,
    RecordId: record.id,
    RecordType: toInt(r.RecordType),
    RecordTypeName: recordTypeName(r.RecordType),
    Operation: toText(r.Operation),
    Workload: toText(r.Workload),
    UserId: toText(r.UserId),
    UserKey: toText(r.UserKey),
    UserType: toInt(r.UserType),
    ClientIP: toText(r.ClientIP),
    ResultStatus: toText(r.ResultStatus),
    ObjectId: toText(r.ObjectId),
    OrganizationId: toText(r.OrganizationId),
    ContentType: contentType,
    ContentId: blob.contentId,
    ContentCreated: blob.contentCreated,
    AuditData: r,
  };
}

/** The API writes CreationTime without a zone ("2026-03-01T10:00:00"); it is UTC. */
function utcTimestamp(value: unknown): string | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
  return Number.isNaN(Date.parse(zoned)) ? undefined : zoned;
}

/** Integers even when the record carries them as strings ("RecordType": "15"). */
function toInt(value: unknown): number | null {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n) ? n : null;
}

function toText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

type Row = Record<string, unknown>;

interface SendResult {
  /** Rows to send again later (throttled, server errors, not yet authorized). */
  retry: Row[];
  retryAfterInMs?: number;
  retryError?: Error;
  /** A refusal that retrying will not fix. */
  failure?: Error;
}

/** A row already reduced to fit after a 413; a second 413 on it is final. */
const REDUCED = Symbol("reduced");

/**
 * Delivers batches to a Logs Ingestion DCR stream with `LogsIngestionClient.upload`.
 *
 * - Rows follow the table schema (`toAuditRow`); AuditData over the 64 KB field limit is
 *   reduced visibly (fieldLimit.ts), counted in `records_oversize_total` and logged by Id.
 * - `AggregateLogsUploadError`: only the failed chunks' rows are kept for the next attempt
 *   (the pipeline retries the same Batch object); the batch is acknowledged once all rows
 *   were accepted.
 * - 429 with or without `Retry-After` (the SDK retries neither after its own attempts, and
 *   never the latter), 408, 5xx, network errors, and 401/403 (a role assignment can take
 *   30 minutes to propagate) are retryable; `Retry-After` is passed on as `retryAfterInMs`.
 * - 413: the request is split in halves and sent again at once; a single row is reduced to the
 *   field limit once, then refused.
 * - 400 and 404 are failures carrying the service's message (wrong stream, columns, DCR id).
 */
export class LogsIngestionSink implements Sink {
  readonly name: string;
  /** Rows are built from the parsed record. */
  readonly usesParsedRecords = true;
  private readonly client: LogsIngestionClient;
  private readonly ruleId: string;
  private readonly streamName: string;
  private readonly maxConcurrency: number;
  private readonly maxFieldBytes: number;
  private readonly metrics?: CollectorMetrics;
  private readonly logger?: Logger;
  /** Rows of a batch not yet accepted, kept between attempts of the same Batch. */
  private readonly remaining = new WeakMap<Batch, Row[]>();

  constructor(options: LogsIngestionSinkOptions) {
    const endpoint = validateEndpoint(options.endpoint);
    if (!/^dcr-[0-9a-f]{32}$/i.test(options.ruleId ?? "")) {
      throw new Error(
        `LOGS_INGESTION_RULE_ID "${options.ruleId ?? ""}" is not a DCR immutable id (dcr- followed by 32 hex digits); copy it from the DCR's JSON view`,
      );
    }
    const streamName = options.streamName ?? DEFAULT_STREAM_NAME;
    if (!/^Custom-[A-Za-z0-9_]+$/.test(streamName)) {
      throw new Error(
        `LOGS_INGESTION_STREAM "${streamName}" is not a custom stream name (Custom-<Name>)`,
      );
    }
    this.name = options.name ?? "logs-ingestion";
    this.ruleId = options.ruleId;
    this.streamName = streamName;
    this.maxConcurrency = options.maxConcurrency ?? DEFAULT_INGESTION_CONCURRENCY;
    this.maxFieldBytes = options.maxFieldBytes ?? LOG_ANALYTICS_FIELD_LIMIT_BYTES;
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.client = new LogsIngestionClient(endpoint, options.credential, {
      ...options.clientOptions,
      ...(options.audience ? { audience: options.audience } : {}),
    });
  }

  async start(_committedPosition: string | undefined, _options?: OperationOptions): Promise<void> {}

  async deliver(batch: Batch, options?: OperationOptions): Promise<DeliveryOutcome> {
    const rows =
      this.remaining.get(batch) ?? batch.records.map((record) => this.rowFor(record, batch));
    let result: SendResult;
    try {
      result = await this.send(rows, options?.abortSignal);
    } catch (error) {
      // Aborts and errors outside the per-chunk report (none expected): try again later.
      this.remaining.set(batch, rows);
      const err = error instanceof Error ? error : new Error(String(error));
      return {
        kind: "retryable",
        error: new Error(`Logs Ingestion upload did not complete: ${err.message}`, { cause: err }),
      };
    }
    if (result.failure) {
      this.remaining.delete(batch);
      return { kind: "failure", error: result.failure };
    }
    if (result.retry.length > 0) {
      this.remaining.set(batch, result.retry);
      return {
        kind: "retryable",
        error: result.retryError ?? new Error("Logs Ingestion asked to retry"),
        ...(result.retryAfterInMs !== undefined ? { retryAfterInMs: result.retryAfterInMs } : {}),
      };
    }
    this.remaining.delete(batch);
    return { kind: "success" };
  }

  async close(): Promise<void> {}

  /** The table row of a record, with the 64 KB field limit enforced visibly. */
  private rowFor(record: ReceivedRecord, batch: Batch, limitBytes = this.maxFieldBytes): Row {
    const row = toAuditRow(record, batch.blob, batch.contentType) as unknown as Row;
    // Byte length of the raw text is a cheap upper-bound check before any re-serialization.
    if (
      Buffer.byteLength(record.raw, "utf8") > limitBytes ||
      JSON.stringify(row.AuditData).length > limitBytes
    ) {
      const fitted = fitAuditData(record.record as Record<string, unknown>, limitBytes);
      if (fitted.truncation) {
        row.AuditData = fitted.data;
        this.metrics?.recordsOversize.inc(
          {
            content_type: batch.contentType,
            action: fitted.truncation.method === "strings" ? "truncated" : "summarized",
          },
          1,
        );
        this.logger?.warn(
          {
            recordId: record.id,
            contentId: batch.blob.contentId,
            originalBytes: fitted.truncation.originalBytes,
            fields: fitted.truncation.fields.map((field) => field.path),
          },
          "AuditData over the Log Analytics field limit: long strings shortened with markers (the file sink keeps the full record)",
        );
      }
    }
    for (const column of [
      "Operation",
      "UserId",
      "UserKey",
      "ClientIP",
      "ResultStatus",
      "ObjectId",
      "OrganizationId",
      "Workload",
    ]) {
      const value = row[column];
      if (typeof value === "string" && Buffer.byteLength(value, "utf8") > limitBytes) {
        const keep = Math.floor(limitBytes / 4);
        row[column] = value.slice(0, keep) + truncationMarker(keep, value.length);
        this.metrics?.recordsOversize.inc(
          { content_type: batch.contentType, action: "column-truncated" },
          1,
        );
        this.logger?.warn(
          { recordId: record.id, column },
          "column over the field limit shortened with a marker; AuditData keeps the value",
        );
      }
    }
    // Non-enumerable: never serialized, but lets a 413 on a lone row rebuild it smaller.
    Object.defineProperty(row, REDUCED, { value: { record, batch }, enumerable: false });
    return row;
  }

  /** Uploads rows; sorts every failed chunk into retry / split / failure. */
  private async send(rows: Row[], abortSignal: AbortSignal | undefined): Promise<SendResult> {
    const result: SendResult = { retry: [] };
    try {
      await this.client.upload(this.ruleId, this.streamName, rows, {
        maxConcurrency: this.maxConcurrency,
        ...(abortSignal ? { abortSignal } : {}),
      });
      return result;
    } catch (error) {
      if (!isAggregateLogsUploadError(error)) throw error;
      for (const failed of error.errors) {
        const status = statusOf(failed.cause);
        const message = serviceMessage(failed.cause);
        if (status === 413) {
          await this.resend413(failed.failedLogs, abortSignal, result);
        } else if (status === 400 || status === 404) {
          result.failure ??= new Error(
            `Logs Ingestion refused ${failed.failedLogs.length} rows for ${this.streamName} in ${this.ruleId} (HTTP ${status}): ${message}`,
            { cause: failed.cause },
          );
        } else {
          result.retry.push(...failed.failedLogs);
          const after = retryAfterInMs(failed.cause);
          if (after !== undefined)
            result.retryAfterInMs = Math.max(result.retryAfterInMs ?? 0, after);
          result.retryError = new Error(
            `Logs Ingestion ${status === undefined ? "request failed" : `answered HTTP ${status}`}${status === 403 ? " (Monitoring Metrics Publisher role missing or not yet propagated)" : ""}: ${message}`,
            { cause: failed.cause },
          );
        }
      }
      return result;
    }
  }

  /** 413: halve the request; a lone row is reduced to the field limit once, then refused. */
  private async resend413(
    rows: Row[],
    abortSignal: AbortSignal | undefined,
    into: SendResult,
  ): Promise<void> {
    let parts: Row[][];
    if (rows.length > 1) {
      const half = Math.ceil(rows.length / 2);
      parts = [rows.slice(0, half), rows.slice(half)];
    } else {
      const origin = (
        rows[0] as Record<symbol, { record: ReceivedRecord; batch: Batch } | undefined>
      )[REDUCED];
      const size = Buffer.byteLength(JSON.stringify(rows[0]), "utf8");
      if (!origin || size <= 2 * LOG_ANALYTICS_FIELD_LIMIT_BYTES) {
        into.failure ??= new Error(
          `Logs Ingestion refused a single row of ${size} bytes as too large (HTTP 413); record ${String(rows[0]?.RecordId)}`,
        );
        return;
      }
      parts = [[this.rowFor(origin.record, origin.batch, LOG_ANALYTICS_FIELD_LIMIT_BYTES)]];
    }
    for (const part of parts) {
      const sub = await this.send(part, abortSignal);
      into.retry.push(...sub.retry);
      if (sub.retryAfterInMs !== undefined)
        into.retryAfterInMs = Math.max(into.retryAfterInMs ?? 0, sub.retryAfterInMs);
      into.retryError ??= sub.retryError;
      into.failure ??= sub.failure;
    }
  }
}

function validateEndpoint(endpoint: string): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(
      `LOGS_INGESTION_ENDPOINT "${endpoint}" is not a URL; use the DCE or DCR logs ingestion endpoint (https://…ingest.monitor.azure.com)`,
    );
  }
  if (url.protocol !== "https:") {
    throw new Error(
      `LOGS_INGESTION_ENDPOINT "${endpoint}" must use https (bearer tokens are never sent in clear text)`,
    );
  }
  return endpoint.replace(/\/+$/, "");
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === "number" ? status : undefined;
}

/** The service's error message (`{error:{code,message}}`), else the error's own. */
function serviceMessage(error: unknown): string {
  const err = error as {
    message?: string;
    code?: string;
    details?: { error?: { code?: string; message?: string } };
  };
  const detail = err.details?.error;
  if (detail?.message) return detail.code ? `${detail.code}: ${detail.message}` : detail.message;
  return err.message ?? String(error);
}

/** `Retry-After` (seconds or HTTP date) or `retry-after-ms` / `x-ms-retry-after-ms`, in ms. */
function retryAfterInMs(error: unknown): number | undefined {
  const headers = (error as { response?: { headers?: { get(name: string): string | undefined } } })
    .response?.headers;
  if (!headers) return undefined;
  for (const name of ["retry-after-ms", "x-ms-retry-after-ms"]) {
    const value = Number(headers.get(name));
    if (headers.get(name) !== undefined && Number.isFinite(value) && value >= 0) return value;
  }
  const retryAfter = headers.get("retry-after");
  if (retryAfter === undefined) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(retryAfter);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
