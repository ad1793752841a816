/**
 * A Bloom filter over ledger keys, so a lookup of ids that were never delivered (nearly every
 * id of a backlog) answers from memory instead of searching the ledger's B-tree. "Maybe" answers
 * are confirmed in SQLite, so the ledger's answers stay exact.
 *
 * Hand-written: the keys are 16 bytes (GUIDs) or short text, so the filter is a bit array and
 * one mixed 32-bit hash split into two (double hashing); the npm filters bring general hashing
 * of arbitrary input and several times the code for the same result.
 */

/** Bits per expected key: with 7 probes, about 1% false positives at capacity. */
const BITS_PER_KEY = 10;
const PROBES = 7;

/** Murmur3's 32-bit finaliser: spreads every input bit over the word. */
function mix(h: number): number {
  let x = h >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

export class KeyBloomFilter {
  private readonly bits: Uint32Array;
  private readonly size: number;
  /** Keys added so far. */
  count = 0;

  constructor(readonly capacity: number) {
    const words = Math.max(1024, Math.ceil((Math.max(1, capacity) * BITS_PER_KEY) / 32));
    this.bits = new Uint32Array(words);
    this.size = words * 32;
  }

  /** Whether more keys were added than the filter was sized for (it should be rebuilt larger). */
  get full(): boolean {
    return this.count > this.capacity;
  }

  add(key: Uint8Array | string): void {
    const [a, b] = hashPair(key);
    for (let i = 0; i < PROBES; i++) {
      const bit = (a + Math.imul(i, b)) >>> 0;
      const index = bit % this.size;
      this.bits[index >>> 5]! |= 1 << (index & 31);
    }
    this.count++;
  }

  /** False: certainly never added. True: maybe added. */
  mightContain(key: Uint8Array | string): boolean {
    const [a, b] = hashPair(key);
    for (let i = 0; i < PROBES; i++) {
      const bit = (a + Math.imul(i, b)) >>> 0;
      const index = bit % this.size;
      if ((this.bits[index >>> 5]! & (1 << (index & 31))) === 0) return false;
    }
    return true;
  }
}

const pair: [number, number] = [0, 0];

/** Two independent 32-bit hashes of a key (double hashing derives the probes from them). */
function hashPair(key: Uint8Array | string): [number, number] {
  let h = 0x9e3779b9;
  if (typeof key === "string") {
    // FNV-1a, then mixed; text keys are rare (non-GUID record Ids).
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    h = mix(h);
  } else {
    // Every byte counts: GUIDs that share most of their bytes still land apart.
    h = mix(h ^ word(key, 0));
    h = mix(h ^ word(key, 4));
    h = mix(h ^ word(key, 8));
    h = mix(h ^ word(key, 12));
  }
  pair[0] = h;
  pair[1] = mix(h ^ 0x85ebca6b) | 1;
  return pair;
}

function word(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] ?? 0) | ((bytes[at + 1] ?? 0) << 8) | ((bytes[at + 2] ?? 0) << 16)) +
    (bytes[at + 3] ?? 0) * 0x1000000
  );
}
