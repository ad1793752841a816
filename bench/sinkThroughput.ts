/**
 * Throughput of the syslog sink into a local rsyslogd (started here on loopback, the same way
 * the sink tests start it): generated ~1 KB audit records, delivered in batches like the
 * pipeline does, counted when the sink acknowledged them and again when rsyslog had written them
 * all. Prints records/s and the peak RSS of this process.
 * Run: npx tsx bench/sinkThroughput.ts [records=100000] [format=cef|leef|json] [transport=tcp|tls|udp] [batch=1000]
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import type { SyslogFormat } from "../collector/src/sinks/siemSettings";
import { SyslogSink } from "../collector/src/sinks/syslogSink";
import type { Batch, ReceivedRecord } from "../collector/src/types";
import { startRsyslog, type Transport } from "./lib/rsyslog";

function records(count: number): ReceivedRecord[] {
  const out: ReceivedRecord[] = [];
  for (let n = 0; n < count; n++) {
    const body = {
      CreationTime: `2026-03-01T10:${String(Math.floor(n / 60) % 60).padStart(2, "0")}:${String(n % 60).padStart(2, "0")}`,
      Id: `4a1b2c3d-0000-4000-8000-${String(n).padStart(12, "0")}`,
      Operation: ["FileAccessed", "MailItemsAccessed", "UserLoggedIn", "FileDeleted"][n % 4],
      OrganizationId: "c0ffee00-0000-4000-8000-000000000001",
      RecordType: [6, 2, 15, 6][n % 4],
      ResultStatus: "Succeeded",
      UserKey: `i:0h.f|membership|1003${n}@live.com`,
      UserType: 0,
      Version: 1,
      Workload: ["SharePoint", "Exchange", "AzureActiveDirectory", "OneDrive"][n % 4],
      ClientIP: `10.${n % 250}.${(n >> 8) % 250}.7:${1024 + (n % 50000)}`,
      ObjectId: `https://contoso.sharepoint.com/sites/finance/Shared Documents/report-${n}.xlsx`,
      UserId: `user${n % 5000}@contoso.com`,
      UserAgent:
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
      SiteUrl: "https://contoso.sharepoint.com/sites/finance/",
      SourceFileName: `report-${n}.xlsx`,
      SourceRelativeUrl: "Shared Documents",
      ItemType: "File",
      EventSource: "SharePoint",
      ListItemUniqueId: `59a8433d-9bb8-cfef-6edc-${String(n).padStart(12, "0")}`,
      Site: "d9f4a3c2-0000-4000-8000-000000000002",
      WebId: "b1c2d3e4-0000-4000-8000-000000000003",
    };
    const raw = JSON.stringify(body);
    out.push({ id: body.Id, raw, record: JSON.parse(raw) });
  }
  return out;
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 100_000);
  const format = (process.argv[3] ?? "cef") as SyslogFormat;
  const transport = (process.argv[4] ?? "tcp") as Transport;
  const batchSize = Number(process.argv[5] ?? 1000);
  const receiver = await startRsyslog(transport);
  try {
    const generated = records(total);
    const avgBytes = Math.round(generated.reduce((s, r) => s + r.raw.length, 0) / total);
    const sink = new SyslogSink({
      target: { transport, host: "127.0.0.1", port: receiver.port },
      format,
      appName: "bench",
      ...(receiver.pki
        ? {
            caFile: receiver.pki.caFile,
            clientCertFile: receiver.pki.clientCertFile,
            clientKeyFile: receiver.pki.clientKeyFile,
          }
        : {}),
    });
    await sink.start(undefined);
    const batches: Batch[] = [];
    for (let i = 0; i < total; i += batchSize) {
      batches.push({
        contentType: "Audit.SharePoint",
        blob: {
          contentType: "Audit.SharePoint",
          contentId: `b${i}`,
          contentUri: "https://bench/",
          contentCreated: "2026-03-01T10:00:00.000Z",
          contentExpiration: "2026-03-08T10:00:00.000Z",
        },
        records: generated.slice(i, i + batchSize),
      });
    }
    // Lines rsyslog wrote before the run (its own start message, the UDP readiness probe).
    const newlines = () => {
      if (!existsSync(receiver.outFile)) return 0;
      const data = readFileSync(receiver.outFile);
      let n = 0;
      for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) n++;
      return n;
    };
    const before = newlines();
    const rssBeforeMiB = process.memoryUsage().rss / 1024 / 1024;
    const started = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    for (const batch of batches) {
      const outcome = await sink.deliver(batch);
      if (outcome.kind !== "success")
        throw new Error(`delivery ${outcome.kind}: ${outcome.error.message}`);
    }
    const ackedMs = Number(process.hrtime.bigint() - started) / 1e6;
    const cpu = process.cpuUsage(cpuStart);
    // Peak RSS while sending (the generated records themselves are in the baseline).
    const rssMiB = process.resourceUsage().maxRSS / 1024;
    await sink.close();
    // Wait until rsyslog has written every message (one line each).
    const deadline = Date.now() + 120_000;
    let lines = 0;
    while (Date.now() < deadline) {
      lines = newlines() - before;
      if (lines >= total) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const writtenMs = Number(process.hrtime.bigint() - started) / 1e6;
    process.stdout.write(
      `${JSON.stringify({
        records: total,
        format,
        transport,
        batch: batchSize,
        avgRecordBytes: avgBytes,
        sinkAcknowledgedPerSecond: Math.round((total / ackedMs) * 1000),
        sinkCpuMsPerKRecords: Math.round(((cpu.user + cpu.system) / 1000 / total) * 1000),
        receivedByRsyslog: lines,
        endToEndPerSecond: Math.round((total / writtenMs) * 1000),
        rsyslogFileMiB: Math.round(statSync(receiver.outFile).size / 1024 / 1024),
        rssWithGeneratedRecordsMiB: Math.round(rssBeforeMiB),
        peakRssWhileSendingMiB: Math.round(rssMiB),
      })}\n`,
    );
    if (lines < total && transport !== "udp") throw new Error(`rsyslog wrote ${lines} of ${total}`);
  } finally {
    await receiver.dispose();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
