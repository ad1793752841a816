import { type BlobPlan, blobRecordIds, type Catalogue } from "../generator";
import { MAX_LOOKBACK_MS } from "../microsoft/activityApi";
import { CONTENT_TYPES, canonicalContentType } from "../microsoft/contentTypes";
import { knobFires, seededGuid, seededUnit } from "../random";
import type { EmulatorState } from "../state";
import type { Subscriptions } from "./subscriptions";
import { iso } from "./wire";

/**
 * Ground truth of the emulated feed: which blobs exist, which are listable now, which carry a
 * fault (malformed, truncated on first fetch, a wrong contentUri) and so which record Ids a
 * correct collector can deliver. The API's operations and the tests both ask this one place.
 */

/** Metadata of one blob, as ground truth. */
export interface BlobTruth {
  contentType: string;
  contentId: string;
  /** The URI a correct collector fetches (the listed one may be wrong when badContentUriRate fires). */
  contentUri: string;
  listedContentUri: string;
  contentCreated: string;
  contentExpiration: string;
  availableAtMs: number;
  recordCount: number;
  late: boolean;
  malformed: boolean;
  truncatedOnFirstFetch: boolean;
  badContentUri: boolean;
}

/** What is true of one emulated tenant's blobs at the emulator's current time. */
export class FeedTruth {
  private readonly byType = new Map<string, BlobPlan[]>();

  constructor(
    private readonly state: EmulatorState,
    catalogue: Catalogue,
    private readonly subscriptions: Subscriptions,
  ) {
    for (const ct of CONTENT_TYPES) this.byType.set(ct, []);
    for (const plan of catalogue.blobs) this.byType.get(plan.contentType)!.push(plan);
  }

  /** The blobs of one content type (API spelling), ordered by contentCreatedMs. */
  blobsOf(contentType: string): readonly BlobPlan[] {
    return this.byType.get(contentType) ?? [];
  }

  /** The URI a correct collector uses for a blob. */
  contentUri(plan: BlobPlan): string {
    return `${this.state.url}/api/v1.0/${this.state.tenant.tenantId}/activity/feed/audit/${plan.contentId}`;
  }

  /** Whether the blob's body is broken, so no parser can deliver any of its records. */
  isMalformed(plan: BlobPlan): boolean {
    return knobFires(
      this.state.seed,
      "malformed",
      plan.contentId,
      this.state.knobs.malformedBlobRate,
    );
  }

  /** Whether the first download of a blob is cut mid-stream (later downloads succeed). */
  isTruncatedOnFirstFetch(plan: BlobPlan): boolean {
    return knobFires(this.state.seed, "truncate", plan.contentId, this.state.knobs.truncateRate);
  }

  /** Whether the listing shows a contentUri that does not lead to the blob. */
  hasBadContentUri(plan: BlobPlan): boolean {
    return knobFires(
      this.state.seed,
      "badContentUri",
      plan.contentId,
      this.state.knobs.badContentUriRate,
    );
  }

  /** The contentUri the listing shows (another host or tenant when badContentUriRate fires). */
  listedContentUri(plan: BlobPlan): string {
    if (!this.hasBadContentUri(plan)) return this.contentUri(plan);
    if (seededUnit(this.state.seed, "badContentUriKind", plan.contentId) < 0.5) {
      // .invalid never resolves (RFC 6761), so a collector that follows it fails fast.
      return `https://manage.office.invalid/api/v1.0/${this.state.tenant.tenantId}/activity/feed/audit/${plan.contentId}`;
    }
    const otherTenant = seededGuid(this.state.seed, "other-tenant");
    return `${this.state.url}/api/v1.0/${otherTenant}/activity/feed/audit/${plan.contentId}`;
  }

  /** Listable now by a window inside the last 7 days (ignoring subscription state). */
  isListableContent(plan: BlobPlan, nowMs: number): boolean {
    return (
      plan.availableAtMs <= nowMs &&
      plan.contentCreatedMs >= nowMs - MAX_LOOKBACK_MS &&
      !this.subscriptions.inLostInterval(plan)
    );
  }

  /** Whether the blob is past its contentExpiration (fetch answers AF20051). */
  isExpired(plan: BlobPlan, nowMs: number): boolean {
    return plan.expirationMs <= nowMs;
  }

  /** Blobs a correct collector can list and download right now (or at `asOfMs`). */
  private deliverableBlobs(contentTypes?: readonly string[], asOfMs?: number): BlobPlan[] {
    const { knobs } = this.state;
    if (knobs.auditDisabled) return [];
    const nowMs = asOfMs ?? this.state.now();
    const wanted = new Set(
      (contentTypes ?? CONTENT_TYPES).map((ct) => canonicalContentType(ct) ?? ct),
    );
    const result: BlobPlan[] = [];
    for (const ct of wanted) {
      if (this.subscriptions.isAdminDisabled(ct)) continue;
      for (const plan of this.byType.get(ct) ?? []) {
        if (!this.isListableContent(plan, nowMs) || this.isExpired(plan, nowMs)) continue;
        if (this.isMalformed(plan)) continue;
        result.push(plan);
      }
    }
    return result;
  }

  /**
   * Unique record Ids a correct collector delivers now, or at `asOfMs` (what
   * `Emulator.truth.expectedRecordIds` reports).
   */
  expectedRecordIds(contentTypes?: readonly string[], asOfMs?: number): Set<string> {
    const ids = new Set<string>();
    for (const plan of this.deliverableBlobs(contentTypes, asOfMs)) {
      for (const id of blobRecordIds(plan)) ids.add(id);
    }
    return ids;
  }

  /** Metadata of the blobs listable now or at `asOfMs` (including malformed ones, flagged). */
  listedBlobs(contentType?: string, asOfMs?: number): BlobTruth[] {
    const nowMs = asOfMs ?? this.state.now();
    const types = contentType
      ? [canonicalContentType(contentType) ?? contentType]
      : [...CONTENT_TYPES];
    const result: BlobTruth[] = [];
    for (const ct of types) {
      for (const plan of this.byType.get(ct) ?? []) {
        if (!this.isListableContent(plan, nowMs)) continue;
        result.push({
          contentType: plan.contentType,
          contentId: plan.contentId,
          contentUri: this.contentUri(plan),
          listedContentUri: this.listedContentUri(plan),
          contentCreated: iso(plan.contentCreatedMs),
          contentExpiration: iso(plan.expirationMs),
          availableAtMs: plan.availableAtMs,
          recordCount: plan.recordCount,
          late: plan.late,
          malformed: this.isMalformed(plan),
          truncatedOnFirstFetch: this.isTruncatedOnFirstFetch(plan),
          badContentUri: this.hasBadContentUri(plan),
        });
      }
    }
    return result;
  }
}
