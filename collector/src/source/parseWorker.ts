/**
 * Entry point of a parse worker thread (see `parseWorkers.ts`): turns a blob's bytes into its
 * records' ids and exact UTF-8 text, so the main thread neither decodes, splits nor parses. For
 * sinks that ask (`Sink.recordEncoding`, `Sink.auditRows`) it also encodes each record the way
 * each of them sends it (sinks/recordEncoding.ts: the Logs Ingestion row, the framed syslog
 * message, the Splunk HEC envelope), so the main thread neither maps, formats nor serializes.
 *
 * Per stream, every `chunk` and `end` message gets exactly one reply, in order: the elements
 * the message completed, or the error that ended the stream.
 */
import { parentPort } from "node:worker_threads";
import type { RowContext } from "../sinks/logsIngestionRows";
import {
  type EncodedPieces,
  type EncodingNote,
  type RecordEncoder,
  type RecordEncoding,
  recordEncoder,
  workerRecord,
} from "../sinks/recordEncoding";
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
      /** Encode each record for these sinks too (sinks/recordEncoding.ts), in this order. */
      encode?: { context: RowContext; encodings: RecordEncoding[] };
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
      /** Where each element's part ends in `bytes` (it starts where the previous one ended). */
      ends: Uint32Array;
      /**
       * The elements' text, UTF-8, exactly as in the blob. In a stream with encodings, each
       * element's part is its encodings, followed by its text only when no encoding holds it.
       */
      bytes: Uint8Array;
      /** Streams with encodings: where each element's text and encodings lie in `bytes`. */
      encoded?: {
        /**
         * Per element, `1 + encodings` pairs of start and end: the text first, then each
         * encoding in the order of the `open` request.
         */
        spans: Uint32Array;
        /** What the sinks must count or log, by element position and encoding. */
        notes: { at: number; encoding: number; note: EncodingNote }[];
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
  encoders?: RecordEncoder[];
}

type ElementsReply = Extract<ParseReply, { ids: unknown }>;

/** The elements that have an id, encoded for each sink, laid out as `ParseReply.bytes` says. */
function encodeElements(
  stream: number,
  state: StreamState,
  encoders: RecordEncoder[],
  elements: StreamedElement[],
  done: boolean,
): ElementsReply {
  const count = elements.length;
  const slots = encoders.length + 1;
  const ids: (string | null)[] = new Array(count);
  const ends = new Uint32Array(count);
  const spans = new Uint32Array(count * slots * 2);
  const encoded: (EncodedPieces[] | undefined)[] = new Array(count);
  const notes: { at: number; encoding: number; note: EncodingNote }[] = [];
  // Pieces and their UTF-8 sizes, in writing order.
  const pieces: string[] = [];
  const sizes: number[] = [];
  let size = 0;
  for (let i = 0; i < count; i++) {
    const element = elements[i]!;
    const id = recordIdOf(element.value);
    ids[i] = id ?? null;
    if (id !== undefined) {
      const record = workerRecord(id, element.raw, element.value);
      const base = i * slots * 2;
      let rawSeen = false;
      const parts: EncodedPieces[] = new Array(encoders.length);
      for (let e = 0; e < encoders.length; e++) {
        const part = encoders[e]!(record);
        parts[e] = part;
        spans[base + (e + 1) * 2] = size;
        for (let p = 0; p < part.pieces.length; p++) {
          const piece = part.pieces[p]!;
          const bytes = part.byteLengths?.[p] ?? Buffer.byteLength(piece, "utf8");
          if (p === part.rawPiece && !rawSeen) {
            // The record's text is inside this encoding: the other sinks read it from here.
            rawSeen = true;
            spans[base] = size;
            spans[base + 1] = size + bytes;
          }
          pieces.push(piece);
          sizes.push(bytes);
          size += bytes;
        }
        spans[base + (e + 1) * 2 + 1] = size;
        if (part.note !== undefined) notes.push({ at: i, encoding: e, note: part.note });
      }
      if (!rawSeen) {
        const bytes = Buffer.byteLength(element.raw, "utf8");
        spans[base] = size;
        spans[base + 1] = size + bytes;
        pieces.push(element.raw);
        sizes.push(bytes);
        size += bytes;
      }
      encoded[i] = parts;
    }
    ends[i] = size;
  }
  // Not from Buffer's shared pool: the buffer is transferred to the main thread.
  const bytes = Buffer.allocUnsafeSlow(size);
  let offset = 0;
  for (let p = 0; p < pieces.length; p++) {
    const piece = pieces[p]!;
    // One-character pieces (`}`) are ASCII: no encoder call.
    if (piece.length === 1 && sizes[p] === 1) bytes[offset] = piece.charCodeAt(0);
    else if (piece.length > 0) bytes.write(piece, offset, "utf8");
    offset += sizes[p]!;
  }
  const reply: ElementsReply = {
    stream,
    firstIndex: state.nextIndex,
    ids,
    ends,
    bytes,
    done,
    encoded: { spans, notes },
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
  if (state.encoders !== undefined) {
    return encodeElements(stream, state, state.encoders, elements, done);
  }
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
      ...(request.encode && request.encode.encodings.length > 0
        ? {
            encoders: request.encode.encodings.map((encoding) =>
              recordEncoder(encoding, request.encode!.context),
            ),
          }
        : {}),
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
  if (reply.encoded) transfer.push(reply.encoded.spans.buffer as ArrayBuffer);
  port.postMessage(reply, transfer);
});
