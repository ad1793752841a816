import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname, resolve } from "node:path";
import Database from "better-sqlite3";
import type { ContentType } from "../../../domain/contentTypes";
import type { Checkpoint, CommitUpdate, OperationOptions, StateStore } from "../types";
import { KeyBloomFilter } from "./bloom";
import { StateStoreError, type StateStoreErrorCode } from "./errors";
import { writeGuidBytes } from "./ids";

/** Schema version written to `PRAGMA user_version`; bump with a migration in `migrate`. */
export const SQLITE_SCHEMA_VERSION = 2;

/**
 * Page cache per connection: 16 MiB (negative cache_size = KiB). Lookups of a few thousand
 * ids touch a few hundred pages; the cache bounds memory however large the ledger grows.
 */
export const DEFAULT_SQLITE_CACHE_KIB = 16 * 1024;

/** How long `open` waits for a lock held by another process before reporting it, in ms. */
export const DEFAULT_SQLITE_BUSY_TIMEOUT_MS = 2_000;

/**
 * New ledger Ids go to a small `ledger_recent` table and are folded into `ledger` in Id order
 * once it holds this many. Each commit rewrites every page it touches and random GUIDs touch
 * pages everywhere: inserting straight into a ledger of a million Ids cost about 12 µs per Id
 * (lookup included), through the small table about 7 µs; a fold touches each page of `ledger`
 * once for this many Ids.
 */
export const LEDGER_FOLD_ROWS = 100_000;

/** Smallest filter capacity (keys): 2.4 MiB, a week of a busy tenant without a rebuild. */
export const LEDGER_FILTER_KEYS = 2_000_000;
/** A rebuilt filter holds this many times the keys in the ledger (rebuilds stay rare). */
const FILTER_GROWTH = 4;

/** Rows deleted per prune step; steps yield to the event loop so a large prune never stalls. */
const PRUNE_CHUNK_ROWS = 20_000;

export interface SqliteStateOptions {
  /** Path of the database file; parent directories are created. */
  path: string;
  /**
   * `full` (default): every commit is fsynced before `commit` resolves, so an acknowledged
   * checkpoint survives power loss. `normal`: WAL commits survive a process crash but the last
   * ones may roll back on power loss (never corrupting); use only where the sinks can undo.
   */
  synchronous?: "full" | "normal";
  /** Page cache size in KiB (default {@link DEFAULT_SQLITE_CACHE_KIB}). */
  cacheSizeInKib?: number;
  /** Wait for a lock held elsewhere, in ms (default {@link DEFAULT_SQLITE_BUSY_TIMEOUT_MS}). */
  busyTimeoutInMs?: number;
  /**
   * Caps the database size in pages (SQLite `max_page_count`). Meant for tests that need a
   * "disk full" without filling a disk; leave unset in production.
   */
  maxPageCount?: number;
  /** Fold `ledger_recent` into `ledger` at this many rows (default {@link LEDGER_FOLD_ROWS}). */
  ledgerFoldRows?: number;
  /**
   * Ids the in-memory filter holds before it is rebuilt larger (default
   * {@link LEDGER_FILTER_KEYS}; 10 bits each).
   */
  ledgerFilterKeys?: number;
}

interface Statements {
  upsertCheckpoint: Database.Statement<[string, string, number]>;
  upsertPosition: Database.Statement<[string, string]>;
  pruneChunk: Database.Statement<[number, number]>;
  pruneRecentChunk: Database.Statement<[number, number]>;
  countRecent: Database.Statement<[], number>;
  fold: Database.Statement<[]>;
  clearRecent: Database.Statement<[]>;
}

/**
 * The embedded state store: one SQLite file in WAL mode holding checkpoints, sink positions
 * and the ledger of delivered record ids.
 *
 * - **Atomic**: `commit` is one transaction; a failure (full disk, read-only file) rolls it
 *   back and leaves the last committed state intact.
 * - **Exclusive**: `locking_mode=EXCLUSIVE` keeps the write lock for the connection's
 *   lifetime, so a second collector on the same file fails in `open` with code `locked`.
 * - **Compact**: GUID ids are stored as 16-byte BLOBs in a `WITHOUT ROWID` table keyed by id,
 *   delivery time in whole seconds; measured footprint ≈ 60 MB per million ids (README).
 */
export class SqliteStateStore implements StateStore {
  readonly path: string;
  private readonly options: SqliteStateOptions;
  private db: Database.Database | undefined;
  private statements: Statements | undefined;
  private readonly seenStatements = new Map<number, Database.Statement<unknown[]>>();
  private readonly insertStatements = new Map<number, Database.Statement<unknown[]>>();
  /** Rows in `ledger_recent` (at most {@link LEDGER_FOLD_ROWS} after a commit). */
  private recentRows = 0;
  private readonly foldRows: number;
  /** Every key in the ledger, and pruned ones until the next rebuild; see bloom.ts. */
  private filter: KeyBloomFilter | undefined;

  constructor(options: SqliteStateOptions) {
    requireStatePath(options);
    this.options = options;
    this.path = resolve(options.path);
    this.foldRows = Math.max(1, options.ledgerFoldRows ?? LEDGER_FOLD_ROWS);
  }

  async open(_options?: OperationOptions): Promise<void> {
    if (this.db) return;
    const db = this.guard("open", () => {
      mkdirSync(dirname(this.path), { recursive: true });
      return new Database(this.path, {
        timeout: this.options.busyTimeoutInMs ?? DEFAULT_SQLITE_BUSY_TIMEOUT_MS,
      });
    });
    try {
      this.guard("open", () => {
        db.pragma("locking_mode = EXCLUSIVE");
        db.pragma("journal_mode = WAL");
        db.pragma(`synchronous = ${this.options.synchronous === "normal" ? "NORMAL" : "FULL"}`);
        db.pragma(`cache_size = ${-(this.options.cacheSizeInKib ?? DEFAULT_SQLITE_CACHE_KIB)}`);
        db.pragma("temp_store = MEMORY");
        if (this.options.maxPageCount !== undefined) {
          db.pragma(`max_page_count = ${Math.floor(this.options.maxPageCount)}`);
        }
        // The first write transaction takes the exclusive lock (kept until close).
        db.exec("BEGIN IMMEDIATE");
        try {
          this.migrate(db);
          db.exec("COMMIT");
        } catch (error) {
          db.exec("ROLLBACK");
          throw error;
        }
      });
    } catch (error) {
      db.close();
      throw this.explainOpenFailure(error);
    }
    this.db = db;
    this.statements = {
      upsertCheckpoint: db.prepare(
        "INSERT INTO checkpoints (content_type, doc, updated_at) VALUES (?, ?, ?) " +
          "ON CONFLICT (content_type) DO UPDATE SET doc = excluded.doc, updated_at = excluded.updated_at",
      ),
      upsertPosition: db.prepare(
        "INSERT INTO sink_positions (sink, position) VALUES (?, ?) " +
          "ON CONFLICT (sink) DO UPDATE SET position = excluded.position",
      ),
      pruneChunk: db.prepare(
        "DELETE FROM ledger WHERE id IN (SELECT id FROM ledger WHERE delivered_at < ? LIMIT ?)",
      ),
      pruneRecentChunk: db.prepare(
        "DELETE FROM ledger_recent WHERE id IN (SELECT id FROM ledger_recent WHERE delivered_at < ? LIMIT ?)",
      ),
      countRecent: db.prepare<[], number>("SELECT count(*) FROM ledger_recent").pluck(),
      fold: db.prepare(
        "INSERT OR IGNORE INTO ledger (id, delivered_at) SELECT id, delivered_at FROM ledger_recent ORDER BY id",
      ),
      clearRecent: db.prepare("DELETE FROM ledger_recent"),
    };
    this.recentRows = this.statements.countRecent.get() ?? 0;
    this.rebuildFilter();
  }

  /** Loads every ledger key into a new filter with room to grow. */
  private rebuildFilter(): void {
    const db = this.requireOpen();
    this.guard("load the ledger", () => {
      const count =
        (db
          .prepare<[], number>(
            "SELECT (SELECT count(*) FROM ledger) + (SELECT count(*) FROM ledger_recent)",
          )
          .pluck()
          .get() as number) ?? 0;
      const filter = new KeyBloomFilter(
        Math.max(this.options.ledgerFilterKeys ?? LEDGER_FILTER_KEYS, FILTER_GROWTH * count),
      );
      const keys = db
        .prepare<[], Buffer | string>(
          "SELECT id FROM ledger UNION ALL SELECT id FROM ledger_recent",
        )
        .pluck();
      for (const key of keys.iterate()) filter.add(key);
      this.filter = filter;
    });
  }

  async loadCheckpoints(): Promise<Map<ContentType, Checkpoint>> {
    const db = this.requireOpen();
    const rows = this.guard("read checkpoints", () =>
      db
        .prepare<[], { content_type: string; doc: string }>(
          "SELECT content_type, doc FROM checkpoints",
        )
        .all(),
    );
    const result = new Map<ContentType, Checkpoint>();
    for (const row of rows) {
      result.set(row.content_type as ContentType, JSON.parse(row.doc) as Checkpoint);
    }
    return result;
  }

  async loadSinkPositions(): Promise<Record<string, string>> {
    const db = this.requireOpen();
    const rows = this.guard("read sink positions", () =>
      db
        .prepare<[], { sink: string; position: string }>(
          "SELECT sink, position FROM sink_positions",
        )
        .all(),
    );
    return Object.fromEntries(rows.map((row) => [row.sink, row.position]));
  }

  async seen(ids: readonly string[]): Promise<Set<string>> {
    const db = this.requireOpen();
    const filter = this.filter!;
    const found = new Set<string>();
    this.guard("look up delivered ids", () => {
      // One statement per chunk of ids: a call into SQLite per id cost more than the lookup.
      // Only ids the filter cannot rule out are looked up: for a backlog that is about 1%.
      for (let start = 0; start < ids.length; start += ID_CHUNK) {
        const chunk = ids.slice(start, start + ID_CHUNK);
        const allKeys = storedIds(chunk);
        const keys: Array<Buffer | string> = [];
        const asked: string[] = [];
        for (let i = 0; i < chunk.length; i++) {
          if (filter.mightContain(allKeys[i]!)) {
            keys.push(allKeys[i]!);
            asked.push(chunk[i]!);
          }
        }
        if (keys.length === 0) continue;
        const rows = this.chunkStatement(db, "seen", keys.length).all(
          ...keys,
          ...keys,
        ) as unknown[];
        if (rows.length === 0) continue;
        const stored = new Set(rows.map(keyText));
        for (let i = 0; i < asked.length; i++) {
          if (stored.has(keyText(keys[i]))) found.add(asked[i]!);
        }
      }
    });
    return found;
  }

  async commit(update: CommitUpdate): Promise<void> {
    const db = this.requireOpen();
    const s = this.statements!;
    const deliveredAt = Math.floor(update.nowMs / 1000);
    const ids = [...update.deliveredIds];
    const inserted: Array<Buffer | string>[] = [];
    const run = db.transaction(() => {
      for (let start = 0; start < ids.length; start += ID_CHUNK) {
        const chunk = ids.slice(start, start + ID_CHUNK);
        const keys = storedIds(chunk);
        inserted.push(keys);
        const params: Array<Buffer | string | number> = [];
        for (const key of keys) params.push(key, deliveredAt);
        this.chunkStatement(db, "insert", chunk.length).run(...params);
      }
      if (this.recentRows + ids.length >= this.foldRows) foldRecent(s);
      if (update.checkpoint) {
        s.upsertCheckpoint.run(
          update.checkpoint.contentType,
          JSON.stringify(update.checkpoint),
          Date.parse(update.checkpoint.updatedAt) || update.nowMs,
        );
      }
      for (const [sink, position] of Object.entries(update.sinkPositions)) {
        s.upsertPosition.run(sink, position);
      }
    });
    this.guard("commit", () => run.immediate());
    // Counted after the transaction: a rolled-back commit changes nothing. Ids already in
    // the table make this an overestimate, which only folds a little early.
    this.recentRows =
      this.recentRows + ids.length >= this.foldRows ? 0 : this.recentRows + ids.length;
    const filter = this.filter!;
    for (const keys of inserted) for (const key of keys) filter.add(key);
    if (filter.full) this.rebuildFilter();
  }

  async prune(olderThanMs: number): Promise<number> {
    this.requireOpen();
    const cutoff = Math.floor(olderThanMs / 1000);
    let total = 0;
    for (const statement of [this.statements!.pruneChunk, this.statements!.pruneRecentChunk]) {
      for (;;) {
        const { changes } = this.guard("prune the ledger", () =>
          statement.run(cutoff, PRUNE_CHUNK_ROWS),
        );
        total += changes;
        if (changes < PRUNE_CHUNK_ROWS) break;
        await new Promise((resolveStep) => setImmediate(resolveStep));
      }
    }
    this.recentRows = this.statements!.countRecent.get() ?? 0;
    // Pruned keys stay in the filter (they only cost a lookup) until it fills and is rebuilt.
    return total;
  }

  async close(): Promise<void> {
    const db = this.db;
    const statements = this.statements;
    this.db = undefined;
    this.statements = undefined;
    this.seenStatements.clear();
    this.insertStatements.clear();
    this.filter = undefined;
    if (!db || !statements) return;
    try {
      // At rest every Id is in `ledger`, so the file reads simply (one table).
      db.transaction(() => foldRecent(statements)).immediate();
    } catch {
      // A full disk or a read-only file: the Ids stay in `ledger_recent`, which every lookup
      // reads too, so nothing is lost; the close below reports the state's problem.
    }
    this.guard("close", () => {
      // Folds the WAL back into the database so the file is self-contained at rest.
      db.pragma("wal_checkpoint(TRUNCATE)");
      db.close();
    });
  }

  /** The prepared lookup or insert for `size` ids (one per size, kept for the connection). */
  private chunkStatement(
    db: Database.Database,
    kind: "seen" | "insert",
    size: number,
  ): Database.Statement<unknown[]> {
    const cache = kind === "seen" ? this.seenStatements : this.insertStatements;
    let statement = cache.get(size);
    if (!statement) {
      const marks = Array(size).fill("?").join(",");
      statement =
        kind === "seen"
          ? db
              .prepare(
                `SELECT id FROM ledger WHERE id IN (${marks}) UNION ALL SELECT id FROM ledger_recent WHERE id IN (${marks})`,
              )
              .pluck()
          : db.prepare(
              `INSERT OR IGNORE INTO ledger_recent (id, delivered_at) VALUES ${Array(size).fill("(?,?)").join(",")}`,
            );
      cache.set(size, statement);
    }
    return statement;
  }

  /** Number of ids in the ledger (for figures and tests). */
  ledgerSize(): number {
    const db = this.requireOpen();
    return (
      db
        .prepare<[], number>(
          "SELECT count(*) FROM (SELECT id FROM ledger UNION SELECT id FROM ledger_recent)",
        )
        .pluck()
        .get() ?? 0
    );
  }

  private migrate(db: Database.Database): void {
    const version = db.pragma("user_version", { simple: true }) as number;
    if (version > SQLITE_SCHEMA_VERSION) {
      throw new StateStoreError(
        "schema",
        `SQLite state ${this.path} has schema v${version}, newer than this collector's v${SQLITE_SCHEMA_VERSION}; upgrade AuditBridge or point AUDIT_STATE at another file`,
      );
    }
    if (version === 0) {
      const tables = db.prepare("SELECT count(*) FROM sqlite_master").pluck().get() as number;
      if (tables > 0) {
        throw new StateStoreError(
          "schema",
          `${this.path} is a SQLite database but not AuditBridge state; point AUDIT_STATE at a new file`,
        );
      }
      db.exec(`
        CREATE TABLE checkpoints (
          content_type TEXT PRIMARY KEY,
          doc TEXT NOT NULL,
          updated_at INTEGER NOT NULL
        );
        CREATE TABLE sink_positions (
          sink TEXT PRIMARY KEY,
          position TEXT NOT NULL
        );
        CREATE TABLE ledger (
          id BLOB PRIMARY KEY,
          delivered_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX ledger_delivered_at ON ledger (delivered_at);
      `);
    }
    if (version < 2) {
      // v2: new Ids land in a small table first (see LEDGER_FOLD_ROWS).
      db.exec(`
        CREATE TABLE ledger_recent (
          id BLOB PRIMARY KEY,
          delivered_at INTEGER NOT NULL
        ) WITHOUT ROWID;
      `);
    }
    if (version < SQLITE_SCHEMA_VERSION) {
      db.pragma(`user_version = ${SQLITE_SCHEMA_VERSION}`);
    }
  }

  /**
   * SQLite reports an unwritable file in several ways (READONLY, CANTOPEN, IOERR_LOCK on an
   * immutable file); probing the file for writing gives the user the real cause.
   */
  private explainOpenFailure(error: unknown): unknown {
    if ((error as StateStoreError).code !== "io") return error;
    try {
      closeSync(openSync(this.path, "r+"));
    } catch (probe) {
      const code = (probe as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
        return new StateStoreError(
          "read-only",
          `SQLite state ${this.path} is read-only (${code}); give the collector write access to it or choose another AUDIT_STATE path`,
          { cause: error },
        );
      }
    }
    return error;
  }

  private requireOpen(): Database.Database {
    if (!this.db) {
      throw new StateStoreError("io", `SQLite state ${this.path} is not open; call open() first`);
    }
    return this.db;
  }

  /** Runs a SQLite call and turns its errors into one-line {@link StateStoreError}s. */
  private guard<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw toStateError(error, what, this.path);
    }
  }
}

/** Throws the one-line error for an empty state path (also checked before a thread starts). */
export function requireStatePath(options: SqliteStateOptions): void {
  if (!options.path || options.path.trim() === "") {
    throw new StateStoreError("io", "SQLite state path is empty; set AUDIT_STATE=sqlite:<path>");
  }
}

/** Moves `ledger_recent` into `ledger` in Id order; call inside a transaction. */
function foldRecent(statements: Statements): void {
  statements.fold.run();
  statements.clearRecent.run();
}

/** Ids per ledger statement (2 parameters each on insert, far below SQLite's 32,766). */
const ID_CHUNK = 250;

/**
 * GUIDs as 16-byte BLOBs, anything else as TEXT (BLOB and TEXT never compare equal). The
 * BLOBs of one chunk share one allocation.
 */
function storedIds(ids: readonly string[]): Array<Buffer | string> {
  const bytes = Buffer.allocUnsafe(16 * ids.length);
  return ids.map((id, i) => {
    const key = bytes.subarray(16 * i, 16 * i + 16);
    return writeGuidBytes(id, key) ? key : id;
  });
}

/** A stored key as text, for matching rows to the ids asked about. */
function keyText(key: unknown): string {
  return Buffer.isBuffer(key) ? `b${key.toString("hex")}` : `t${String(key)}`;
}

function toStateError(error: unknown, what: string, path: string): StateStoreError {
  if (error instanceof StateStoreError) return error;
  const code = (error as { code?: unknown }).code;
  const detail = error instanceof Error ? error.message : String(error);
  const map: Array<[RegExp, StateStoreErrorCode, string]> = [
    [
      /^SQLITE_READONLY|^EROFS|^EACCES|^EPERM/,
      "read-only",
      "is read-only; give the collector write access to it or choose another AUDIT_STATE path",
    ],
    [
      /^SQLITE_FULL|^ENOSPC/,
      "disk-full",
      "cannot grow: the disk is full; free space (the last committed state is intact)",
    ],
    [
      /^SQLITE_BUSY|^SQLITE_LOCKED/,
      "locked",
      "is locked by another collector process; stop it or use a separate AUDIT_STATE per collector",
    ],
    [
      /^SQLITE_NOTADB|^SQLITE_CORRUPT/,
      "schema",
      "is not a readable SQLite database; move it aside and restart (delivery restarts from the initial lookback)",
    ],
    [
      /^SQLITE_CANTOPEN|^ENOENT|^ENOTDIR|^EISDIR/,
      "read-only",
      "cannot be opened or created; check that the directory exists and is writable",
    ],
  ];
  const codeText = typeof code === "string" ? code : "";
  for (const [pattern, errorCode, advice] of map) {
    if (pattern.test(codeText)) {
      return new StateStoreError(errorCode, `SQLite state ${path} ${advice} (${what}: ${detail})`, {
        cause: error,
      });
    }
  }
  return new StateStoreError("io", `SQLite state ${path}: ${what} failed: ${detail}`, {
    cause: error,
  });
}
