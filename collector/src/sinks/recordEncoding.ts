/**
 * Per-record encodings a sink can have done on the parse worker threads (source/parseWorker.ts),
 * next to the parse: the Logs Ingestion row, the framed syslog message (CEF, LEEF or JSON) and
 * the Splunk HEC envelope. Each is built by the same pure code the sink runs when it encodes a
 * record itself (logsIngestionRows.ts, syslogFormat.ts, splunkHecFormat.ts), so the bytes are the
 * same either way. With several sinks (fan-out) every record is parsed once and encoded once per
 * sink that asked.
 *
 * Everything here runs on the workers too: no sink, socket or HTTP code is imported.
 */
import type { AuditRecord } from "../../../domain/records";
import type { ReceivedRecord } from "../types";
import { encodeAuditRow, type RowContext, type RowReduction } from "./logsIngestionRows";
import type { SyslogFormat } from "./siemSettings";
import { hecEnvelopeHead, hecEnvelopeMeta } from "./splunkHecFormat";
import { formatSyslogMessage, type SyslogMessageOptions } from "./syslogFormat";

/**
 * What a sink asks the workers to build for each record (`Sink.recordEncoding`). Plain data: it
 * is sent to the worker threads. The record's blob (content type, id, creation time) comes with
 * each blob as a {@link RowContext}.
 */
export type RecordEncoding =
  | { kind: "audit-row"; fieldLimitBytes: number }
  | {
      kind: "syslog";
      format: SyslogFormat;
      hostname: string;
      appName: string;
      maxMessageBytes: number;
      /** `octet-counting`: RFC 6587 section 3.4.1 `MSG-LEN SP MSG` (TCP, TLS); `none`: UDP. */
      framing: "octet-counting" | "none";
    }
  | { kind: "splunk-hec"; sourcetype: string; index?: string };

/** What the sink must count or log about one encoded record. */
export type EncodingNote =
  | { kind: "reductions"; reductions: RowReduction[] }
  | {
      kind: "truncated";
      /** The message's size before it was shortened, bytes (no framing). */
      originalBytes: number;
      /** Its size as sent, bytes (no framing). */
      bytes: number;
    };

/** One record encoded for one sink on a parse worker (`ReceivedRecord.encoded`). */
export interface EncodedMessage {
  /** The encoding it was built for: the very object of the sink's `recordEncoding`. */
  encoding: RecordEncoding;
  bytes: Uint8Array;
  /** Present only when the sink has something to count or log. */
  note?: EncodingNote;
}

/** The encoding a record carries for `encoding`, if a worker built one. */
export function encodedFor(
  record: Pick<ReceivedRecord, "encoded">,
  encoding: RecordEncoding,
): EncodedMessage | undefined {
  const encoded = record.encoded;
  if (encoded === undefined) return undefined;
  for (const entry of encoded) if (entry.encoding === encoding) return entry;
  return undefined;
}

/**
 * One record's encoding as text pieces, written one after the other as UTF-8. `rawPiece` is the
 * index of the piece that is the record's own text, when the encoding embeds it unchanged (the
 * worker then sends the text once, as part of the encoding).
 */
export interface EncodedPieces {
  pieces: string[];
  /** The pieces' UTF-8 sizes where the encoder knows them already (saves measuring again). */
  byteLengths?: number[];
  rawPiece: number;
  note?: EncodingNote;
}

/** Encodes one parsed record; built once per blob. */
export type RecordEncoder = (
  record: Pick<ReceivedRecord, "id" | "raw" | "record">,
) => EncodedPieces;

/** The encoder of `encoding` for the records of one blob. */
export function recordEncoder(encoding: RecordEncoding, context: RowContext): RecordEncoder {
  switch (encoding.kind) {
    case "audit-row":
      return (record) => {
        const row = encodeAuditRow(record, context, encoding.fieldLimitBytes);
        return {
          pieces: [row.head, row.auditData, "}"],
          rawPiece: row.auditDataIsRaw ? 1 : -1,
          ...(row.reductions.length > 0
            ? { note: { kind: "reductions" as const, reductions: row.reductions } }
            : {}),
        };
      };
    case "syslog": {
      const options: SyslogMessageOptions = {
        format: encoding.format,
        hostname: encoding.hostname,
        appName: encoding.appName,
        contentType: context.contentType,
        maxMessageBytes: encoding.maxMessageBytes,
      };
      const framed = encoding.framing === "octet-counting";
      return (record) => {
        const message = formatSyslogMessage(record as ReceivedRecord, options);
        // RFC 6587 section 3.4.1 framing: MSG-LEN SP SYSLOG-MSG.
        const frame = framed ? `${message.bytes} ` : "";
        if (message.truncatedFromBytes !== undefined) {
          return {
            pieces: [frame, message.text],
            byteLengths: [frame.length, message.bytes],
            rawPiece: -1,
            note: {
              kind: "truncated",
              originalBytes: message.truncatedFromBytes,
              bytes: message.bytes,
            },
          };
        }
        if (encoding.format === "json") {
          // An unshortened JSON message is the header followed by the record's own text.
          const headerLength = message.text.length - record.raw.length;
          return { pieces: [frame + message.text.slice(0, headerLength), record.raw], rawPiece: 1 };
        }
        return {
          pieces: [frame, message.text],
          byteLengths: [frame.length, message.bytes],
          rawPiece: -1,
        };
      };
    }
    case "splunk-hec": {
      const meta = hecEnvelopeMeta({
        contentType: context.contentType,
        sourcetype: encoding.sourcetype,
        index: encoding.index,
      });
      return (record) => ({
        pieces: [hecEnvelopeHead(record.raw, meta), record.raw, "}"],
        rawPiece: 1,
      });
    }
  }
}

/** A record as a worker sees it: parsed, with its exact text. */
export function workerRecord(id: string, raw: string, value: unknown): ReceivedRecord {
  return { id, raw, record: value as AuditRecord };
}
