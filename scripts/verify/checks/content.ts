/** Check 6: the Management API lists content for the configured types in the last 24 hours. */
import type { ContentBlob } from "../../../domain/records";
import { describeManagementError } from "../explain";
import type { VerifyConfig } from "../inputs";
import { formatAge, result, type Settled, type VerifyCheckResult } from "./result";

/** Window of the content listing: "blobs listed in the last 24 h". */
export const CONTENT_LOOKBACK_IN_MS = 24 * 60 * 60 * 1000;

/** Per-content-type listing outcome shared by checks 4–7. */
export interface ContentOutcome {
  contentType: string;
  listing: Settled<ContentBlob[]>;
}

/** The newest `contentCreated` among blobs, epoch ms, or null. */
export function newestCreated(blobs: readonly ContentBlob[]): number | null {
  let newest: number | null = null;
  for (const blob of blobs) {
    const t = Date.parse(blob.contentCreated);
    if (Number.isFinite(t) && (newest === null || t > newest)) newest = t;
  }
  return newest;
}

/** Judges a day of content listings: every type listed, and something listed at all. Pure. */
export function judgeContent(
  config: VerifyConfig,
  content: ContentOutcome[] | null,
  now: number,
): VerifyCheckResult {
  if (!content) return result("content", "skip", "no token to list content (check 1 failed)", null);
  const perType: Record<string, unknown> = {};
  const failed: string[] = [];
  const empty: string[] = [];
  let firstError: unknown = null;
  let total = 0;
  let newestAll: number | null = null;
  for (const { contentType, listing } of content) {
    if (!listing.ok) {
      firstError ??= listing.error;
      failed.push(contentType);
      perType[contentType] = {
        error: describeManagementError(listing.error, config, contentType).reason,
      };
      continue;
    }
    const newest = newestCreated(listing.value);
    total += listing.value.length;
    if (newest !== null && (newestAll === null || newest > newestAll)) newestAll = newest;
    if (listing.value.length === 0) empty.push(contentType);
    perType[contentType] = {
      blobs: listing.value.length,
      newestContentCreated: newest === null ? null : new Date(newest).toISOString(),
      newestAgeMinutes: newest === null ? null : Math.round((now - newest) / 60_000),
    };
  }
  const details = { windowHours: CONTENT_LOOKBACK_IN_MS / 3_600_000, contentTypes: perType };
  if (failed.length > 0) {
    const described = describeManagementError(firstError, config, `listing ${failed.join(", ")}`);
    return result("content", "fail", described.reason, described.fix, details);
  }
  const quietFix =
    "new subscriptions show content up to 12 hours after they start; generate activity (sign-ins, file edits) and re-run later";
  if (total === 0) {
    return result(
      "content",
      "fail",
      `no content listed in the last 24 h for any of ${content.length} content types`,
      quietFix,
      details,
    );
  }
  const summary = `${total} blobs in the last 24 h, newest ${formatAge(now - (newestAll ?? now))} old`;
  if (empty.length > 0) {
    return result(
      "content",
      "warn",
      `${summary}; none for ${empty.join(", ")} (normal for a quiet workload)`,
      quietFix,
      details,
    );
  }
  return result("content", "pass", summary, null, details);
}
