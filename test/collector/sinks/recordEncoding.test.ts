/**
 * Per-record encodings built on the parse workers against the sinks' own in-thread formatting:
 * the same bytes for the framed syslog message (CEF, LEEF, JSON, octet-counted or bare), the
 * Splunk HEC envelope and the Logs Ingestion row, all from one parse per record (fan-out), over
 * the emulator generator's blobs of every content type and over odd records (over 64 KB, `|`,
 * `=`, `\`, newlines, astral characters, IPv6 and port-suffixed ClientIP). Then through the
 * sinks themselves: the syslog bytes a receiver reads and the HEC events indexed are the same
 * with and without the workers, and a shortened message is counted once per record.
 */
import { createServer, type Server } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RowContext } from "../../../collector/src/sinks/logsIngestionRows";
import { encodedFor, type RecordEncoding } from "../../../collector/src/sinks/recordEncoding";
import { hecEnvelope, hecEnvelopeMeta } from "../../../collector/src/sinks/splunkHecFormat";
import { SplunkHecSink } from "../../../collector/src/sinks/splunkHecSink";
import { formatSyslogMessage } from "../../../collector/src/sinks/syslogFormat";
import { SyslogSink, type SyslogTruncation } from "../../../collector/src/sinks/syslogSink";
import { recordIdOf, streamJsonArray } from "../../../collector/src/source/blobStream";
import { ParseWorkerPool } from "../../../collector/src/source/parseWorkers";
import type { Batch, ReceivedRecord } from "../../../collector/src/types";
import type { ContentType } from "../../../domain/contentTypes";
import type { AuditRecord } from "../../../domain/records";
import { type Emulator, startEmulator } from "../../../emulator/src";
import { chunked, seededRandom } from "../source/seeded";
import { blobCorpus } from "./blobCorpus";

const ODD_RECORDS = [
  // Over 64 KB, with every character CEF and LEEF escape.
  `{"Id":"odd-1","CreationTime":"2026-03-01T10:00:00","RecordType":6,"Workload":"SharePoint","Operation":"FileAccessed","UserId":"a|b=c\\\\d","ObjectId":"${"o|=\\\\".repeat(20_000)}","ClientIP":"[2001:db8::1]:443"}`,
  // Pipes, equals, backslashes and newlines in header and extension fields.
  `{"Id":"odd-2","CreationTime":"2026-03-01T10:00:01Z","Operation":"Set|Inbox=Rule\\\\x\\nnext\\r\\tend","ResultStatus":"Fail=ed","UserId":"u\\n=|","ClientIP":"10.1.2.3:5678","RecordType":"15"}`,
  // Astral characters, escapes, line separators; an IPv6 ClientIP without port.
  `{"Id":"odd-3","UserId":"Zoë 日本語 🚀 \\ud83d\\ude80","Operation":"back\\\\slash \\" \\/ \\n \\u2028","ObjectId":"${"🚀".repeat(3_000)}","Sep":"\u2028\u2029","CreationTime":"2026-03-01T10:00:02+01:00","ClientIP":"2001:db8::7"}`,
  // No CreationTime, objects and numbers where text is expected, a host name as ClientIP.
  `{ "Id" : "odd-4", "Operation": {"x": 1}, "ClientIP": "host.example:80", "ResultStatus": false, "RecordType": 1.5e1 }`,
  // An operation longer than a CEF header field, and a long JSON record over a small limit.
  `{"Id":"odd-5","CreationTime":"2026-03-01T10:00:03","Operation":"${"Op|".repeat(200)}","Workload":"Exchange","Body":"${"x".repeat(70_000)}"}`,
];

/** Blobs of every content type as the generator writes them, and one of odd records. */
const corpus = () => blobCorpus(17, ODD_RECORDS);

/** The records of a blob parsed on this thread, as the source hands them without workers. */
async function parsedHere(body: Uint8Array): Promise<ReceivedRecord[]> {
  const records: ReceivedRecord[] = [];
  for await (const element of streamJsonArray(chunked(body, () => 1 << 16))) {
    const id = recordIdOf(element.value);
    if (id !== undefined)
      records.push({ id, raw: element.raw, record: element.value as AuditRecord });
  }
  return records;
}

/** The same records parsed, and encoded for `encodings`, on the workers. */
async function parsedOnWorkers(
  pool: ParseWorkerPool,
  body: Uint8Array,
  context: RowContext,
  seed: number,
): Promise<ReceivedRecord[]> {
  const random = seededRandom(seed);
  const records: ReceivedRecord[] = [];
  const chunks = chunked(body, () => 1 + Math.floor(random() * 40_000));
  for await (const batch of pool.elements(chunks, { rowContext: context })) {
    for (const element of batch) if (element.record) records.push(element.record);
  }
  return records;
}

const SYSLOG: Extract<RecordEncoding, { kind: "syslog" }>[] = [
  { format: "cef", framing: "octet-counting", maxMessageBytes: 8192 },
  { format: "leef", framing: "octet-counting", maxMessageBytes: 8192 },
  { format: "json", framing: "octet-counting", maxMessageBytes: 8192 },
  { format: "cef", framing: "none", maxMessageBytes: 1024 },
  { format: "leef", framing: "none", maxMessageBytes: 700 },
  { format: "json", framing: "octet-counting", maxMessageBytes: 600 },
].map((e) => ({
  kind: "syslog" as const,
  hostname: "collector-1",
  appName: "auditbridge",
  ...(e as {
    format: "cef" | "leef" | "json";
    framing: "octet-counting" | "none";
    maxMessageBytes: number;
  }),
}));
const HEC: Extract<RecordEncoding, { kind: "splunk-hec" }>[] = [
  { kind: "splunk-hec", sourcetype: "o365:management:activity", index: "o365" },
  { kind: "splunk-hec", sourcetype: 'custom "type"' },
];

describe("encodings built on the parse workers", () => {
  const pool = new ParseWorkerPool(2, {
    auditRows: { fieldLimitBytes: 64 * 1024 },
    encodings: [...SYSLOG, ...HEC],
  });
  afterAll(() => pool.close());

  it("are the bytes the sinks format on their own thread, every encoding from one parse", async () => {
    let compared = 0;
    let truncated = 0;
    let seed = 1;
    for (const { context, body } of corpus()) {
      const here = await parsedHere(body);
      const there = await parsedOnWorkers(pool, body, context, seed++);
      expect(there.map((r) => r.id)).toEqual(here.map((r) => r.id));
      for (let i = 0; i < here.length; i++) {
        const local = here[i]!;
        const worker = there[i]!;
        // The record's own text still comes along, whichever encoding holds it.
        expect(worker.raw).toBe(local.raw);
        // The row for Logs Ingestion is there too (the same parse).
        expect(worker.row?.fieldLimitBytes).toBe(64 * 1024);
        expect(worker.encoded).toHaveLength(SYSLOG.length + HEC.length);
        for (const encoding of SYSLOG) {
          const message = formatSyslogMessage(local, {
            ...encoding,
            contentType: context.contentType,
          });
          const expected =
            encoding.framing === "octet-counting"
              ? `${message.bytes} ${message.text}`
              : message.text;
          const built = encodedFor(worker, encoding)!;
          expect(Buffer.from(built.bytes).toString("utf8")).toBe(expected);
          expect(Buffer.from(built.bytes).equals(Buffer.from(expected, "utf8"))).toBe(true);
          if (message.truncatedFromBytes !== undefined) {
            truncated++;
            expect(built.note).toEqual({
              kind: "truncated",
              originalBytes: message.truncatedFromBytes,
              bytes: message.bytes,
            });
          } else {
            expect(built.note).toBeUndefined();
          }
          compared++;
        }
        for (const encoding of HEC) {
          const meta = hecEnvelopeMeta({ contentType: context.contentType, ...encoding });
          const built = encodedFor(worker, encoding)!;
          expect(Buffer.from(built.bytes).toString("utf8")).toBe(hecEnvelope(local.raw, meta));
          // And it is an HEC event whose `event` is the record as received.
          const envelope = JSON.parse(Buffer.from(built.bytes).toString("utf8")) as {
            event: unknown;
            sourcetype: string;
          };
          expect(envelope.event).toEqual(JSON.parse(local.raw));
          expect(envelope.sourcetype).toBe(encoding.sourcetype);
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(1_000);
    // The odd records over the small limits, and some generator records over 600-1024 bytes.
    expect(truncated).toBeGreaterThan(10);
  });

  it("match a sink's encoding by the sink's own object: an equal copy is not used", async () => {
    const [{ context, body }] = corpus();
    const there = await parsedOnWorkers(pool, body, context, 99);
    const copy = { ...SYSLOG[0]! };
    expect(encodedFor(there[0]!, SYSLOG[0]!)).toBeDefined();
    expect(encodedFor(there[0]!, copy)).toBeUndefined();
  });
});

/** A TCP syslog receiver that keeps every byte of its one connection. */
async function tcpReceiver(): Promise<{ server: Server; port: number; bytes: Promise<Buffer> }> {
  let done!: (bytes: Buffer) => void;
  const bytes = new Promise<Buffer>((resolve) => {
    done = resolve;
  });
  const server = createServer((socket) => {
    const received: Buffer[] = [];
    socket.on("data", (chunk) => received.push(chunk));
    socket.on("close", () => done(Buffer.concat(received)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return { server, port: address.port, bytes };
}

function batchOf(context: RowContext, records: readonly ReceivedRecord[]): Batch {
  return {
    contentType: context.contentType as ContentType,
    blob: {
      contentType: context.contentType,
      contentId: context.contentId,
      contentCreated: context.contentCreated,
      contentUri: "https://example.invalid/blob",
      contentExpiration: "2026-03-08T10:05:00.000Z",
    },
    records,
  };
}

describe("sinks fed by the parse workers", () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ seed: 23 });
  });
  afterAll(async () => {
    await emulator?.stop();
  });

  it.each(["cef", "leef", "json"] as const)(
    "syslog %s: the receiver reads the same bytes, and a shortened message is counted once",
    async (format) => {
      const { context, body } = corpus().at(-1)!;
      const runs: { bytes: Buffer; truncations: SyslogTruncation[] }[] = [];
      for (const useWorkers of [false, true]) {
        const receiver = await tcpReceiver();
        const truncations: SyslogTruncation[] = [];
        const sink = new SyslogSink({
          target: { transport: "tcp", host: "127.0.0.1", port: receiver.port },
          format,
          hostname: "collector-1",
          maxMessageBytes: 2048,
          onTruncated: (t) => truncations.push(t),
        });
        const pool = useWorkers
          ? new ParseWorkerPool(1, { encodings: [sink.recordEncoding] })
          : undefined;
        try {
          const records = pool
            ? await parsedOnWorkers(pool, body, context, 5)
            : await parsedHere(body);
          if (pool)
            for (const record of records)
              expect(encodedFor(record, sink.recordEncoding)).toBeDefined();
          await sink.start(undefined);
          const batch = batchOf(context, records);
          expect((await sink.deliver(batch)).kind).toBe("success");
          // The pipeline retries the same Batch object: nothing is counted twice.
          expect((await sink.deliver(batch)).kind).toBe("success");
          await sink.close();
          runs.push({ bytes: await receiver.bytes, truncations });
        } finally {
          await pool?.close();
          receiver.server.close();
        }
      }
      expect(runs[1]!.bytes.equals(runs[0]!.bytes)).toBe(true);
      expect(runs[0]!.bytes.byteLength).toBeGreaterThan(0);
      expect(runs[1]!.truncations).toEqual(runs[0]!.truncations);
      expect(runs[0]!.truncations.length).toBeGreaterThan(0);
      expect(new Set(runs[1]!.truncations.map((t) => t.id)).size).toBe(runs[1]!.truncations.length);
    },
  );

  it("splunk-hec: the indexer gets the same events, split into the same requests", async () => {
    const { context, body } = corpus().at(-1)!;
    const generated = corpus()[0]!;
    const seen: { events: string[]; requests: number }[] = [];
    for (const useWorkers of [false, true]) {
      const before = emulator.splunkHec.events().length;
      const requestsBefore = emulator.splunkHec.requests();
      const sink = new SplunkHecSink({
        url: new URL(emulator.url),
        token: emulator.splunkHec.token,
        index: "o365",
        ack: true,
        ackPollInitialInMs: 10,
        ackPollMaxInMs: 50,
        maxRequestBytes: 150_000,
      });
      const pool = useWorkers
        ? new ParseWorkerPool(1, { encodings: [sink.recordEncoding] })
        : undefined;
      try {
        await sink.start(undefined);
        for (const blob of [generated, { context, body }]) {
          const records = pool
            ? await parsedOnWorkers(pool, blob.body, blob.context, 3)
            : await parsedHere(blob.body);
          const outcome = await sink.deliver(batchOf(blob.context, records));
          expect(
            outcome.kind === "success" ? "success" : String((outcome as { error: Error }).error),
          ).toBe("success");
        }
      } finally {
        await sink.close();
        await pool?.close();
      }
      seen.push({
        events: emulator.splunkHec
          .events()
          .slice(before)
          .map((e) => JSON.stringify([e.time, e.source, e.sourcetype, e.index, e.eventText])),
        requests: emulator.splunkHec.requests() - requestsBefore,
      });
    }
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[0]!.events.length).toBeGreaterThan(20);
    expect(seen[0]!.requests).toBeGreaterThan(2);
  });
});
