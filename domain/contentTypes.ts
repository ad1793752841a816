/**
 * Content types of the Office 365 Management Activity API and the one parser for a comma list
 * of them (collector settings, stack config and the commands' flags use it; the emulator keeps
 * its own list).
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#working-with-the-office-365-management-activity-api
 */

export const CONTENT_TYPES = [
  "Audit.AzureActiveDirectory",
  "Audit.Exchange",
  "Audit.SharePoint",
  "Audit.General",
  "DLP.All",
] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/** Result of parsing a comma list of content types. */
export type ContentTypesResult =
  | { ok: true; value: readonly ContentType[] }
  | { ok: false; problem: string; unknown: readonly string[] };

/**
 * Parses a comma list of content types (case-insensitive, duplicates folded) into the canonical
 * spelling and order, so logs and metrics read the same on every run.
 */
export function parseContentTypes(value: string): ContentTypesResult {
  const byLower = new Map(CONTENT_TYPES.map((ct) => [ct.toLowerCase(), ct] as const));
  const parts = value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
  const unknown = parts.filter((part) => !byLower.has(part.toLowerCase()));
  if (parts.length === 0 || unknown.length > 0) {
    return {
      ok: false,
      unknown,
      problem: `must be a comma list of ${CONTENT_TYPES.join(", ")}${unknown.length > 0 ? ` (unknown: ${unknown.join(", ")})` : ""}`,
    };
  }
  const chosen = new Set(parts.map((part) => byLower.get(part.toLowerCase())!));
  return { ok: true, value: CONTENT_TYPES.filter((ct) => chosen.has(ct)) };
}
