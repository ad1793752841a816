/**
 * End-to-end throughput of the pipeline into the file sink with SQLite state, with a synthetic
 * source that parses every record from its JSON text (as the real source does).
 * Run: npx tsx bench/pipelineThroughput.ts [records] [recordsPerBlob]
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { createMetrics } from "../collector/src/metrics";
import { Pipeline } from "../collector/src/pipeline/pipeline";
import { FileSink } from "../collector/src/sinks/fileSink";
import { SqliteStateStore } from "../collector/src/state/sqliteState";
import type { Checkpoint, ReceivedRecord, Source, SourceItem } from "../collector/src/types";
import type { ContentType } from "../domain/contentTypes";

/** Measures one run; returns records per second. */
export async function measureThroughput(
  total: number,
  perBlob: number,
  dir: string,
): Promise<{ perSecond: number; perCpuSecond: number; dbBytes: number }> {
  const contentType: ContentType = "Audit.SharePoint";
  const blobs = Math.ceil(total / perBlob);
  const source: Source = {
    async start() {},
    async *poll(): AsyncIterable<SourceItem> {
      for (let b = 0; b < blobs; b++) {
        const created = new Date(Date.UTC(2026, 2, 1) + b * 1000).toISOString();
        const checkpointAfter: Checkpoint = {
          contentType,
          windowStart: created,
          lastContentCreated: created,
          doneBlobs: [`b${b}`],
          updatedAt: created,
        };
        yield {
          kind: "blob",
          blob: {
            contentType,
            contentId: `b${b}`,
            contentUri: `https://x/b${b}`,
            contentCreated: created,
            contentExpiration: created,
          },
          checkpointAfter,
          async *records(): AsyncIterable<ReceivedRecord> {
            for (let i = 0; i < perBlob; i++) {
              const n = b * perBlob + i;
              const id = `${(0x10000000 + (n >>> 12)).toString(16)}-${(n & 0xfff).toString(16).padStart(4, "0")}-4000-8000-${n.toString(16).padStart(12, "0")}`;
              const raw = `{"CreationTime":"2026-03-01T10:00:${String(i % 60).padStart(2, "0")}","Id":"${id}","Operation":"FileAccessed","OrganizationId":"2f8d6e4a-1b3c-4d5e-8f90-a1b2c3d4e5f6","RecordType":6,"UserKey":"i:0h.f|membership|1003200012345678@live.com","UserType":0,"Version":1,"Workload":"SharePoint","ClientIP":"203.0.113.${n % 250}","ObjectId":"https://contoso.sharepoint.com/sites/team/Shared Documents/report-${n}.docx","UserId":"user${n % 500}@contoso.com","EventSource":"SharePoint","ItemType":"File","Site":"d1c2b3a4-0000-4000-8000-000000000001","SourceFileName":"report-${n}.docx"}`;
              yield { id, raw, record: JSON.parse(raw) };
            }
          },
        };
      }
    },
  };
  const state = new SqliteStateStore({ path: join(dir, "state.db") });
  const sink = new FileSink({ path: join(dir, "audit.ndjson"), maxBytes: 1024 * 1024 * 1024 });
  const pipeline = new Pipeline({
    source,
    sinks: [sink],
    state,
    contentTypes: [contentType],
    metrics: createMetrics(new Registry()),
  });
  await pipeline.open();
  const started = performance.now();
  const cpu = process.cpuUsage();
  const summary = await pipeline.runOnce();
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  await pipeline.close();
  if (summary.contentTypes[contentType]?.delivered !== blobs * perBlob)
    throw new Error("not every record was delivered");
  return {
    perSecond: (blobs * perBlob) / seconds,
    perCpuSecond: (blobs * perBlob) / cpuSeconds,
    dbBytes: statSync(join(dir, "state.db")).size,
  };
}

if (require.main === module) {
  const total = Number(process.argv[2] ?? 200_000);
  const perBlob = Number(process.argv[3] ?? 1_000);
  const dir = mkdtempSync(join(tmpdir(), "auditbridge-throughput-"));
  measureThroughput(total, perBlob, dir)
    .then(({ perSecond, perCpuSecond, dbBytes }) => {
      process.stdout.write(
        `${total} records, ${perBlob}/blob: ${Math.round(perSecond)} records/s wall, ${Math.round(perCpuSecond)} per CPU second; state ${(dbBytes / 1e6).toFixed(1)} MB (${(((dbBytes / total) * 1e6) / 1e6).toFixed(1)} MB per million)\n`,
      );
    })
    .finally(() => rmSync(dir, { recursive: true, force: true }));
}
