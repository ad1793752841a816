/**
 * Parse workers: blob bodies decoded, split and parsed on worker threads, so the main thread
 * (HTTP, dedup, state, sinks) keeps one core to itself. The main thread still reads each blob
 * from the network; it hands the bytes to a worker and gets back each record's `Id` and its
 * exact UTF-8 text, which the file sink writes without ever turning it into a string.
 *
 * Used only when no sink reads the parsed record (`Sink.usesParsedRecords`): sending parsed
 * objects between threads costs more than parsing them again. A sink that would read the parsed
 * record only to encode it asks for its encoding instead (`Sink.recordEncoding`, or
 * `Sink.auditRows` for Logs Ingestion rows): the workers build it from the record they just
 * parsed and send it as bytes, the record's text being a slice of an encoding that embeds it.
 * With several such sinks, each record is parsed once and encoded once per sink.
 */
import type { ResourceLimits, Worker } from "node:worker_threads";
import type { AuditRecord } from "../../../domain/records";
import { heapSizes, PARSE_WORKER_YOUNG_GENERATION_MB, usableCores } from "../containerLimits";
import type { AuditRowOptions, EncodedRow, RowContext } from "../sinks/logsIngestionRows";
import type { EncodedMessage, EncodingNote, RecordEncoding } from "../sinks/recordEncoding";
import { startWorkerThread } from "../threads";
import type { ReceivedRecord } from "../types";
import { BlobMalformedError, BlobTruncatedError, type StreamJsonArrayOptions } from "./blobStream";
import type { ParseReply, ParseRequest } from "./parseWorker";

/** Most workers started by default, whatever the machine. */
export const MAX_DEFAULT_PARSE_WORKERS = 4;
/** Chunks of one blob sent ahead of the replies read back. */
const CHUNKS_AHEAD = 3;
/**
 * Network chunks are joined up to this size before they go to a worker: each message and its
 * reply cost a fixed amount on both threads (serialization, one reply's arrays), and the HTTP
 * client hands out chunks of 16-64 KB.
 */
const MESSAGE_BYTES = 256 * 1024;

/**
 * Default worker count: one core is left to the main thread, at least one worker. Cores are the
 * container's (its cgroup CPU quota), not the host's.
 */
export function defaultParseWorkers(cores = usableCores()): number {
  return Math.max(1, Math.min(MAX_DEFAULT_PARSE_WORKERS, cores - 1));
}

/** A record held as its UTF-8 bytes: the text is decoded, and parsed, only if read. */
export class ByteRecord implements ReceivedRecord {
  constructor(
    readonly id: string,
    readonly bytes: Uint8Array,
    /** The record's Logs Ingestion row, when the worker built one. */
    readonly row?: EncodedRow,
    /** The record's other encodings, when the worker built them. */
    readonly encoded?: readonly EncodedMessage[],
  ) {}

  get raw(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString(
      "utf8",
    );
  }

  get record(): AuditRecord {
    return JSON.parse(this.raw) as AuditRecord;
  }
}

/** One array element as the source needs it: its index and, when it has an `Id`, the record. */
export interface ParsedElement {
  index: number;
  /** Undefined for an element without a usable `Id`. */
  record: ReceivedRecord | undefined;
}

/** Replies of one stream, in order. */
class ReplyQueue {
  private readonly ready: ParseReply[] = [];
  private waiter: ((reply: ParseReply) => void) | undefined;

  put(reply: ParseReply): void {
    const waiter = this.waiter;
    if (waiter !== undefined) {
      this.waiter = undefined;
      waiter(reply);
    } else {
      this.ready.push(reply);
    }
  }

  /** A reply already here, without waiting. */
  poll(): ParseReply | undefined {
    return this.ready.shift();
  }

  next(): Promise<ParseReply> {
    const reply = this.ready.shift();
    if (reply !== undefined) return Promise.resolve(reply);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

/** One worker thread and the streams it is parsing. */
class ParseWorker {
  readonly streams = new Map<number, ReplyQueue>();
  private exited = false;

  private constructor(
    private readonly worker: Worker,
    private readonly onExit: (worker: ParseWorker) => void,
  ) {
    worker.on("message", (reply: ParseReply) => this.streams.get(reply.stream)?.put(reply));
    worker.on("error", (error) => this.fail(error.message));
    worker.on("exit", (code) => this.fail(`exited with code ${code}`));
    // Idle workers do not keep the process alive; `open` refs the worker while it has work.
    worker.unref();
  }

  static start(resourceLimits: ResourceLimits, onExit: (worker: ParseWorker) => void): ParseWorker {
    const worker = startWorkerThread(__dirname, "parseWorker", { resourceLimits });
    return new ParseWorker(worker, onExit);
  }

  open(
    stream: number,
    maxElementChars: number | undefined,
    encode: { context: RowContext; encodings: RecordEncoding[] } | undefined,
  ): ReplyQueue {
    const queue = new ReplyQueue();
    if (this.streams.size === 0) this.worker.ref();
    this.streams.set(stream, queue);
    this.post({ op: "open", stream, maxElementChars, ...(encode ? { encode } : {}) });
    return queue;
  }

  close(stream: number, tellWorker: boolean): void {
    if (!this.streams.delete(stream)) return;
    if (tellWorker) this.post({ op: "close", stream });
    if (this.streams.size === 0) this.worker.unref();
  }

  send(stream: number, chunk: Uint8Array): void {
    // Transferred, not cloned. A chunk that is a view on part of a larger buffer (the HTTP
    // client may share one between chunks) is copied first: cloning would copy all of it, and
    // transferring would take it from its other users. `new Uint8Array(view)` copies; a Buffer's
    // own `slice()` would not (it returns a view on the same memory).
    const own =
      chunk.byteOffset === 0 &&
      chunk.byteLength === chunk.buffer.byteLength &&
      chunk.buffer instanceof ArrayBuffer
        ? chunk
        : new Uint8Array(chunk);
    this.post({ op: "chunk", stream, chunk: own }, [own.buffer as ArrayBuffer]);
  }

  end(stream: number): void {
    this.post({ op: "end", stream });
  }

  /** Stops the thread; streams still open end with an error. */
  terminate(): Promise<number> {
    this.endStreams("the parse worker pool was closed");
    this.exited = true;
    return this.worker.terminate();
  }

  private post(request: ParseRequest, transfer: ArrayBuffer[] = []): void {
    if (!this.exited) this.worker.postMessage(request, transfer);
  }

  /** The worker is gone: every stream it had ends with an error, and the pool replaces it. */
  private fail(problem: string): void {
    if (this.exited) return;
    this.exited = true;
    this.endStreams(`parse worker failed: ${problem}`);
    this.onExit(this);
  }

  private endStreams(message: string): void {
    for (const [stream, queue] of this.streams) {
      queue.put({ stream, error: { kind: "internal", message, offset: 0 } });
    }
    this.streams.clear();
  }
}

export interface ParseWorkerPoolOptions {
  /** Build each record's Logs Ingestion row for blobs read with a `rowContext`. */
  auditRows?: AuditRowOptions;
  /**
   * Other sinks' encodings (`Sink.recordEncoding`) built for blobs read with a `rowContext`; each
   * record carries them in `ReceivedRecord.encoded`, matched to its sink by object identity.
   */
  encodings?: readonly RecordEncoding[];
  /**
   * Old-generation heap of each worker, MB (undefined: V8's default); default from the
   * container's memory limit (`heapSizes`).
   */
  workerOldGenerationMb?: number;
}

/** Options of one blob read on the workers. */
export interface ParseElementsOptions extends StreamJsonArrayOptions {
  /** The blob the records come from: with `auditRows` or `encodings`, each record gets them. */
  rowContext?: RowContext;
}

/**
 * A fixed set of parse worker threads; each blob goes to the worker with the fewest open
 * blobs. Workers start on first use and are replaced when one fails.
 */
export class ParseWorkerPool {
  private readonly workers: ParseWorker[] = [];
  private nextStream = 1;
  private closed = false;
  /** Rows the workers build, if a sink asked for them. */
  readonly auditRows: AuditRowOptions | undefined;
  /** Other encodings the workers build, if sinks asked for them. */
  readonly encodings: readonly RecordEncoding[];
  /** What goes to the workers: the row first (when asked), then `encodings`. */
  private readonly workerEncodings: RecordEncoding[];
  /** What each worker thread starts with. */
  readonly resourceLimits: ResourceLimits;

  constructor(
    readonly size: number = defaultParseWorkers(),
    options: ParseWorkerPoolOptions = {},
  ) {
    if (!Number.isInteger(size) || size < 1) {
      throw new RangeError(`ParseWorkerPool needs at least one worker (got ${size})`);
    }
    this.auditRows = options.auditRows;
    this.encodings = options.encodings ?? [];
    this.workerEncodings = [
      ...(this.auditRows
        ? [{ kind: "audit-row" as const, fieldLimitBytes: this.auditRows.fieldLimitBytes }]
        : []),
      ...this.encodings,
    ];
    const oldGenerationMb =
      "workerOldGenerationMb" in options
        ? options.workerOldGenerationMb
        : heapSizes().workerOldGenerationMb;
    this.resourceLimits = {
      maxYoungGenerationSizeMb: PARSE_WORKER_YOUNG_GENERATION_MB,
      ...(oldGenerationMb !== undefined ? { maxOldGenerationSizeMb: oldGenerationMb } : {}),
    };
  }

  /**
   * Yields the elements of the JSON array in `chunks`, a batch at a time, in order. Throws
   * `BlobTruncatedError` / `BlobMalformedError` like `streamJsonArrayBatches`; errors of `chunks`
   * propagate unchanged.
   */
  async *elements(
    chunks: AsyncIterable<Uint8Array>,
    options: ParseElementsOptions = {},
  ): AsyncGenerator<ParsedElement[], void, undefined> {
    const worker = this.pick();
    const stream = this.nextStream++;
    const encode =
      this.workerEncodings.length > 0 && options.rowContext
        ? { context: options.rowContext, encodings: this.workerEncodings }
        : undefined;
    const replies = worker.open(stream, options.maxElementChars, encode);
    const input = chunks[Symbol.asyncIterator]();
    let finished = false;
    let inputDone = false;
    try {
      let ahead = 0;
      for (;;) {
        options.abortSignal?.throwIfAborted();
        // Replies already here first; then keep up to CHUNKS_AHEAD chunks at the worker; wait
        // for a reply only when there is nothing else to do.
        let reply = replies.poll();
        if (reply === undefined && !inputDone && ahead < CHUNKS_AHEAD) {
          const pieces: Uint8Array[] = [];
          let size = 0;
          while (size < MESSAGE_BYTES) {
            const next = await input.next();
            if (next.done === true) {
              inputDone = true;
              break;
            }
            if (next.value.byteLength === 0) continue;
            pieces.push(next.value);
            size += next.value.byteLength;
          }
          if (pieces.length > 0) {
            worker.send(stream, pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces, size));
            ahead++;
          }
          if (inputDone) {
            worker.end(stream);
            ahead++;
          }
          continue;
        }
        reply ??= await replies.next();
        ahead--;
        if ("error" in reply) {
          finished = true;
          throw toError(reply.error);
        }
        yield toElements(reply, encode?.encodings);
        if (reply.done) {
          finished = true;
          return;
        }
      }
    } finally {
      worker.close(stream, !finished);
      // Stopped early (an error, an abort, a consumer that stopped reading): release the body.
      if (!inputDone) await input.return?.();
    }
  }

  /** Stops the workers; streams still open end with an error. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = this.workers.splice(0);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private pick(): ParseWorker {
    if (this.closed) throw new Error("the parse worker pool is closed");
    while (this.workers.length < this.size) {
      this.workers.push(
        ParseWorker.start(this.resourceLimits, (gone) => {
          const at = this.workers.indexOf(gone);
          if (at >= 0) this.workers.splice(at, 1);
        }),
      );
    }
    let best = this.workers[0]!;
    for (const worker of this.workers) {
      if (worker.streams.size < best.streams.size) best = worker;
    }
    return best;
  }
}

function toElements(
  reply: Extract<ParseReply, { ids: unknown }>,
  encodings: readonly RecordEncoding[] | undefined,
): ParsedElement[] {
  const { ids, ends, bytes, firstIndex, encoded } = reply;
  if (encoded !== undefined && encodings !== undefined) {
    return toEncodedElements(reply, encoded, encodings);
  }
  const elements: ParsedElement[] = new Array(ids.length);
  let start = 0;
  for (let i = 0; i < ids.length; i++) {
    const end = ends[i]!;
    const id = ids[i] ?? null;
    elements[i] = {
      index: firstIndex + i,
      record: id === null ? undefined : new ByteRecord(id, bytes.subarray(start, end)),
    };
    start = end;
  }
  return elements;
}

function toEncodedElements(
  reply: Extract<ParseReply, { ids: unknown }>,
  encoded: NonNullable<Extract<ParseReply, { ids: unknown }>["encoded"]>,
  encodings: readonly RecordEncoding[],
): ParsedElement[] {
  const { ids, bytes, firstIndex } = reply;
  const { spans } = encoded;
  const slots = encodings.length + 1;
  const notes = new Map<number, EncodingNote>();
  for (const entry of encoded.notes) notes.set(entry.at * slots + entry.encoding, entry.note);
  const elements: ParsedElement[] = new Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i] ?? null;
    let record: ByteRecord | undefined;
    if (id !== null) {
      const base = i * slots * 2;
      let row: EncodedRow | undefined;
      let messages: EncodedMessage[] | undefined;
      for (let e = 0; e < encodings.length; e++) {
        const encoding = encodings[e]!;
        const part = bytes.subarray(spans[base + (e + 1) * 2]!, spans[base + (e + 1) * 2 + 1]!);
        const note = notes.get(i * slots + e);
        if (encoding.kind === "audit-row") {
          row = {
            bytes: part,
            fieldLimitBytes: encoding.fieldLimitBytes,
            ...(note?.kind === "reductions" ? { reductions: note.reductions } : {}),
          };
        } else {
          messages ??= [];
          messages.push({ encoding, bytes: part, ...(note ? { note } : {}) });
        }
      }
      record = new ByteRecord(id, bytes.subarray(spans[base]!, spans[base + 1]!), row, messages);
    }
    elements[i] = { index: firstIndex + i, record };
  }
  return elements;
}

function toError(error: Extract<ParseReply, { error: unknown }>["error"]): Error {
  if (error.kind === "truncated") return new BlobTruncatedError(error.message, error.offset);
  if (error.kind === "malformed") return new BlobMalformedError(error.message, error.offset);
  return new Error(error.message);
}
