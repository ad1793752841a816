import type { ContentType } from "../../../domain/contentTypes";
import type { RetryDelayOptions } from "../backoff";
import type { Logger } from "../log";
import type { CollectorMetrics } from "../metrics";
import type { ReceivedRecord, Sink, Source, StateStore } from "../types";
import type { ContentTypeProgress } from "./counters";

/**
 * Blobs fetched at once across all content types (a memory bound; the request pacer, not this
 * number, keeps the collector inside the API's request budget). Twelve keeps a backlog drain at
 * the pacer's budget with 80 ms per request (the drain scenario of `npm run bench`, see
 * docs/benchmarks.md: eight left it latency-bound at 1.27× the floor); sixteen raised the
 * backlog's peak RSS by about 25 MB for nothing more.
 */
export const DEFAULT_BLOB_CONCURRENCY = 12;
/** Records per sink batch; a blob with more records is delivered in several batches. */
export const DEFAULT_MAX_BATCH_RECORDS = 1_000;
/**
 * Most bytes per sink batch, each record counted as {@link recordSizeBytes} plus one (a
 * separator); a record larger than this goes alone. A batch is handed on before a record would
 * take it past this size, even below {@link DEFAULT_MAX_BATCH_RECORDS}. Every blob being read
 * holds the batch it fills (and waits to hand it to the lane), so with
 * {@link DEFAULT_BLOB_CONCURRENCY} blobs this bounds what the readers hold in bytes whatever the
 * records' size: 1,000 Logs Ingestion rows of ~1.9 KB are 1.9 MB, 23 MB for twelve blobs. Just
 * under 1,000,000 so a batch of rows, with the JSON array's brackets and commas, is one Logs
 * Ingestion request body and not a full one and a nearly empty one
 * (https://learn.microsoft.com/en-us/azure/azure-monitor/service-limits#logs-ingestion-api).
 */
export const DEFAULT_MAX_BATCH_BYTES = 999_000;
/**
 * The most records a delivery round takes and the lane's queue budget. Queued records are held
 * whole (their text, and parsed when a sink reads the parsed form: several KB each), so this
 * number is the collector's main memory knob.
 */
export const DEFAULT_COMMIT_MAX_RECORDS = 5_000;
/**
 * The most bytes a delivery round takes and the lane's queue holds (records counted as
 * {@link recordSizeBytes}), next to {@link DEFAULT_COMMIT_MAX_RECORDS}: what the lane holds is
 * bytes, and records differ in size by sink. 5,000 records of ~1.9 KB of text (the file path)
 * stay under it; 5,000 Logs Ingestion rows of ~3 KB were 15 MB per round and as much queued.
 * Ten megabytes are ten request bodies, two waves of the sink's five concurrent uploads
 * (DEFAULT_INGESTION_CONCURRENCY in sinks/logsIngestionSink.ts).
 */
export const DEFAULT_COMMIT_MAX_BYTES = 10_000_000;
/**
 * Acknowledged records (only their Ids are held) that share one commit while more batches are
 * queued. Each SQLite commit rewrites every ledger page it touches, and random GUIDs touch
 * pages all over the ledger, so fewer, larger commits cost much less per Id (measure it with
 * bench/ledgerThroughput.ts). It is also the most acknowledged-but-uncommitted records a crash
 * can repeat at a sink that cannot undo (Logs Ingestion), together with one round.
 */
export const DEFAULT_COMMIT_EVERY_RECORDS = 20_000;
/** Longest an acknowledged batch waits for its commit while more batches are queued, in ms. */
export const DEFAULT_COMMIT_MAX_DELAY_MS = 1_000;
/** On a graceful stop, the in-flight batch gets this long to finish (retries included), in ms. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 20_000;
/** Ledger entries older than this are pruned: 8 days, one more than the API's 7-day window. */
export const DEFAULT_LEDGER_HORIZON_MS = 8 * 24 * 3_600_000;
/** The ledger is pruned at most this often, in ms. */
export const DEFAULT_PRUNE_INTERVAL_MS = 3_600_000;
/** Reads of one blob before the content type's poll gives up for this run. */
export const DEFAULT_BLOB_ATTEMPTS = 3;
/** Batches handed to the sinks together in one lane round. */
export const MAX_ROUND_BATCHES = 64;

/**
 * What a received record holds in memory, in bytes, as the pipeline counts it: its Logs
 * Ingestion row when a parse worker built one (the row embeds the record's text unless the
 * text was reduced), else its UTF-8 bytes, else its text's length (a lower bound for non-ASCII
 * text: decoding it to count exactly would cost more than the estimate is worth).
 */
export function recordSizeBytes(record: ReceivedRecord): number {
  return record.row?.bytes.byteLength ?? record.bytes?.byteLength ?? record.raw.length;
}

/** Everything the pipeline is built from. */
export interface PipelineOptions {
  source: Source;
  /** Every sink must acknowledge a batch before it is committed. At least one. */
  sinks: readonly Sink[];
  state: StateStore;
  contentTypes: readonly ContentType[];
  metrics?: CollectorMetrics;
  logger?: Logger;
  /** Blobs fetched concurrently across content types (default {@link DEFAULT_BLOB_CONCURRENCY}). */
  blobConcurrency?: number;
  /** Records per sink batch (default {@link DEFAULT_MAX_BATCH_RECORDS}). */
  maxBatchRecords?: number;
  /** Bytes per sink batch (default {@link DEFAULT_MAX_BATCH_BYTES}); see {@link recordSizeBytes}. */
  maxBatchBytes?: number;
  /** Records per delivery round and queued in the lane (default {@link DEFAULT_COMMIT_MAX_RECORDS}). */
  commitMaxRecords?: number;
  /** Bytes per delivery round and queued in the lane (default {@link DEFAULT_COMMIT_MAX_BYTES}). */
  commitMaxBytes?: number;
  /** Coalesce commits up to this many acknowledged records (default {@link DEFAULT_COMMIT_EVERY_RECORDS}). */
  commitEveryRecords?: number;
  /** ... or up to this age of the oldest uncommitted acknowledgement (default {@link DEFAULT_COMMIT_MAX_DELAY_MS}). */
  commitMaxDelayInMs?: number;
  /** Backoff after retryable sink outcomes and failed blob reads. */
  retry?: RetryDelayOptions;
  /**
   * Give up on a batch a sink keeps refusing after this long, in ms (the run then fails).
   * Default: never — an outage of minutes or hours just waits, logging every retry.
   */
  sinkRetryTimeoutInMs?: number;
  /** Grace for the in-flight batch on a graceful stop (default {@link DEFAULT_SHUTDOWN_GRACE_MS}). */
  shutdownGraceInMs?: number;
  /** Reads of one blob before giving up on it for this run (default {@link DEFAULT_BLOB_ATTEMPTS}). */
  blobAttempts?: number;
  /** Ledger horizon (default {@link DEFAULT_LEDGER_HORIZON_MS}). */
  ledgerHorizonInMs?: number;
  /** Called after commits, retries and polls; must not throw or block. */
  onProgress?: (event: PipelineProgressEvent) => void;
  /** Clock, epoch ms (default `Date.now`). */
  nowMs?: () => number;
}

/** What `onProgress` receives. */
export type PipelineProgressEvent =
  | {
      type: "commit";
      records: number;
      byContentType: Readonly<Record<string, ContentTypeProgress>>;
    }
  | { type: "retry"; sink: string; attempt: number; delayInMs: number; error: string }
  | { type: "poll-done"; contentType: ContentType; ok: boolean; error?: string };

/**
 * Throws when the options cannot work, with a message naming the option (or the setting an
 * operator changes) and the fix.
 */
export function checkPipelineOptions(options: PipelineOptions): void {
  if (options.sinks.length === 0)
    throw new Error("pipeline needs at least one sink; set AUDIT_SINK");
  const names = new Set(options.sinks.map((sink) => sink.name));
  if (names.size !== options.sinks.length) {
    throw new Error("pipeline sinks need distinct names (their positions are stored by name)");
  }
  if (options.contentTypes.length === 0) {
    throw new Error("pipeline needs at least one content type; set O365_CONTENT_TYPES");
  }
  for (const [key, value] of Object.entries({
    blobConcurrency: options.blobConcurrency,
    maxBatchRecords: options.maxBatchRecords,
    maxBatchBytes: options.maxBatchBytes,
    commitMaxRecords: options.commitMaxRecords,
    commitMaxBytes: options.commitMaxBytes,
    blobAttempts: options.blobAttempts,
  })) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      throw new Error(`pipeline option ${key}=${value} is invalid; use an integer of at least 1`);
    }
  }
}
