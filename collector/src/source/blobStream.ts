/**
 * Streaming reader of a content blob: a JSON array of audit records, read chunk by chunk, each
 * element handed out with its exact source text and its parsed value.
 *
 * Hand-written on purpose: the collector must keep each record's raw text (the file sink writes
 * it byte for byte) while holding only one record in memory, and none of the installed libraries
 * yields the raw text of each array element (JSON.parse needs the whole body; the Azure SDKs do
 * not stream JSON). The splitter only finds element boundaries — bracket depth outside strings,
 * escapes inside them — and JSON.parse checks each element, so its rules are the standard's.
 * Memory is bounded by the largest single element plus one chunk.
 */
import { AuditBridgeError } from "../../../domain/errors";

/** Refuse an element longer than this (characters): a runaway string would otherwise eat memory. */
export const DEFAULT_MAX_ELEMENT_CHARS = 32 * 1024 * 1024;

/** One array element. */
export interface StreamedElement {
  /** 0-based position in the array. */
  index: number;
  /** The element's JSON text exactly as it stood in the blob (no surrounding whitespace). */
  raw: string;
  /** `JSON.parse(raw)`. */
  value: unknown;
}

/** The body ended before the array was closed (a cut connection, a short read). */
export class BlobTruncatedError extends AuditBridgeError<"blob-truncated"> {
  override readonly name = "BlobTruncatedError";
  constructor(
    message: string,
    /** Characters read before the end. */
    readonly offset: number,
  ) {
    super(message, { code: "blob-truncated" });
  }
}

export function isBlobTruncatedError(error: unknown): error is BlobTruncatedError {
  return error instanceof BlobTruncatedError;
}

/** The body is not a JSON array of JSON values (bad syntax, not UTF-8, an element too large). */
export class BlobMalformedError extends AuditBridgeError<"blob-malformed"> {
  override readonly name = "BlobMalformedError";
  constructor(
    message: string,
    /** Character offset where the problem was found. */
    readonly offset: number,
  ) {
    super(message, { code: "blob-malformed" });
  }
}

export function isBlobMalformedError(error: unknown): error is BlobMalformedError {
  return error instanceof BlobMalformedError;
}

type State = "before-array" | "after-open" | "after-comma" | "in-value" | "after-value" | "done";

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

function isWhitespace(c: number): boolean {
  // JSON whitespace: space, tab, line feed, carriage return.
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function startsPrimitive(c: number): boolean {
  // Numbers (digit or minus), true, false, null.
  return (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x74 || c === 0x66 || c === 0x6e;
}

/** Whether the backslashes right before `end` (not looking before `start`) are odd in number. */
function oddBackslashRun(text: string, start: number, end: number): boolean {
  let k = end - 1;
  while (k >= start && text.charCodeAt(k) === BACKSLASH) k--;
  return (end - 1 - k) % 2 === 1;
}

function describe(c: number): string {
  return JSON.stringify(String.fromCharCode(c));
}

/**
 * Incremental splitter over decoded text. `push` returns the elements completed by a piece of
 * text; `end` checks that the array was closed. Throws `BlobMalformedError` or
 * `BlobTruncatedError`; after a throw the splitter is unusable.
 */
export class JsonArraySplitter {
  private state: State = "before-array";
  /** Text of the current element gathered from earlier pieces. */
  private pending = "";
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The current element is a number or literal (ends at a delimiter, not a bracket). */
  private primitive = false;
  private consumed = 0;
  private nextIndex = 0;

  constructor(private readonly maxElementChars = DEFAULT_MAX_ELEMENT_CHARS) {}

  /** Whether the closing `]` has been seen. */
  get complete(): boolean {
    return this.state === "done";
  }

  push(text: string): StreamedElement[] {
    const out: StreamedElement[] = [];
    let valueStart = this.state === "in-value" ? 0 : -1;
    const length = text.length;
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i);
      switch (this.state) {
        case "in-value": {
          const end = this.scanValue(text, i);
          if (end < 0) {
            i = length;
            break;
          }
          out.push(this.finishValue(text.slice(valueStart, end), end));
          valueStart = -1;
          this.state = "after-value";
          // A primitive ends at its delimiter, which the after-value state must still see.
          i = end - 1;
          break;
        }
        case "before-array":
          if (isWhitespace(c)) break;
          if (c !== OPEN_BRACKET) {
            throw this.malformed(`expected the blob to start with "[" but found ${describe(c)}`, i);
          }
          this.state = "after-open";
          break;
        case "after-open":
        case "after-comma":
          if (isWhitespace(c)) break;
          if (c === CLOSE_BRACKET) {
            if (this.state === "after-comma") {
              throw this.malformed('found "]" right after ","', i);
            }
            this.state = "done";
            break;
          }
          this.beginValue(c, i);
          valueStart = i;
          this.state = "in-value";
          // Re-read this character inside the value scanner.
          i--;
          break;
        case "after-value":
          if (isWhitespace(c)) break;
          if (c === COMMA) {
            this.state = "after-comma";
          } else if (c === CLOSE_BRACKET) {
            this.state = "done";
          } else {
            throw this.malformed(
              `expected "," or "]" after an element but found ${describe(c)}`,
              i,
            );
          }
          break;
        case "done":
          if (isWhitespace(c)) break;
          throw this.malformed(`unexpected ${describe(c)} after the closing "]"`, i);
      }
    }
    if (this.state === "in-value" && valueStart >= 0) {
      this.pending += text.slice(valueStart);
      if (this.pending.length > this.maxElementChars) {
        throw this.malformed(
          `element ${this.nextIndex} is longer than ${this.maxElementChars} characters`,
          length,
        );
      }
    }
    this.consumed += length;
    return out;
  }

  /** Call after the last piece; throws `BlobTruncatedError` unless the array was closed. */
  end(): void {
    if (this.state === "done") {
      return;
    }
    if (this.state === "before-array") {
      throw new BlobTruncatedError("the blob body is empty", this.consumed);
    }
    const where =
      this.state === "in-value"
        ? `inside element ${this.nextIndex}`
        : `after element ${this.nextIndex - 1}`;
    throw new BlobTruncatedError(
      `the blob body ended ${where} before the closing "]" (after ${this.consumed} characters)`,
      this.consumed,
    );
  }

  private beginValue(c: number, i: number): void {
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.primitive = false;
    if (c === OPEN_BRACE || c === OPEN_BRACKET || c === QUOTE) {
      return;
    }
    if (startsPrimitive(c)) {
      this.primitive = true;
      return;
    }
    throw this.malformed(`unexpected ${describe(c)} where an element should start`, i);
  }

  /** Scans from `from`; returns the index just past the value's end, or -1 if it goes on. */
  private scanValue(text: string, from: number): number {
    const length = text.length;
    if (this.primitive) {
      for (let i = from; i < length; i++) {
        const c = text.charCodeAt(i);
        if (c === COMMA || c === CLOSE_BRACKET || isWhitespace(c)) {
          return i;
        }
      }
      return -1;
    }
    for (let i = from; i < length; i++) {
      if (this.inString) {
        // Strings are most of a record's text: jump from quote to quote with indexOf (native)
        // instead of looking at each character. A quote is escaped when an odd number of
        // backslashes stands right before it, counted from where this string scan began (the
        // character before that is the opening quote or an escaped character).
        let start = i;
        if (this.escaped) {
          this.escaped = false;
          start = i + 1;
        }
        let searchFrom = start;
        for (;;) {
          const quote = text.indexOf('"', searchFrom);
          if (quote < 0) {
            this.escaped = oddBackslashRun(text, start, length);
            return -1;
          }
          if (oddBackslashRun(text, start, quote)) {
            searchFrom = quote + 1;
            continue;
          }
          this.inString = false;
          if (this.depth === 0) {
            return quote + 1;
          }
          i = quote;
          break;
        }
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.inString = true;
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.depth++;
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.depth--;
        // Depth only counts brackets, not which kind: `{"a":[1}]` closes here and JSON.parse
        // reports it as malformed.
        if (this.depth === 0) {
          return i + 1;
        }
      }
    }
    return -1;
  }

  private finishValue(tail: string, endInText: number): StreamedElement {
    const raw = this.pending + tail;
    this.pending = "";
    const index = this.nextIndex++;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (error) {
      throw this.malformed(
        `element ${index} is not valid JSON (${error instanceof Error ? error.message : String(error)})`,
        endInText,
      );
    }
    return { index, raw, value };
  }

  private malformed(message: string, indexInText: number): BlobMalformedError {
    const offset = this.consumed + indexInText;
    return new BlobMalformedError(`${message} (at character ${offset})`, offset);
  }
}

/** The record's `Id` when `value` is an object with a non-blank string `Id`. */
export function recordIdOf(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const id = (value as { Id?: unknown }).Id;
  return typeof id === "string" && id.trim() !== "" ? id : undefined;
}

/**
 * Synchronous reader of a JSON array from raw bytes, split anywhere — also inside a multi-byte
 * UTF-8 character. `push` returns the elements completed by a chunk; `end` checks that the
 * array was closed. Throws `BlobTruncatedError` or `BlobMalformedError`; after a throw the
 * reader is unusable. Shared by `streamJsonArrayBatches` and the parse workers.
 */
export class JsonArrayReader {
  // Stream mode keeps a partial multi-byte sequence until the next chunk completes it; fatal
  // turns invalid UTF-8 into an error instead of silently inserting U+FFFD into a record.
  private readonly decoder = new TextDecoder("utf-8", { fatal: true });
  private readonly splitter: JsonArraySplitter;
  private bytes = 0;

  constructor(maxElementChars?: number) {
    this.splitter = new JsonArraySplitter(maxElementChars);
  }

  push(chunk: Uint8Array): StreamedElement[] {
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: true });
    } catch {
      throw new BlobMalformedError(
        `the blob body is not valid UTF-8 (near byte ${this.bytes})`,
        this.bytes,
      );
    }
    this.bytes += chunk.byteLength;
    return this.splitter.push(text);
  }

  end(): StreamedElement[] {
    let rest: string;
    try {
      rest = this.decoder.decode();
    } catch {
      if (!this.splitter.complete) {
        throw new BlobTruncatedError(
          `the blob body ended inside a UTF-8 character (after ${this.bytes} bytes)`,
          this.bytes,
        );
      }
      throw new BlobMalformedError(
        `the blob body ends with invalid UTF-8 (byte ${this.bytes})`,
        this.bytes,
      );
    }
    const elements = this.splitter.push(rest);
    this.splitter.end();
    return elements;
  }
}

export interface StreamJsonArrayOptions {
  maxElementChars?: number;
  abortSignal?: AbortSignal;
}

/**
 * Yields the elements of a JSON array read from `chunks` (raw bytes, split anywhere — also
 * inside a multi-byte UTF-8 character), the ones each chunk completed at a time. Throws
 * `BlobTruncatedError` when the bytes end before the array does, `BlobMalformedError` for
 * anything that is not a JSON array; errors of the underlying stream propagate unchanged.
 */
export async function* streamJsonArrayBatches(
  chunks: AsyncIterable<Uint8Array>,
  options: StreamJsonArrayOptions = {},
): AsyncGenerator<StreamedElement[], void, undefined> {
  const reader = new JsonArrayReader(options.maxElementChars);
  for await (const chunk of chunks) {
    options.abortSignal?.throwIfAborted();
    yield reader.push(chunk);
  }
  yield reader.end();
}

/** {@link streamJsonArrayBatches}, one element at a time. */
export async function* streamJsonArray(
  chunks: AsyncIterable<Uint8Array>,
  options: StreamJsonArrayOptions = {},
): AsyncGenerator<StreamedElement, void, undefined> {
  for await (const batch of streamJsonArrayBatches(chunks, options)) yield* batch;
}
