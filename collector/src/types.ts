/**
 * The collector's internal contracts. The pipeline (collector/src/pipeline) sees only these
 * interfaces: a Source that knows the Management Activity API, Sinks that deliver, and a
 * StateStore that persists the checkpoint and the ledger of delivered record ids.
 */
import type { ContentType } from "../../domain/contentTypes";
import type { AuditRecord, ContentBlob } from "../../domain/records";
import type { AuditRowOptions, EncodedRow } from "./sinks/logsIngestionRows";
import type { EncodedMessage, RecordEncoding } from "./sinks/recordEncoding";

/** One audit record as received: its `Id`, its exact JSON text and the parsed object. */
export interface ReceivedRecord {
  /** The record's `Id` (the dedup key). */
  id: string;
  /** The record's JSON text exactly as it stood in the blob. */
  raw: string;
  /** The parsed record. */
  record: AuditRecord;
  /**
   * The same text as UTF-8 bytes, when the source has them (records parsed on a worker thread);
   * a sink that writes bytes can use them and skip encoding `raw`.
   */
  bytes?: Uint8Array;
  /**
   * The record's Logs Ingestion row, JSON-encoded, when a parse worker built it for a sink that
   * asked (`Sink.auditRows`); the sink then neither parses the record nor serializes the row.
   */
  row?: EncodedRow;
  /**
   * The record encoded for other sinks that asked (`Sink.recordEncoding`), when a parse worker
   * built them; each sink finds its own with `encodedFor` (sinks/recordEncoding.ts).
   */
  encoded?: readonly EncodedMessage[];
}

/** What the pipeline hands a sink: new (not yet delivered) records of one blob. */
export interface Batch {
  contentType: ContentType;
  blob: ContentBlob;
  records: readonly ReceivedRecord[];
}

/** A sink's answer for one batch, in the success / retryable / failure shape. */
export type DeliveryOutcome =
  | {
      kind: "success";
      /** Opaque resume position (e.g. file name + byte offset), committed with the checkpoint. */
      position?: string;
    }
  | { kind: "retryable"; error: Error; retryAfterInMs?: number }
  | { kind: "failure"; error: Error };

export interface OperationOptions {
  abortSignal?: AbortSignal;
}

/**
 * A destination for audit records. Contract:
 * - `start` is called once, before the first `deliver`, with the position this sink last
 *   reported in a *committed* outcome (undefined on first run). A sink that can undo writes
 *   that were never committed (the file sink truncates its tail) does so here; that is how a
 *   crash between "written" and "checkpointed" repeats nothing.
 * - `deliver` resolves only when the records are durable at the destination (or it returns a
 *   non-success outcome). It must not throw for delivery problems; it returns an outcome.
 * - `close` flushes and releases resources; no `deliver` follows it.
 * New sinks (syslog/CEF, Splunk HEC, Event Hubs) implement this and nothing else changes.
 */
export interface Sink {
  readonly name: string;
  /**
   * True when `deliver` reads `record.record` for records that carry no encoding of its
   * `recordEncoding`. When no sink does, the source keeps only each record's text while it waits
   * in the pipeline (the parsed object is rebuilt on demand). With parse workers running, a sink
   * with a `recordEncoding` gets it built there and reads no parsed record.
   */
  readonly usesParsedRecords?: boolean;
  /**
   * Set by a sink that sends Logs Ingestion rows: the parse workers then build each record's
   * row (`ReceivedRecord.row`) next to its bytes, off the main thread.
   */
  readonly auditRows?: AuditRowOptions;
  /**
   * Set by a sink whose per-record encoding can run on the parse workers (syslog messages,
   * Splunk HEC envelopes): each record then carries it in `ReceivedRecord.encoded`, matched to
   * this very object. A record without it (no workers) is encoded by the sink itself, to the
   * same bytes.
   */
  readonly recordEncoding?: RecordEncoding;
  start(committedPosition: string | undefined, options?: OperationOptions): Promise<void>;
  deliver(batch: Batch, options?: OperationOptions): Promise<DeliveryOutcome>;
  close(): Promise<void>;
}

/** Progress of one content type. Moves forward only, and only after delivery. */
export interface Checkpoint {
  contentType: ContentType;
  /** `startTime` of the listing window being worked (the cursor), ISO-8601 UTC. */
  windowStart: string;
  /** Newest `contentCreated` among blobs fully delivered, ISO-8601 UTC. */
  lastContentCreated?: string;
  /** contentIds fully delivered that may still be listed again (inside the re-list overlap). */
  doneBlobs: string[];
  /** When this checkpoint was written, ISO-8601 UTC. */
  updatedAt: string;
}

/** Everything committed atomically after every sink acknowledged a batch. */
export interface CommitUpdate {
  /** Present when the checkpoint moves with this commit. */
  checkpoint?: Checkpoint;
  /** Record ids now delivered (added to the ledger). */
  deliveredIds: readonly string[];
  /** Sink name → position reported with the acknowledgement. */
  sinkPositions: Readonly<Record<string, string>>;
  /** Wall clock of the commit, epoch ms (ledger entries expire after the horizon). */
  nowMs: number;
}

/**
 * Persistent state: checkpoints, sink positions and the ledger of delivered record ids.
 * `open` takes exclusive ownership (the blob store holds a lease) or throws.
 */
export interface StateStore {
  open(options?: OperationOptions): Promise<void>;
  loadCheckpoints(): Promise<Map<ContentType, Checkpoint>>;
  loadSinkPositions(): Promise<Record<string, string>>;
  /** The subset of `ids` already in the ledger. */
  seen(ids: readonly string[]): Promise<Set<string>>;
  /** Atomic: ledger ids + checkpoint + sink positions, all or nothing. */
  commit(update: CommitUpdate): Promise<void>;
  /** Drops ledger entries delivered before `olderThanMs`; returns how many. */
  prune(olderThanMs: number): Promise<number>;
  close(): Promise<void>;
}

/**
 * What a source yields for one content type, in order. The pipeline delivers the records of a
 * `blob` item and then commits `checkpointAfter`; `skipped` and `advance` items carry no
 * records and their checkpoint is committed as soon as everything before them is.
 */
export type SourceItem =
  | {
      kind: "blob";
      blob: ContentBlob;
      /** Streams the blob's records; may be called again to retry from the start. */
      records(options?: OperationOptions): AsyncIterable<ReceivedRecord>;
      checkpointAfter: Checkpoint;
    }
  | {
      kind: "skipped";
      blob: ContentBlob;
      reason: "expired" | "missing" | "malformed" | "refused-uri";
      checkpointAfter: Checkpoint;
    }
  | { kind: "advance"; checkpointAfter: Checkpoint };

/** The Management Activity API as the pipeline sees it. */
export interface Source {
  /** Ensures every configured content type is subscribed. */
  start(options?: OperationOptions): Promise<void>;
  /** One poll of a content type from its checkpoint up to now: the work to do, in order. */
  poll(
    contentType: ContentType,
    checkpoint: Checkpoint | undefined,
    options?: OperationOptions,
  ): AsyncIterable<SourceItem>;
}
