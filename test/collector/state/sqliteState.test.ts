import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isStateStoreError } from "../../../collector/src/state/errors";
import { SQLITE_SCHEMA_VERSION, SqliteStateStore } from "../../../collector/src/state/sqliteState";
import type { Checkpoint } from "../../../collector/src/types";

const DAY = 86_400_000;

function guid(n: number): string {
  return `0000abcd-0000-4000-8000-${n.toString(16).padStart(12, "0")}`;
}

function checkpoint(windowStart: string): Checkpoint {
  return {
    contentType: "Audit.Exchange",
    windowStart,
    lastContentCreated: windowStart,
    doneBlobs: ["blob-1"],
    updatedAt: "2026-03-01T00:00:00.000Z",
  };
}

describe("SqliteStateStore", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditbridge-sqlite-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("commits ids, checkpoint and sink positions together and reads them back after reopening", async () => {
    const path = join(dir, "nested", "state.db");
    const store = new SqliteStateStore({ path });
    await store.open();
    await store.commit({
      checkpoint: checkpoint("2026-03-01T00:00:00.000Z"),
      deliveredIds: [guid(1), guid(2), "not-a-guid-id"],
      sinkPositions: { file: "1:120" },
      nowMs: Date.UTC(2026, 2, 1),
    });
    await store.close();

    const reopened = new SqliteStateStore({ path });
    await reopened.open();
    expect(await reopened.loadCheckpoints()).toEqual(
      new Map([["Audit.Exchange", checkpoint("2026-03-01T00:00:00.000Z")]]),
    );
    expect(await reopened.loadSinkPositions()).toEqual({ file: "1:120" });
    const seen = await reopened.seen([guid(1), guid(3), "not-a-guid-id", "other"]);
    expect([...seen].sort()).toEqual([guid(1), "not-a-guid-id"].sort());
    await reopened.close();
  });

  it("stores GUID ids as 16-byte blobs and other ids as text", async () => {
    const path = join(dir, "state.db");
    const store = new SqliteStateStore({ path });
    await store.open();
    await store.commit({
      deliveredIds: [guid(7).toUpperCase(), "plain"],
      sinkPositions: {},
      nowMs: 0,
    });
    // GUIDs compare case-insensitively, as their bytes do.
    expect(await store.seen([guid(7)])).toEqual(new Set([guid(7)]));
    await store.close();
    const db = new Database(path, { readonly: true });
    const rows = db
      .prepare("SELECT typeof(id) AS type, length(id) AS len FROM ledger ORDER BY type")
      .all();
    db.close();
    expect(rows).toEqual([
      { type: "blob", len: 16 },
      { type: "text", len: 5 },
    ]);
  });

  it("prunes ledger ids delivered before the horizon and keeps the rest", async () => {
    const store = new SqliteStateStore({ path: join(dir, "state.db") });
    await store.open();
    const now = Date.UTC(2026, 2, 10);
    const old = Array.from({ length: 25_000 }, (_, i) => guid(i));
    await store.commit({ deliveredIds: old, sinkPositions: {}, nowMs: now - 9 * DAY });
    await store.commit({ deliveredIds: [guid(900_000)], sinkPositions: {}, nowMs: now - DAY });
    expect(await store.prune(now - 8 * DAY)).toBe(25_000);
    expect(store.ledgerSize()).toBe(1);
    expect(await store.seen([guid(1), guid(900_000)])).toEqual(new Set([guid(900_000)]));
    await store.close();
  });

  it("refuses a second collector on the same file with a one-line 'locked' error", async () => {
    const path = join(dir, "state.db");
    const first = new SqliteStateStore({ path });
    await first.open();
    const second = new SqliteStateStore({ path, busyTimeoutInMs: 50 });
    const error = await second.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isStateStoreError(error) && error.code).toBe("locked");
    expect((error as Error).message).toMatch(/locked by another collector process/);
    expect((error as Error).message).not.toContain("\n");
    await first.close();
    await second.open();
    await second.close();
  });

  it("reports a full disk clearly and keeps the last committed state intact", async () => {
    const path = join(dir, "state.db");
    const store = new SqliteStateStore({ path, maxPageCount: 40 });
    await store.open();
    await store.commit({
      checkpoint: checkpoint("2026-03-01T00:00:00.000Z"),
      deliveredIds: [guid(1)],
      sinkPositions: { file: "1:10" },
      nowMs: 0,
    });
    const many = Array.from({ length: 20_000 }, (_, i) => guid(i + 10));
    const error = await store
      .commit({
        checkpoint: checkpoint("2026-03-02T00:00:00.000Z"),
        deliveredIds: many,
        sinkPositions: { file: "1:99" },
        nowMs: 0,
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isStateStoreError(error) && error.code).toBe("disk-full");
    expect((error as Error).message).toMatch(/disk is full.*last committed state is intact/);
    expect((await store.loadCheckpoints()).get("Audit.Exchange")?.windowStart).toBe(
      "2026-03-01T00:00:00.000Z",
    );
    expect(await store.loadSinkPositions()).toEqual({ file: "1:10" });
    expect(await store.seen([guid(10)])).toEqual(new Set());
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("integrity_check", { simple: true })).toBe("ok");
    db.close();
  });

  it("reports a read-only state file clearly", async () => {
    const path = join(dir, "state.db");
    const store = new SqliteStateStore({ path });
    await store.open();
    await store.close();
    // root ignores permission bits, so the test makes the file immutable instead.
    const asRoot = process.getuid?.() === 0;
    if (asRoot) execFileSync("chattr", ["+i", path]);
    else execFileSync("chmod", ["0444", path]);
    try {
      const error = await new SqliteStateStore({ path }).open().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isStateStoreError(error) && error.code).toBe("read-only");
      expect((error as Error).message).toContain(path);
    } finally {
      if (asRoot) execFileSync("chattr", ["-i", path]);
      else execFileSync("chmod", ["0644", path]);
    }
  });

  it("refuses a file that is not AuditBridge state instead of overwriting it", async () => {
    const foreign = join(dir, "foreign.db");
    const db = new Database(foreign);
    db.exec("CREATE TABLE customers (id INTEGER)");
    db.close();
    await expect(new SqliteStateStore({ path: foreign }).open()).rejects.toThrow(
      /not AuditBridge state/,
    );
    const text = join(dir, "notes.txt");
    writeFileSync(text, "hello, this is not a database at all".repeat(100));
    await expect(new SqliteStateStore({ path: text }).open()).rejects.toThrow(
      /not a readable SQLite database/,
    );
  });

  it("refuses state written by a newer schema version", async () => {
    const path = join(dir, "state.db");
    const store = new SqliteStateStore({ path });
    await store.open();
    await store.close();
    const db = new Database(path);
    db.pragma("user_version = 99");
    db.close();
    await expect(new SqliteStateStore({ path }).open()).rejects.toThrow(
      new RegExp(`schema v99, newer than this collector's v${SQLITE_SCHEMA_VERSION}`),
    );
  });

  it("keeps new ids in a small table, folds it into the ledger, and finds ids in both", async () => {
    const path = join(dir, "state.db");
    const store = new SqliteStateStore({ path, ledgerFoldRows: 100 });
    await store.open();
    const rows = (table: string) => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
      } finally {
        db.close();
      }
    };
    const ids = Array.from({ length: 250 }, (_, i) => guid(i));
    await store.commit({ deliveredIds: ids.slice(0, 60), sinkPositions: {}, nowMs: 0 });
    expect(await store.seen([guid(5), guid(70)])).toEqual(new Set([guid(5)]));
    // 60 + 60 reaches 100: this commit folds everything into the ledger.
    await store.commit({ deliveredIds: ids.slice(60, 120), sinkPositions: {}, nowMs: 0 });
    await store.commit({ deliveredIds: ids.slice(110, 150), sinkPositions: {}, nowMs: 0 });
    expect(await store.seen([guid(5), guid(70), guid(149), guid(150)])).toEqual(
      new Set([guid(5), guid(70), guid(149)]),
    );
    expect(store.ledgerSize()).toBe(150);
    await store.close();
    // At rest every id is in the one ledger table.
    expect(rows("ledger")).toBe(150);
    expect(rows("ledger_recent")).toBe(0);
  });

  it("prunes old ids in both tables", async () => {
    const store = new SqliteStateStore({ path: join(dir, "state.db"), ledgerFoldRows: 50 });
    await store.open();
    const now = Date.UTC(2026, 2, 10);
    const old = Array.from({ length: 80 }, (_, i) => guid(i));
    await store.commit({ deliveredIds: old.slice(0, 60), sinkPositions: {}, nowMs: now - 9 * DAY });
    await store.commit({ deliveredIds: old.slice(60), sinkPositions: {}, nowMs: now - 9 * DAY });
    await store.commit({ deliveredIds: [guid(900)], sinkPositions: {}, nowMs: now });
    expect(await store.prune(now - 8 * DAY)).toBe(80);
    expect(await store.seen([guid(1), guid(70), guid(900)])).toEqual(new Set([guid(900)]));
    await store.close();
  });

  it("upgrades a version-1 state file in place and keeps its ledger", async () => {
    const path = join(dir, "state.db");
    const v1 = new Database(path);
    v1.exec(`
      CREATE TABLE checkpoints (content_type TEXT PRIMARY KEY, doc TEXT NOT NULL, updated_at INTEGER NOT NULL);
      CREATE TABLE sink_positions (sink TEXT PRIMARY KEY, position TEXT NOT NULL);
      CREATE TABLE ledger (id BLOB PRIMARY KEY, delivered_at INTEGER NOT NULL) WITHOUT ROWID;
      CREATE INDEX ledger_delivered_at ON ledger (delivered_at);
    `);
    v1.prepare("INSERT INTO ledger VALUES (?, 1)").run(
      Buffer.from(guid(1).replace(/-/g, ""), "hex"),
    );
    v1.prepare("INSERT INTO sink_positions VALUES ('file', '1:42')").run();
    v1.pragma("user_version = 1");
    v1.close();

    const store = new SqliteStateStore({ path });
    await store.open();
    expect(await store.seen([guid(1), guid(2)])).toEqual(new Set([guid(1)]));
    expect(await store.loadSinkPositions()).toEqual({ file: "1:42" });
    await store.commit({ deliveredIds: [guid(2)], sinkPositions: {}, nowMs: 0 });
    expect(await store.seen([guid(1), guid(2)])).toEqual(new Set([guid(1), guid(2)]));
    await store.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma("user_version", { simple: true })).toBe(SQLITE_SCHEMA_VERSION);
    db.close();
  });

  it("stores and finds more ids than one statement holds, GUIDs and other Ids mixed", async () => {
    const store = new SqliteStateStore({ path: join(dir, "state.db") });
    await store.open();
    const id = (n: number) => (n % 3 === 0 ? `custom-${n}` : guid(n));
    const delivered = Array.from({ length: 1_001 }, (_, i) => id(i * 2));
    await store.commit({ deliveredIds: delivered, sinkPositions: {}, nowMs: 0 });
    // Upper-case GUIDs are the same Ids; odd numbers were never delivered.
    const probe = Array.from({ length: 777 }, (_, i) => id(i));
    probe.push(guid(4).toUpperCase(), "custom-0", "CUSTOM-0");
    const expected = probe.filter(
      (p) => delivered.includes(p) || (delivered.includes(p.toLowerCase()) && p !== "CUSTOM-0"),
    );
    expect([...(await store.seen(probe))].sort()).toEqual([...new Set(expected)].sort());
    expect(store.ledgerSize()).toBe(1_001);
    // Committing the same ids again changes nothing.
    await store.commit({ deliveredIds: delivered.slice(0, 600), sinkPositions: {}, nowMs: 1 });
    expect(store.ledgerSize()).toBe(1_001);
    await store.close();
  });

  it("answers seen() for five thousand ids in a few milliseconds", async () => {
    const store = new SqliteStateStore({ path: join(dir, "state.db") });
    await store.open();
    const ids = Array.from({ length: 50_000 }, (_, i) => guid(i));
    await store.commit({ deliveredIds: ids, sinkPositions: {}, nowMs: 0 });
    const probe = Array.from({ length: 5_000 }, (_, i) => guid(i * 20));
    const started = performance.now();
    const seen = await store.seen(probe);
    const elapsed = performance.now() - started;
    expect(seen.size).toBe(2_500);
    // Generous bound for a shared CI core; typically ~5 ms.
    expect(elapsed).toBeLessThan(250);
    await store.close();
  });
});
