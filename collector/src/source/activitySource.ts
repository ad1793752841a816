import { createHash, randomUUID } from "node:crypto";
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { API_HISTORY_IN_MS, parseApiTime } from "../../../domain/apiLimits";
import type { ContentType } from "../../../domain/contentTypes";
import type { AuditRecord, ContentBlob } from "../../../domain/records";
import { computeBackoffDelay, sleep } from "../backoff";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import type { Checkpoint, OperationOptions, ReceivedRecord, Source, SourceItem } from "../types";
import { isManagementApiError, type ManagementApiError } from "./apiError";
import {
  isBlobMalformedError,
  isBlobTruncatedError,
  recordIdOf,
  type StreamJsonArrayOptions,
  streamJsonArrayBatches,
} from "./blobStream";
import {
  type ContentPage,
  ManagementApiClient,
  type ManagementApiClientOptions,
  resolveNextPageUri,
} from "./client";
import type { ParsedElement, ParseWorkerPool } from "./parseWorkers";
import { type StartGuardPolicy, SubscriptionManager } from "./subscriptions";
import { resolveContentUri } from "./urls";
import {
  cursorAfterWindow,
  DEFAULT_OVERLAP_IN_MS,
  DEFAULT_SAFETY_MARGIN_IN_MS,
  initialCursorMs,
  type ListingWindow,
  planWindows,
} from "./windows";

/** Downloads of one blob before a truncated or malformed body is quarantined. */
export const DEFAULT_BLOB_ATTEMPTS = 3;
/** First wait between blob downloads (before jitter; doubles per attempt). */
export const DEFAULT_BLOB_RETRY_DELAY_IN_MS = 1_000;
/** Pages of one window before the listing is treated as looping. */
export const MAX_PAGES_PER_WINDOW = 10_000;
/** Times a poll re-plans its windows after AF20030/AF20055 before giving up. */
const MAX_WINDOW_REPLANS = 3;
/** A server clock this far from ours is treated as skew and corrected for. */
const MIN_SKEW_IN_MS = 2_000;
/** A larger difference between the server's `Date` and our clock is not believed. */
const MAX_BELIEVED_SKEW_IN_MS = 24 * 60 * 60_000;
/** Furthest the margin from the 7-day edge grows after refused windows. */
const MAX_EXTRA_MARGIN_IN_MS = 12 * 60 * 60_000;

export interface ActivitySourceOptions {
  contentTypes: readonly ContentType[];
  /** A client, or the options to build one. */
  client: ManagementApiClient | ManagementApiClientOptions;
  /** First poll without checkpoint starts this far back (capped at 7 days minus the margin). */
  initialLookbackInMs?: number;
  /** Re-list distance behind now at the live edge (late-listed blobs). */
  overlapInMs?: number;
  /** Longest listing window (≤ 24 h). */
  maxWindowInMs?: number;
  /** Distance kept from the API's 7-day edge. */
  safetyMarginInMs?: number;
  /** Clock, epoch ms. */
  nowMs?: () => number;
  /** Where blobs that stay truncated or malformed are kept; not kept when unset. */
  quarantineDir?: string;
  logger?: Logger;
  /**
   * Counts blobs and records dropped for lack of an Id (the pipeline never sees those; it counts
   * received records itself); also handed to a client built from options.
   */
  metrics?: Pick<
    CollectorMetrics,
    | "recordsSkipped"
    | "blobsFetched"
    | "blobsSkipped"
    | "blobsQuarantined"
    | "apiRequests"
    | "requestDurationSeconds"
    | "throttleWaitSeconds"
    | "apiPacerRequestsPerMinute"
    | "apiPacerWaitSeconds"
    | "apiThrottled"
  >;
  /** Aborts everything this source does (in addition to per-call signals). */
  abortSignal?: AbortSignal;
  blobAttempts?: number;
  blobRetryDelayInMs?: number;
  /** What a re-subscribe inside the 15-minute start guard does. Default `report`. */
  startGuardPolicy?: StartGuardPolicy;
  /** Largest single record accepted, in characters. */
  maxRecordChars?: number;
  /**
   * Hand out each record with its parsed object (default true). False when no sink reads it:
   * records then hold only their text while queued, which roughly halves the heap they take
   * and the garbage collector's work; `record` parses the text again if it is read.
   */
  keepParsedRecords?: boolean;
  /**
   * Decode, split and parse blobs on these worker threads instead of the calling thread.
   * Records then hold their UTF-8 bytes (`ReceivedRecord.bytes`); `raw` and `record` are
   * rebuilt from them if read, so set it only when no sink reads `record`.
   */
  parseWorkers?: ParseWorkerPool;
  /** Uniform random in [0, 1) for jitter; injectable for tests. */
  random?: () => number;
}

/** What one poll of one content type tracks while it walks the windows. */
interface PollState {
  contentType: ContentType;
  /** Blobs delivered (from the checkpoint) or handed out (this poll), in order. */
  done: Set<string>;
  /** `contentCreated` (ms) of each blob listed during this poll. */
  listed: Map<string, number>;
  lastContentCreatedMs: number | undefined;
  lastContentCreated: string | undefined;
}

/**
 * The Management Activity API as a `Source`: subscriptions on start; per poll, listing windows
 * from the checkpoint to now, every page, one item per new blob, and an `advance` item after
 * each window. Checkpoints in items assume the pipeline commits them in order.
 */
export class ActivitySource implements Source {
  readonly client: ManagementApiClient;
  readonly subscriptions: SubscriptionManager;
  private readonly now: () => number;
  /** Server clock minus ours, learned from a refused window's `Date` header. */
  private clockSkewInMs = 0;
  /** Added to the safety margin after windows were refused without a usable server clock. */
  private extraMarginInMs = 0;

  constructor(private readonly options: ActivitySourceOptions) {
    if (options.contentTypes.length === 0) {
      throw new TypeError("ActivitySource needs at least one content type");
    }
    this.client =
      options.client instanceof ManagementApiClient
        ? options.client
        : new ManagementApiClient({
            logger: options.logger,
            metrics: options.metrics,
            ...options.client,
          });
    this.now = options.nowMs ?? Date.now;
    this.subscriptions = new SubscriptionManager({
      client: this.client,
      contentTypes: options.contentTypes,
      logger: options.logger,
      nowMs: this.now,
      guardPolicy: options.startGuardPolicy,
    });
  }

  /** Ensures every configured content type is subscribed (AF20024 counts as enabled). */
  async start(options: OperationOptions = {}): Promise<void> {
    const signal = this.signal(options.abortSignal);
    const result = await this.subscriptions.ensureSubscribed({ abortSignal: signal });
    this.options.logger?.info(result, "Management Activity API subscriptions checked");
  }

  /** One poll of `contentType` from `checkpoint` up to now. */
  async *poll(
    contentType: ContentType,
    checkpoint: Checkpoint | undefined,
    options: OperationOptions = {},
  ): AsyncGenerator<SourceItem, void, undefined> {
    const signal = this.signal(options.abortSignal);
    const margin = this.options.safetyMarginInMs ?? DEFAULT_SAFETY_MARGIN_IN_MS;
    let cursorMs: number;
    if (checkpoint === undefined) {
      const lookback = this.options.initialLookbackInMs ?? API_HISTORY_IN_MS - margin;
      cursorMs = initialCursorMs(this.skewedNow(), lookback, margin);
    } else {
      cursorMs = parseApiTime(checkpoint.windowStart);
      if (Number.isNaN(cursorMs)) {
        throw new TypeError(
          `the ${contentType} checkpoint has an unreadable windowStart "${checkpoint.windowStart}"; fix or delete the checkpoint`,
        );
      }
    }
    const state: PollState = {
      contentType,
      done: new Set(checkpoint?.doneBlobs ?? []),
      listed: new Map(),
      lastContentCreated: checkpoint?.lastContentCreated,
      lastContentCreatedMs:
        checkpoint?.lastContentCreated !== undefined
          ? parseApiTime(checkpoint.lastContentCreated)
          : undefined,
    };

    let replans = 0;
    plan: for (;;) {
      const nowMs = this.skewedNow();
      const plan = planWindows(cursorMs, {
        nowMs,
        maxWindowInMs: this.options.maxWindowInMs,
        safetyMarginInMs: margin + this.extraMarginInMs,
      });
      if (plan.clampedFromMs !== undefined) {
        this.options.logger?.warn(
          {
            contentType,
            checkpointStart: new Date(plan.clampedFromMs).toISOString(),
            newStart: new Date(plan.earliestStartMs).toISOString(),
          },
          "checkpoint is older than the API's 7-day history; content listed before the new start can no longer be collected",
        );
      }
      for (const window of plan.windows) {
        const refused = yield* this.listWindow(state, window, signal);
        if (refused !== undefined) {
          // Re-plan from this window with the server's clock, or, without one, further from
          // the 7-day edge. Bounded: a window the API keeps refusing becomes an error.
          if (replans >= MAX_WINDOW_REPLANS) throw refused;
          replans++;
          if (!this.learnSkew(refused.serverDateMs, contentType)) {
            this.extraMarginInMs = Math.min(
              MAX_EXTRA_MARGIN_IN_MS,
              this.extraMarginInMs === 0 ? 3 * margin : 4 * this.extraMarginInMs,
            );
            this.options.logger?.warn(
              { contentType, safetyMarginInMs: margin + this.extraMarginInMs },
              "the API refused a listing window; keeping further from the 7-day edge",
            );
          }
          cursorMs = window.startMs;
          continue plan;
        }
        cursorMs = cursorAfterWindow(
          window,
          nowMs,
          this.options.overlapInMs ?? DEFAULT_OVERLAP_IN_MS,
        );
        // Only blobs the next listing can return again need remembering.
        for (const id of state.done) {
          const created = state.listed.get(id);
          if (created === undefined || created < cursorMs) state.done.delete(id);
        }
        yield { kind: "advance", checkpointAfter: this.checkpoint(state, cursorMs) };
      }
      return;
    }
  }

  /**
   * Lists every page of one window and yields its new blobs. Returns nothing when the window is
   * done, or the error that refused the window's bounds (the caller re-plans).
   */
  private async *listWindow(
    state: PollState,
    window: ListingWindow,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<SourceItem, ManagementApiError | undefined, undefined> {
    const { contentType } = state;
    let pageUrl: string | undefined;
    let resubscribed = false;
    let staleLinks = 0;
    const pagesSeen = new Set<string>();
    for (let pages = 0; pages < MAX_PAGES_PER_WINDOW; pages++) {
      let page: ContentPage;
      try {
        page =
          pageUrl === undefined
            ? await this.client.listContent(contentType, window, { abortSignal: signal })
            : await this.client.listContentPage(pageUrl, { abortSignal: signal });
      } catch (error) {
        if (!isManagementApiError(error)) throw error;
        const { action } = error.classification;
        if (action === "resubscribe" && !resubscribed) {
          resubscribed = true;
          this.options.logger?.warn(
            { contentType, code: error.code },
            `${error.classification.reason}; re-subscribing`,
          );
          await this.subscriptions.resubscribe(contentType, { abortSignal: signal });
          pages--;
          continue;
        }
        if (action === "window" && pageUrl !== undefined && staleLinks === 0) {
          // A page link the API no longer accepts (AF20055 loops are a known failure of other
          // collectors): drop it and list the window again from its first page. Blobs already
          // handed out are skipped by id.
          staleLinks++;
          this.options.logger?.warn(
            { contentType, code: error.code, window: `${window.startTime}..${window.endTime}` },
            "dropping a stale NextPageUri and re-listing the window",
          );
          pageUrl = undefined;
          pagesSeen.clear();
          pages--;
          continue;
        }
        if (action === "window") return error;
        throw error;
      }

      for (const blob of page.blobs) {
        const createdMs = parseApiTime(blob.contentCreated);
        state.listed.set(blob.contentId, Number.isNaN(createdMs) ? window.startMs : createdMs);
        if (state.done.has(blob.contentId)) continue;
        state.done.add(blob.contentId);
        const newest = state.lastContentCreatedMs;
        if (
          !Number.isNaN(createdMs) &&
          (newest === undefined || Number.isNaN(newest) || createdMs > newest)
        ) {
          state.lastContentCreatedMs = createdMs;
          state.lastContentCreated = blob.contentCreated;
        }
        yield this.itemFor(state, blob, window);
      }

      if (page.nextPageUri === undefined) return undefined;
      const next = this.followable(page.nextPageUri, contentType);
      if (next === undefined || pagesSeen.has(next)) {
        if (next !== undefined) {
          this.options.logger?.warn(
            { contentType },
            "NextPageUri repeats an earlier page; ending the window's listing",
          );
        }
        return undefined;
      }
      pagesSeen.add(next);
      pageUrl = next;
    }
    this.options.logger?.warn(
      { contentType, window: `${window.startTime}..${window.endTime}` },
      `more than ${MAX_PAGES_PER_WINDOW} pages in one window; ending the window's listing`,
    );
    return undefined;
  }

  /**
   * The next page to request: the header verbatim when it points at the configured API and
   * tenant; rebuilt on the configured root when it points elsewhere but carries a `nextPage`
   * token (the token, not the host, identifies the page); otherwise dropped.
   */
  private followable(raw: string, contentType: ContentType): string | undefined {
    const verdict = resolveNextPageUri(raw, this.client.location);
    if (verdict.kind === "verbatim") return verdict.url;
    if (verdict.kind === "rebuilt") {
      this.options.logger?.warn(
        { contentType, problem: verdict.problem },
        "NextPageUri points outside the configured API; following its nextPage token on the configured API instead",
      );
      return verdict.url;
    }
    this.options.logger?.warn(
      { contentType, problem: verdict.problem },
      "dropping a NextPageUri that cannot be followed safely; the window's listing ends here",
    );
    return undefined;
  }

  private itemFor(state: PollState, blob: ContentBlob, window: ListingWindow): SourceItem {
    const checkpointAfter = this.checkpoint(state, window.startMs);
    const verdict = resolveContentUri(blob.contentUri, blob.contentId, this.client.location);
    if (verdict.kind === "refused") {
      this.options.metrics?.blobsSkipped.inc({
        content_type: state.contentType,
        reason: "refused-uri",
      });
      this.options.logger?.warn(
        { contentType: state.contentType, contentId: blob.contentId, problem: verdict.problem },
        "content blob skipped: its contentUri cannot be followed and cannot be rebuilt",
      );
      return { kind: "skipped", blob, reason: "refused-uri", checkpointAfter };
    }
    if (verdict.kind === "rebuilt") {
      this.options.logger?.warn(
        { contentType: state.contentType, contentId: blob.contentId, problem: verdict.problem },
        "contentUri rebuilt from the configured API and the contentId",
      );
    }
    const url = verdict.url;
    return {
      kind: "blob",
      blob,
      records: (options?: OperationOptions) =>
        this.readBlob(state.contentType, blob, url, options?.abortSignal),
      checkpointAfter,
    };
  }

  /**
   * Streams a blob's records. Safe to call concurrently and repeatedly: every call downloads
   * afresh. A body cut short or malformed is downloaded again (records already handed out in
   * this call are not repeated); after the last attempt it is quarantined and the call ends.
   * An expired or missing blob ends the call with nothing; both are counted and logged.
   */
  private async *readBlob(
    contentType: ContentType,
    blob: ContentBlob,
    url: string,
    callSignal: AbortSignal | undefined,
  ): AsyncGenerator<ReceivedRecord, void, undefined> {
    const signal = this.signal(callSignal);
    const metrics = this.options.metrics;
    const attempts = Math.max(1, this.options.blobAttempts ?? DEFAULT_BLOB_ATTEMPTS);
    const keepParsed = this.options.keepParsedRecords ?? true;
    let handedOut = 0;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const last = attempt === attempts;
      const keeper =
        last && this.options.quarantineDir !== undefined
          ? await QuarantineFile.open(this.options.quarantineDir, blob)
          : undefined;
      let skippedRecords = 0;
      try {
        const chunks = this.client.streamBlob(url, { abortSignal: signal });
        const body = keeper ? keeper.tee(chunks) : chunks;
        const parseOptions = { abortSignal: signal, maxElementChars: this.options.maxRecordChars };
        const rowContext = {
          contentType,
          contentId: blob.contentId,
          contentCreated: blob.contentCreated,
        };
        const batches = this.options.parseWorkers
          ? this.options.parseWorkers.elements(body, { ...parseOptions, rowContext })
          : parseHere(body, parseOptions, keepParsed);
        for await (const batch of batches) {
          for (const element of batch) {
            if (element.index < handedOut) continue;
            handedOut = element.index + 1;
            if (element.record === undefined) {
              skippedRecords++;
              metrics?.recordsSkipped.inc({ content_type: contentType, reason: "no-id" });
              continue;
            }
            yield element.record;
          }
        }
        await keeper?.discard();
        metrics?.blobsFetched.inc({ content_type: contentType });
        this.logSkippedRecords(contentType, blob, skippedRecords);
        return;
      } catch (error) {
        this.logSkippedRecords(contentType, blob, skippedRecords);
        if (signal?.aborted) {
          await keeper?.discard();
          throw signal.reason;
        }
        if (isManagementApiError(error) && error.classification.action === "skip") {
          await keeper?.discard();
          const reason = error.classification.skipReason ?? "missing";
          metrics?.blobsSkipped.inc({ content_type: contentType, reason });
          this.options.logger?.warn(
            {
              contentType,
              contentId: blob.contentId,
              reason,
              status: error.status,
              code: error.code,
            },
            `content blob skipped: ${error.classification.reason}`,
          );
          return;
        }
        const bodyProblem =
          isBlobTruncatedError(error) ||
          isBlobMalformedError(error) ||
          (isManagementApiError(error) && error.code === "truncated-body");
        if (!bodyProblem) {
          await keeper?.discard();
          throw error;
        }
        const message = error instanceof Error ? error.message : String(error);
        if (!last) {
          this.options.logger?.warn(
            { contentType, contentId: blob.contentId, attempt, problem: message },
            "content blob body unusable; downloading it again",
          );
          await sleep(
            computeBackoffDelay(attempt - 1, {
              baseDelayInMs: this.options.blobRetryDelayInMs ?? DEFAULT_BLOB_RETRY_DELAY_IN_MS,
              random: this.options.random,
            }),
            signal,
          );
          continue;
        }
        const kept = keeper
          ? await keeper.keep({ contentType, blob, url, attempts, problem: message })
          : undefined;
        if (kept !== undefined) metrics?.blobsQuarantined.inc({ content_type: contentType });
        metrics?.blobsSkipped.inc({ content_type: contentType, reason: "malformed" });
        this.options.logger?.error(
          {
            contentType,
            contentId: blob.contentId,
            attempts,
            problem: message,
            quarantinedAs: kept,
          },
          kept
            ? "content blob stayed malformed; quarantined and skipped"
            : "content blob stayed malformed; skipped (no quarantine directory configured)",
        );
        return;
      }
    }
  }

  private logSkippedRecords(contentType: ContentType, blob: ContentBlob, count: number): void {
    if (count > 0) {
      this.options.logger?.warn(
        { contentType, contentId: blob.contentId, count },
        "records without an Id skipped",
      );
    }
  }

  private checkpoint(state: PollState, windowStartMs: number): Checkpoint {
    return {
      contentType: state.contentType,
      windowStart: new Date(windowStartMs).toISOString(),
      ...(state.lastContentCreated !== undefined
        ? { lastContentCreated: state.lastContentCreated }
        : {}),
      doneBlobs: [...state.done],
      updatedAt: new Date(this.now()).toISOString(),
    };
  }

  /**
   * Takes the server's clock from a refused window's `Date` header. Returns whether that changed
   * the correction; a difference over a day is not believed (a proxy or a test clock).
   */
  private learnSkew(serverDateMs: number | undefined, contentType: ContentType): boolean {
    if (serverDateMs === undefined) return false;
    const skew = serverDateMs - this.now();
    if (Math.abs(skew) > MAX_BELIEVED_SKEW_IN_MS) return false;
    if (Math.abs(skew - this.clockSkewInMs) < MIN_SKEW_IN_MS) return false;
    this.clockSkewInMs = skew;
    this.options.logger?.warn(
      { contentType, clockSkewInMs: skew },
      "the API refused a listing window; correcting for the server's clock",
    );
    return true;
  }

  private skewedNow(): number {
    return this.now() + this.clockSkewInMs;
  }

  private signal(callSignal: AbortSignal | undefined): AbortSignal | undefined {
    const signals = [callSignal, this.options.abortSignal].filter(
      (s): s is AbortSignal => s !== undefined,
    );
    if (signals.length <= 1) return signals[0];
    return AbortSignal.any(signals);
  }
}

/**
 * A blob's raw bytes written aside while they are parsed on the last attempt, kept with a
 * metadata file when the body stays unusable, deleted otherwise.
 */
class QuarantineFile {
  private constructor(
    private readonly dir: string,
    private readonly baseName: string,
    private readonly partialPath: string,
    private bytes = 0,
  ) {}

  static async open(dir: string, blob: ContentBlob): Promise<QuarantineFile> {
    await mkdir(dir, { recursive: true });
    const safe = blob.contentId.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 120);
    const digest = createHash("sha256").update(blob.contentId).digest("hex").slice(0, 12);
    const baseName = `${safe}-${digest}`;
    return new QuarantineFile(
      dir,
      baseName,
      path.join(dir, `.${baseName}.${randomUUID()}.partial`),
    );
  }

  async *tee(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const handle = await open(this.partialPath, "w");
    try {
      for await (const chunk of chunks) {
        await handle.write(chunk);
        this.bytes += chunk.byteLength;
        yield chunk;
      }
    } finally {
      await handle.close();
    }
  }

  async discard(): Promise<void> {
    await rm(this.partialPath, { force: true });
  }

  /** Moves the bytes into place and writes the metadata; returns the data file's path. */
  async keep(meta: {
    contentType: ContentType;
    blob: ContentBlob;
    url: string;
    attempts: number;
    problem: string;
  }): Promise<string> {
    const stamp = new Date().toISOString().replace(/[:.]/g, "-");
    const dataPath = path.join(this.dir, `${this.baseName}.${stamp}.json`);
    try {
      await rename(this.partialPath, dataPath);
    } catch {
      // Nothing was received on the last attempt: keep an empty file so the record is complete.
      await writeFile(dataPath, "");
    }
    await writeFile(
      path.join(this.dir, `${this.baseName}.${stamp}.meta.json`),
      `${JSON.stringify(
        {
          contentType: meta.contentType,
          contentId: meta.blob.contentId,
          contentUri: meta.blob.contentUri,
          fetchedFrom: meta.url,
          contentCreated: meta.blob.contentCreated,
          contentExpiration: meta.blob.contentExpiration,
          attempts: meta.attempts,
          problem: meta.problem,
          bytes: this.bytes,
          quarantinedAt: new Date().toISOString(),
        },
        null,
        2,
      )}\n`,
    );
    return dataPath;
  }
}

/** A blob's elements parsed on the calling thread, a chunk's worth at a time. */
async function* parseHere(
  chunks: AsyncIterable<Uint8Array>,
  options: StreamJsonArrayOptions,
  keepParsed: boolean,
): AsyncGenerator<ParsedElement[], void, undefined> {
  for await (const elements of streamJsonArrayBatches(chunks, options)) {
    yield elements.map((element) => {
      const id = recordIdOf(element.value);
      if (id === undefined) return { index: element.index, record: undefined };
      const record: ReceivedRecord = keepParsed
        ? { id, raw: element.raw, record: element.value as AuditRecord }
        : new TextOnlyRecord(id, element.raw);
      return { index: element.index, record };
    });
  }
}

/**
 * A record that keeps only its text and Id; the text was already parsed (and so validated)
 * once, and is parsed again only if a sink reads `record`.
 */
class TextOnlyRecord implements ReceivedRecord {
  constructor(
    readonly id: string,
    readonly raw: string,
  ) {}

  get record(): AuditRecord {
    return JSON.parse(this.raw) as AuditRecord;
  }
}
