import { describe, expect, it } from "vitest";
import { createSink, isSinkName, SplunkHecSink, SyslogSink } from "../../../collector/src/sinks";

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
