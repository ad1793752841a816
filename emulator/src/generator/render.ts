import type { BlobGenerator, BlobPlan } from "./catalogue";
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

function recordStream(gen: BlobGenerator, slot: number): Rng {
  return new Rng(gen.stream, gen.ordinal, slot, RECORD_SALT);
}

/** Renders the record that is original to (plan, slot); `reordered` lists its members reversed. */
function renderRecord(plan: BlobPlan, gen: BlobGenerator, slot: number, reordered: boolean): string {
  const rng = recordStream(gen, slot);
  const id = randomGuid(rng);
  const creationMs = plan.contentCreatedMs - creationDelayMs(plan.contentType, rng);
  const ctx: RecordContext = {
    tenant: gen.tenant,
    id,
    creationMs,
    creationTime: wireTime(creationMs),
    bulk: gen.profile === "bulk",
    fields: [],
  };
  buildRecord(plan.contentType, ctx, rng);
  // A repeated record keeps its content but not necessarily its member order (as observed in
  // real duplicates), so consumers must not compare records byte for byte.
  if (reordered) ctx.fields.reverse();
  return `{${ctx.fields.join(",")}}`;
}

/**
 * The Id of every record in the blob, in body order, duplicates included. Cheap: only the first
 * draws of each record's stream are made, nothing is rendered.
 */
export function blobRecordIds(plan: BlobPlan): string[] {
  const gen = generatorOf(plan, "blobRecordIds");
  const ids: string[] = new Array(plan.recordCount);
  let d = 0;
  for (let slot = 0; slot < plan.recordCount; slot++) {
    if (d < gen.dupSlots.length && gen.dupSlots[d] === slot) {
      ids[slot] = randomGuid(recordStream(gen.dupOrigins[d]!.gen, gen.dupOriginSlots[d]!));
      d++;
    } else {
      ids[slot] = randomGuid(recordStream(gen, slot));
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
  let chunk = "[";
  let d = 0;
  for (let slot = 0; slot < plan.recordCount; slot++) {
    let record: string;
    if (d < gen.dupSlots.length && gen.dupSlots[d] === slot) {
      const origin = gen.dupOrigins[d]!;
      record = renderRecord(origin, origin.gen, gen.dupOriginSlots[d]!, gen.dupReordered[d] === 1);
      d++;
    } else {
      record = renderRecord(plan, gen, slot, false);
    }
    chunk += slot === 0 ? record : `,${record}`;
    if (chunk.length >= CHUNK_CHARS) {
      yield chunk;
      chunk = "";
    }
  }
  yield `${chunk}]`;
}

/**
 * How many records make a blob of about `bytes` bytes: the first records are rendered and their
 * mean size extrapolated (the big blob's "bulk" records vary little, so this lands within ~1%).
 */
export function bigBlobRecordCount(plan: BlobPlan, bytes: number): number {
  const gen = generatorOf(plan, "bigBlobRecordCount");
  let total = 1;
  let n = 0;
  while (n < BIG_BLOB_SAMPLE && total < bytes) {
    total += Buffer.byteLength(renderRecord(plan, gen, n, false)) + 1;
    n++;
  }
  if (total >= bytes) return n;
  return n + Math.round((bytes - total) / (total / n));
}
