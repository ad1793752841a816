import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isStateStoreError } from "../../../collector/src/state/errors";
import { SqliteStateStore } from "../../../collector/src/state/sqliteState";
import { ThreadedSqliteStateStore } from "../../../collector/src/state/threadedState";
import type { Checkpoint } from "../../../collector/src/types";

function guid(n: number): string {
  return `0000abcd-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

function checkpoint(windowStart: string): Checkpoint {
  return {
    contentType: "Audit.SharePoint",
    windowStart,
    doneBlobs: ["blob-1"],
    updatedAt: "2026-03-01T00:00:00.000Z",
  };
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe("ThreadedSqliteStateStore (SQLite on its own thread)", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditbridge-threaded-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("commits and reads back the same state the in-thread store reads, in call order", async () => {
    const path = join(dir, "state.db");
    const store = new ThreadedSqliteStateStore({ path });
    await store.open();
    // Not awaited one by one: calls reach the thread in order and are answered in order.
    const commits = [1, 2, 3].map((n) =>
      store.commit({
        checkpoint: checkpoint(`2026-03-0${n}T00:00:00.000Z`),
        deliveredIds: [guid(n), `text-id-${n}`],
        sinkPositions: { file: `1:${n * 100}` },
        nowMs: Date.UTC(2026, 2, n),
      }),
    );
    const seenAfter = store.seen([guid(1), guid(2), guid(3), guid(4), "text-id-2"]);
    await Promise.all(commits);
    expect([...(await seenAfter)].sort()).toEqual([guid(1), guid(2), guid(3), "text-id-2"].sort());
    await store.close();

    const plain = new SqliteStateStore({ path });
    await plain.open();
    expect((await plain.loadCheckpoints()).get("Audit.SharePoint")?.windowStart).toBe(
      "2026-03-03T00:00:00.000Z",
    );
    expect(await plain.loadSinkPositions()).toEqual({ file: "1:300" });
    expect(plain.ledgerSize()).toBe(6);
    await plain.close();

    const again = new ThreadedSqliteStateStore({ path });
    await again.open();
    expect(await again.loadSinkPositions()).toEqual({ file: "1:300" });
    expect(await again.seen([guid(3), guid(5)])).toEqual(new Set([guid(3)]));
    expect(await again.prune(Date.UTC(2026, 2, 2, 12))).toBe(4);
    expect(await again.seen([guid(1), guid(3)])).toEqual(new Set([guid(3)]));
    await again.close();
  });

  it("keeps the store's error codes: a second collector gets 'locked', a full disk 'disk-full'", async () => {
    const path = join(dir, "state.db");
    const first = new ThreadedSqliteStateStore({ path, maxPageCount: 40 });
    await first.open();
    const locked = await failure(
      new ThreadedSqliteStateStore({ path, busyTimeoutInMs: 50 }).open(),
    );
    expect(isStateStoreError(locked) && locked.code).toBe("locked");
    expect((locked as Error).message).toMatch(/locked by another collector process/);

    await first.commit({ deliveredIds: [guid(1)], sinkPositions: { file: "1:10" }, nowMs: 0 });
    const full = await failure(
      first.commit({
        deliveredIds: Array.from({ length: 20_000 }, (_, i) => guid(i + 10)),
        sinkPositions: { file: "1:99" },
        nowMs: 0,
      }),
    );
    expect(isStateStoreError(full) && full.code).toBe("disk-full");
    expect(await first.loadSinkPositions()).toEqual({ file: "1:10" });
    await first.close();
  });

  it("refuses calls before open and after close with a one-line state error", async () => {
    const store = new ThreadedSqliteStateStore({ path: join(dir, "state.db") });
    const early = await failure(store.seen([guid(1)]));
    expect(isStateStoreError(early) && early.code).toBe("io");
    expect((early as Error).message).toMatch(/not open/);
    await store.open();
    await store.close();
    const late = await failure(store.loadCheckpoints());
    expect(isStateStoreError(late)).toBe(true);
    await store.close();
  });

  it("signals when its thread stops on its own, and fails every call after that clearly", async () => {
    const path = join(dir, "state.db");
    // A heap too small for the commit below: the thread runs out of memory and exits.
    const store = new ThreadedSqliteStateStore(
      { path },
      { resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 } },
    );
    await store.open();
    expect(store.threadStoppedSignal.aborted).toBe(false);
    await store.commit({ deliveredIds: [guid(1)], sinkPositions: { file: "1:10" }, nowMs: 0 });
    const huge = Array.from({ length: 1_500_000 }, (_, i) => `not-a-guid-${i}-${"x".repeat(40)}`);
    const crashed = await failure(
      store.commit({ deliveredIds: huge, sinkPositions: {}, nowMs: 0 }),
    );
    expect(isStateStoreError(crashed) && crashed.code).toBe("io");
    expect((crashed as Error).message).toMatch(
      /SQLite state thread .*state stays as last committed/,
    );
    expect(store.threadStoppedSignal.aborted).toBe(true);
    await expect(store.seen([guid(1)])).rejects.toThrow(/SQLite state thread/);
    await store.close();
    // The file is as last committed, and a new store opens it.
    const again = new ThreadedSqliteStateStore({ path });
    await again.open();
    expect(await again.loadSinkPositions()).toEqual({ file: "1:10" });
    expect(await again.seen([guid(1)])).toEqual(new Set([guid(1)]));
    await again.close();
  });

  it("finds ids committed earlier and now after the ledger filter was rebuilt larger", async () => {
    const path = join(dir, "state.db");
    const store = new SqliteStateStore({ path, ledgerFilterKeys: 100, ledgerFoldRows: 500 });
    await store.open();
    const ids = Array.from({ length: 3_000 }, (_, i) => guid(i));
    for (let start = 0; start < ids.length; start += 300) {
      await store.commit({
        deliveredIds: ids.slice(start, start + 300),
        sinkPositions: {},
        nowMs: 0,
      });
    }
    const asked = [...ids, ...Array.from({ length: 1_000 }, (_, i) => guid(10_000 + i))];
    expect((await store.seen(asked)).size).toBe(3_000);
    await store.close();
    const reopened = new SqliteStateStore({ path, ledgerFilterKeys: 100 });
    await reopened.open();
    expect((await reopened.seen(asked)).size).toBe(3_000);
    await reopened.close();
  });
});
