import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMetrics } from "../../../collector/src/metrics";
import { Pipeline } from "../../../collector/src/pipeline/pipeline";
import { FileSink } from "../../../collector/src/sinks/fileSink";
import { SqliteStateStore } from "../../../collector/src/state/sqliteState";
import type { CommitUpdate } from "../../../collector/src/types";
import { FakeSource, records } from "./fakes";

/** SQLite state whose Nth commit "crashes" the process: nothing of it is written. */
class CrashingState extends SqliteStateStore {
  commits = 0;
  constructor(
    path: string,
    private readonly crashAt: number,
  ) {
    super({ path });
  }
  override async commit(update: CommitUpdate): Promise<void> {
    this.commits += 1;
    if (this.commits === this.crashAt) throw new Error("simulated kill -9 before the commit");
    return super.commit(update);
  }
}

describe("Pipeline with the file sink and SQLite state", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditbridge-e2e-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes every record exactly once across a crash between the file write and the commit", async () => {
    const blobs = Array.from({ length: 12 }, (_, i) => ({
      contentId: `b${i}`,
      minute: i + 1,
      records: records(i * 10 + 1, i * 10 + 10),
    }));
    const overlap = { contentId: "dup", minute: 13, records: records(5, 15) };
    const source = new FakeSource({ "Audit.General": [...blobs, overlap] });
    const open = (state: SqliteStateStore) =>
      new Pipeline({
        source,
        sinks: [new FileSink({ path: join(dir, "audit.ndjson") })],
        state,
        contentTypes: ["Audit.General"],
        metrics: createMetrics(new Registry()),
        blobConcurrency: 2,
        commitMaxRecords: 30,
        commitEveryRecords: 30,
      });

    const crashing = open(new CrashingState(join(dir, "state.db"), 3));
    await crashing.open();
    await expect(crashing.runOnce()).rejects.toThrow(/simulated kill -9/);
    await crashing.close();
    const writtenBeforeRestart = readFileSync(join(dir, "audit.ndjson"), "utf8")
      .split("\n")
      .filter(Boolean).length;

    const restarted = open(new SqliteStateStore({ path: join(dir, "state.db") }));
    await restarted.open();
    await restarted.runOnce();
    await restarted.close();

    const lines = readFileSync(join(dir, "audit.ndjson"), "utf8").split("\n").filter(Boolean);
    const ids = lines.map((line) => (JSON.parse(line) as { Id: string }).Id);
    expect(writtenBeforeRestart).toBeGreaterThan(0);
    expect(ids).toHaveLength(120);
    expect(new Set(ids)).toEqual(new Set(records(1, 120).map((r) => r.id)));
  });
});
