import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { KeyBloomFilter } from "../../../collector/src/state/bloom";

describe("KeyBloomFilter", () => {
  it("never forgets a key it was given, GUID bytes or text", () => {
    const filter = new KeyBloomFilter(50_000);
    const keys: Array<Uint8Array | string> = [];
    for (let i = 0; i < 25_000; i++) keys.push(randomBytes(16));
    for (let i = 0; i < 25_000; i++) keys.push(`record-${i}`);
    for (const key of keys) filter.add(key);
    expect(keys.every((key) => filter.mightContain(key))).toBe(true);
    expect(filter.count).toBe(50_000);
    expect(filter.full).toBe(false);
  });

  it("rules out about 99% of keys it never saw when filled to capacity", () => {
    const filter = new KeyBloomFilter(100_000);
    for (let i = 0; i < 100_000; i++) filter.add(randomBytes(16));
    let maybe = 0;
    for (let i = 0; i < 100_000; i++) if (filter.mightContain(randomBytes(16))) maybe++;
    expect(maybe / 100_000).toBeLessThan(0.02);
    let maybeText = 0;
    for (let i = 0; i < 20_000; i++) if (filter.mightContain(`never-${i}`)) maybeText++;
    expect(maybeText / 20_000).toBeLessThan(0.02);
  });

  it("spreads keys that differ only in a few bytes (sequential GUIDs)", () => {
    const filter = new KeyBloomFilter(20_000);
    const key = (n: number) => {
      const bytes = new Uint8Array(16);
      new DataView(bytes.buffer).setUint32(12, n);
      return bytes;
    };
    for (let n = 0; n < 20_000; n++) filter.add(key(n));
    let maybe = 0;
    for (let n = 20_000; n < 40_000; n++) if (filter.mightContain(key(n))) maybe++;
    expect(maybe / 20_000).toBeLessThan(0.02);
  });

  it("says when it holds more keys than it was sized for", () => {
    const filter = new KeyBloomFilter(10);
    for (let i = 0; i < 11; i++) filter.add(`k${i}`);
    expect(filter.full).toBe(true);
  });
});
