import { describe, expect, it } from "vitest";
import {
  parseBooleanSetting,
  parseSplunkHecToken,
  parseSplunkHecUrl,
  parseSplunkIndex,
  parseSyslogAppName,
  parseSyslogFormat,
  parseSyslogMaxMessageBytes,
  parseSyslogUrl,
  resolveSplunkHecSettings,
  resolveSyslogSettings,
} from "../../../collector/src/sinks/siemSettings";
import {
  classifyOperation,
  clientIpAddress,
  escapeCefHeader,
  escapeCefValue,
  formatSyslogMessage,
  type SyslogMessageOptions,
} from "../../../collector/src/sinks/syslogFormat";
import { auditRecords, cefLabelled, parseCef, parseLeef, parseRfc5424 } from "./siemParsers";

const base: Omit<SyslogMessageOptions, "format"> = {
  hostname: "host",
  appName: "auditbridge",
  contentType: "Audit.Exchange",
  maxMessageBytes: 8192,
};

describe("CEF escaping", () => {
  it("escapes pipes and backslashes in header fields", () => {
    expect(escapeCefHeader("a|b\\c")).toBe("a\\|b\\\\c");
  });
  it("escapes =, backslashes and newlines in extension values", () => {
    expect(escapeCefValue("k=v\\x\r\ny\n")).toBe("k\\=v\\\\x\\r\\ny\\n");
  });
});

describe("clientIpAddress", () => {
  it.each([
    ["1.2.3.4", "1.2.3.4"],
    ["1.2.3.4:5678", "1.2.3.4"],
    ["2001:db8::1", "2001:db8::1"],
    ["[2001:db8::1]:443", "2001:db8::1"],
    ["::ffff:10.0.0.1", "::ffff:10.0.0.1"],
  ])("keeps the address of %s", (input, expected) => {
    expect(clientIpAddress(input)).toBe(expected);
  });
  it.each([[null], [""], ["contoso.com"], ["999.1.1.1"], [42]])("drops %s", (input) => {
    expect(clientIpAddress(input)).toBeUndefined();
  });
});

describe("severity classes", () => {
  it.each([
    ["New-InboxRule", "Succeeded", 8, 4],
    ["Add member to role.", "Success", 8, 4],
    ["FileDeleted", "Succeeded", 6, 5],
    ["SharingSet", "Succeeded", 6, 5],
    ["UserLoginFailed", "Failed", 5, 5],
    ["FileAccessed", "Failed", 5, 5],
    ["FileAccessed", "Succeeded", 3, 6],
  ])("%s (%s) is CEF %i, syslog %i", (operation, result, cef, syslog) => {
    const cls = classifyOperation(operation, result);
    expect([cls.cef, cls.syslog]).toEqual([cef, syslog]);
  });
});

describe("formatSyslogMessage", () => {
  const [record] = auditRecords(4, 1);
  it("writes an RFC 5424 header with the record's UTC time, facility 13 and the app name", () => {
    const message = formatSyslogMessage(record!, { ...base, format: "cef" });
    const parsed = parseRfc5424(message.text)!;
    expect(parsed).toMatchObject({
      facility: 13,
      timestamp: "2026-03-01T10:00:04.000Z",
      hostname: "host",
      appName: "auditbridge",
      msgId: "Audit.Exchange",
    });
    expect(message.bytes).toBe(Buffer.byteLength(message.text));
    expect(message.truncatedFromBytes).toBeUndefined();
  });

  it("cuts CEF values to the limit and says so in cs6 with the original size", () => {
    const [long] = auditRecords(8, 1);
    long!.record.ObjectId = "x".repeat(5000);
    const message = formatSyslogMessage(long!, { ...base, format: "cef", maxMessageBytes: 1024 });
    expect(message.bytes).toBeLessThanOrEqual(1024);
    expect(message.truncatedFromBytes).toBeGreaterThan(5000);
    const cef = parseCef(parseRfc5424(message.text)!.msg);
    const labelled = cefLabelled(cef.extension);
    expect(labelled.AuditBridgeTruncated).toBe(String(message.truncatedFromBytes));
    expect(labelled.ObjectId).toMatch(/^x+\[truncated\]$/);
    expect(cef.extension.externalId).toBe(long!.id);
  });

  it("cuts LEEF values to the limit and adds AuditBridgeTruncated", () => {
    const [long] = auditRecords(8, 1);
    long!.record.UserId = "é".repeat(3000);
    const message = formatSyslogMessage(long!, { ...base, format: "leef", maxMessageBytes: 1024 });
    expect(message.bytes).toBeLessThanOrEqual(1024);
    const leef = parseLeef(parseRfc5424(message.text)!.msg);
    expect(leef.attributes.AuditBridgeTruncated).toBe(String(message.truncatedFromBytes));
    expect(leef.attributes.usrName).toMatch(/^é+\[truncated\]$/);
  });

  it("keeps a JSON record exactly as received when it fits", () => {
    const message = formatSyslogMessage(record!, { ...base, format: "json" });
    expect(parseRfc5424(message.text)!.msg).toBe(record!.raw);
  });
});

describe("settings parsers", () => {
  it("reads syslog URLs with their default ports", () => {
    expect(parseSyslogUrl("tls://siem.example.com")).toEqual({
      ok: true,
      value: { transport: "tls", host: "siem.example.com", port: 6514 },
    });
    expect(parseSyslogUrl("udp://[2001:db8::1]:1514")).toEqual({
      ok: true,
      value: { transport: "udp", host: "2001:db8::1", port: 1514 },
    });
    expect(parseSyslogUrl("tcp://siem:601")).toMatchObject({ ok: true });
  });
  it.each(["http://siem:514", "tcp://siem", "tls://siem:0", "siem:514", "tls://[nothex]:6514"])(
    "refuses %s",
    (url) => {
      expect(parseSyslogUrl(url).ok).toBe(false);
    },
  );
  it("reads formats, app names and size limits", () => {
    expect(parseSyslogFormat("LEEF")).toEqual({ ok: true, value: "leef" });
    expect(parseSyslogFormat("xml").ok).toBe(false);
    expect(parseSyslogAppName("has space").ok).toBe(false);
    expect(parseSyslogAppName("a".repeat(49)).ok).toBe(false);
    expect(parseSyslogMaxMessageBytes("8192", "tls")).toEqual({ ok: true, value: 8192 });
    expect(parseSyslogMaxMessageBytes("70000", "udp").ok).toBe(false);
    expect(parseSyslogMaxMessageBytes("512", "tcp").ok).toBe(false);
  });
  it("reads Splunk HEC settings without echoing the token", () => {
    expect(parseSplunkHecUrl("https://splunk:8088/services/collector/event")).toMatchObject({
      ok: true,
    });
    expect(String((parseSplunkHecUrl("https://splunk:8088/") as { value: URL }).value)).toBe(
      "https://splunk:8088/",
    );
    expect(parseSplunkHecUrl("ftp://splunk").ok).toBe(false);
    const bad = parseSplunkHecToken("secret value");
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).not.toContain("secret");
    expect(parseSplunkIndex("Main").ok).toBe(false);
    expect(parseSplunkIndex("o365_audit")).toEqual({ ok: true, value: "o365_audit" });
    expect(parseBooleanSetting("TRUE")).toEqual({ ok: true, value: true });
    expect(parseBooleanSetting("maybe").ok).toBe(false);
  });
});

describe("resolving the settings together", () => {
  it("gives the syslog sink's options with their defaults", () => {
    expect(resolveSyslogSettings({ SYSLOG_URL: "tls://siem:6514" })).toEqual({
      ok: true,
      value: {
        target: { transport: "tls", host: "siem", port: 6514 },
        format: "cef",
        appName: "auditbridge",
        maxMessageBytes: 8192,
      },
    });
  });
  it.each([
    [{}, /^SYSLOG_URL is required/],
    [{ SYSLOG_URL: "tcp://siem:514", SYSLOG_CA_FILE: "/ca.pem" }, /apply to tls:\/\/ only/],
    [{ SYSLOG_URL: "tls://siem", SYSLOG_CLIENT_CERT_FILE: "/c.pem" }, /go together/],
    [{ SYSLOG_URL: "udp://siem", SYSLOG_MAX_MESSAGE_BYTES: "65536" }, /^SYSLOG_MAX_MESSAGE_BYTES/],
    [{ SYSLOG_URL: "tls://siem", SYSLOG_FORMAT: "xml" }, /^SYSLOG_FORMAT "xml"/],
  ])("refuses %j naming the variable", (input, problem) => {
    const result = resolveSyslogSettings(input);
    expect(result.ok).toBe(false);
    expect((result as { problem: string }).problem).toMatch(problem);
  });
  it("gives the Splunk HEC sink's options, never echoing the token", () => {
    expect(
      resolveSplunkHecSettings({
        SPLUNK_HEC_URL: "https://splunk:8088",
        SPLUNK_HEC_TOKEN: "abc",
        SPLUNK_HEC_ACK: "true",
      }),
    ).toEqual({
      ok: true,
      value: {
        url: new URL("https://splunk:8088"),
        token: "abc",
        sourcetype: "o365:management:activity",
        ack: true,
      },
    });
    const bad = resolveSplunkHecSettings({
      SPLUNK_HEC_URL: "https://splunk:8088",
      SPLUNK_HEC_TOKEN: "top secret",
    });
    expect(bad.ok).toBe(false);
    expect(JSON.stringify(bad)).not.toContain("top secret");
    expect(resolveSplunkHecSettings({ SPLUNK_HEC_URL: "https://s" }).ok).toBe(false);
  });
});
