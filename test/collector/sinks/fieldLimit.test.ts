import { describe, expect, it } from "vitest";
import {
  fitAuditData,
  LOG_ANALYTICS_FIELD_LIMIT_BYTES,
} from "../../../collector/src/sinks/fieldLimit";

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

describe("fitAuditData", () => {
  it("returns a record under the limit untouched", () => {
    const record = { Id: "a", Operation: "x".repeat(1000) };
    const fitted = fitAuditData(record);
    expect(fitted.data).toBe(record);
    expect(fitted.truncation).toBeUndefined();
  });

  it("shortens only the longest strings, to a common cap, and lists them with their original length", () => {
    const record = {
      Id: "a",
      Big: "b".repeat(90_000),
      Medium: "m".repeat(20_000),
      Small: "s".repeat(500),
    };
    const fitted = fitAuditData(record);
    expect(bytes(fitted.data)).toBeLessThanOrEqual(LOG_ANALYTICS_FIELD_LIMIT_BYTES);
    expect(fitted.data.Medium).toBe(record.Medium);
    expect(fitted.data.Small).toBe(record.Small);
    expect(fitted.data.Big).toMatch(
      /^b+…\[AuditBridge: truncated, \d+ of 90000 characters kept\]$/,
    );
    expect(fitted.truncation?.fields).toEqual([{ path: "Big", originalLength: 90_000 }]);
    expect(record.Big).toHaveLength(90_000);
  });

  it("counts bytes, not characters, for multi-byte text and escapes", () => {
    const record = { Id: "a", Text: "é€😀".repeat(20_000), Quoted: '"\\'.repeat(20_000) };
    const fitted = fitAuditData(record);
    expect(bytes(fitted.data)).toBeLessThanOrEqual(LOG_ANALYTICS_FIELD_LIMIT_BYTES);
    expect(JSON.stringify(fitted.data)).not.toContain("\ufffd");
    expect(fitted.truncation?.method).toBe("strings");
  });

  it("falls back to a summary of the common fields when strings are not what makes it big", () => {
    const record: Record<string, unknown> = {
      Id: "a",
      CreationTime: "2026-03-01T10:00:00",
      Operation: "Bulk",
    };
    for (let i = 0; i < 20_000; i++) record[`k${i}`] = i;
    const fitted = fitAuditData(record);
    expect(fitted.truncation?.method).toBe("summary");
    expect(fitted.data).toMatchObject({
      Id: "a",
      Operation: "Bulk",
      AuditBridgeTruncation: { method: "summary", originalBytes: bytes(record) },
    });
    expect(bytes(fitted.data)).toBeLessThanOrEqual(LOG_ANALYTICS_FIELD_LIMIT_BYTES);
  });
});
