import type { IncomingMessage, ServerResponse } from "node:http";
import { createGunzip } from "node:zlib";

/**
 * The emulator's tiny HTTP layer: a regex router, JSON responses that record their error code
 * for the request log, and bounded body reading. No framework: the emulator needs a dozen
 * routes and exact control over status codes, headers and streaming.
 */

/** Everything a route handler needs about one request. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  url: URL;
  /** Named groups of the route pattern, URL-decoded. */
  params: Record<string, string>;
  /** The error code of the answer (AF code, AADSTS code, ...), for the request log. */
  code?: string;
}

export type Handler = (ctx: RequestContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

/** Matches method + path against patterns with named groups, in registration order. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: RegExp, handler: Handler): void {
    this.routes.push({ method, pattern, handler });
  }

  /** The handler for a request, `"method"` when only the method is wrong, or undefined. */
  match(
    method: string,
    path: string,
  ): { handler: Handler; params: Record<string, string> } | "method" | undefined {
    let pathMatched = false;
    for (const route of this.routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      pathMatched = true;
      if (route.method !== method) continue;
      const params: Record<string, string> = {};
      for (const [name, value] of Object.entries(match.groups ?? {})) {
        if (value === undefined) continue;
        try {
          params[name] = decodeURIComponent(value);
        } catch {
          params[name] = value;
        }
      }
      return { handler: route.handler, params };
    }
    return pathMatched ? "method" : undefined;
  }
}

/** Sends a JSON body; when it is an `{error:{code}}` object the code goes to the request log. */
export function sendJson(
  ctx: RequestContext,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  const error = (body as { error?: unknown } | null)?.error;
  if (
    error &&
    typeof error === "object" &&
    typeof (error as { code?: unknown }).code === "string"
  ) {
    ctx.code ??= (error as { code: string }).code;
  } else if (typeof error === "string") {
    ctx.code ??= error;
  }
  ctx.res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    ...headers,
  });
  ctx.res.end(text);
}

/** Sends a response without a body. */
export function sendEmpty(
  ctx: RequestContext,
  status: number,
  headers: Record<string, string> = {},
): void {
  ctx.res.writeHead(status, { "Content-Length": 0, ...headers });
  ctx.res.end();
}

/** Thrown by {@link readBody} when the body exceeds its limit. */
export class BodyTooLargeError extends Error {
  constructor(
    readonly limitBytes: number,
    readonly what: string,
  ) {
    super(`${what} exceeds ${limitBytes} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** Thrown by {@link readBody} when a gzip body cannot be decompressed. */
export class BadEncodingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BadEncodingError";
  }
}

export interface ReadBodyOptions {
  /** Limit on the bytes as sent (compressed or not). */
  maxWireBytes: number;
  /** Limit on the bytes after decompression. */
  maxDecodedBytes?: number;
  /** Decompress `Content-Encoding: gzip`. */
  gunzip?: boolean;
}

/**
 * Reads a request body into memory, refusing (and stopping to read) past the limits. The
 * request stream is left drained or destroyed so a keep-alive connection stays usable.
 */
export async function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > options.maxWireBytes) {
    req.resume();
    throw new BodyTooLargeError(options.maxWireBytes, "request body");
  }
  const chunks: Buffer[] = [];
  let wireBytes = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    wireBytes += buffer.length;
    if (wireBytes > options.maxWireBytes) {
      req.resume();
      throw new BodyTooLargeError(options.maxWireBytes, "request body");
    }
    chunks.push(buffer);
  }
  const raw = Buffer.concat(chunks);
  const encoding = String(req.headers["content-encoding"] ?? "")
    .toLowerCase()
    .trim();
  if (!options.gunzip || encoding === "" || encoding === "identity") return raw;
  if (encoding !== "gzip") throw new BadEncodingError(`unsupported Content-Encoding "${encoding}"`);
  const maxDecoded = options.maxDecodedBytes ?? Number.POSITIVE_INFINITY;
  return await new Promise<Buffer>((resolve, reject) => {
    // 256 KiB output buffers instead of zlib's 16 KiB: a 1 MB upload inflates in four callbacks
    // rather than sixty-odd, so the emulated ingestion endpoint costs the bench less CPU.
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    const out: Buffer[] = [];
    let decoded = 0;
    gunzip.on("data", (chunk: Buffer) => {
      decoded += chunk.length;
      if (decoded > maxDecoded) {
        gunzip.destroy();
        reject(new BodyTooLargeError(maxDecoded, "decompressed request body"));
        return;
      }
      out.push(chunk);
    });
    gunzip.on("error", (error) =>
      reject(new BadEncodingError(`gzip body is corrupt: ${error.message}`)),
    );
    gunzip.on("end", () => resolve(Buffer.concat(out)));
    gunzip.end(raw);
  });
}

/** A query parameter looked up by case-insensitive name (the Management API is tolerant). */
export function queryParam(url: URL, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of url.searchParams) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
}

/** Waits `ms` milliseconds (0 returns at once). */
export function delay(ms: number): Promise<void> {
  if (!(ms > 0)) return Promise.resolve();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
