import { afterAll, describe, expect, it } from "vitest";
import {
  BlobMalformedError,
  BlobTruncatedError,
  recordIdOf,
  streamJsonArray,
} from "../../../collector/src/source/blobStream";
import {
  type ByteRecord,
  defaultParseWorkers,
  type ParsedElement,
  ParseWorkerPool,
} from "../../../collector/src/source/parseWorkers";
import { chunked, seededRandom } from "./seeded";

const encoder = new TextEncoder();

/** What the worker path must reproduce: index, Id and exact text of each element. */
interface Seen {
  index: number;
  id: string | undefined;
  raw: string | undefined;
}

async function inThread(bytes: Uint8Array): Promise<Seen[]> {
  const out: Seen[] = [];
  for await (const element of streamJsonArray(chunked(bytes, () => 1 << 16))) {
    const id = recordIdOf(element.value);
    out.push({ index: element.index, id, raw: id === undefined ? undefined : element.raw });
  }
  return out;
}

async function viaPool(
  pool: ParseWorkerPool,
  chunks: AsyncIterable<Uint8Array>,
  options: { maxElementChars?: number; abortSignal?: AbortSignal } = {},
): Promise<Seen[]> {
  const out: Seen[] = [];
  for await (const batch of pool.elements(chunks, options)) {
    for (const element of batch) out.push(seen(element));
  }
  return out;
}

function seen(element: ParsedElement): Seen {
  return { index: element.index, id: element.record?.id, raw: element.record?.raw };
}

const RECORDS = [
  `{"Id":"a","Text":"quote \\" inside","Brackets":"]]}}{{[[","Comma":","}`,
  `{"Id":"b","Escapes":"back\\\\slash \\\\\\" \\n \\u0041","Unicode":"Zoë 日本語 🚀"}`,
  `{"NoId":true}`,
  `{"Id":"  "}`,
  `42`,
  `{"Id":"c",\n "Multi":"line"}`,
  `{"Id":"d","Big":"${"é".repeat(3_000)}"}`,
];
const BODY = encoder.encode(`[ ${RECORDS.join(" ,\r\n")} ]`);

describe("ParseWorkerPool", () => {
  const pool = new ParseWorkerPool(2);
  afterAll(() => pool.close());

  it("gives exactly what the in-thread parser gives, for 30 seeded random chunkings", async () => {
    const expected = await inThread(BODY);
    expect(expected.map((e) => e.id)).toEqual([
      "a",
      "b",
      undefined,
      undefined,
      undefined,
      "c",
      "d",
    ]);
    for (let seed = 1; seed <= 30; seed++) {
      const random = seededRandom(seed);
      const sizes = () => 1 + Math.floor(random() * (seed % 3 === 0 ? 7 : 5_000));
      expect(await viaPool(pool, chunked(BODY, sizes))).toEqual(expected);
    }
  });

  it("hands out each record's exact UTF-8 bytes, decoded and parsed only when read", async () => {
    const records: ByteRecord[] = [];
    for await (const batch of pool.elements(chunked(BODY, () => 4_096))) {
      for (const element of batch) if (element.record) records.push(element.record as ByteRecord);
    }
    const b = records.find((record) => record.id === "b")!;
    expect(Buffer.from(b.bytes).equals(Buffer.from(encoder.encode(RECORDS[1]!)))).toBe(true);
    expect(b.record.Unicode).toBe("Zoë 日本語 🚀");
    expect(records.find((record) => record.id === "c")!.raw).toBe(RECORDS[5]);
  });

  it("parses many blobs at once on two threads without mixing them up", async () => {
    const bodies = Array.from({ length: 24 }, (_, n) =>
      encoder.encode(
        `[${Array.from({ length: 200 + n }, (_, i) => `{"Id":"blob${n}-rec${i}","N":${i}}`).join(",")}]`,
      ),
    );
    const results = await Promise.all(
      bodies.map((body, n) =>
        viaPool(
          pool,
          chunked(body, () => 97 + n),
        ),
      ),
    );
    results.forEach((records, n) => {
      expect(records).toHaveLength(200 + n);
      expect(records.every((r, i) => r.id === `blob${n}-rec${i}` && r.index === i)).toBe(true);
    });
  });

  it("reports truncated and malformed bodies with the in-thread parser's errors", async () => {
    const cut = encoder.encode('[{"Id":"a"},{"Id":"b"},{"Id');
    const truncated = await viaPool(
      pool,
      chunked(cut, () => 5),
    ).catch((e: unknown) => e);
    expect(truncated).toBeInstanceOf(BlobTruncatedError);
    const inThreadError = await inThread(cut).catch((e: unknown) => e);
    expect((truncated as Error).message).toBe((inThreadError as Error).message);

    const malformed = await viaPool(
      pool,
      chunked(encoder.encode('[{"Id":"a"} {"Id":"b"}]'), () => 3),
    ).catch((e: unknown) => e);
    expect(malformed).toBeInstanceOf(BlobMalformedError);
    expect((malformed as Error).message).toMatch(/expected "," or "\]" after an element/);

    const badUtf8 = new Uint8Array([...encoder.encode('[{"Id":"'), 0xff, ...encoder.encode('"}]')]);
    await expect(
      viaPool(
        pool,
        chunked(badUtf8, () => 4),
      ),
    ).rejects.toThrow(/not valid UTF-8/);
    // Chunks are joined into messages of 256 KB: an element still open at the end of one is
    // measured there, as the in-thread parser measures it at the end of a chunk.
    const tooLong = encoder.encode(`[{"Id":"${"x".repeat(300_000)}"}]`);
    await expect(
      viaPool(
        pool,
        chunked(tooLong, () => 64 * 1024),
        { maxElementChars: 100_000 },
      ),
    ).rejects.toThrow(/longer than 100000 characters/);
  });

  it("passes the body's own errors through unchanged and releases a body it stops reading", async () => {
    const broken = async function* () {
      yield encoder.encode('[{"Id":"a"},');
      throw new Error("connection reset by peer");
    };
    await expect(viaPool(pool, broken())).rejects.toThrow("connection reset by peer");

    let released = false;
    const endless = async function* () {
      try {
        yield encoder.encode("[");
        for (let i = 0; ; i++) yield encoder.encode(`{"Id":"r${i}"},`);
      } finally {
        released = true;
      }
    };
    let count = 0;
    for await (const batch of pool.elements(endless())) {
      count += batch.length;
      if (count >= 50) break;
    }
    expect(released).toBe(true);

    const controller = new AbortController();
    const slow = async function* () {
      yield encoder.encode('[{"Id":"a"},');
      controller.abort(new Error("stopping"));
      yield encoder.encode('{"Id":"b"}]');
    };
    await expect(viaPool(pool, slow(), { abortSignal: controller.signal })).rejects.toThrow(
      "stopping",
    );
    // The pool still works after all of that.
    expect(
      await viaPool(
        pool,
        chunked(BODY, () => 1_000),
      ),
    ).toEqual(await inThread(BODY));
  });

  it("copies Buffer chunks that are views on a larger buffer, leaving that buffer to its owner", async () => {
    const body = Buffer.from(BODY);
    const parsed = await viaPool(
      pool,
      chunked(body, () => 100),
    );
    expect(parsed).toEqual(await inThread(BODY));
    expect(body.byteLength).toBe(BODY.byteLength);
    expect(body.equals(BODY)).toBe(true);
  });

  it("refuses new streams once closed", async () => {
    const own = new ParseWorkerPool(1);
    expect(
      await viaPool(
        own,
        chunked(BODY, () => 1_000),
      ),
    ).toHaveLength(7);
    await own.close();
    await expect(
      viaPool(
        own,
        chunked(BODY, () => 10),
      ),
    ).rejects.toThrow(/closed/);
  });

  it("defaults to one thread per core beyond the first, one to four", () => {
    expect(defaultParseWorkers(1)).toBe(1);
    expect(defaultParseWorkers(2)).toBe(1);
    expect(defaultParseWorkers(4)).toBe(3);
    expect(defaultParseWorkers(64)).toBe(4);
  });
});
