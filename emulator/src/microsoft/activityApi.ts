/**
 * Time limits of the Office 365 Management Activity API that the emulator enforces.
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
