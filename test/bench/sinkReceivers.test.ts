/**
 * The per-sink benchmark counts deliveries at the receiver by record Id: the Id it reads back
 * from every syslog line must be the record's, whatever the record's values, or the bench's
 * lost/duplicated figures would be wrong.
 */
import { describe, expect, it } from "vitest";
import { syslogRecordId } from "../../bench/lib/sinkScenarios";
import { formatSyslogMessage } from "../../collector/src/sinks/syslogFormat";
import { auditRecords } from "../collector/sinks/siemParsers";

const FORMATS = ["cef", "leef", "json"] as const;

function line(
  record: ReturnType<typeof auditRecords>[number],
  format: (typeof FORMATS)[number],
  maxMessageBytes = 8192,
): string {
  return formatSyslogMessage(record, {
    format,
    hostname: "bench-host",
    appName: "auditbridge",
    contentType: "Audit.SharePoint",
    maxMessageBytes,
  }).text;
}

describe("syslogRecordId", () => {
  it.each(FORMATS)(
    "reads the record Id back from every %s message, escapes and awkward values included",
    (format) => {
      const records = auditRecords(0, 60);
      expect(records.map((r) => syslogRecordId(line(r, format), format))).toEqual(
        records.map((r) => r.id),
      );
    },
  );

  it.each(FORMATS)("reads it from a %s message that was shortened to fit", (format) => {
    // A long ObjectId (CEF, LEEF) and a long extra field (JSON) push every message over 1 KB.
    const records = auditRecords(100, 10, 4000).map((r) => {
      const body = { ...r.record, ObjectId: `https://contoso.sharepoint.com/${"x".repeat(4000)}` };
      const raw = JSON.stringify(body);
      return { id: r.id, raw, record: JSON.parse(raw) as typeof r.record };
    });
    for (const record of records) {
      const text = line(record, format, 1024);
      expect(text).toContain("AuditBridgeTruncated");
      expect(syslogRecordId(text, format)).toBe(record.id);
    }
  });

  it("finds no Id in a line that is not one of the sink's messages", () => {
    const own = '[origin software="rsyslogd" swVersion="8.2312.0" x-pid="42"] start';
    for (const format of FORMATS) expect(syslogRecordId(own, format)).toBeUndefined();
    expect(syslogRecordId('<110>1 - h a - - - {"Operation":"x"}', "json")).toBeUndefined();
  });
});
