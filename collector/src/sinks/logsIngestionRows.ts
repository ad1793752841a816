/**
 * The Logs Ingestion row of an audit record, as JSON text: the mapping of docs/table.md plus the
 * 64 KB field limit. Pure and free of the sink's dependencies, so the parse worker threads
 * (source/parseWorker.ts) build rows with the very code the sink uses when it builds them itself.
 *
 * The row's text is the mapped columns followed by `"AuditData":` and the record's text exactly
 * as it stood in the blob: no second JSON.stringify of the whole record, and AuditData is the
 * record as received. Only a record over the field limit is re-serialized (reduced).
 */
import { type ContentBlob, recordTypeName } from "../../../domain/records";
import type { AuditRow } from "../../../domain/table";
import type { ReceivedRecord } from "../types";
import { fitAuditData, LOG_ANALYTICS_FIELD_LIMIT_BYTES, truncationMarker } from "./fieldLimit";

/**
 * Largest request body of one upload, uncompressed (the service limits list 1 MB per call,
 * https://learn.microsoft.com/en-us/azure/azure-monitor/service-limits#logs-ingestion-api ;
 * the Azure SDK's `LogsIngestionClient.upload` splits at the same 1,000,000 bytes).
 */
export const MAX_UPLOAD_BODY_BYTES = 1_000_000;

/** The blob a row's record came from: the row's ContentType, ContentId and ContentCreated. */
export interface RowContext {
  contentType: string;
  contentId: string;
  contentCreated: string;
}

/** A visible reduction the sink counts (`records_oversize_total`) and logs when it sends the row. */
export type RowReduction =
  | {
      kind: "audit-data";
      method: "strings" | "summary";
      originalBytes: number;
      /** Paths of the shortened fields. */
      fields: string[];
    }
  | { kind: "column"; column: string };

/**
 * A row as JSON text in two parts, `head` + `auditData` + `}`: kept apart so that the record's
 * text is written once, straight into the row's bytes, and never copied into a joined string.
 */
export interface RowText {
  /** The mapped columns, ending in `,"AuditData":`. */
  head: string;
  /** The record's own text, or the reduced AuditData's JSON. */
  auditData: string;
  /** `auditData` is the record's own text (nothing was reduced in it). */
  auditDataIsRaw: boolean;
  reductions: RowReduction[];
}

/** The row's JSON text (tests and diagnostics; the collector writes the parts as bytes). */
export function rowJson(row: RowText): string {
  return `${row.head}${row.auditData}}`;
}

/** The row's UTF-8 JSON in a buffer of its own. */
export function rowBytes(row: RowText): Buffer {
  const headBytes = Buffer.byteLength(row.head, "utf8");
  const size = headBytes + Buffer.byteLength(row.auditData, "utf8") + 1;
  const bytes = Buffer.allocUnsafe(size);
  bytes.write(row.head, 0, "utf8");
  bytes.write(row.auditData, headBytes, "utf8");
  bytes[size - 1] = CLOSE_BRACE;
  return bytes;
}

/** `}`, closing a row. */
export const CLOSE_BRACE = 0x7d;

/** What a sink that sends Logs Ingestion rows asks of the parse workers (`Sink.auditRows`). */
export interface AuditRowOptions {
  /** Field limit the rows are built for (the sink's `maxFieldBytes`). */
  fieldLimitBytes: number;
}

/** A row already encoded as UTF-8 JSON (`ReceivedRecord.row`), built where the record was parsed. */
export interface EncodedRow {
  bytes: Uint8Array;
  /** The field limit the row was built for. */
  fieldLimitBytes: number;
  /** Present only when something was reduced. */
  reductions?: readonly RowReduction[];
}

/** Maps one audit record to a row of the AuditBridge table (domain/table.ts; docs/table.md lists the fields). */
export function toAuditRow(
  record: Pick<ReceivedRecord, "id" | "record">,
  blob: Pick<ContentBlob, "contentId" | "contentCreated">,
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

/** Text columns a long value could push over the field limit. */
const TEXT_COLUMNS = [
  "Operation",
  "UserId",
  "UserKey",
  "ClientIP",
  "ResultStatus",
  "ObjectId",
  "OrganizationId",
  "Workload",
] as const;

/**
 * The row of `record` as JSON text, with every value over `limitBytes` reduced visibly: AuditData
 * by `fitAuditData` (long strings shortened with markers, or a summary), a text column shortened
 * with a marker (AuditData keeps its value).
 */
export function encodeAuditRow(
  record: Pick<ReceivedRecord, "id" | "raw" | "record">,
  context: RowContext,
  limitBytes: number = LOG_ANALYTICS_FIELD_LIMIT_BYTES,
): RowText {
  const { AuditData: _auditData, ...columns } = toAuditRow(
    record,
    { contentId: context.contentId, contentCreated: context.contentCreated },
    context.contentType,
  );
  const reductions: RowReduction[] = [];
  const columnValues = columns as Record<string, unknown>;
  for (const column of TEXT_COLUMNS) {
    const value = columnValues[column];
    // UTF-8 takes at most 3 bytes per UTF-16 unit: short values skip the byte count.
    if (typeof value === "string" && value.length * 3 > limitBytes) {
      if (Buffer.byteLength(value, "utf8") > limitBytes) {
        const keep = Math.floor(limitBytes / 4);
        columnValues[column] = value.slice(0, keep) + truncationMarker(keep, value.length);
        reductions.push({ kind: "column", column });
      }
    }
  }
  const head = `${JSON.stringify(columns).slice(0, -1)},"AuditData":`;
  const raw = record.raw;
  // The text sent is the record's own text, so its UTF-8 size is what must fit.
  if (raw.length * 3 > limitBytes && Buffer.byteLength(raw, "utf8") > limitBytes) {
    const fitted = fitAuditData(record.record as Record<string, unknown>, limitBytes);
    if (fitted.truncation) {
      reductions.push({
        kind: "audit-data",
        method: fitted.truncation.method,
        originalBytes: fitted.truncation.originalBytes,
        fields: fitted.truncation.fields.map((field) => field.path),
      });
      return {
        head,
        auditData: JSON.stringify(fitted.data),
        auditDataIsRaw: false,
        reductions,
      };
    }
  }
  return { head, auditData: raw, auditDataIsRaw: true, reductions };
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
