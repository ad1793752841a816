import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FileSink } from "../../../collector/src/sinks/fileSink";
import { ByteRecord } from "../../../collector/src/source/parseWorkers";
import type { Batch, ReceivedRecord } from "../../../collector/src/types";

function rec(n: number, pad = 0): ReceivedRecord {
  // Raw text deliberately not in JSON.stringify's canonical form: the sink must keep it as is.
  const raw = `{"Id":"id-${n}", "CreationTime":"2026-03-01T10:00:00","RecordType":1,"Pad":"${"x".repeat(pad)}"}`;
  return { id: `id-${n}`, raw, record: JSON.parse(raw) };
}

function batch(...records: ReceivedRecord[]): Batch {
  return {
    contentType: "Audit.General",
    blob: {
      contentType: "Audit.General",
      contentId: "blob",
      contentUri: "https://api.test/blob",
      contentCreated: "2026-03-01T10:00:00.000Z",
      contentExpiration: "2026-03-08T10:00:00.000Z",
    },
    records,
  };
}

async function ok(sink: FileSink, b: Batch): Promise<string> {
  const outcome = await sink.deliver(b);
  if (outcome.kind !== "success" || outcome.position === undefined)
    throw new Error(`unexpected ${outcome.kind}`);
  return outcome.position;
}

describe("FileSink", () => {
  let dir: string;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "auditbridge-file-"));
    path = join(dir, "out", "audit.ndjson");
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("writes one raw record per line, byte for byte, and reports sequence and offset", async () => {
    const sink = new FileSink({ path });
    await sink.start(undefined);
    const position = await ok(sink, batch(rec(1), rec(2)));
    await sink.close();
    const text = readFileSync(path, "utf8");
    expect(text).toBe(`${rec(1).raw}\n${rec(2).raw}\n`);
    expect(position).toBe(`1:${Buffer.byteLength(text)}`);
  });

  it("writes multi-byte UTF-8 text exactly and counts the offset in bytes", async () => {
    const sink = new FileSink({ path });
    await sink.start(undefined);
    const raw = '{"Id":"u1","Subject":"Überprüfung – 会議 📎","Path":"C:\\\\docs"}';
    const position = await ok(sink, batch({ id: "u1", raw, record: JSON.parse(raw) }, rec(2)));
    await sink.close();
    const bytes = readFileSync(path);
    expect(bytes.toString("utf8")).toBe(`${raw}\n${rec(2).raw}\n`);
    expect(position).toBe(`1:${bytes.length}`);
    expect(bytes.length).toBeGreaterThan(raw.length + rec(2).raw.length + 2);
  });

  it("keeps a record with pretty-printed raw text on one line", async () => {
    const sink = new FileSink({ path });
    await sink.start(undefined);
    const raw = '{\n  "Id": "p1",\r\n  "Operation": "line\\nbreak"\n}';
    await ok(sink, batch({ id: "p1", raw, record: JSON.parse(raw) }));
    await sink.close();
    const lines = readFileSync(path, "utf8").split("\n").filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({ Id: "p1", Operation: "line\nbreak" });
  });

  it("writes records that come as UTF-8 bytes (parsed on a worker thread) exactly, mixed with text records, in order", async () => {
    const sink = new FileSink({ path });
    await sink.start(undefined);
    const asBytes = (record: ReceivedRecord): ReceivedRecord =>
      new ByteRecord(record.id, new TextEncoder().encode(record.raw));
    const pretty = '{\n  "Id": "p1",\r\n  "Subject": "Zoë 📎"\n}';
    const records: ReceivedRecord[] = [
      asBytes(rec(1)),
      rec(2),
      new ByteRecord("p1", new TextEncoder().encode(pretty)),
      // More pieces than one writev call takes (IOV_MAX is 1024 on Linux).
      ...Array.from({ length: 1_500 }, (_, i) => asBytes(rec(100 + i, i % 7))),
      rec(3),
    ];
    const position = await ok(sink, batch(...records));
    await sink.close();
    const text = readFileSync(path, "utf8");
    // The pretty-printed record stays one line, as its text form does (see the test below).
    const lines = records.map((record) =>
      record.id === "p1" ? pretty.replace(/[\r\n]+/g, " ") : record.raw,
    );
    expect(text).toBe(`${lines.join("\n")}\n`);
    expect(position).toBe(`1:${Buffer.byteLength(text)}`);
  });

  it("truncates whatever was written after the committed position when it starts", async () => {
    const first = new FileSink({ path });
    await first.start(undefined);
    const committed = await ok(first, batch(rec(1)));
    await ok(first, batch(rec(2))); // written and fsynced, never committed (then a kill -9)
    await first.close();

    const second = new FileSink({ path });
    await second.start(committed);
    await ok(second, batch(rec(3)));
    await second.close();
    expect(readFileSync(path, "utf8")).toBe(`${rec(1).raw}\n${rec(3).raw}\n`);
  });

  it("rotates by size, keeps the newest rotated files, and numbers them in order", async () => {
    const sink = new FileSink({ path, maxBytes: 1024, keep: 2 });
    await sink.start(undefined);
    const positions: string[] = [];
    for (let n = 1; n <= 5; n++) positions.push(await ok(sink, batch(rec(n, 600))));
    await sink.close();
    expect(positions.map((p) => p.split(":")[0])).toEqual(["1", "2", "3", "4", "5"]);
    expect(readdirSync(join(dir, "out")).sort()).toEqual([
      "audit.000003.ndjson",
      "audit.000004.ndjson",
      "audit.ndjson",
    ]);
    expect(readFileSync(join(dir, "out", "audit.000004.ndjson"), "utf8")).toBe(
      `${rec(4, 600).raw}\n`,
    );
    expect(readFileSync(path, "utf8")).toBe(`${rec(5, 600).raw}\n`);
  });

  it("undoes a rotation that happened after the committed position", async () => {
    const first = new FileSink({ path, maxBytes: 1024, keep: 3 });
    await first.start(undefined);
    await ok(first, batch(rec(1, 400)));
    const committed = await ok(first, batch(rec(2, 400)));
    await ok(first, batch(rec(3, 400))); // rotates, then the process dies before the commit
    await first.close();
    expect(existsSync(join(dir, "out", "audit.000001.ndjson"))).toBe(true);

    const second = new FileSink({ path, maxBytes: 1024, keep: 3 });
    await second.start(committed);
    expect(readdirSync(join(dir, "out"))).toEqual(["audit.ndjson"]);
    expect(readFileSync(path, "utf8")).toBe(`${rec(1, 400).raw}\n${rec(2, 400).raw}\n`);
    expect(await ok(second, batch(rec(4, 100)))).toMatch(/^2:/);
    await second.close();
  });

  it("moves content without a committed position aside instead of appending to it", async () => {
    const sink = new FileSink({ path });
    await sink.start(undefined);
    await ok(sink, batch(rec(1)));
    await sink.close();

    const restarted = new FileSink({ path });
    await restarted.start(undefined);
    await ok(restarted, batch(rec(1)));
    await restarted.close();
    expect(readFileSync(path, "utf8")).toBe(`${rec(1).raw}\n`);
    expect(
      readdirSync(join(dir, "out")).some((name) => name.startsWith("audit.ndjson.uncommitted-")),
    ).toBe(true);
  });

  it("refuses a committed position beyond the end of the file with a message naming the fix", async () => {
    const sink = new FileSink({ path });
    await sink.start(undefined);
    await ok(sink, batch(rec(1)));
    await sink.close();
    writeFileSync(path, "");
    await expect(new FileSink({ path }).start("1:500")).rejects.toThrow(
      /beyond the end of .*restore it or reset the state/,
    );
    await expect(new FileSink({ path }).start("garbage")).rejects.toThrow(
      /is not "<seq>:<offset>"/,
    );
  });

  it("rejects options that cannot work", () => {
    expect(() => new FileSink({ path: "" })).toThrow(/set AUDIT_FILE_PATH/);
    expect(() => new FileSink({ path, maxBytes: 10 })).toThrow(/maxBytes 10 is invalid/);
    expect(() => new FileSink({ path, keep: 0 })).toThrow(/keep 0 is invalid/);
  });
});
