/**
 * Rows built on the parse workers against the mapping done on the calling thread: the same
 * rows, value for value, over the records the emulator's generator writes for every content type
 * and over odd ones (AuditData and columns over 64 KB, odd Unicode, escapes, numbers the
 * generator never writes).
 */
import { afterAll, describe, expect, it } from "vitest";
import { fitAuditData } from "../../../collector/src/sinks/fieldLimit";
import {
  encodeAuditRow,
  type RowContext,
  rowBytes,
  rowJson,
  toAuditRow,
} from "../../../collector/src/sinks/logsIngestionRows";
import { joinRows, splitIntoBodies } from "../../../collector/src/sinks/logsIngestionSink";
import { recordIdOf, streamJsonArray } from "../../../collector/src/source/blobStream";
import { ParseWorkerPool } from "../../../collector/src/source/parseWorkers";
import type { ReceivedRecord } from "../../../collector/src/types";
import type { AuditRecord } from "../../../domain/records";
import { chunked, seededRandom } from "../source/seeded";
import { blobCorpus } from "./blobCorpus";

const LIMIT = 64 * 1024;

/**
 * The row as the sink mapped it before rows were built as text: the row object, AuditData
 * reduced when the record's text passes the limit, long text columns shortened, serialized
 * whole with JSON.stringify.
 */
function referenceRow(record: ReceivedRecord, context: RowContext): unknown {
  const row = toAuditRow(record, context, context.contentType) as unknown as Record<
    string,
    unknown
  >;
  if (Buffer.byteLength(record.raw, "utf8") > LIMIT) {
    const fitted = fitAuditData(record.record as Record<string, unknown>, LIMIT);
    if (fitted.truncation) row.AuditData = fitted.data;
  }
  for (const column of [
    "Operation",
    "UserId",
    "UserKey",
    "ClientIP",
    "ResultStatus",
    "ObjectId",
    "OrganizationId",
    "Workload",
  ]) {
    const value = row[column];
    if (typeof value === "string" && Buffer.byteLength(value, "utf8") > LIMIT) {
      row[column] =
        `${value.slice(0, LIMIT / 4)}…[AuditBridge: truncated, ${LIMIT / 4} of ${value.length} characters kept]`;
    }
  }
  return JSON.parse(JSON.stringify(row));
}

const ODD_RECORDS = [
  // AuditData over the limit: long strings shortened with markers.
  `{"Id":"odd-1","CreationTime":"2026-03-01T10:00:00","RecordType":6,"Workload":"SharePoint","Operation":"FileAccessed","Parameters":[{"Name":"Body","Value":"${"v".repeat(100_000)}"}],"Note":"${"ü".repeat(30_000)}"}`,
  // A text column over the limit (AuditData keeps it, and is reduced itself).
  `{"Id":"odd-2","CreationTime":"2026-03-01T10:00:01Z","UserId":"${"u".repeat(70_000)}","RecordType":"15"}`,
  // Odd Unicode: astral characters, escapes, a lone surrogate escape, line separators.
  `{"Id":"odd-3","UserId":"Zoë 日本語 🚀 \\ud83d\\ude80","Operation":"back\\\\slash \\" \\/ \\n \\u2028 \\u0000","Lone":"\\ud800","Sep":"\u2028\u2029","CreationTime":"2026-03-01T10:00:02+01:00"}`,
  // Numbers written the way JSON.stringify would not write them; whitespace inside the record.
  `{ "Id" : "odd-4", "RecordType": 1.5e1, "UserType": 2E0, "Big": 12345678901234567890,\n  "Nested": {"a": [1, {"b": null}], "t": true} }`,
  // Objects and numbers in text columns; no CreationTime (the blob's contentCreated is used).
  `{"Id":"odd-5","Operation":{"x":1},"ClientIP":12345,"ResultStatus":false,"RecordType":"not-a-number"}`,
];

/** Blobs of every content type as the generator writes them, and one of odd records. */
const corpus = () => blobCorpus(11, ODD_RECORDS);

describe("rows built on the parse workers", () => {
  const pool = new ParseWorkerPool(1, { auditRows: { fieldLimitBytes: LIMIT } });
  afterAll(() => pool.close());

  it("are the rows the calling thread maps, byte for byte, with the record's own bytes alongside", async () => {
    const random = seededRandom(5);
    let compared = 0;
    let reduced = 0;
    for (const { context, body } of corpus()) {
      const here: ReceivedRecord[] = [];
      for await (const element of streamJsonArray(chunked(body, () => 1 << 16))) {
        const id = recordIdOf(element.value);
        if (id !== undefined) {
          here.push({ id, raw: element.raw, record: element.value as AuditRecord });
        }
      }
      const there: ReceivedRecord[] = [];
      const chunks = chunked(body, () => 1 + Math.floor(random() * 50_000));
      for await (const batch of pool.elements(chunks, { rowContext: context })) {
        for (const element of batch) if (element.record) there.push(element.record);
      }
      expect(there.map((record) => record.id)).toEqual(here.map((record) => record.id));
      for (let i = 0; i < here.length; i++) {
        const local = here[i]!;
        const worker = there[i]!;
        const text = encodeAuditRow(local, context, LIMIT);
        const row = worker.row!;
        expect(row.fieldLimitBytes).toBe(LIMIT);
        // The same bytes as the sink builds when no worker runs...
        expect(Buffer.from(row.bytes).toString("utf8")).toBe(rowJson(text));
        expect(rowBytes(text).equals(row.bytes)).toBe(true);
        expect(row.reductions ?? []).toEqual(text.reductions);
        // ...the same row as the object mapping...
        expect(JSON.parse(rowJson(text))).toEqual(referenceRow(local, context));
        // ...and the record's exact text for the other sinks.
        expect(worker.raw).toBe(local.raw);
        compared++;
        if (text.reductions.length > 0) reduced++;
      }
    }
    expect(compared).toBeGreaterThan(100);
    expect(reduced).toBe(2);
  });

  it("report what they reduced: AuditData over the limit and a long column", () => {
    const context = {
      contentType: "Audit.General",
      contentId: "c",
      contentCreated: "2026-03-01T10:05:00.000Z",
    };
    const [big, longColumn, , , noTime] = ODD_RECORDS.map((raw) => {
      const record = JSON.parse(raw) as AuditRecord;
      return encodeAuditRow({ id: String(record.Id), raw, record }, context, LIMIT);
    });
    expect(big!.reductions).toEqual([
      {
        kind: "audit-data",
        method: "strings",
        originalBytes: Buffer.byteLength(ODD_RECORDS[0]!, "utf8"),
        fields: expect.arrayContaining(["Parameters[0].Value", "Note"]),
      },
    ]);
    expect(big!.auditDataIsRaw).toBe(false);
    expect(longColumn!.reductions.map((r) => r.kind)).toEqual(["column", "audit-data"]);
    const row = JSON.parse(rowJson(noTime!)) as Record<string, unknown>;
    expect(row.TimeGenerated).toBe(context.contentCreated);
    expect(row.Operation).toBe('{"x":1}');
    expect(row.ClientIP).toBe("12345");
    expect(row.RecordType).toBeNull();
    expect(noTime!.auditDataIsRaw).toBe(true);
    expect(noTime!.auditData).toBe(ODD_RECORDS[4]);
  });
});

describe("request bodies joined from row bytes", () => {
  const rows = (sizes: number[]) =>
    sizes.map((size, i) => ({ bytes: Buffer.from(`"${String(i).padEnd(size - 2, "x")}"`) }));

  it("stay within the 1 MB call limit, brackets and commas counted, in order", () => {
    const entries = rows([400_000, 400_000, 199_996, 1, 600_000, 1_200_000, 10]);
    const bodies = splitIntoBodies(entries);
    expect(bodies.map((body) => body.length)).toEqual([3, 2, 1, 1]);
    expect(bodies.flat()).toEqual(entries);
    for (const body of [bodies[0]!, bodies[1]!, bodies[3]!]) {
      expect(joinRows(body).byteLength).toBeLessThanOrEqual(1_000_000);
    }
    expect(joinRows(bodies[0]!).byteLength).toBe(1_000_000);
    // A row too large for any call goes alone: the service's 413 decides about it.
    expect(joinRows(bodies[2]!).byteLength).toBe(1_200_002);
  });

  it("are the JSON array of the rows", () => {
    const entries = [{ bytes: Buffer.from('{"a":"é"}') }, { bytes: Buffer.from("[1,2]") }];
    expect(JSON.parse(joinRows(entries).toString("utf8"))).toEqual([{ a: "é" }, [1, 2]]);
    expect(joinRows([]).toString()).toBe("[]");
    expect(splitIntoBodies([])).toEqual([]);
  });
});
