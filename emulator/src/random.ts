import { createHash } from "node:crypto";

/**
 * Deterministic randomness for the emulator's identities and fault knobs. Everything derives
 * from the scenario seed, so a test can predict which blob a knob hits and a demo started twice
 * with the same seed shows the same tenant.
 */

/** A 32-byte digest of the seed and labels; the root of every derived value. */
function digest(seed: number, labels: readonly (string | number)[]): Buffer {
  const hash = createHash("sha256");
  hash.update(`auditbridge-emulator:${seed}`);
  for (const label of labels) hash.update(`\u0000${label}`);
  return hash.digest();
}

/** A uniform number in [0, 1) derived from the seed and the labels. */
export function seededUnit(seed: number, ...labels: (string | number)[]): number {
  // 48 bits are plenty for rates and keep the arithmetic exact in a double.
  return digest(seed, labels).readUIntBE(0, 6) / 2 ** 48;
}

/**
 * True when a knob with probability `rate` fires for this key. Rates of 0 never fire and rates
 * of 1 always do, so tests can switch a fault on for everything.
 */
export function knobFires(seed: number, knob: string, key: string | number, rate: number): boolean {
  if (!(rate > 0)) return false;
  if (rate >= 1) return true;
  return seededUnit(seed, knob, key) < rate;
}

/** A version-4-shaped GUID derived from the seed and the labels. */
export function seededGuid(seed: number, ...labels: (string | number)[]): string {
  const bytes = digest(seed, labels).subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A secret-looking string (Entra client secrets are 40 characters with a `~`). */
export function seededSecret(seed: number, ...labels: (string | number)[]): string {
  const body = digest(seed, ["secret", ...labels])
    .toString("base64")
    .replace(/[+/=]/g, "")
    .slice(0, 37);
  return `${body.slice(0, 3)}8Q~${body.slice(3)}`;
}
