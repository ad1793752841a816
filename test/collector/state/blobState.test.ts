import { BlobServiceClient, type ContainerClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BlobStateOptions, BlobStateStore } from "../../../collector/src/state/blobState";
import { isStateStoreError, type StateStoreError } from "../../../collector/src/state/errors";
import type { Checkpoint } from "../../../collector/src/types";
import { type Azurite, startAzurite } from "./azurite";

const DAY = 86_400_000;

function guid(n: number): string {
  return `7e57b10b-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

function checkpoint(windowStart: string): Checkpoint {
  return { contentType: "Audit.General", windowStart, doneBlobs: [], updatedAt: windowStart };
}

async function failure(promise: Promise<unknown>): Promise<StateStoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStateStoreError(error))
    throw new Error(`expected a StateStoreError, got ${String(error)}`);
  return error;
}

describe("BlobStateStore against Azurite", () => {
  let azurite: Azurite;
  let container: ContainerClient;
  let counter = 0;

  beforeAll(async () => {
    azurite = await startAzurite();
    container = BlobServiceClient.fromConnectionString(azurite.connectionString).getContainerClient(
      "state",
    );
  });
  afterAll(async () => {
    await azurite?.stop();
  });

  /** A store on its own prefix (one per test, like one per tenant). */
  function store(prefix: string, overrides: Partial<BlobStateOptions> = {}) {
    return new BlobStateStore({
      container: "state",
      connectionString: azurite.connectionString,
      prefix,
      ...overrides,
    });
  }
  function freshPrefix() {
    counter += 1;
    return `tenant-${counter}`;
  }

  it("resumes checkpoints, sink positions and the ledger after a restart", async () => {
    const prefix = freshPrefix();
    const first = store(prefix);
    await first.open();
    const now = Date.now();
    await first.commit({
      checkpoint: checkpoint("2026-03-01T00:00:00.000Z"),
      deliveredIds: [guid(1), guid(2)],
      sinkPositions: { file: "1:10" },
      nowMs: now,
    });
    await first.commit({
      deliveredIds: [guid(3), "not-a-guid"],
      sinkPositions: { file: "1:20" },
      nowMs: now + 3_600_000,
    });
    await first.close();

    const second = store(prefix);
    await second.open();
    expect((await second.loadCheckpoints()).get("Audit.General")?.windowStart).toBe(
      "2026-03-01T00:00:00.000Z",
    );
    expect(await second.loadSinkPositions()).toEqual({ file: "1:20" });
    expect(await second.seen([guid(1), guid(3), guid(4), "not-a-guid", "other"])).toEqual(
      new Set([guid(1), guid(3), "not-a-guid"]),
    );
    await second.close();
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: `${prefix}/` }))
      names.push(blob.name);
    expect(names.filter((n) => n.includes("/ledger/"))).toHaveLength(2);
  });

  it("lets exactly one of two racing collectors take the lease", async () => {
    const prefix = freshPrefix();
    const a = store(prefix);
    const b = store(prefix);
    const results = await Promise.allSettled([a.open(), b.open()]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0]!.reason as StateStoreError).code).toBe("locked");
    expect((lost[0]!.reason as Error).message).toMatch(
      /leased by another collector; run one collector per tenant/,
    );
    const winner = results[0]!.status === "fulfilled" ? a : b;
    const loser = winner === a ? b : a;
    await winner.close();
    await loser.open();
    await loser.close();
  });

  it("detects a state document changed by someone else (ETag) and refuses to overwrite it", async () => {
    const prefix = freshPrefix();
    const s = store(prefix);
    await s.open();
    await s.commit({
      checkpoint: checkpoint("2026-03-01T00:00:00.000Z"),
      deliveredIds: [],
      sinkPositions: {},
      nowMs: Date.now(),
    });
    // Someone holding the same lease id (a stale twin of this process) rewrites the document.
    const leaseId = (s as unknown as { leaseId: string }).leaseId;
    const doc = container.getBlockBlobClient(`${prefix}/state.json`);
    const foreign = JSON.stringify({
      version: 1,
      session: 99,
      checkpoints: {},
      sinkPositions: { file: "9:9" },
      segments: {},
    });
    await doc.upload(foreign, foreign.length, { conditions: { leaseId } });

    const error = await failure(
      s.commit({
        checkpoint: checkpoint("2026-03-02T00:00:00.000Z"),
        deliveredIds: [guid(10)],
        sinkPositions: {},
        nowMs: Date.now(),
      }),
    );
    expect(error.code).toBe("conflict");
    expect(error.message).toMatch(/changed under this collector.*HTTP 412/);
    expect((await doc.downloadToBuffer()).toString()).toBe(foreign);
    expect(
      (await failure(s.commit({ deliveredIds: [], sinkPositions: {}, nowMs: 0 }))).message,
    ).toMatch(/reopen it/);
    await s.close();
  });

  it("stops clearly when the lease is lost while running", async () => {
    const prefix = freshPrefix();
    const lostErrors: StateStoreError[] = [];
    const s = store(prefix, {
      leaseRenewIntervalInMs: 50,
      onLeaseLost: (error) => lostErrors.push(error),
    });
    await s.open();
    await container.getBlockBlobClient(`${prefix}/state.json`).getBlobLeaseClient().breakLease(0);
    await new Promise<void>((resolve) =>
      s.leaseLostSignal.addEventListener("abort", () => resolve(), { once: true }),
    );
    expect(lostErrors).toHaveLength(1);
    expect(lostErrors[0]!.code).toBe("lease-lost");
    const error = await failure(
      s.commit({ deliveredIds: [guid(20)], sinkPositions: {}, nowMs: Date.now() }),
    );
    expect(error.code).toBe("lease-lost");
    expect(error.message).toMatch(/another replica may own this tenant now/);
    await s.close();
    // Another replica can now take over.
    const next = store(prefix);
    await next.open();
    await next.close();
  });

  it("ignores ledger bytes appended by a commit that never wrote its document", async () => {
    const prefix = freshPrefix();
    const s = store(prefix);
    await s.open();
    const now = Date.now();
    await s.commit({ deliveredIds: [guid(30)], sinkPositions: {}, nowMs: now });
    await s.close();
    // A crash between the ledger append and the document write leaves a tail like this one.
    const segments: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: `${prefix}/ledger/` }))
      segments.push(blob.name);
    const orphan = Buffer.from(guid(31).replace(/-/g, ""), "hex");
    await container.getAppendBlobClient(segments[0]!).appendBlock(orphan, 16);

    const reopened = store(prefix);
    await reopened.open();
    expect(await reopened.seen([guid(30), guid(31)])).toEqual(new Set([guid(30)]));
    // New commits go to this session's own segment and still load.
    await reopened.commit({ deliveredIds: [guid(32)], sinkPositions: {}, nowMs: now });
    await reopened.close();
    const third = store(prefix);
    await third.open();
    expect(await third.seen([guid(30), guid(31), guid(32)])).toEqual(new Set([guid(30), guid(32)]));
    await third.close();
  });

  it("prunes whole hourly segments past the horizon", async () => {
    const prefix = freshPrefix();
    const now = Date.now();
    const s = store(prefix, { nowMs: () => now, horizonInMs: 30 * DAY });
    await s.open();
    await s.commit({ deliveredIds: [guid(40), guid(41)], sinkPositions: {}, nowMs: now - 9 * DAY });
    await s.commit({ deliveredIds: [guid(42)], sinkPositions: {}, nowMs: now - DAY });
    expect(await s.prune(now - 8 * DAY)).toBe(2);
    expect(await s.seen([guid(40), guid(42)])).toEqual(new Set([guid(42)]));
    await s.close();
    const names: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: `${prefix}/ledger/` }))
      names.push(blob.name);
    expect(names).toHaveLength(1);
  });

  it("stores 16 bytes per delivered id and reloads 100,000 ids quickly", async () => {
    const prefix = freshPrefix();
    const s = store(prefix);
    await s.open();
    const ids = Array.from({ length: 100_000 }, (_, i) => guid(i));
    await s.commit({ deliveredIds: ids, sinkPositions: {}, nowMs: Date.now() });
    await s.close();
    let bytes = 0;
    for await (const blob of container.listBlobsFlat({ prefix: `${prefix}/ledger/` }))
      bytes += blob.properties.contentLength ?? 0;
    expect(bytes).toBe(1_600_000);

    const reopened = store(prefix);
    const started = performance.now();
    await reopened.open();
    const loadMs = performance.now() - started;
    expect(reopened.ledgerStats().ids).toBe(100_000);
    expect(reopened.ledgerStats().memoryBytes).toBeLessThan(100_000 * 64);
    expect(loadMs).toBeLessThan(10_000);
    expect((await reopened.seen([guid(99_999), guid(100_000)])).size).toBe(1);
    await reopened.close();
  });

  it("rejects settings that cannot work with a one-line message", () => {
    expect(() => new BlobStateStore({ container: "state", connectionString: "nonsense" })).toThrow(
      /AZURE_STORAGE_CONNECTION_STRING is not a valid storage connection string/,
    );
    expect(() => new BlobStateStore({ container: "http://acct.blob.core.windows.net/c" })).toThrow(
      /must use https/,
    );
    expect(() => new BlobStateStore({ container: "https://acct.blob.core.windows.net/c" })).toThrow(
      /needs a credential/,
    );
  });
});
