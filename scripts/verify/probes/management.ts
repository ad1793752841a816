/**
 * Probes of checks 4–7: `subscriptions/list` and a day of `subscriptions/content`, read with the
 * collector's own {@link ManagementApiClient} (same errors, classifier, retry rules and
 * `NextPageUri` rule), on the interactive retry preset so verify answers in seconds.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference
 */
import type { TokenCredential } from "@azure/identity";
import { ManagementApiError } from "../../../collector/src/source/apiError";
import {
  ManagementApiClient,
  resolveNextPageUri,
  type SubscriptionStatus,
} from "../../../collector/src/source/client";
import { INTERACTIVE_RETRY_PRESET } from "../../../collector/src/source/retryPolicy";
import { formatApiTime, MAX_WINDOW_IN_MS } from "../../../domain/apiLimits";
import type { ContentBlob } from "../../../domain/records";
import type { VerifyConfig } from "../inputs";

/** Longest window the API accepts for one content listing (AF20030 beyond it). */
export const MAX_LISTING_WINDOW_IN_MS = MAX_WINDOW_IN_MS;
/** Guard against a server that never stops handing out NextPageUri. */
export const MAX_LISTING_PAGES = 500;

/** The collector's client, pointed at the configured API with the app's credential. */
export function createManagementClient(
  config: VerifyConfig,
  credential: TokenCredential,
): ManagementApiClient {
  return new ManagementApiClient({
    baseUrl: config.managementEndpoint,
    tenantId: config.tenantId,
    publisherId: config.publisherId,
    credential,
    audience: config.managementAudience,
    ...INTERACTIVE_RETRY_PRESET,
  });
}

/** Options of the listing probes. */
export interface ProbeOptions {
  abortSignal?: AbortSignal;
}

/** `GET subscriptions/list`. */
export function listSubscriptions(
  client: ManagementApiClient,
  options: ProbeOptions = {},
): Promise<SubscriptionStatus[]> {
  return client.listSubscriptions(options);
}

/** Splits [startMs, endMs) into consecutive windows no longer than {@link MAX_LISTING_WINDOW_IN_MS}. */
export function listingWindows(startMs: number, endMs: number): Array<[number, number]> {
  const windows: Array<[number, number]> = [];
  for (let from = startMs; from < endMs; from += MAX_LISTING_WINDOW_IN_MS) {
    windows.push([from, Math.min(from + MAX_LISTING_WINDOW_IN_MS, endMs)]);
  }
  return windows;
}

/**
 * Lists the content blobs of one content type created in [startMs, endMs), in windows of at
 * most 24 h, following `NextPageUri` by the collector's rule. A link the collector would drop
 * fails the listing instead: verify must not report a partial count as the whole.
 */
export async function listContent(
  client: ManagementApiClient,
  contentType: string,
  startMs: number,
  endMs: number,
  options: ProbeOptions = {},
): Promise<ContentBlob[]> {
  const blobs: ContentBlob[] = [];
  for (const [from, to] of listingWindows(startMs, endMs)) {
    let page = await client.listContent(
      contentType,
      { startTime: formatApiTime(from), endTime: formatApiTime(to) },
      options,
    );
    for (let pages = 1; ; pages++) {
      blobs.push(...page.blobs);
      if (page.nextPageUri === undefined) break;
      if (pages >= MAX_LISTING_PAGES)
        throw listingError(contentType, `more than ${MAX_LISTING_PAGES} pages`);
      const next = resolveNextPageUri(page.nextPageUri, client.location);
      if (next.kind === "dropped") {
        throw listingError(contentType, `NextPageUri cannot be followed: ${next.problem}`);
      }
      page = await client.listContentPage(next.url, options);
    }
  }
  return blobs;
}

function listingError(contentType: string, reason: string): ManagementApiError {
  return new ManagementApiError({
    operation: "subscriptions/content",
    classification: { action: "fatal-config", reason },
    context: contentType,
  });
}
