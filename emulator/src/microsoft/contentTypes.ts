/**
 * The content types of the Office 365 Management Activity API, spelt as the API spells them:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#working-with-the-office-365-management-activity-api
 * The emulator keeps its own list (a contract test compares it with AuditBridge's), so a wrong
 * name in the product fails against the emulator instead of being served back to it.
 */

/** The five content types, in the order the reference lists them. */
export const CONTENT_TYPES = [
  "Audit.AzureActiveDirectory",
  "Audit.Exchange",
  "Audit.SharePoint",
  "Audit.General",
  "DLP.All",
] as const;
/** One of {@link CONTENT_TYPES}. */
export type ContentType = (typeof CONTENT_TYPES)[number];

/** The content type that needs ActivityFeed.ReadDlp on top of ActivityFeed.Read. */
export const DLP_CONTENT_TYPE: ContentType = "DLP.All";

/** True when `value` is one of the five names, spelt exactly as the API spells them. */
export function isContentType(value: string): value is ContentType {
  return (CONTENT_TYPES as readonly string[]).includes(value);
}

/**
 * The API's spelling of a content type given in any letter case, or undefined when it is none
 * of the five. The API answers case-insensitively (it echoes the caller's spelling back).
 */
export function canonicalContentType(value: string): ContentType | undefined {
  const lower = value.toLowerCase();
  return CONTENT_TYPES.find((ct) => ct.toLowerCase() === lower);
}
