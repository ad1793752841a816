/**
 * Time and request limits of the Office 365 Management Activity API that the emulator enforces.
 */

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;

/**
 * A content listing's `startTime` may be at most 7 days in the past:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#list-available-content
 */
export const MAX_LOOKBACK_MS = 7 * DAY_MS;

/**
 * `startTime` and `endTime` of a content listing are at most 24 hours apart; both omitted means
 * the last 24 hours:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#list-available-content
 */
export const MAX_WINDOW_MS = DAY_MS;

/**
 * A content blob can be retrieved for 7 days after it became available, and the API exposes only
 * the last 7 days of activity:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/troubleshooting-the-office-365-management-activity-api
 */
export const CONTENT_RETENTION_MS = 7 * DAY_MS;

/**
 * Requests a minute a tenant may send before the API answers HTTP 403 AF429 (the baseline;
 * larger tenants get more). The page says nothing of how requests are counted (calendar
 * minutes, a sliding window, a token bucket), so the emulator offers several counting models:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#api-throttling
 */
export const REQUESTS_PER_MINUTE_PER_TENANT = 2_000;
