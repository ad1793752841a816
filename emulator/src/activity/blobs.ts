import type { ServerResponse } from "node:http";
import { type BlobPlan, type Catalogue, renderBlob } from "../generator";
import type { RequestContext } from "../http";
import type { TokenClaims } from "../jwt";
import type { EmulatorState } from "../state";
import { checkDlpRole } from "./guard";
import type { Subscriptions } from "./subscriptions";
import type { FeedTruth } from "./truth";
import { API_HEADERS, apiError, sendApiError } from "./wire";

/**
 * Content blob retrieval (`GET /audit/{contentId}`): the id, availability and expiry checks, and
 * the body streamed with the faults the truth assigns (truncated on first fetch, malformed).
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#retrieving-content
 */

const CONTENT_ID_PATTERN = /^[A-Za-z0-9_.-]+(?:\$[A-Za-z0-9_.-]+)+$/;

/** The blobs of one emulated tenant, served on request. */
export class Blobs {
  private readonly fetchAttempts = new Map<string, number>();
  /** Bodies rendered ahead of time (`prerender`), by contentId. */
  private readonly rendered = new Map<string, Buffer[]>();

  constructor(
    private readonly state: EmulatorState,
    private readonly catalogue: Catalogue,
    private readonly truth: FeedTruth,
    private readonly subscriptions: Subscriptions,
  ) {}

  /**
   * Renders the body of every blob listable now into memory, so serving one costs only TLS and
   * the socket. For benchmarks, where rendering would compete with the collector for the same
   * cores; the bytes are the same as rendered on demand.
   */
  prerender(): { blobs: number; bytes: number } {
    const nowMs = this.state.now();
    let bytes = 0;
    for (const plan of this.catalogue.blobs) {
      if (plan.availableAtMs > nowMs || this.rendered.has(plan.contentId)) continue;
      const chunks: Buffer[] = [];
      for (const chunk of renderBlob(plan)) {
        const data = Buffer.from(chunk, "utf8");
        bytes += data.length;
        chunks.push(data);
      }
      this.rendered.set(plan.contentId, chunks);
    }
    return { blobs: this.rendered.size, bytes };
  }

  /** `GET /audit/{contentId}`. */
  async blob(ctx: RequestContext, claims: TokenClaims): Promise<void> {
    const contentId = ctx.params.contentId!;
    if (!CONTENT_ID_PATTERN.test(contentId)) {
      return sendApiError(
        ctx,
        apiError(400, "AF20052", `Content ID ${contentId} in the URL is invalid.`),
      );
    }
    const nowMs = this.state.now();
    const plan = this.catalogue.get(contentId);
    if (!plan || plan.availableAtMs > nowMs || this.subscriptions.inLostInterval(plan)) {
      return sendApiError(
        ctx,
        apiError(404, "AF20050", `The specified content (${contentId}) does not exist.`),
      );
    }
    if (!checkDlpRole(ctx, claims, plan.contentType)) return;
    if (this.truth.isExpired(plan, nowMs)) {
      return sendApiError(
        ctx,
        apiError(
          400,
          "AF20051",
          `Content requested with the key ${contentId} has already expired. Content older than 7 days cannot be retrieved.`,
        ),
      );
    }
    if (!this.subscriptions.requireEnabled(ctx, plan.contentType)) return;

    const attempt = (this.fetchAttempts.get(contentId) ?? 0) + 1;
    this.fetchAttempts.set(contentId, attempt);
    const truncate = attempt === 1 && this.truth.isTruncatedOnFirstFetch(plan);
    const malformed = this.truth.isMalformed(plan);
    await this.streamBlob(ctx, plan, { truncate, malformed });
  }

  /** Streams the rendered blob with backpressure; never holds more than one chunk. */
  private async streamBlob(
    ctx: RequestContext,
    plan: BlobPlan,
    fault: { truncate: boolean; malformed: boolean },
  ): Promise<void> {
    const { res } = ctx;
    const { counters } = this.state;
    // Render the first chunk before the status line, so a generator failure is a clean 500.
    const chunks = (this.rendered.get(plan.contentId) ?? renderBlob(plan))[Symbol.iterator]();
    let next = chunks.next();
    res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", ...API_HEADERS });
    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    let bytes = 0;
    let first = true;
    for (; !next.done; next = chunks.next()) {
      if (closed) return;
      // renderBlob may yield text or already-encoded bytes; the socket takes bytes.
      const chunk = next.value as string | Uint8Array;
      let data =
        typeof chunk === "string"
          ? Buffer.from(chunk, "utf8")
          : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      if (first && fault.malformed) {
        // Break the very first record, so no parser can deliver any record of this blob.
        const brace = data.indexOf(0x7b);
        data = Buffer.concat([
          data.subarray(0, brace + 1),
          Buffer.from(","),
          data.subarray(brace + 1),
        ]);
      }
      if (first && fault.truncate) {
        // Send part of the body, then drop the connection: the client sees a cut-off response.
        const part = data.subarray(0, Math.max(1, Math.floor(data.length / 2)));
        counters.truncatedBlobs++;
        ctx.code = "truncated";
        await new Promise<void>((resolve) => res.write(part, () => resolve()));
        res.destroy();
        return;
      }
      first = false;
      bytes += data.length;
      if (!res.write(data)) {
        await drainOrClose(res);
      }
    }
    if (closed) return;
    res.end();
    counters.blobsServed++;
    counters.blobBytesServed += bytes;
    if (fault.malformed) {
      counters.malformedBlobsServed++;
      ctx.code = "malformed";
    } else {
      counters.recordsServed += plan.recordCount;
    }
  }
}

/** Resolves when the response can take more data or the connection is gone. */
function drainOrClose(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}
