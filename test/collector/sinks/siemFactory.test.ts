import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { createSink, isSinkName, SplunkHecSink, SyslogSink } from "../../../collector/src/sinks";
import { auditRecords, blob } from "./siemParsers";

describe("createSink for the SIEM sinks", () => {
  it("knows syslog and splunk-hec", () => {
    expect(isSinkName("syslog")).toBe(true);
    expect(isSinkName("splunk-hec")).toBe(true);
  });

  it("names the missing settings", () => {
    expect(() => createSink("syslog", {})).toThrow("AUDIT_SINK=syslog needs SYSLOG_URL");
    expect(() => createSink("splunk-hec", {})).toThrow(
      "AUDIT_SINK=splunk-hec needs SPLUNK_HEC_URL and SPLUNK_HEC_TOKEN",
    );
  });

  it("builds them from typed options; syslog JSON needs no parsed records, CEF does", () => {
    const target = { transport: "tls" as const, host: "siem.example.com", port: 6514 };
    expect(createSink("syslog", { syslog: { target, format: "json" } })).toBeInstanceOf(SyslogSink);
    expect(createSink("syslog", { syslog: { target, format: "json" } }).usesParsedRecords).toBe(
      false,
    );
    expect(createSink("syslog", { syslog: { target } }).usesParsedRecords).toBe(true);
    const hec = createSink("splunk-hec", {
      "splunk-hec": { url: new URL("https://splunk.example.com:8088"), token: "t" },
    });
    expect(hec).toBeInstanceOf(SplunkHecSink);
    expect(hec.usesParsedRecords).toBe(false);
  });

  it("refuses a UDP limit larger than one datagram", () => {
    expect(
      () =>
        new SyslogSink({
          target: { transport: "udp", host: "127.0.0.1", port: 514 },
          maxMessageBytes: 70_000,
        }),
    ).toThrow(/UDP datagram/);
  });
});

describe("the truncation counter", () => {
  it("counts each shortened message once by sink and content type, also when the batch is retried", async () => {
    const received: Buffer[] = [];
    const server = createServer((socket) => socket.on("data", (chunk) => received.push(chunk)));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const counted: { labels: { sink: string; content_type: string }; value: number }[] = [];
    const sink = createSink("syslog", {
      syslog: { target: { transport: "tcp", host: "127.0.0.1", port }, maxMessageBytes: 1024 },
      truncatedMessages: { inc: (labels, value = 1) => counted.push({ labels, value }) },
    });
    await sink.start(undefined);
    const records = auditRecords(1, 2);
    records[0]!.record.ObjectId = "o".repeat(4000); // CEF carries ObjectId in cs3
    const batch = { contentType: "Audit.General" as const, blob: blob("Audit.General"), records };
    expect(await sink.deliver(batch)).toEqual({ kind: "success" });
    expect(await sink.deliver(batch)).toEqual({ kind: "success" });
    await sink.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(counted).toEqual([
      { labels: { sink: "syslog", content_type: "Audit.General" }, value: 1 },
    ]);
    expect(Buffer.concat(received).toString()).toContain("cs6Label=AuditBridgeTruncated");
  });
});
