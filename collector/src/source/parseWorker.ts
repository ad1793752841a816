/**
 * Entry point of a parse worker thread (see `parseWorkers.ts`): turns a blob's bytes into its
 * records' ids and exact UTF-8 text, so the main thread neither decodes, splits nor parses. For a
 * Logs Ingestion sink it also builds each record's row as UTF-8 JSON (sinks/logsIngestionRows.ts),
 * so the main thread neither maps nor serializes.
 *
 * Per stream, every `chunk` and `end` message gets exactly one reply, in order: the elements
 * the message completed, or the error that ended the stream.
 */
import { parentPort } from "node:worker_threads";
import type { AuditRecord } from "../../../domain/records";
import {
  CLOSE_BRACE,
  encodeAuditRow,
  type RowContext,
  type RowReduction,
  type RowText,
} from "../sinks/logsIngestionRows";
import {
  isBlobMalformedError,
  isBlobTruncatedError,
  JsonArrayReader,
  recordIdOf,
  type StreamedElement,
} from "./blobStream";

/** Main thread → worker. */
export type ParseRequest =
  | {
      op: "open";
      stream: number;
      maxElementChars?: number;
      /** Build each record's Logs Ingestion row too. */
      rows?: { context: RowContext; fieldLimitBytes: number };
    }
  | { op: "chunk"; stream: number; chunk: Uint8Array }
  | { op: "end"; stream: number }
  | { op: "close"; stream: number };

/** Worker → main thread: one per `chunk` or `end`. */
export type ParseReply =
  | {
      stream: number;
      /** Array index of the first element below. */
      firstIndex: number;
      /** Each element's record `Id`, or null when it has none (such elements carry no bytes). */
      ids: (string | null)[];
      /** Where each element's text ends in `bytes` (it starts where the previous one ended). */
      ends: Uint32Array;
      /**
       * The elements' text, UTF-8, exactly as in the blob. In a stream with rows, each element's
       * part is its row, followed by its text only when the row's AuditData was reduced.
       */
      bytes: Uint8Array;
      /** Streams with rows: where each part's row ends and where the element's text lies. */
      rows?: {
        rowEnds: Uint32Array;
        rawStarts: Uint32Array;
        rawEnds: Uint32Array;
        /** Rows with a reduction, by element position in this reply. */
        reductions: { at: number; reductions: RowReduction[] }[];
      };
      /** The array was closed: the stream is finished. */
      done: boolean;
    }
  | {
      stream: number;
      error: { kind: "truncated" | "malformed" | "internal"; message: string; offset: number };
    };

interface StreamState {
  reader: JsonArrayReader;
  nextIndex: number;
  rows?: { context: RowContext; fieldLimitBytes: number };
}

type ElementsReply = Extract<ParseReply, { ids: unknown }>;

/** Rows of the elements that have an id, laid out as `ParseReply.bytes` describes. */
function encodeRows(
  stream: number,
  state: StreamState,
  rows: NonNullable<StreamState["rows"]>,
  elements: StreamedElement[],
  done: boolean,
): ElementsReply {
  const count = elements.length;
  const ids: (string | null)[] = new Array(count);
  const ends = new Uint32Array(count);
  const rowEnds = new Uint32Array(count);
  const rawStarts = new Uint32Array(count);
  const rawEnds = new Uint32Array(count);
  const texts: (RowText | undefined)[] = new Array(count);
  const headBytes = new Uint32Array(count);
  const reductions: { at: number; reductions: RowReduction[] }[] = [];
  let size = 0;
  for (let i = 0; i < count; i++) {
    const element = elements[i]!;
    const id = recordIdOf(element.value);
    ids[i] = id ?? null;
    if (id !== undefined) {
      const row = encodeAuditRow(
        { id, raw: element.raw, record: element.value as AuditRecord },
        rows.context,
        rows.fieldLimitBytes,
      );
      texts[i] = row;
      headBytes[i] = Buffer.byteLength(row.head, "utf8");
      const dataBytes = Buffer.byteLength(row.auditData, "utf8");
      const rowStart = size;
      size += headBytes[i]! + dataBytes + 1;
      rowEnds[i] = size;
      if (row.auditDataIsRaw) {
        // The record's text is inside the row: `<columns>,"AuditData":<text>}`.
        rawStarts[i] = rowStart + headBytes[i]!;
        rawEnds[i] = size - 1;
      } else {
        rawStarts[i] = size;
        size += Buffer.byteLength(element.raw, "utf8");
        rawEnds[i] = size;
      }
      if (row.reductions.length > 0) reductions.push({ at: i, reductions: row.reductions });
    }
    ends[i] = size;
  }
  // Not from Buffer's shared pool: the buffer is transferred to the main thread.
  const bytes = Buffer.allocUnsafeSlow(size);
  for (let i = 0; i < count; i++) {
    const row = texts[i];
    if (row === undefined) continue;
    const rowStart = i > 0 ? ends[i - 1]! : 0;
    bytes.write(row.head, rowStart, "utf8");
    bytes.write(row.auditData, rowStart + headBytes[i]!, "utf8");
    bytes[rowEnds[i]! - 1] = CLOSE_BRACE;
    if (!row.auditDataIsRaw) bytes.write(elements[i]!.raw, rowEnds[i]!, "utf8");
  }
  const reply: ElementsReply = {
    stream,
    firstIndex: state.nextIndex,
    ids,
    ends,
    bytes,
    done,
    rows: { rowEnds, rawStarts, rawEnds, reductions },
  };
  state.nextIndex += count;
  return reply;
}

function encode(
  stream: number,
  state: StreamState,
  elements: StreamedElement[],
  done: boolean,
): ElementsReply {
  if (state.rows !== undefined) return encodeRows(stream, state, state.rows, elements, done);
  const ids: (string | null)[] = new Array(elements.length);
  const ends = new Uint32Array(elements.length);
  let size = 0;
  for (let i = 0; i < elements.length; i++) {
    const element = elements[i]!;
    const id = recordIdOf(element.value);
    ids[i] = id ?? null;
    if (id !== undefined) size += Buffer.byteLength(element.raw, "utf8");
    ends[i] = size;
  }
  // Not from Buffer's shared pool: the buffer is transferred to the main thread.
  const bytes = Buffer.allocUnsafeSlow(size);
  let offset = 0;
  for (let i = 0; i < elements.length; i++) {
    if (ids[i] !== null) offset += bytes.write(elements[i]!.raw, offset, "utf8");
  }
  const reply = { stream, firstIndex: state.nextIndex, ids, ends, bytes, done };
  state.nextIndex += elements.length;
  return reply;
}

function errorReply(stream: number, error: unknown): ParseReply {
  if (isBlobTruncatedError(error) || isBlobMalformedError(error)) {
    return {
      stream,
      error: {
        kind: isBlobTruncatedError(error) ? "truncated" : "malformed",
        message: error.message,
        offset: error.offset,
      },
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { stream, error: { kind: "internal", message, offset: 0 } };
}

const port = parentPort;
if (port === null) {
  throw new Error("parseWorker.ts runs only as a worker thread (see parseWorkers.ts)");
}
const streams = new Map<number, StreamState>();

port.on("message", (request: ParseRequest) => {
  if (request.op === "open") {
    streams.set(request.stream, {
      reader: new JsonArrayReader(request.maxElementChars),
      nextIndex: 0,
      ...(request.rows ? { rows: request.rows } : {}),
    });
    return;
  }
  if (request.op === "close") {
    streams.delete(request.stream);
    return;
  }
  const state = streams.get(request.stream);
  if (state === undefined) {
    port.postMessage(errorReply(request.stream, new Error(`unknown stream ${request.stream}`)));
    return;
  }
  let reply: ElementsReply;
  try {
    reply =
      request.op === "chunk"
        ? encode(request.stream, state, state.reader.push(request.chunk), false)
        : encode(request.stream, state, state.reader.end(), true);
  } catch (error) {
    streams.delete(request.stream);
    port.postMessage(errorReply(request.stream, error));
    return;
  }
  if (reply.done) streams.delete(request.stream);
  const transfer = [reply.bytes.buffer as ArrayBuffer, reply.ends.buffer as ArrayBuffer];
  if (reply.rows) {
    transfer.push(
      reply.rows.rowEnds.buffer as ArrayBuffer,
      reply.rows.rawStarts.buffer as ArrayBuffer,
      reply.rows.rawEnds.buffer as ArrayBuffer,
    );
  }
  port.postMessage(reply, transfer);
});
