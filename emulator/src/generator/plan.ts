import type { TenantModel } from "./tenant";

/**
 * The shapes of a planned blob, apart from the code that plans (catalogue) and the code that
 * renders (render): both depend on these, neither on the other's types.
 */

/** How a blob's records are drawn: the usual mix, or uniform mid-size file events (big blob). */
export type BlobProfile = "mixed" | "bulk";

/** Generator state of one blob; never serialised, so it is a non-enumerable property of the plan. */
export interface BlobGenerator {
  /** Stream word shared by every blob of the catalogue (seed, startMs and tenant). */
  readonly stream: number;
  /** Unique number of the blob inside the catalogue; with the slot it seeds each record. */
  readonly ordinal: number;
  readonly tenant: TenantModel;
  readonly profile: BlobProfile;
  /** Slots (ascending) that repeat an earlier record. */
  dupSlots: Int32Array;
  /** For each duplicate slot: the blob and slot the record was first rendered in. */
  dupOrigins: BlobPlan[];
  dupOriginSlots: Int32Array;
  /** For each duplicate slot: 1 when the repeat lists the record's keys in another order. */
  dupReordered: Uint8Array;
}

/** One content blob the emulator lists and serves. Holds no record bodies: they are rendered on demand. */
export interface BlobPlan {
  contentType: string;
  /** Opaque id in the modern observed shape `<created>$<available>$audit_x$Audit_X$<shard>`. */
  contentId: string;
  /** What `/subscriptions/content` reports and filters on. */
  contentCreatedMs: number;
  /** Before this instant the blob is not listed. Later than contentCreated; much later for late blobs. */
  availableAtMs: number;
  /** contentExpiration: contentCreated + 7 days, or before startMs for expired blobs. */
  expirationMs: number;
  /** Records in the body, duplicates included. */
  recordCount: number;
  /** Becomes available after at least one blob of its content type created after it. */
  late: boolean;
  /** Expired before startMs (fetch answers AF20051). */
  expired: boolean;
  /** Created after startMs (the live edge). */
  live: boolean;
  /** The scenario's big Audit.SharePoint blob. */
  big: boolean;
  /** Generator internals (non-enumerable). */
  readonly gen: BlobGenerator;
}
