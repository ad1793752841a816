import { describe, expect, it } from "vitest";
import {
  BlobMalformedError,
  BlobTruncatedError,
  JsonArraySplitter,
  type StreamedElement,
  streamJsonArray,
} from "../../../collector/src/source/blobStream";
import { chunked, seededRandom } from "./seeded";

const encoder = new TextEncoder();

async function collect(
  body: string | Uint8Array,
  sizes: () => number = () => 1 << 16,
): Promise<StreamedElement[]> {
  const bytes = typeof body === "string" ? encoder.encode(body) : body;
  const out: StreamedElement[] = [];
  for await (const element of streamJsonArray(chunked(bytes, sizes))) {
    out.push(element);
  }
  return out;
}

const TRICKY = [
  `{"Id":"a","Text":"quote \\" inside","Brackets":"]]}}{{[[","Comma":","}`,
  `{"Id":"b","Nested":{"Deep":[1,[2,{"x":"y"}],{"z":null}]},"Empty":{},"EmptyList":[]}`,
  `{"Id":"c","Escapes":"back\\\\slash \\\\\\" \\n \\u0041 \\/","Unicode":"Zoë 日本語 🚀"}`,
  `{"Id":"d","Number":-1.5e3,"Bool":true,"Null":null}`,
];
const TRICKY_BODY = `\r\n [ ${TRICKY[0]},\n\t${TRICKY[1]} ,${TRICKY[2]}\r\n,   ${TRICKY[3]} ] \n`;

describe("streamJsonArray", () => {
  it("yields each element's exact text and parsed value, whitespace between elements left out", async () => {
    const elements = await collect(TRICKY_BODY);
    expect(elements.map((e) => e.raw)).toEqual(TRICKY);
    expect(elements.map((e) => e.index)).toEqual([0, 1, 2, 3]);
    expect(elements.map((e) => e.value)).toEqual(TRICKY.map((t) => JSON.parse(t)));
  });

  it("gives the same result for every chunk split, including splits inside UTF-8 characters", async () => {
    const bytes = encoder.encode(TRICKY_BODY);
    const expected = TRICKY;
    // Every single split point, so each boundary (escape, quote, multi-byte char) is hit.
    for (let split = 1; split < bytes.length; split++) {
      const parts = [bytes.subarray(0, split), bytes.subarray(split)];
      let i = 0;
      const raws: string[] = [];
      for await (const element of streamJsonArray(
        (async function* () {
          yield parts[i++]!;
          yield parts[i++]!;
        })(),
      )) {
        raws.push(element.raw);
      }
      expect(raws, `split at byte ${split}`).toEqual(expected);
    }
  });

  it("ends strings right after an even run of backslashes, at every chunk split", async () => {
    const elements = [
      `{"Id":"e","Path":"C:\\\\","Next":"\\\\\\\\"}`,
      `{"Id":"f","Odd":"\\\\\\"\\\\","Last":"\\""}`,
    ];
    const body = `[${elements.join(",")}]`;
    const bytes = encoder.encode(body);
    for (let split = 1; split < bytes.length; split++) {
      const got = await collect(
        bytes,
        (() => {
          let first = true;
          return () => {
            const size = first ? split : bytes.length;
            first = false;
            return size;
          };
        })(),
      );
      expect(
        got.map((e) => e.raw),
        `split at byte ${split}`,
      ).toEqual(elements);
      expect(got.map((e) => e.value)).toEqual(elements.map((e) => JSON.parse(e)));
    }
  });

  it("gives the same result for 200 seeded random chunkings", async () => {
    const random = seededRandom(42);
    for (let round = 0; round < 200; round++) {
      const elements = await collect(TRICKY_BODY, () => 1 + Math.floor(random() * 12));
      expect(elements.map((e) => e.raw)).toEqual(TRICKY);
    }
  });

  it("accepts an empty array and top-level primitive elements", async () => {
    expect(await collect("[]")).toEqual([]);
    expect(await collect(" [ ] ")).toEqual([]);
    const primitives = await collect('[1, "two", true, null, [3], -4.5e2]');
    expect(primitives.map((e) => e.raw)).toEqual(["1", '"two"', "true", "null", "[3]", "-4.5e2"]);
  });

  it("accepts a byte order mark before the array", async () => {
    const body = new Uint8Array([0xef, 0xbb, 0xbf, ...encoder.encode('[{"Id":"x"}]')]);
    expect((await collect(body)).map((e) => e.raw)).toEqual(['{"Id":"x"}']);
  });

  it("reads a web ReadableStream (a fetch body)", async () => {
    const body = new Response(TRICKY_BODY).body!;
    const raws: string[] = [];
    for await (const element of streamJsonArray(body)) raws.push(element.raw);
    expect(raws).toEqual(TRICKY);
  });

  describe("truncation is reported as BlobTruncatedError", () => {
    it.each([
      ["an empty body", ""],
      ["only whitespace", "  \n"],
      ["an opening bracket only", "["],
      ["a cut inside a string", '[{"Id":"abc'],
      ["a cut inside an escape", '[{"Id":"a\\'],
      ["a cut between elements", '[{"Id":"a"},'],
      ["a cut after an element", '[{"Id":"a"}'],
      ["a cut inside a nested object", '[{"Id":"a","N":{"x":[1,2'],
      ["a cut inside a number", "[12"],
    ])("%s", async (_name, body) => {
      await expect(collect(body)).rejects.toBeInstanceOf(BlobTruncatedError);
    });

    it("a cut inside a multi-byte UTF-8 character", async () => {
      const bytes = encoder.encode('[{"Id":"🚀"}]');
      const cut = bytes.indexOf(0xf0) + 2;
      await expect(collect(bytes.subarray(0, cut))).rejects.toBeInstanceOf(BlobTruncatedError);
    });

    it("yields the complete elements before the cut first", async () => {
      const seen: string[] = [];
      const run = async () => {
        for await (const e of streamJsonArray(
          chunked(encoder.encode('[{"Id":"a"},{"Id":"b"},{"Id'), () => 3),
        )) {
          seen.push(e.raw);
        }
      };
      await expect(run()).rejects.toBeInstanceOf(BlobTruncatedError);
      expect(seen).toEqual(['{"Id":"a"}', '{"Id":"b"}']);
    });
  });

  describe("malformed input is reported as BlobMalformedError", () => {
    it.each([
      ["an error object instead of an array", '{"error":{"code":"AF50000"}}'],
      ["HTML", "<html>oops</html>"],
      ["a missing comma", '[{"Id":"a"} {"Id":"b"}]'],
      ["a trailing comma", '[{"Id":"a"},]'],
      ["a leading comma", "[,{}]"],
      ["data after the array", '[{"Id":"a"}] x'],
      ["a second array", "[][]"],
      ["an invalid element", '[{"Id":"a",}]'],
      ["mismatched brackets", '[{"a":[1}]]'],
      ["an unquoted key", "[{Id:1}]"],
      ["a bad literal", "[tru]"],
      ["a raw control character in a string", '[{"Id":"a\u0001b"}]'],
    ])("%s", async (_name, body) => {
      await expect(collect(body)).rejects.toBeInstanceOf(BlobMalformedError);
    });

    it("invalid UTF-8", async () => {
      const bytes = new Uint8Array([
        ...encoder.encode('[{"Id":"'),
        0xff,
        0xfe,
        ...encoder.encode('"}]'),
      ]);
      await expect(collect(bytes)).rejects.toThrow(/not valid UTF-8/);
    });

    it("an element longer than the limit, without buffering the rest", () => {
      const splitter = new JsonArraySplitter(100);
      splitter.push('[{"Id":"ok"},');
      expect(() => splitter.push(`{"Id":"${"x".repeat(200)}`)).toThrow(
        /longer than 100 characters/,
      );
    });

    it("with the character offset in the message", async () => {
      await expect(collect('[{"Id":"a"} x')).rejects.toThrow(/at character 12/);
    });
  });

  it("parses a 100 MB blob with a heap that grows by a small fraction of the body", async () => {
    const filler = "x".repeat(900);
    const recordCount = 110_000;
    const chunkRecords = 64;
    async function* generate(): AsyncGenerator<Uint8Array> {
      yield encoder.encode("[");
      for (let i = 0; i < recordCount; i += chunkRecords) {
        const parts: string[] = [];
        for (let j = i; j < Math.min(i + chunkRecords, recordCount); j++) {
          parts.push(`${j === 0 ? "" : ","}{"Id":"id-${j}","RecordType":1,"Filler":"${filler}"}`);
        }
        yield encoder.encode(parts.join(""));
      }
      yield encoder.encode("]");
    }
    const baseline = process.memoryUsage().heapUsed;
    let peak = baseline;
    let count = 0;
    let lastId = "";
    for await (const element of streamJsonArray(generate())) {
      count++;
      lastId = (element.value as { Id: string }).Id;
      if (count % 1000 === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
    }
    expect(count).toBe(recordCount);
    expect(lastId).toBe(`id-${recordCount - 1}`);
    // The body is about 100 MB of UTF-8 (200 MB as a JS string); buffering it would show here.
    expect(peak - baseline).toBeLessThan(48 * 1024 * 1024);
  });
});
