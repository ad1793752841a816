/**
 * Entry point of a parse worker thread (see `parseWorkers.ts`): turns a blob's bytes into its
 * records' ids and exact UTF-8 text, so the main thread neither decodes, splits nor parses.
 *
 * Per stream, every `chunk` and `end` message gets exactly one reply, in order: the elements
 * the message completed, or the error that ended the stream.
 */
import { parentPort } from "node:worker_threads";
import {
  isBlobMalformedError,
  isBlobTruncatedError,
  JsonArrayReader,
  recordIdOf,
  type StreamedElement,
} from "./blobStream";

/** Main thread → worker. */
export type ParseRequest =
  | { op: "open"; stream: number; maxElementChars?: number }
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
      /** The elements' text, UTF-8, exactly as in the blob. */
      bytes: Uint8Array;
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
}

function encode(
  stream: number,
  state: StreamState,
  elements: StreamedElement[],
  done: boolean,
): Extract<ParseReply, { ids: unknown }> {
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
  let reply: Extract<ParseReply, { ids: unknown }>;
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
  port.postMessage(reply, [reply.bytes.buffer as ArrayBuffer, reply.ends.buffer as ArrayBuffer]);
});
