/**
 * Cost per Id of the SQLite ledger as the pipeline uses it: lookups of 5,000 new Ids at a time
 * (`seen`) and commits of 20,000 (`commit`), until the ledger holds `ids` Ids.
 * Run: npx tsx bench/ledgerThroughput.ts [ids]
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEFAULT_COMMIT_EVERY_RECORDS,
  DEFAULT_COMMIT_MAX_RECORDS,
} from "../collector/src/pipeline/pipeline";
import { SqliteStateStore } from "../collector/src/state/sqliteState";

async function main(total: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "auditbridge-ledger-bench-"));
  const store = new SqliteStateStore({ path: join(dir, "state.db") });
  let seenMs = 0;
  let commitMs = 0;
  try {
    await store.open();
    for (let done = 0; done < total; done += DEFAULT_COMMIT_EVERY_RECORDS) {
      const ids = Array.from({ length: DEFAULT_COMMIT_EVERY_RECORDS }, () => randomUUID());
      for (let at = 0; at < ids.length; at += DEFAULT_COMMIT_MAX_RECORDS) {
        const started = performance.now();
        await store.seen(ids.slice(at, at + DEFAULT_COMMIT_MAX_RECORDS));
        seenMs += performance.now() - started;
      }
      const started = performance.now();
      await store.commit({ deliveredIds: ids, sinkPositions: { file: "1:0" }, nowMs: Date.now() });
      commitMs += performance.now() - started;
    }
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const perId = (ms: number) => ((ms * 1000) / total).toFixed(1);
  process.stdout.write(
    `ledger of ${total.toLocaleString("en-US")} Ids: seen ${perId(seenMs)} µs per Id, commit ${perId(commitMs)} µs per Id\n`,
  );
}

const total = Number(process.argv[2] ?? 1_000_000);
if (!Number.isInteger(total) || total < DEFAULT_COMMIT_EVERY_RECORDS) {
  process.stderr.write(`ids must be a whole number of at least ${DEFAULT_COMMIT_EVERY_RECORDS}\n`);
  process.exit(2);
}
void main(total);
