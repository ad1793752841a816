import type { BlobGenerator, BlobPlan } from "./plan";
import { Rng, randomGuid } from "./prng";
import { buildRecord, creationDelayMs } from "./records";
import { type RecordContext, wireTime } from "./records/common";

/** Blob bodies are yielded in pieces of about this many characters (records are never split). */
export const CHUNK_CHARS = 64 * 1024;
/** Salt of the per-record stream, so record streams never coincide with planning streams. */
const RECORD_SALT = 0x5eed_a0d1;
/** Records rendered to estimate the big blob's record count. */
const BIG_BLOB_SAMPLE = 2048;

function generatorOf(plan: BlobPlan, caller: string): BlobGenerator {
  const gen = (plan as { gen?: BlobGenerator }).gen;
  if (gen === undefined) {
    throw new Error(
      `${caller}: the plan carries no generator state; pass a BlobPlan taken from buildCatalogue(), not a copy`,
    );
  }
  return gen;
}

/** Index of `slot` in a blob's duplicate list, or -1 when the slot holds an original record. */
export function duplicateIndex(gen: BlobGenerator, slot: number): number {
  const slots = gen.dupSlots;
  let lo = 0;
  let hi = slots.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const value = slots[mid]!;
    if (value === slot) return mid;
    if (value < slot) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

function recordStream(gen: BlobGenerator, slot: number, rng?: Rng): Rng {
  return rng === undefined
    ? new Rng(gen.stream, gen.ordinal, slot, RECORD_SALT)
    : rng.reseed(gen.stream, gen.ordinal, slot, RECORD_SALT);
}

/** Scratch state reused across the records of one blob (fewer allocations, less GC). */
interface Scratch {
  rng: Rng;
  ctx: RecordContext;
}

function newScratch(gen: BlobGenerator): Scratch {
  return {
    rng: new Rng(0, 0, 0, 0),
    ctx: {
      tenant: gen.tenant,
      id: "",
      creationMs: 0,
      creationTime: "",
      bulk: gen.profile === "bulk",
      fields: [],
    },
  };
}

/**
 * Appends the record that is original to (plan, slot) to `out` as pieces (`{`, members with
 * commas, `}`), so the caller's single join copies each character once. `reordered` lists the
 * member groups in reverse order. Returns the record's length in characters.
 */
function renderRecordInto(
  out: string[],
  plan: BlobPlan,
  slot: number,
  reordered: boolean,
  scratch: Scratch,
): number {
  const gen = plan.gen;
  const rng = recordStream(gen, slot, scratch.rng);
  const ctx = scratch.ctx;
  ctx.tenant = gen.tenant;
  ctx.bulk = gen.profile === "bulk";
  ctx.id = randomGuid(rng);
  ctx.creationMs = plan.contentCreatedMs - creationDelayMs(plan.contentType, rng);
  ctx.creationTime = wireTime(ctx.creationMs);
  const fields = ctx.fields;
  fields.length = 0;
  buildRecord(plan.contentType, ctx, rng);
  // A repeated record keeps its content but not necessarily its member order (as observed in
  // real duplicates), so consumers must not compare records byte for byte.
  if (reordered) fields.reverse();
  let length = fields.length + 1;
  out.push("{");
  for (let i = 0; i < fields.length; i++) {
    const field = fields[i]!;
    out.push(i === 0 ? field : `,${field}`);
    length += field.length;
  }
  out.push("}");
  return length;
}

/**
 * The Id of every record in the blob, in body order, duplicates included. Cheap: only the first
 * draws of each record's stream are made, nothing is rendered.
 */
export function blobRecordIds(plan: BlobPlan): string[] {
  const gen = generatorOf(plan, "blobRecordIds");
  const ids: string[] = new Array(plan.recordCount);
  const rng = new Rng(0, 0, 0, 0);
  let d = 0;
  for (let slot = 0; slot < plan.recordCount; slot++) {
    if (d < gen.dupSlots.length && gen.dupSlots[d] === slot) {
      ids[slot] = randomGuid(recordStream(gen.dupOrigins[d]!.gen, gen.dupOriginSlots[d]!, rng));
      d++;
    } else {
      ids[slot] = randomGuid(recordStream(gen, slot, rng));
    }
  }
  return ids;
}

/**
 * The blob body: a JSON array of audit records, yielded lazily in chunks of about 64 KB (a chunk
 * holds whole records, so one record over 64 KB makes a bigger chunk). Deterministic: the same
 * plan always yields the same text. Repeated records are rendered from their origin blob.
 */
export function* renderBlob(plan: BlobPlan): Generator<string, void, undefined> {
  const gen = generatorOf(plan, "renderBlob");
  const scratch = newScratch(gen);
  // Chunks are built as arrays and joined once: a flat string is much cheaper for the consumer
  // to encode than a deep rope of concatenations.
  const parts: string[] = [];
  let size = 0;
  let d = 0;
  for (let slot = 0; slot < plan.recordCount; slot++) {
    parts.push(slot === 0 ? "[" : ",");
    if (d < gen.dupSlots.length && gen.dupSlots[d] === slot) {
      const origin = gen.dupOrigins[d]!;
      const reordered = gen.dupReordered[d] === 1;
      size += renderRecordInto(parts, origin, gen.dupOriginSlots[d]!, reordered, scratch);
      d++;
    } else {
      size += renderRecordInto(parts, plan, slot, false, scratch);
    }
    if (size >= CHUNK_CHARS) {
      yield parts.join("");
      parts.length = 0;
      size = 0;
    }
  }
  parts.push("]");
  yield parts.join("");
}

/**
 * How many records make a blob of about `bytes` bytes: the first records are rendered and their
 * mean size extrapolated (the big blob's "bulk" records vary little, so this lands within ~1%).
 */
export function bigBlobRecordCount(plan: BlobPlan, bytes: number): number {
  const scratch = newScratch(generatorOf(plan, "bigBlobRecordCount"));
  const parts: string[] = [];
  let total = 1;
  let n = 0;
  while (n < BIG_BLOB_SAMPLE && total < bytes) {
    parts.length = 0;
    renderRecordInto(parts, plan, n, false, scratch);
    total += Buffer.byteLength(parts.join("")) + 1;
    n++;
  }
  if (total >= bytes) return n;
  return n + Math.round((bytes - total) / (total / n));
}
