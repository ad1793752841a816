import { promisify } from "node:util";
import { gzip, constants as zlibConstants } from "node:zlib";
import type { TokenCredential } from "@azure/core-auth";
import {
  createDefaultHttpClient,
  createHttpHeaders,
  createPipelineRequest,
  type HttpClient,
  type PipelinePolicy,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { LogsIngestionClient, type LogsIngestionClientOptions } from "@azure/monitor-ingestion";
import { DEFAULT_STREAM_NAME } from "../../../domain/table";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import type { Batch, DeliveryOutcome, OperationOptions, ReceivedRecord, Sink } from "../types";
import { LOG_ANALYTICS_FIELD_LIMIT_BYTES } from "./fieldLimit";
import {
  type AuditRowOptions,
  encodeAuditRow,
  MAX_UPLOAD_BODY_BYTES,
  type RowContext,
  type RowReduction,
  rowBytes,
} from "./logsIngestionRows";

export { toAuditRow } from "./logsIngestionRows";

/**
 * Upload requests in flight at once, across every batch being delivered (the SDK's per-call
 * default). Each holds a 1 MB body, its gzip output and a TLS connection's buffers, so the
 * number bounds the sink's memory; five keep the 2-core benchmark's emulated endpoint busy.
 */
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
  /** Upload requests in flight across all batches (default {@link DEFAULT_INGESTION_CONCURRENCY}). */
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

const gzipAsync = promisify(gzip);

/**
 * Output buffer of one zlib call. zlib's default (16 KiB) cuts a 1 MB body's ~140 KB of output
 * into nine trips to the thread pool, each with a callback, a buffer and a copy on the main
 * thread; 256 KiB takes a body of audit rows in one trip. The logs-ingestion benchmark went from
 * 14,600 to 16,000–16,300 records/s at 200,000 records with it (docs/benchmarks.md). A body that
 * does not compress still goes through, in more trips.
 */
export const GZIP_CHUNK_BYTES = 256 * 1024;

/** Name of the policy `LogsIngestionClient` adds to compress every request body. */
const SDK_GZIP_POLICY = "GzippingPolicy";

/**
 * Compresses a request body like the SDK's own policy, at zlib's fastest level: rows of audit
 * JSON compress about 7:1 at level 1 and 9:1 at the default level 6, which costs twice the CPU
 * per MB (7 ms against 3.5 ms here), and CPU is what a 0.25 vCPU container is short of. zlib's
 * async API runs on the libuv thread pool, off the main thread.
 */
export function gzipBody(body: Uint8Array): Promise<Buffer> {
  return gzipAsync(body, { level: zlibConstants.Z_BEST_SPEED, chunkSize: GZIP_CHUNK_BYTES });
}

/** The client's pipeline policy that replaces the SDK's {@link SDK_GZIP_POLICY}. */
const FAST_GZIP_POLICY: PipelinePolicy = {
  name: "AuditBridgeFastGzipPolicy",
  async sendRequest(request, next) {
    if (request.body instanceof Uint8Array) request.body = await gzipBody(request.body);
    return next(request);
  },
};

/** One row on its way: its JSON bytes and the record it came from (for a 413 rebuild). */
interface Entry {
  bytes: Uint8Array;
  record: ReceivedRecord;
  context: RowContext;
  /** Already rebuilt at the field limit after a 413; a second 413 on it is final. */
  reduced?: boolean;
}

interface SendResult {
  /** Rows to send again later (throttled, server errors, not yet authorized). */
  retry: Entry[];
  retryAfterInMs?: number;
  retryError?: Error;
  /** A refusal that retrying will not fix. */
  failure?: Error;
}

const OPEN_BRACKET = 0x5b;
const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;

/**
 * Request bodies of at most `maxBytes` (`[row,row,…]`), in order; a row larger than that on its
 * own goes alone, so the service's 413 decides about it.
 */
export function splitIntoBodies<T extends { bytes: Uint8Array }>(
  entries: readonly T[],
  maxBytes: number = MAX_UPLOAD_BODY_BYTES,
): T[][] {
  const bodies: T[][] = [];
  let current: T[] = [];
  let size = 2;
  for (const entry of entries) {
    const added = entry.bytes.byteLength + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && size + added > maxBytes) {
      bodies.push(current);
      current = [];
      size = 2;
    }
    size += entry.bytes.byteLength + (current.length > 0 ? 1 : 0);
    current.push(entry);
  }
  if (current.length > 0) bodies.push(current);
  return bodies;
}

/** The JSON array of the rows, assembled from their bytes. */
export function joinRows(entries: readonly { bytes: Uint8Array }[]): Buffer {
  let size = 1 + entries.length;
  for (const entry of entries) size += entry.bytes.byteLength;
  const body = Buffer.allocUnsafe(Math.max(2, size));
  let offset = 0;
  body[offset++] = OPEN_BRACKET;
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) body[offset++] = COMMA;
    body.set(entries[i]!.bytes, offset);
    offset += entries[i]!.bytes.byteLength;
  }
  body[offset++] = CLOSE_BRACKET;
  return body;
}

/**
 * Delivers batches to a Logs Ingestion DCR stream.
 *
 * - Rows follow the table schema (logsIngestionRows.ts). The parse workers build them as UTF-8
 *   JSON when a worker pool runs (`auditRows`); otherwise the sink builds them with the same code.
 *   AuditData over the 64 KB field limit is reduced visibly, counted in `records_oversize_total`
 *   and logged by Id when the row is first sent.
 * - Bodies are joined from the rows' bytes up to the 1 MB call limit and posted through the
 *   Azure SDK client's own pipeline (token, retries, user agent), gzip at zlib's fastest level
 *   on the libuv thread pool.
 *   `LogsIngestionClient.upload` is not used: it takes row objects and serializes each twice on
 *   the calling thread, which is the work the parse workers already did.
 * - Only the refused bodies' rows are kept for the next attempt (the pipeline retries the same
 *   Batch object); the batch is acknowledged once every row was accepted.
 * - 429 with or without `Retry-After` (after the SDK's own attempts), 408, 5xx, network errors,
 *   and 401/403 (a role assignment can take 30 minutes to propagate) are retryable;
 *   `Retry-After` is passed on as `retryAfterInMs`.
 * - 413: the body is split in halves and sent again at once; a single row is reduced to the
 *   field limit once, then refused.
 * - 400 and 404 are failures carrying the service's message (wrong stream, columns, DCR id).
 */
export class LogsIngestionSink implements Sink {
  readonly name: string;
  /** Rows come from the parse workers, or are built from the record's text. */
  readonly usesParsedRecords = false;
  readonly auditRows: AuditRowOptions;
  private readonly client: LogsIngestionClient;
  private readonly httpClient: HttpClient;
  private readonly uploadUrl: string;
  private readonly ruleId: string;
  private readonly streamName: string;
  private readonly maxConcurrency: number;
  private readonly maxFieldBytes: number;
  private readonly metrics?: CollectorMetrics;
  private readonly logger?: Logger;
  /** Rows of a batch not yet accepted, kept between attempts of the same Batch. */
  private readonly remaining = new WeakMap<Batch, Entry[]>();
  /** Requests in flight, and deliveries waiting for one to finish. */
  private inFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];

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
    this.maxConcurrency = Math.max(1, options.maxConcurrency ?? DEFAULT_INGESTION_CONCURRENCY);
    this.maxFieldBytes = options.maxFieldBytes ?? LOG_ANALYTICS_FIELD_LIMIT_BYTES;
    this.auditRows = { fieldLimitBytes: this.maxFieldBytes };
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.client = new LogsIngestionClient(endpoint, options.credential, {
      ...options.clientOptions,
      ...(options.audience ? { audience: options.audience } : {}),
    });
    // Replaced only if found: otherwise the SDK keeps compressing, and nothing is compressed twice.
    if (this.client.pipeline.removePolicy({ name: SDK_GZIP_POLICY }).length > 0) {
      this.client.pipeline.addPolicy(FAST_GZIP_POLICY);
    }
    this.httpClient = options.clientOptions?.httpClient ?? createDefaultHttpClient();
    // The upload operation's path (https://learn.microsoft.com/en-us/rest/api/monitor/data-collection-rules/upload);
    // the client's pipeline appends its api-version.
    this.uploadUrl = `${endpoint}/dataCollectionRules/${encodeURIComponent(this.ruleId)}/streams/${encodeURIComponent(streamName)}`;
  }

  async start(_committedPosition: string | undefined, _options?: OperationOptions): Promise<void> {}

  async deliver(batch: Batch, options?: OperationOptions): Promise<DeliveryOutcome> {
    const entries = this.remaining.get(batch) ?? this.entriesFor(batch);
    let result: SendResult;
    try {
      result = await this.send(entries, options?.abortSignal);
    } catch (error) {
      // Aborts: try again later (rows already accepted may be sent again: a repeat, never a loss).
      this.remaining.set(batch, entries);
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

  /** Each record's row: the worker's when it built one for this field limit, else built here. */
  private entriesFor(batch: Batch): Entry[] {
    const context: RowContext = {
      contentType: batch.contentType,
      contentId: batch.blob.contentId,
      contentCreated: batch.blob.contentCreated,
    };
    return batch.records.map((record) => {
      const built = record.row;
      if (built !== undefined && built.fieldLimitBytes === this.maxFieldBytes) {
        if (built.reductions) this.report(built.reductions, record, context);
        return { bytes: built.bytes, record, context };
      }
      return this.build(record, context, this.maxFieldBytes);
    });
  }

  private build(record: ReceivedRecord, context: RowContext, limitBytes: number): Entry {
    const row = encodeAuditRow(record, context, limitBytes);
    this.report(row.reductions, record, context);
    return { bytes: rowBytes(row), record, context };
  }

  /** Counts and logs what was reduced to fit a row (the file sink keeps the full record). */
  private report(
    reductions: readonly RowReduction[],
    record: ReceivedRecord,
    context: RowContext,
  ): void {
    for (const reduction of reductions) {
      if (reduction.kind === "audit-data") {
        this.metrics?.recordsOversize.inc(
          {
            content_type: context.contentType,
            action: reduction.method === "strings" ? "truncated" : "summarized",
          },
          1,
        );
        this.logger?.warn(
          {
            recordId: record.id,
            contentId: context.contentId,
            originalBytes: reduction.originalBytes,
            fields: reduction.fields,
          },
          "AuditData over the Log Analytics field limit: long strings shortened with markers (the file sink keeps the full record)",
        );
      } else {
        this.metrics?.recordsOversize.inc(
          { content_type: context.contentType, action: "column-truncated" },
          1,
        );
        this.logger?.warn(
          { recordId: record.id, column: reduction.column },
          "column over the field limit shortened with a marker; AuditData keeps the value",
        );
      }
    }
  }

  /**
   * Posts the rows in bodies of at most 1 MB, in order, each when one of the sink's
   * `maxConcurrency` request slots is free; sorts every refusal.
   */
  private async send(entries: Entry[], abortSignal: AbortSignal | undefined): Promise<SendResult> {
    const result: SendResult = { retry: [] };
    const posts: Promise<void>[] = [];
    try {
      for (const body of splitIntoBodies(entries)) {
        await this.takeSlot(abortSignal);
        posts.push(
          this.sendBody(body, abortSignal, result).finally(() => {
            this.releaseSlot();
          }),
        );
      }
    } finally {
      // Every request started is awaited, also when an abort stops the loop.
      await Promise.allSettled(posts);
    }
    await Promise.all(posts);
    return result;
  }

  private async takeSlot(abortSignal: AbortSignal | undefined): Promise<void> {
    while (this.inFlight >= this.maxConcurrency) {
      abortSignal?.throwIfAborted();
      await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    }
    abortSignal?.throwIfAborted();
    this.inFlight++;
  }

  private releaseSlot(): void {
    this.inFlight--;
    this.slotWaiters.shift()?.();
  }

  private async sendBody(
    entries: Entry[],
    abortSignal: AbortSignal | undefined,
    into: SendResult,
  ): Promise<void> {
    let response: PipelineResponse;
    try {
      response = await this.client.pipeline.sendRequest(
        this.httpClient,
        createPipelineRequest({
          url: this.uploadUrl,
          method: "POST",
          headers: createHttpHeaders({
            "content-type": "application/json",
            // The client's pipeline compresses every body (FAST_GZIP_POLICY).
            "content-encoding": "gzip",
            accept: "application/json",
          }),
          body: joinRows(entries),
          ...(abortSignal ? { abortSignal } : {}),
        }),
      );
    } catch (error) {
      if (abortSignal?.aborted) throw error;
      into.retry.push(...entries);
      const message = error instanceof Error ? error.message : String(error);
      into.retryError = new Error(`Logs Ingestion request failed: ${message}`, { cause: error });
      return;
    }
    const status = response.status;
    if (status >= 200 && status < 300) return;
    const message = serviceMessage(response);
    if (status === 413) {
      await this.resend413(entries, abortSignal, into);
    } else if (status === 400 || status === 404) {
      into.failure ??= new Error(
        `Logs Ingestion refused ${entries.length} rows for ${this.streamName} in ${this.ruleId} (HTTP ${status}): ${message}`,
      );
    } else {
      into.retry.push(...entries);
      const after = retryAfterInMs(response);
      if (after !== undefined) into.retryAfterInMs = Math.max(into.retryAfterInMs ?? 0, after);
      into.retryError = new Error(
        `Logs Ingestion answered HTTP ${status}${status === 403 ? " (Monitoring Metrics Publisher role missing or not yet propagated)" : ""}: ${message}`,
      );
    }
  }

  /** 413: halve the body; a lone row is reduced to the field limit once, then refused. */
  private async resend413(
    entries: Entry[],
    abortSignal: AbortSignal | undefined,
    into: SendResult,
  ): Promise<void> {
    let parts: Entry[][];
    if (entries.length > 1) {
      const half = Math.ceil(entries.length / 2);
      parts = [entries.slice(0, half), entries.slice(half)];
    } else {
      const entry = entries[0]!;
      const size = entry.bytes.byteLength;
      if (entry.reduced || size <= 2 * LOG_ANALYTICS_FIELD_LIMIT_BYTES) {
        into.failure ??= new Error(
          `Logs Ingestion refused a single row of ${size} bytes as too large (HTTP 413); record ${entry.record.id}`,
        );
        return;
      }
      const rebuilt = this.build(entry.record, entry.context, LOG_ANALYTICS_FIELD_LIMIT_BYTES);
      parts = [[{ ...rebuilt, reduced: true }]];
    }
    for (const part of parts) await this.sendBody(part, abortSignal, into);
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

/** The service's error message (`{error:{code,message}}`), else the status text. */
function serviceMessage(response: PipelineResponse): string {
  const text = response.bodyAsText ?? "";
  try {
    const detail = (JSON.parse(text) as { error?: { code?: string; message?: string } }).error;
    if (detail?.message) return detail.code ? `${detail.code}: ${detail.message}` : detail.message;
  } catch {
    // Not JSON: the text itself, shortened, says what there is to say.
  }
  return text === "" ? `HTTP ${response.status}` : text.slice(0, 300);
}

/** `Retry-After` (seconds or HTTP date) or `retry-after-ms` / `x-ms-retry-after-ms`, in ms. */
function retryAfterInMs(response: PipelineResponse): number | undefined {
  const headers = response.headers;
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
