/**
 * Seeded pseudo-random numbers for the audit record generator.
 *
 * Why a hand-written generator: nothing installed gives a seedable PRNG (`Math.random` cannot be
 * seeded and `node:crypto` is deliberately not reproducible; hashing with SHA-256 per draw would
 * be far too slow for 150,000 records a second). The emulator must produce byte-identical blobs
 * from a seed, so it carries its own. The algorithm is sfc32 (Chris Doty-Humphrey's public-domain
 * "small fast chaotic" generator): 128 bits of state, good statistical quality, and only 32-bit
 * integer arithmetic, which V8 runs without allocating.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds the four state words; distinct seed tuples give independent streams. */
  constructor(a: number, b: number, c: number, d: number) {
    this.a = 0;
    this.b = 0;
    this.c = 0;
    this.d = 0;
    this.reseed(a, b, c, d);
  }

  /** Restarts the stream from a new seed (lets hot loops reuse one instance). */
  reseed(a: number, b: number, c: number, d: number): this {
    this.a = a | 0;
    this.b = b | 0;
    this.c = c | 0;
    this.d = d | 0;
    // Warm-up: seeds that differ in one small word (a record index) must not give similar
    // first outputs.
    for (let i = 0; i < 12; i++) this.next();
    return this;
  }

  /** A uniform unsigned 32-bit integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform number in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }

  /** A uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }
}

/**
 * Mixes 32-bit words into one well-distributed 32-bit word (the MurmurHash3 finaliser applied
 * after each word), so seeds derived from (scenario seed, label) pairs do not correlate.
 */
export function mix32(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const word of words) {
    h = Math.imul(h ^ (word | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A 32-bit hash of a string (FNV-1a, then mixed), for seeding from tenant ids and names. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  return mix32(h);
}

/** Two lower-case hex digits for every byte value, so hex formatting never calls toString(16). */
export const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) =>
  i.toString(16).padStart(2, "0"),
);

/** Eight lower-case hex digits of a 32-bit word. */
export function hex32(word: number): string {
  return (
    HEX_BYTE[word >>> 24]! +
    HEX_BYTE[(word >>> 16) & 255]! +
    HEX_BYTE[(word >>> 8) & 255]! +
    HEX_BYTE[word & 255]!
  );
}

/** A version-4-shaped GUID drawn from `rng` (four draws). */
export function randomGuid(rng: Rng): string {
  const a = rng.next();
  const b = rng.next();
  const c = rng.next();
  const d = rng.next();
  const bHex = hex32((b & 0xffff0fff) | 0x00004000);
  const cHex = hex32((c & 0x3fffffff) | 0x80000000);
  const dHex = hex32(d);
  return `${hex32(a)}-${bHex.slice(0, 4)}-${bHex.slice(4)}-${cHex.slice(0, 4)}-${cHex.slice(4)}${dHex}`;
}
