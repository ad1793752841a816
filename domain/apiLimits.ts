/**
 * Limits of the Office 365 Management Activity API's content listing and its time format.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#list-available-content
 */

export const MINUTE_IN_MS = 60_000;
export const HOUR_IN_MS = 60 * MINUTE_IN_MS;
export const DAY_IN_MS = 24 * HOUR_IN_MS;

/** Longest listing window the API accepts: `startTime` and `endTime` at most 24 hours apart. */
export const MAX_WINDOW_IN_MS = DAY_IN_MS;
/** How far back the API lists content: `startTime` no more than 7 days in the past. */
export const API_HISTORY_IN_MS = 7 * DAY_IN_MS;
/**
 * Requests a minute the API allows a tenant before it answers `403 AF429` (the baseline; larger
 * tenants get more). How the service counts them is not documented.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#api-throttling
 */
export const API_REQUESTS_PER_MINUTE_LIMIT = 2_000;
/** Response header that carries the next page of a content listing. */
export const NEXT_PAGE_URI_HEADER = "NextPageUri";
/** Every request names the publisher whose request quota it counts against. */
export const PUBLISHER_IDENTIFIER_PARAM = "PublisherIdentifier";

/** Formats epoch ms as the API's `YYYY-MM-DDTHH:MM:SS` (UTC, no zone suffix, no fraction). */
export function formatApiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** Parses an ISO-8601 time; the API omits the `Z` but means UTC. NaN when unparseable. */
export function parseApiTime(text: string): number {
  // A date-only string already parses as UTC; a date-time without zone would parse as local.
  const hasZone = /^\d{4}-\d{2}-\d{2}$/.test(text) || /(?:Z|[+-]\d{2}:?\d{2})$/i.test(text);
  return Date.parse(hasZone ? text : `${text}Z`);
}
