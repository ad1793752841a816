/**
 * A compact set of 16-byte ledger keys, each tagged with its delivery hour, for the blob state
 * store (which must answer `seen()` from memory). Open addressing with linear probing over
 * typed arrays: 20 bytes per slot, load factor ≤ 0.7, so 29–57 bytes per id — against ~150
 * for a `Set<string>` of GUID text. No per-entry objects, so no GC pressure.
 */
export class IdSet {
  private keys: Uint32Array;
  /** Delivery hour + 1 per slot; 0 marks an empty slot. */
  private hours: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let capacity = 1024;
    while (capacity < initialCapacity / 0.7) capacity *= 2;
    this.keys = new Uint32Array(capacity * 4);
    this.hours = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes held by the table (for figures and the memory bound). */
  get byteLength(): number {
    return this.keys.byteLength + this.hours.byteLength;
  }

  /** True when `key` (16 bytes) is present. */
  has(key: Uint8Array): boolean {
    return this.find(key) >= 0;
  }

  /** Adds `key` with its delivery hour (epoch hours); an existing key keeps the newer hour. */
  add(key: Uint8Array, hour: number): void {
    if ((this.count + 1) / (this.mask + 1) > 0.7) this.resize((this.mask + 1) * 2);
    const slot = this.find(key);
    if (slot >= 0) {
      this.hours[slot] = Math.max(this.hours[slot]!, hour + 1);
      return;
    }
    this.insert(words(key), hour + 1);
    this.count += 1;
  }

  /** Removes every key delivered before `hour`; returns how many. */
  pruneBefore(hour: number): number {
    const oldKeys = this.keys;
    const oldHours = this.hours;
    let kept = 0;
    for (let i = 0; i < oldHours.length; i++) if (oldHours[i]! > hour) kept++;
    const removed = this.count - kept;
    if (removed === 0) return 0;
    let capacity = 1024;
    while (capacity < kept / 0.5) capacity *= 2;
    this.keys = new Uint32Array(capacity * 4);
    this.hours = new Uint32Array(capacity);
    this.mask = capacity - 1;
    this.count = kept;
    for (let i = 0; i < oldHours.length; i++) {
      const tagged = oldHours[i]!;
      if (tagged > hour) this.insert(oldKeys.subarray(i * 4, i * 4 + 4), tagged);
    }
    return removed;
  }

  private find(key: Uint8Array): number {
    const w = words(key);
    let slot = hash(w) & this.mask;
    for (;;) {
      if (this.hours[slot] === 0) return -1;
      const base = slot * 4;
      if (
        this.keys[base] === w[0] &&
        this.keys[base + 1] === w[1] &&
        this.keys[base + 2] === w[2] &&
        this.keys[base + 3] === w[3]
      ) {
        return slot;
      }
      slot = (slot + 1) & this.mask;
    }
  }

  private insert(w: ArrayLike<number>, taggedHour: number): void {
    let slot = hash(w) & this.mask;
    while (this.hours[slot] !== 0) slot = (slot + 1) & this.mask;
    const base = slot * 4;
    this.keys[base] = w[0]!;
    this.keys[base + 1] = w[1]!;
    this.keys[base + 2] = w[2]!;
    this.keys[base + 3] = w[3]!;
    this.hours[slot] = taggedHour;
  }

  private resize(capacity: number): void {
    const oldKeys = this.keys;
    const oldHours = this.hours;
    this.keys = new Uint32Array(capacity * 4);
    this.hours = new Uint32Array(capacity);
    this.mask = capacity - 1;
    for (let i = 0; i < oldHours.length; i++) {
      if (oldHours[i] !== 0) this.insert(oldKeys.subarray(i * 4, i * 4 + 4), oldHours[i]!);
    }
  }
}

const WORDS = new Uint32Array(4);

/** The key as four 32-bit words (big-endian, reusing one scratch array). */
function words(key: Uint8Array): Uint32Array {
  for (let i = 0; i < 4; i++) {
    WORDS[i] =
      ((key[i * 4]! << 24) | (key[i * 4 + 1]! << 16) | (key[i * 4 + 2]! << 8) | key[i * 4 + 3]!) >>>
      0;
  }
  return WORDS;
}

/** Mixes all four words: test and synthetic GUIDs often differ only in their last bytes. */
function hash(w: ArrayLike<number>): number {
  let h = Math.imul(w[0]! ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ w[1]! ^ (h >>> 15), 0xc2b2ae35);
  h = Math.imul(h ^ w[2]! ^ (h >>> 13), 0x85ebca6b);
  h = Math.imul(h ^ w[3]! ^ (h >>> 16), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
