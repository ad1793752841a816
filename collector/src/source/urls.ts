/**
 * Which URLs the collector sends its bearer token to. Pure: the configured API base and tenant
 * in, a verdict out. Links that come from the API itself (`NextPageUri`, `contentUri`) are
 * followed only when they point back at the configured API and tenant; field reports show
 * `contentUri` values pointing at localhost or another tenant, which must never receive the token.
 */

/**
 * Characters seen in content ids (digits, letters, `$`, `_`, `.`, `-`); see the content listing in
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference#list-available-content
 */
const CONTENT_ID_PATTERN = /^[A-Za-z0-9$_.-]{1,512}$/;

/** The configured API: origin plus optional path prefix, and the tenant GUID. */
export interface ApiLocation {
  /** e.g. `https://manage.office.com`, or a private endpoint with a path prefix. */
  baseUrl: string;
  tenantId: string;
}

/** The base split into origin and path prefix (no trailing slash, "" for none). */
export interface NormalizedBase {
  origin: string;
  pathPrefix: string;
}

/** Normalised base. Throws a one-line error for a value that is not an https URL. */
export function normalizeBaseUrl(baseUrl: string): NormalizedBase {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError(`the Management API base URL "${baseUrl}" is not a URL`);
  }
  if (url.protocol !== "https:") {
    throw new TypeError(`the Management API base URL must use https, got "${baseUrl}"`);
  }
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, "") };
}

/** `{base}/api/v1.0/{tenant}/activity/feed`, the root of every operation. */
export function feedRoot(location: ApiLocation): string {
  const base = normalizeBaseUrl(location.baseUrl);
  return `${base.origin}${base.pathPrefix}/api/v1.0/${encodeURIComponent(location.tenantId)}/activity/feed`;
}

/**
 * Whether `url` is under the configured API's feed root for the tenant. The version segment may
 * be `v1.0` or `v1`: the reference's NextPageUri example uses `/api/v1/` (§2.5).
 */
export function isFeedUrl(url: URL, location: ApiLocation): boolean {
  const base = normalizeBaseUrl(location.baseUrl);
  if (url.protocol !== "https:" || url.origin !== base.origin || url.username || url.password) {
    return false;
  }
  const prefix = base.pathPrefix;
  if (!url.pathname.startsWith(`${prefix}/`)) {
    return false;
  }
  // The URL parser has already resolved `.` and `..` segments, encoded or not.
  const rest = url.pathname.slice(prefix.length).split("/");
  // ["", "api", "v1.0", tenant, "activity", "feed", ...]
  return (
    rest[1]?.toLowerCase() === "api" &&
    /^v1(\.0)?$/i.test(rest[2] ?? "") &&
    safeDecode(rest[3] ?? "").toLowerCase() === location.tenantId.toLowerCase() &&
    rest[4]?.toLowerCase() === "activity" &&
    rest[5]?.toLowerCase() === "feed"
  );
}

/** A `NextPageUri` header value, verbatim if it points at the configured content listing. */
export function checkNextPageUri(
  raw: string,
  location: ApiLocation,
): { ok: true; url: string } | { ok: false; problem: string } {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, problem: "it is not a URL" };
  }
  if (!isFeedUrl(url, location)) {
    return { ok: false, problem: `it points outside the configured API and tenant (${url.host})` };
  }
  if (!/\/subscriptions\/content$/i.test(url.pathname)) {
    return { ok: false, problem: "it is not a content listing URL" };
  }
  return { ok: true, url: raw.trim() };
}

/** Result of checking a listed blob's `contentUri`. */
export type ContentUriVerdict =
  | { kind: "as-listed"; url: string }
  | { kind: "rebuilt"; url: string; problem: string }
  | { kind: "refused"; problem: string };

/**
 * The URL to fetch a blob from: the listed `contentUri` when it points at the configured API and
 * tenant, otherwise one rebuilt from the configured base + tenant + `contentId`, or a refusal
 * when the content id itself is unusable. Never another host.
 */
export function resolveContentUri(
  contentUri: string,
  contentId: string,
  location: ApiLocation,
): ContentUriVerdict {
  let problem: string;
  try {
    const url = new URL(contentUri);
    if (isFeedUrl(url, location) && /\/audit\/[^/]+$/i.test(url.pathname)) {
      return { kind: "as-listed", url: contentUri };
    }
    problem = `contentUri points at ${url.host}${url.pathname.replace(/\/audit\/.*$/i, "/audit/…")}, not the configured API and tenant`;
  } catch {
    problem = "contentUri is not a URL";
  }
  if (!CONTENT_ID_PATTERN.test(contentId)) {
    return {
      kind: "refused",
      problem: `${problem}, and the contentId is not a usable content id`,
    };
  }
  // `$` and the other allowed characters are legal in a URL path; the id goes in verbatim.
  return { kind: "rebuilt", url: `${feedRoot(location)}/audit/${contentId}`, problem };
}

/**
 * Adds `PublisherIdentifier` (every operation, including contentUri GETs; see
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference) unless
 * the URL already carries it under any capitalisation. Leaves the rest of the URL as it was.
 */
export function withPublisherIdentifier(url: string, publisherId: string): string {
  const parsed = new URL(url);
  for (const key of parsed.searchParams.keys()) {
    if (key.toLowerCase() === "publisheridentifier") {
      return url;
    }
  }
  const hashAt = url.indexOf("#");
  const head = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const separator = head.includes("?")
    ? head.endsWith("?") || head.endsWith("&")
      ? ""
      : "&"
    : "?";
  return `${head}${separator}PublisherIdentifier=${encodeURIComponent(publisherId)}`;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
