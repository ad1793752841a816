import type {
  Batch,
  Checkpoint,
  CommitUpdate,
  DeliveryOutcome,
  OperationOptions,
  ReceivedRecord,
  Sink,
  Source,
  SourceItem,
  StateStore,
} from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import type { ContentBlob } from "../../../domain/records";

/** A deterministic GUID-shaped id from a number. */
export function guid(n: number): string {
  const hex = n.toString(16).padStart(12, "0");
  return `00000000-0000-4000-8000-${hex}`;
}

/** A synthetic audit record. */
export function record(
  id: string | undefined,
  extra: Record<string, unknown> = {},
): ReceivedRecord {
  const body = {
    ...(id === undefined ? {} : { Id: id }),
    CreationTime: "2026-03-01T10:00:00",
    RecordType: 1,
    Operation: "Test",
    ...extra,
  };
  const raw = JSON.stringify(body);
  return { id: id ?? "", raw, record: body as ReceivedRecord["record"] };
}

export interface FakeBlob {
  contentId: string;
  /** Minutes after 2026-03-01T00:00Z. */
  minute: number;
  records: ReceivedRecord[];
  /** Wait this long (ms) before yielding the first record. */
  delayInMs?: number;
  /** The first N reads throw after yielding half the records. */
  failReads?: number;
  /** Every read throws. */
  alwaysFail?: boolean;
  /** Item kind other than a blob. */
  kind?: "blob" | "skipped";
}

export function blobMeta(contentType: ContentType, blob: FakeBlob): ContentBlob {
  const created = new Date(Date.UTC(2026, 2, 1) + blob.minute * 60_000).toISOString();
  return {
    contentType,
    contentId: blob.contentId,
    contentUri: `https://api.test/${blob.contentId}`,
    contentCreated: created,
    contentExpiration: created,
  };
}

/**
 * A Source over scripted blobs. The checkpoint's `lastContentCreated` is the cursor: a poll
 * yields the blobs created after it, in order.
 */
export class FakeSource implements Source {
  readonly reads = new Map<string, number>();
  polls = 0;
  constructor(readonly blobs: Partial<Record<ContentType, FakeBlob[]>>) {}

  async start(): Promise<void> {}

  async *poll(
    contentType: ContentType,
    checkpoint: Checkpoint | undefined,
    options?: OperationOptions,
  ): AsyncIterable<SourceItem> {
    this.polls += 1;
    const after = checkpoint?.lastContentCreated ?? "";
    for (const blob of this.blobs[contentType] ?? []) {
      options?.abortSignal?.throwIfAborted();
      const meta = blobMeta(contentType, blob);
      if (meta.contentCreated <= after) continue;
      const checkpointAfter: Checkpoint = {
        contentType,
        windowStart: "2026-03-01T00:00:00.000Z",
        lastContentCreated: meta.contentCreated,
        doneBlobs: [blob.contentId],
        updatedAt: "source",
      };
      if (blob.kind === "skipped") {
        yield { kind: "skipped", blob: meta, reason: "expired", checkpointAfter };
        continue;
      }
      yield {
        kind: "blob",
        blob: meta,
        checkpointAfter,
        records: (readOptions) => this.read(blob, readOptions),
      };
    }
  }

  private async *read(blob: FakeBlob, options?: OperationOptions): AsyncIterable<ReceivedRecord> {
    const attempt = (this.reads.get(blob.contentId) ?? 0) + 1;
    this.reads.set(blob.contentId, attempt);
    if (blob.delayInMs) await sleep(blob.delayInMs, options?.abortSignal);
    const failing = blob.alwaysFail || attempt <= (blob.failReads ?? 0);
    const half = Math.floor(blob.records.length / 2);
    for (let i = 0; i < blob.records.length; i++) {
      if (failing && i === half) throw new Error(`connection reset reading ${blob.contentId}`);
      yield blob.records[i]!;
    }
    if (failing) throw new Error(`connection reset reading ${blob.contentId}`);
  }
}

export type ScriptedOutcome = DeliveryOutcome | { kind: "wait"; until: Promise<void> };

/** A sink that records batches; outcomes are scripted per call, then success. */
export class FakeSink implements Sink {
  readonly batches: Batch[] = [];
  readonly attempts: Batch[] = [];
  readonly ids: string[] = [];
  startedWith: string | undefined = "never started";
  closed = false;
  private position = 0;
  constructor(
    readonly name: string,
    readonly script: ScriptedOutcome[] = [],
    readonly onDeliver?: (batch: Batch) => void,
  ) {}

  async start(committedPosition: string | undefined): Promise<void> {
    this.startedWith = committedPosition;
    this.position = committedPosition === undefined ? 0 : Number(committedPosition);
  }

  async deliver(batch: Batch, options?: OperationOptions): Promise<DeliveryOutcome> {
    this.attempts.push(batch);
    this.onDeliver?.(batch);
    let next = this.script.shift();
    if (next?.kind === "wait") {
      const aborted = new Promise<void>((_, reject) =>
        options?.abortSignal?.addEventListener("abort", () => reject(new Error("aborted")), {
          once: true,
        }),
      );
      try {
        await Promise.race([next.until, aborted]);
      } catch {
        return { kind: "retryable", error: new Error("aborted mid-delivery") };
      }
      next = undefined;
    }
    if (next && next.kind !== "success") return next;
    this.batches.push(batch);
    for (const r of batch.records) this.ids.push(r.id);
    this.position += batch.records.length;
    return { kind: "success", position: String(this.position) };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** An in-memory StateStore that keeps a log of commits. */
export class MemoryState implements StateStore {
  readonly ledger = new Map<string, number>();
  readonly checkpoints = new Map<ContentType, Checkpoint>();
  positions: Record<string, string> = {};
  readonly commits: CommitUpdate[] = [];
  failCommits = false;
  opened = 0;

  async open(): Promise<void> {
    this.opened += 1;
  }
  async loadCheckpoints(): Promise<Map<ContentType, Checkpoint>> {
    return new Map(this.checkpoints);
  }
  async loadSinkPositions(): Promise<Record<string, string>> {
    return { ...this.positions };
  }
  async seen(ids: readonly string[]): Promise<Set<string>> {
    return new Set(ids.filter((id) => this.ledger.has(id)));
  }
  async commit(update: CommitUpdate): Promise<void> {
    if (this.failCommits) throw new Error("disk full");
    this.commits.push({ ...update, deliveredIds: [...update.deliveredIds] });
    for (const id of update.deliveredIds) this.ledger.set(id, update.nowMs);
    if (update.checkpoint) this.checkpoints.set(update.checkpoint.contentType, update.checkpoint);
    Object.assign(this.positions, update.sinkPositions);
  }
  async prune(olderThanMs: number): Promise<number> {
    let n = 0;
    for (const [id, at] of this.ledger) {
      if (at < olderThanMs) {
        this.ledger.delete(id);
        n++;
      }
    }
    return n;
  }
  async close(): Promise<void> {}
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/** Records `from`..`to` (inclusive) as GUID ids. */
export function records(from: number, to: number): ReceivedRecord[] {
  const out: ReceivedRecord[] = [];
  for (let n = from; n <= to; n++) out.push(record(guid(n)));
  return out;
}
