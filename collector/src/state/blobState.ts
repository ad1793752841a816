import type { TokenCredential } from "@azure/core-auth";
import {
  type AppendBlobClient,
  type BlobLeaseClient,
  BlobServiceClient,
  type BlockBlobClient,
  type ContainerClient,
  ContainerClient as ContainerClientClass,
  RestError,
} from "@azure/storage-blob";
import type { ContentType } from "../../../domain/contentTypes";
import type { Logger } from "../log";
import type { Checkpoint, CommitUpdate, OperationOptions, StateStore } from "../types";
import { StateStoreError } from "./errors";
import { IdSet } from "./idSet";
import { ledgerKey } from "./ids";

/** Lease duration in seconds (the service allows 15–60 or infinite). */
export const BLOB_LEASE_SECONDS = 60;
/** Renew the lease this often, in ms: three chances before it could expire. */
export const DEFAULT_LEASE_RENEW_INTERVAL_MS = 20_000;
/** Version of the state document; bump with a migration. */
export const BLOB_STATE_VERSION = 1;
/** Append blocks are at most 4 MiB (older service versions and Azurite). */
const MAX_APPEND_BYTES = 4 * 1024 * 1024;
/** Ledger segments downloaded at once while loading. */
const LOAD_CONCURRENCY = 8;
const HOUR_MS = 3_600_000;

export interface BlobStateOptions {
  /**
   * Container URL, e.g. `https://<account>.blob.core.windows.net/<container>` (with
   * `credential`), or the container name when `connectionString` is given.
   */
  container: string;
  /** Managed identity (or any TokenCredential) with Storage Blob Data Contributor. */
  credential?: TokenCredential;
  /** `AZURE_STORAGE_CONNECTION_STRING` (local development, Azurite). */
  connectionString?: string;
  /** Folder inside the container, one per tenant (default `auditbridge`). */
  prefix?: string;
  /** Lease renewal interval in ms (default {@link DEFAULT_LEASE_RENEW_INTERVAL_MS}). */
  leaseRenewIntervalInMs?: number;
  /** Ledger segments older than this are not loaded (they are pruned anyway). Default 8 days. */
  horizonInMs?: number;
  /** Called once when the lease is lost; the collector must stop (another replica may own it). */
  onLeaseLost?: (error: StateStoreError) => void;
  logger?: Logger;
  /** Clock, epoch ms (default `Date.now`). */
  nowMs?: () => number;
}

/** The state document (`<prefix>/state.json`). */
interface StateDocument {
  version: number;
  /** Incremented by every `open`; names this session's ledger segments. */
  session: number;
  checkpoints: Record<string, Checkpoint>;
  sinkPositions: Record<string, string>;
  /** Ledger segment blob name → delivery hour and committed length in bytes. */
  segments: Record<string, { hour: number; length: number }>;
}

function emptyDocument(): StateDocument {
  return {
    version: BLOB_STATE_VERSION,
    session: 0,
    checkpoints: {},
    sinkPositions: {},
    segments: {},
  };
}

/**
 * State in Azure Blob Storage, for collectors running in Azure.
 *
 * - **Ownership**: a 60-second lease on `state.json`, renewed every 20 s in the background.
 *   `open` fails with code `locked` while another replica holds it. If renewal fails and the
 *   lease cannot be confirmed, `leaseLostSignal` aborts, `onLeaseLost` runs, and every later
 *   `commit` throws `lease-lost`: the collector stops clearly instead of racing.
 * - **Atomic commits**: the document is written with `If-Match: <ETag>` plus the lease id, so a
 *   write based on a stale read fails (`conflict`) instead of overwriting.
 * - **Ledger**: 16-byte keys (GUID bytes; SHA-256 prefix for other ids) appended to one append
 *   blob per delivery hour and session, `ledger/<hour>.<session>.bin`. The document records each
 *   segment's committed length, and loading reads only that prefix: bytes appended by a commit
 *   whose document write failed are ignored. Footprint: 16 MB per million ids; memory: the
 *   in-memory {@link IdSet}, 29–57 bytes per id; pruning deletes whole hourly segments.
 */
export class BlobStateStore implements StateStore {
  private readonly options: BlobStateOptions;
  private readonly container: ContainerClient;
  private readonly prefix: string;
  private readonly docBlob: BlockBlobClient;
  private readonly nowMs: () => number;
  private lease: BlobLeaseClient | undefined;
  private leaseId: string | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private lastRenewMs = 0;
  private doc: StateDocument = emptyDocument();
  private etag: string | undefined;
  private ids = new IdSet();
  private lost: StateStoreError | undefined;
  private broken: StateStoreError | undefined;
  private readonly lostController = new AbortController();

  constructor(options: BlobStateOptions) {
    this.options = options;
    this.nowMs = options.nowMs ?? Date.now;
    this.prefix = (options.prefix ?? "auditbridge").replace(/^\/+|\/+$/g, "");
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(this.prefix)) {
      throw new StateStoreError(
        "io",
        `blob state prefix "${options.prefix}" must be letters, digits, . _ - and /`,
      );
    }
    if (options.connectionString) {
      let service: BlobServiceClient;
      try {
        service = BlobServiceClient.fromConnectionString(options.connectionString);
      } catch {
        // The SDK's message may echo the connection string (a secret); ours does not.
        throw new StateStoreError(
          "io",
          "AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string",
        );
      }
      const name = containerName(options.container);
      this.container = service.getContainerClient(name);
    } else {
      let url: URL;
      try {
        url = new URL(options.container);
      } catch {
        throw new StateStoreError(
          "io",
          `AUDIT_STATE "${options.container}" is not a container URL (https://<account>.blob.core.windows.net/<container>)`,
        );
      }
      if (url.protocol !== "https:") {
        throw new StateStoreError(
          "io",
          `AUDIT_STATE "${options.container}" must use https with a token credential`,
        );
      }
      if (!options.credential) {
        throw new StateStoreError(
          "io",
          "blob state needs a credential (managed identity) or AZURE_STORAGE_CONNECTION_STRING",
        );
      }
      this.container = new ContainerClientClass(options.container, options.credential);
    }
    this.docBlob = this.container.getBlockBlobClient(`${this.prefix}/state.json`);
  }

  /** Aborts when the lease is lost; link it to the collector's stop signal. */
  get leaseLostSignal(): AbortSignal {
    return this.lostController.signal;
  }

  async open(options?: OperationOptions): Promise<void> {
    if (this.leaseId) return;
    const abortSignal = options?.abortSignal;
    await this.call("create the container", () =>
      this.container.createIfNotExists({ abortSignal }),
    );
    try {
      const initial = JSON.stringify(emptyDocument());
      await this.docBlob.upload(initial, Buffer.byteLength(initial), {
        conditions: { ifNoneMatch: "*" },
        blobHTTPHeaders: { blobContentType: "application/json" },
        abortSignal,
      });
    } catch (error) {
      // Already there (409 BlobAlreadyExists / 412), or leased by a running collector (412).
      if (!(error instanceof RestError && (error.statusCode === 409 || error.statusCode === 412))) {
        throw this.toError(error, "create the state document");
      }
    }
    const lease = this.docBlob.getBlobLeaseClient();
    try {
      await lease.acquireLease(BLOB_LEASE_SECONDS, { abortSignal });
    } catch (error) {
      if (error instanceof RestError && error.statusCode === 409) {
        throw new StateStoreError(
          "locked",
          `blob state ${this.where()} is leased by another collector; run one collector per tenant (a crashed one's lease expires within ${BLOB_LEASE_SECONDS} s)`,
          { cause: error },
        );
      }
      throw this.toError(error, "acquire the lease");
    }
    this.lease = lease;
    this.leaseId = lease.leaseId;
    this.lastRenewMs = this.nowMs();
    try {
      await this.readDocument(abortSignal);
      this.doc.session += 1;
      await this.writeDocument(this.doc, abortSignal);
      await this.loadLedger(abortSignal);
    } catch (error) {
      await this.releaseLease();
      throw error;
    }
    const interval = this.options.leaseRenewIntervalInMs ?? DEFAULT_LEASE_RENEW_INTERVAL_MS;
    this.renewTimer = setInterval(() => void this.renew(), interval);
    this.renewTimer.unref?.();
  }

  async loadCheckpoints(): Promise<Map<ContentType, Checkpoint>> {
    return new Map(Object.entries(this.doc.checkpoints) as Array<[ContentType, Checkpoint]>);
  }

  async loadSinkPositions(): Promise<Record<string, string>> {
    return { ...this.doc.sinkPositions };
  }

  async seen(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (const id of ids) if (this.ids.has(ledgerKey(id))) found.add(id);
    return found;
  }

  async commit(update: CommitUpdate): Promise<void> {
    this.assertUsable();
    const hour = Math.floor(update.nowMs / HOUR_MS);
    const next: StateDocument = structuredClone(this.doc);
    const keys = update.deliveredIds.map((id) => ledgerKey(id));
    try {
      if (keys.length > 0) {
        const name = `ledger/${hour}.${next.session}.bin`;
        const segment = next.segments[name] ?? { hour, length: 0 };
        const blob = this.segmentBlob(name);
        if (segment.length === 0 && !this.doc.segments[name]) {
          await this.call("create a ledger segment", () => blob.createIfNotExists());
        }
        const data = Buffer.concat(keys);
        for (let offset = 0; offset < data.length; offset += MAX_APPEND_BYTES) {
          const part = data.subarray(offset, offset + MAX_APPEND_BYTES);
          // appendPosition: never append after bytes we did not account for.
          await this.call("append to the ledger", () =>
            blob.appendBlock(part, part.length, { conditions: { appendPosition: segment.length } }),
          );
          segment.length += part.length;
        }
        next.segments[name] = segment;
      }
      if (update.checkpoint) next.checkpoints[update.checkpoint.contentType] = update.checkpoint;
      Object.assign(next.sinkPositions, update.sinkPositions);
      await this.writeDocument(next);
    } catch (error) {
      // What is stored is still the last committed document; this process may not know its
      // ETag or the segment lengths any more, so it stops committing until reopened.
      const failure = error instanceof StateStoreError ? error : this.toError(error, "commit");
      this.broken = failure;
      throw failure;
    }
    this.doc = next;
    for (const key of keys) this.ids.add(key, hour);
  }

  async prune(olderThanMs: number): Promise<number> {
    this.assertUsable();
    const cutoff = Math.floor(olderThanMs / HOUR_MS);
    const expired = Object.entries(this.doc.segments).filter(
      ([, segment]) => segment.hour < cutoff,
    );
    if (expired.length > 0) {
      const next: StateDocument = structuredClone(this.doc);
      for (const [name] of expired) delete next.segments[name];
      // The document stops referencing the segments first; deleting them is then safe.
      await this.writeDocument(next);
      this.doc = next;
      for (const [name] of expired) {
        await this.segmentBlob(name)
          .deleteIfExists()
          .catch((error: unknown) =>
            this.options.logger?.warn(
              { segment: name, err: String(error) },
              "could not delete an expired ledger segment",
            ),
          );
      }
    }
    return this.ids.pruneBefore(cutoff);
  }

  async close(): Promise<void> {
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    await this.releaseLease();
  }

  /** Ids in memory and the bytes their table holds (figures, tests). */
  ledgerStats(): { ids: number; memoryBytes: number } {
    return { ids: this.ids.size, memoryBytes: this.ids.byteLength };
  }

  private async readDocument(abortSignal?: AbortSignal): Promise<void> {
    const response = await this.call("read the state document", () =>
      this.docBlob.download(0, undefined, { conditions: { leaseId: this.leaseId }, abortSignal }),
    );
    const text = (await streamToBuffer(response.readableStreamBody)).toString("utf8");
    let parsed: StateDocument;
    try {
      parsed = JSON.parse(text) as StateDocument;
    } catch {
      throw new StateStoreError(
        "schema",
        `blob state ${this.where()}/state.json is not JSON; move it aside to start over`,
      );
    }
    if (typeof parsed.version !== "number" || parsed.version > BLOB_STATE_VERSION) {
      throw new StateStoreError(
        "schema",
        `blob state ${this.where()} has version ${String(parsed.version)}, newer than this collector's ${BLOB_STATE_VERSION}; upgrade AuditBridge`,
      );
    }
    this.doc = { ...emptyDocument(), ...parsed };
    this.etag = response.etag;
  }

  private async writeDocument(doc: StateDocument, abortSignal?: AbortSignal): Promise<void> {
    const body = JSON.stringify(doc);
    try {
      const response = await this.docBlob.upload(body, Buffer.byteLength(body), {
        conditions: { ifMatch: this.etag, leaseId: this.leaseId },
        blobHTTPHeaders: { blobContentType: "application/json" },
        abortSignal,
      });
      this.etag = response.etag;
    } catch (error) {
      throw this.toError(error, "write the state document");
    }
  }

  private async loadLedger(abortSignal?: AbortSignal): Promise<void> {
    const horizon = this.options.horizonInMs ?? 8 * 24 * HOUR_MS;
    const cutoff = Math.floor((this.nowMs() - horizon) / HOUR_MS);
    const segments = Object.entries(this.doc.segments).filter(
      ([, s]) => s.hour >= cutoff && s.length > 0,
    );
    const total = segments.reduce((sum, [, s]) => sum + s.length / 16, 0);
    this.ids = new IdSet(total);
    let next = 0;
    const worker = async () => {
      while (next < segments.length) {
        const [name, segment] = segments[next++]!;
        const response = await this.call("read a ledger segment", () =>
          this.segmentBlob(name).download(0, segment.length, { abortSignal }),
        );
        const data = await streamToBuffer(response.readableStreamBody);
        for (let offset = 0; offset + 16 <= segment.length; offset += 16) {
          this.ids.add(data.subarray(offset, offset + 16), segment.hour);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOAD_CONCURRENCY, segments.length) }, worker));
  }

  private async renew(): Promise<void> {
    if (!this.lease || this.lost) return;
    try {
      await this.lease.renewLease();
      this.lastRenewMs = this.nowMs();
    } catch (error) {
      const gone =
        error instanceof RestError &&
        (error.statusCode === 409 || error.statusCode === 412 || error.statusCode === 404);
      // A network blip is survivable while the lease surely has not expired yet.
      const expired = this.nowMs() - this.lastRenewMs >= (BLOB_LEASE_SECONDS - 5) * 1000;
      if (gone || expired) {
        this.markLost(error);
      } else {
        this.options.logger?.warn(
          { err: String(error) },
          "blob state: lease renewal failed; retrying",
        );
      }
    }
  }

  private markLost(cause: unknown): void {
    if (this.lost) return;
    this.lost = new StateStoreError(
      "lease-lost",
      `blob state ${this.where()}: the lease was lost (another replica may own this tenant now); stopping`,
      { cause },
    );
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.options.logger?.error({ err: this.lost.message }, "blob state lease lost");
    this.lostController.abort(this.lost);
    this.options.onLeaseLost?.(this.lost);
  }

  private async releaseLease(): Promise<void> {
    const lease = this.lease;
    this.lease = undefined;
    this.leaseId = undefined;
    if (!lease || this.lost) return;
    await lease.releaseLease().catch((error: unknown) => {
      this.options.logger?.warn(
        { err: String(error) },
        "blob state: could not release the lease; it expires by itself",
      );
    });
  }

  private assertUsable(): void {
    if (this.lost) throw this.lost;
    if (this.broken) {
      throw new StateStoreError(
        "io",
        `blob state ${this.where()} had a failed commit; reopen it (${this.broken.message})`,
        {
          cause: this.broken,
        },
      );
    }
    if (!this.leaseId)
      throw new StateStoreError("io", `blob state ${this.where()} is not open; call open() first`);
  }

  private segmentBlob(name: string): AppendBlobClient {
    return this.container.getAppendBlobClient(`${this.prefix}/${name}`);
  }

  private where(): string {
    return `${this.container.containerName}/${this.prefix}`;
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (error) {
      throw this.toError(error, what);
    }
  }

  /** One-line errors; RestError messages can be long XML, only code and status are kept. */
  private toError(error: unknown, what: string): StateStoreError {
    if (error instanceof StateStoreError) return error;
    if (error instanceof RestError) {
      const code = error.code ?? "";
      const status = error.statusCode;
      const tag = `${what}: HTTP ${status ?? "?"} ${code}`.trim();
      if (/^Lease/.test(code)) {
        const lost = new StateStoreError(
          "lease-lost",
          `blob state ${this.where()}: the lease is no longer ours (${tag}); stopping`,
          { cause: error },
        );
        this.markLost(error);
        return lost;
      }
      if (status === 412) {
        return new StateStoreError(
          "conflict",
          `blob state ${this.where()} changed under this collector (${tag}); restart it`,
          { cause: error },
        );
      }
      if (status === 403 || status === 401) {
        return new StateStoreError(
          "read-only",
          `blob state ${this.where()}: access denied (${tag}); grant the collector's identity Storage Blob Data Contributor on the container`,
          { cause: error },
        );
      }
      if (code === "ContainerBeingDeleted" || code === "AccountIsDisabled") {
        return new StateStoreError("read-only", `blob state ${this.where()}: ${tag}`, {
          cause: error,
        });
      }
      return new StateStoreError("io", `blob state ${this.where()}: could not ${tag}`, {
        cause: error,
      });
    }
    const message = error instanceof Error ? error.message : String(error);
    return new StateStoreError("io", `blob state ${this.where()}: could not ${what}: ${message}`, {
      cause: error,
    });
  }
}

/** The container name from a bare name or a container URL. */
function containerName(container: string): string {
  if (/^https?:\/\//.test(container)) {
    const parts = new URL(container).pathname.split("/").filter(Boolean);
    // Azurite URLs carry the account name first: /devstoreaccount1/<container>.
    return parts.at(-1) ?? "";
  }
  return container;
}

async function streamToBuffer(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  if (!stream) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}
