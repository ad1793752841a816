import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { MAX_RETRY_AFTER_IN_MS, sleep } from "../backoff";
import type { Logger } from "../log";
import type { Batch, DeliveryOutcome, OperationOptions, Sink } from "../types";
import { encodedFor, type RecordEncoding } from "./recordEncoding";
import { DEFAULT_SPLUNK_HEC_SOURCETYPE } from "./siemSettings";
import { hecEnvelope, hecEnvelopeMeta } from "./splunkHecFormat";

/**
 * Largest request body, in bytes: Splunk's `max_content_length` default for HEC is 1,000,000
 * in older releases (limits.conf [http_input]); bigger batches are split.
 * https://docs.splunk.com/Documentation/Splunk/latest/Admin/Limitsconf
 */
export const DEFAULT_SPLUNK_HEC_MAX_REQUEST_BYTES = 1_000_000;
/** First wait between ack polls, doubling up to {@link DEFAULT_SPLUNK_HEC_ACK_POLL_MAX_MS}. */
export const DEFAULT_SPLUNK_HEC_ACK_POLL_INITIAL_MS = 200;
export const DEFAULT_SPLUNK_HEC_ACK_POLL_MAX_MS = 5_000;
/**
 * A sent request whose ackId is still false after this long is sent again (the indexer may
 * have restarted and forgotten it). Splunk keeps ack state for `ackIdleCleanup`, minutes.
 */
export const DEFAULT_SPLUNK_HEC_ACK_TIMEOUT_MS = 120_000;
/** One HTTP request gives up after this long. */
export const DEFAULT_SPLUNK_HEC_REQUEST_TIMEOUT_MS = 30_000;
/** `\n`, between the envelopes of one request. */
const NEWLINE = 0x0a;

export interface SplunkHecSinkOptions {
  /** Base URL, e.g. `https://splunk.example.com:8088` (parseSplunkHecUrl). */
  url: URL;
  /** The HEC token (secret: never logged, never in an error message). */
  token: string;
  /** Index for every event; unset = the token's default index. */
  index?: string;
  /** Default `o365:management:activity`. */
  sourcetype?: string;
  /** PEM file of the CA that signed the HEC certificate (default: Node's store). */
  caFile?: string;
  /** Indexer acknowledgement: a batch counts only once Splunk says it is indexed. */
  ack?: boolean;
  /** The `X-Splunk-Request-Channel` GUID (default: a new one per sink). */
  channel?: string;
  maxRequestBytes?: number;
  ackPollInitialInMs?: number;
  ackPollMaxInMs?: number;
  ackTimeoutInMs?: number;
  requestTimeoutInMs?: number;
  logger?: Logger;
  /** Sink name reported to the pipeline (default `splunk-hec`). */
  name?: string;
}

/** An HEC answer: HTTP status and the `{text, code}` body (codes: see {@link classifyHecAnswer}). */
export interface HecAnswer {
  status: number;
  code?: number;
  text?: string;
  ackId?: number;
  retryAfterInMs?: number;
  invalidEventNumber?: number;
  /** The ack endpoint's `{"acks":{"<id>":bool}}`. */
  acks?: Record<string, boolean>;
}

/** What an HEC answer means for delivery. */
export type HecVerdict =
  | { kind: "ok" }
  | { kind: "retry"; reason: string }
  | { kind: "fatal"; reason: string };

/**
 * Sorts an HEC answer by the status codes Splunk documents
 * (https://docs.splunk.com/Documentation/Splunk/latest/Data/TroubleshootHTTPEventCollector):
 * busy, throttled and server errors are retried; token, index and ack refusals need an
 * operator and say the fix. Messages never contain the token.
 */
export function classifyHecAnswer(answer: HecAnswer): HecVerdict {
  const { status, code } = answer;
  const said = `HTTP ${status}${code === undefined ? "" : `, code ${code}`}${answer.text ? ` "${answer.text}"` : ""}`;
  if (status >= 200 && status < 300 && (code === undefined || code === 0)) return { kind: "ok" };
  switch (code) {
    case 1:
      return {
        kind: "fatal",
        reason: `Splunk HEC: the token is disabled (${said}); enable it in Settings > Data inputs > HTTP Event Collector or set SPLUNK_HEC_TOKEN to an enabled one`,
      };
    case 2:
    case 3:
    case 4:
      return {
        kind: "fatal",
        reason: `Splunk HEC refused the token (${said}); check SPLUNK_HEC_TOKEN against Settings > Data inputs > HTTP Event Collector`,
      };
    case 7:
      return {
        kind: "fatal",
        reason: `Splunk HEC: incorrect index (${said}); set SPLUNK_HEC_INDEX to an index the token may write to (its "Allowed indexes") or unset it`,
      };
    case 14:
      return {
        kind: "fatal",
        reason: `Splunk HEC: indexer acknowledgement is disabled on this token (${said}); enable it on the token or set SPLUNK_HEC_ACK=false`,
      };
    case 8:
    case 9:
      return { kind: "retry", reason: `Splunk HEC is busy or failing (${said})` };
    default:
      break;
  }
  if (status === 401 || status === 403) {
    return {
      kind: "fatal",
      reason: `Splunk HEC refused the token (${said}); check SPLUNK_HEC_TOKEN`,
    };
  }
  if (status === 404) {
    return {
      kind: "fatal",
      reason: `Splunk HEC: no collector at this URL (${said}); check SPLUNK_HEC_URL (HEC listens on port 8088 by default and must be enabled under Global Settings)`,
    };
  }
  if (status === 408 || status === 429 || status >= 500) {
    return { kind: "retry", reason: `Splunk HEC answered ${said}` };
  }
  return { kind: "fatal", reason: `Splunk HEC refused the events (${said})` };
}

/** One request's worth of events, with its place in the batch. */
interface Chunk {
  body: Buffer;
  count: number;
}

/** Progress of one Batch object across retries of the pipeline (it resends the same object). */
interface BatchProgress {
  chunks: Chunk[];
  /** Chunks known indexed (or accepted, without ack). */
  done: Set<number>;
  /** Chunk index → ackId and when it was sent, waiting for the ack. */
  waiting: Map<number, { ackId: number; channel: string; sentAtMs: number }>;
}

/**
 * Delivers batches to Splunk's HTTP Event Collector
 * (https://docs.splunk.com/Documentation/Splunk/latest/Data/FormateventsforHTTPEventCollector):
 * `POST /services/collector/event` with `Authorization: Splunk <token>` and a body of
 * concatenated envelopes `{"time":…,"source":…,"sourcetype":…,"index":…,"event":<record>}`,
 * the record embedded as its raw JSON text (never re-serialized). Requests stay under
 * `maxRequestBytes`.
 *
 * With `ack`, every request carries `X-Splunk-Request-Channel` and the batch succeeds only when
 * `POST /services/collector/ack` reports every ackId true; an ackId still false after
 * `ackTimeoutInMs` is sent again (the indexer may have restarted): the one place a repeat is
 * possible besides a lost HTTP answer. Without ack, a 200 answer acknowledges.
 *
 * Answers: see {@link classifyHecAnswer}. Retryable answers and network errors give `retryable`
 * (with `Retry-After` when sent); the pipeline resends the same Batch and only the chunks not
 * yet indexed go again.
 */
export class SplunkHecSink implements Sink {
  readonly name: string;
  readonly usesParsedRecords = false;
  /** The parse workers build each record's envelope (sinks/recordEncoding.ts). */
  readonly recordEncoding: RecordEncoding;
  /** The current `X-Splunk-Request-Channel`; replaced when the indexer forgot its acks. */
  channel: string;
  private readonly options: SplunkHecSinkOptions;
  private readonly sourcetype: string;
  private readonly maxRequestBytes: number;
  private agent: HttpAgent | HttpsAgent | undefined;
  private readonly progress = new WeakMap<Batch, BatchProgress>();

  constructor(options: SplunkHecSinkOptions) {
    if (options.token === "") throw new Error("splunk-hec sink: SPLUNK_HEC_TOKEN is empty");
    this.options = options;
    this.name = options.name ?? "splunk-hec";
    this.channel = options.channel ?? randomUUID();
    this.sourcetype = options.sourcetype ?? DEFAULT_SPLUNK_HEC_SOURCETYPE;
    this.maxRequestBytes = options.maxRequestBytes ?? DEFAULT_SPLUNK_HEC_MAX_REQUEST_BYTES;
    this.recordEncoding = {
      kind: "splunk-hec",
      sourcetype: this.sourcetype,
      ...(options.index === undefined ? {} : { index: options.index }),
    };
  }

  async start(_committedPosition: string | undefined, _options?: OperationOptions): Promise<void> {
    let ca: Buffer | undefined;
    if (this.options.caFile !== undefined) {
      try {
        ca = await readFile(this.options.caFile);
      } catch (error) {
        throw new Error(
          `splunk-hec sink cannot read SPLUNK_HEC_CA_FILE ${this.options.caFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        );
      }
    }
    this.agent =
      this.options.url.protocol === "https:"
        ? new HttpsAgent({ keepAlive: true, maxSockets: 4, ...(ca ? { ca } : {}) })
        : new HttpAgent({ keepAlive: true, maxSockets: 4 });
  }

  async deliver(batch: Batch, options?: OperationOptions): Promise<DeliveryOutcome> {
    const signal = options?.abortSignal;
    const progress = this.progressOf(batch);
    try {
      for (let i = 0; i < progress.chunks.length; i++) {
        if (progress.done.has(i) || progress.waiting.has(i)) continue;
        const channel = this.channel;
        const answer = await this.post(
          "/services/collector/event",
          progress.chunks[i]!.body,
          channel,
          signal,
        );
        const verdict = classifyHecAnswer(answer);
        if (verdict.kind !== "ok") return this.outcome(verdict, answer);
        if (this.options.ack) {
          if (answer.ackId === undefined) {
            return {
              kind: "failure",
              error: new Error(
                "Splunk HEC answered without an ackId although SPLUNK_HEC_ACK=true; enable indexer acknowledgement on the token or set SPLUNK_HEC_ACK=false",
              ),
            };
          }
          progress.waiting.set(i, { ackId: answer.ackId, channel, sentAtMs: Date.now() });
        } else {
          progress.done.add(i);
        }
      }
      if (this.options.ack) {
        const waited = await this.awaitAcks(progress, signal);
        if (waited) return waited;
      }
      return { kind: "success" };
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error));
      return {
        kind: "retryable",
        error: new Error(`Splunk HEC ${this.options.url.host}: ${err.message}`, { cause: err }),
      };
    }
  }

  /** Polls acks until every waiting chunk is indexed; an outcome when it cannot finish now. */
  private async awaitAcks(
    progress: BatchProgress,
    signal?: AbortSignal,
  ): Promise<DeliveryOutcome | undefined> {
    let wait = this.options.ackPollInitialInMs ?? DEFAULT_SPLUNK_HEC_ACK_POLL_INITIAL_MS;
    const maxWait = this.options.ackPollMaxInMs ?? DEFAULT_SPLUNK_HEC_ACK_POLL_MAX_MS;
    const timeout = this.options.ackTimeoutInMs ?? DEFAULT_SPLUNK_HEC_ACK_TIMEOUT_MS;
    while (progress.waiting.size > 0) {
      await sleep(wait, signal);
      wait = Math.min(maxWait, wait * 2);
      const channels = new Set([...progress.waiting.values()].map((w) => w.channel));
      for (const channel of channels) {
        const ids = [...progress.waiting.values()]
          .filter((w) => w.channel === channel)
          .map((w) => w.ackId);
        const answer = await this.post(
          "/services/collector/ack",
          Buffer.from(JSON.stringify({ acks: ids })),
          channel,
          signal,
        );
        // 11 "Invalid data channel": the indexer no longer knows the channel (a restart).
        const forgotten = answer.code === 11;
        if (!forgotten) {
          const verdict = classifyHecAnswer(answer);
          if (verdict.kind !== "ok") return this.outcome(verdict, answer);
        }
        const acks = answer.acks ?? {};
        let expired = false;
        for (const [chunk, w] of progress.waiting) {
          if (w.channel !== channel) continue;
          if (!forgotten && acks[String(w.ackId)] === true) {
            progress.waiting.delete(chunk);
            progress.done.add(chunk);
          } else if (forgotten || Date.now() - w.sentAtMs > timeout) {
            progress.waiting.delete(chunk);
            expired = true;
          }
        }
        if (expired) {
          // Ack ids restart with the indexer: a fresh channel keeps an old id from matching a
          // new request. The unacknowledged requests go again (their events may repeat).
          if (this.channel === channel) this.channel = randomUUID();
          this.options.logger?.warn(
            { timeoutInMs: timeout, forgotten },
            "Splunk HEC did not acknowledge a request in time; sending it again on a new channel (its events may repeat)",
          );
          return {
            kind: "retryable",
            error: new Error(
              forgotten
                ? "Splunk HEC forgot the request channel (restarted?); sending again"
                : `Splunk HEC did not acknowledge within ${timeout} ms; sending again`,
            ),
          };
        }
      }
    }
    return undefined;
  }

  private outcome(verdict: HecVerdict, answer: HecAnswer): DeliveryOutcome {
    if (verdict.kind === "fatal") return { kind: "failure", error: new Error(verdict.reason) };
    return {
      kind: "retryable",
      error: new Error(verdict.kind === "retry" ? verdict.reason : "retry"),
      ...(answer.retryAfterInMs !== undefined ? { retryAfterInMs: answer.retryAfterInMs } : {}),
    };
  }

  private progressOf(batch: Batch): BatchProgress {
    let progress = this.progress.get(batch);
    if (!progress) {
      progress = { chunks: this.encode(batch), done: new Set(), waiting: new Map() };
      this.progress.set(batch, progress);
    }
    return progress;
  }

  /**
   * The batch as HEC envelopes, one per line, split into requests of at most `maxRequestBytes`.
   * Each envelope is the one a parse worker built (`recordEncoding`), or is built here with the
   * same code.
   */
  private encode(batch: Batch): Chunk[] {
    const meta = hecEnvelopeMeta({
      contentType: batch.contentType,
      sourcetype: this.sourcetype,
      index: this.options.index,
    });
    const chunks: Chunk[] = [];
    let parts: Uint8Array[] = [];
    let size = 0;
    const flush = () => {
      if (parts.length === 0) return;
      // `size` counts a newline after every envelope; the body has one between them.
      const body = Buffer.allocUnsafe(size - 1);
      let offset = 0;
      for (let i = 0; i < parts.length; i++) {
        if (i > 0) body[offset++] = NEWLINE;
        body.set(parts[i]!, offset);
        offset += parts[i]!.byteLength;
      }
      chunks.push({ body, count: parts.length });
      parts = [];
      size = 0;
    };
    for (const record of batch.records) {
      const envelope =
        encodedFor(record, this.recordEncoding)?.bytes ??
        Buffer.from(hecEnvelope(record.raw, meta), "utf8");
      const bytes = envelope.byteLength + 1;
      if (size > 0 && size + bytes > this.maxRequestBytes) flush();
      parts.push(envelope);
      size += bytes;
    }
    flush();
    return chunks;
  }

  private post(
    path: string,
    body: Buffer,
    channel: string,
    signal?: AbortSignal,
  ): Promise<HecAnswer> {
    const url = new URL(this.options.url.pathname.replace(/\/$/, "") + path, this.options.url);
    if (this.options.ack) url.searchParams.set("channel", channel);
    const request = url.protocol === "https:" ? httpsRequest : httpRequest;
    const timeoutMs = this.options.requestTimeoutInMs ?? DEFAULT_SPLUNK_HEC_REQUEST_TIMEOUT_MS;
    return new Promise<HecAnswer>((resolveAnswer, rejectAnswer) => {
      const req = request(
        url,
        {
          method: "POST",
          agent: this.agent,
          headers: {
            Authorization: `Splunk ${this.options.token}`,
            "Content-Type": "application/json",
            "Content-Length": body.byteLength,
            ...(this.options.ack ? { "X-Splunk-Request-Channel": channel } : {}),
          },
          timeout: timeoutMs,
          ...(signal ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", (error) => rejectAnswer(error));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            const answer: HecAnswer = { status };
            const retryAfter = Number(res.headers["retry-after"]);
            if (Number.isFinite(retryAfter) && retryAfter >= 0) {
              answer.retryAfterInMs = Math.min(retryAfter * 1000, MAX_RETRY_AFTER_IN_MS);
            }
            try {
              const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<
                string,
                unknown
              >;
              if (typeof parsed.code === "number") answer.code = parsed.code;
              if (typeof parsed.text === "string") answer.text = parsed.text.slice(0, 200);
              if (typeof parsed.ackId === "number") answer.ackId = parsed.ackId;
              if (typeof parsed["invalid-event-number"] === "number") {
                answer.invalidEventNumber = parsed["invalid-event-number"];
              }
              if (parsed.acks && typeof parsed.acks === "object") {
                answer.acks = parsed.acks as Record<string, boolean>;
              }
            } catch {
              // Not JSON (a proxy's error page): the status alone decides.
            }
            resolveAnswer(answer);
          });
        },
      );
      req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on("error", (error) => rejectAnswer(new Error(error.message)));
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent?.destroy();
    this.agent = undefined;
  }
}
