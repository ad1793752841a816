/**
 * Log Analytics truncates any field value over 64 KB without telling anyone
 * (https://learn.microsoft.com/en-us/azure/azure-monitor/service-limits#logs-ingestion-api). AuditBridge never lets that happen silently: a record whose AuditData JSON would pass
 * the limit is reduced here, visibly, and the caller counts and logs it.
 *
 * Strategy: shorten the longest string values (and only as much as needed, all to a common
 * cap), append an explicit marker to each, and add an `AuditBridgeTruncation` object listing
 * the shortened paths with their original lengths and the record's original size. Structure,
 * keys, numbers and short strings are kept, so the row stays queryable. Only when strings are
 * not what makes the record large (thousands of keys or numbers) is AuditData replaced by a
 * summary of the common fields. The file sink always keeps the full raw record.
 */

/** The documented limit of one Log Analytics field value: 64 KB. */
export const LOG_ANALYTICS_FIELD_LIMIT_BYTES = 64 * 1024;
/** Headroom under the limit for the service's own encoding of the dynamic value. */
const SAFETY_MARGIN_BYTES = 512;
/** The truncation report lists at most this many paths (then `moreFields`). */
const MAX_LISTED_FIELDS = 50;
/** Strings shorter than this are never shortened (they are not what makes a record big). */
const MIN_SHORTENED_CHARS = 64;

/** Appended to every shortened string. */
export function truncationMarker(keptChars: number, originalChars: number): string {
  return `…[AuditBridge: truncated, ${keptChars} of ${originalChars} characters kept]`;
}

/** What `AuditBridgeTruncation` holds in a reduced AuditData. */
export interface TruncationReport {
  /** UTF-8 size of the record's JSON as received. */
  originalBytes: number;
  /** The byte limit the record was reduced to. */
  limitBytes: number;
  /** Shortened string values: JSON-path-like location and original length in characters. */
  fields: Array<{ path: string; originalLength: number }>;
  /** Paths shortened beyond those listed. */
  moreFields?: number;
  /** "strings": long strings were shortened; "summary": AuditData replaced by common fields. */
  method: "strings" | "summary";
}

export interface FitResult {
  /** AuditData to send: the record itself when it fits, else a reduced copy. */
  data: Record<string, unknown>;
  /** Present when the record was reduced. */
  truncation?: TruncationReport;
}

interface Leaf {
  holder: Record<string, unknown> | unknown[];
  key: string | number;
  path: string;
  length: number;
}

/** Fits `record` under `limitBytes` of JSON (see the module comment for the strategy). */
export function fitAuditData(
  record: Record<string, unknown>,
  limitBytes: number = LOG_ANALYTICS_FIELD_LIMIT_BYTES,
): FitResult {
  const json = JSON.stringify(record);
  const originalBytes = Buffer.byteLength(json, "utf8");
  if (originalBytes <= limitBytes) return { data: record };

  const target = Math.max(limitBytes - SAFETY_MARGIN_BYTES, 1024);
  const copy = JSON.parse(json) as Record<string, unknown>;
  const leaves: Leaf[] = [];
  collectStrings(copy, "", leaves);
  leaves.sort((a, b) => b.length - a.length);
  const shortened = new Map<string, number>();

  for (let round = 0; round < 8; round++) {
    const report = makeReport(originalBytes, limitBytes, shortened, "strings");
    const candidate = { ...copy, AuditBridgeTruncation: report };
    const size = Buffer.byteLength(JSON.stringify(candidate), "utf8");
    if (size <= target && shortened.size > 0) return { data: candidate, truncation: report };
    const excess = size - target;
    const current = leaves.map((leaf) => currentLength(leaf));
    const density = leaves.map((leaf, i) => bytesPerChar(leaf, current[i]!));
    const cap = chooseCap(current, density, excess);
    if (cap === undefined) break;
    for (let i = 0; i < leaves.length; i++) {
      const leaf = leaves[i]!;
      if (current[i]! <= cap) continue;
      const value = (leaf.holder as Record<string | number, unknown>)[leaf.key] as string;
      const original = shortened.get(leaf.path) ?? leaf.length;
      const marker = truncationMarker(cap, original);
      // Never cut a surrogate pair in half (it would become invalid UTF-16 / U+FFFD).
      let end = cap;
      const code = value.charCodeAt(end - 1);
      if (code >= 0xd800 && code <= 0xdbff) end -= 1;
      (leaf.holder as Record<string | number, unknown>)[leaf.key] = value.slice(0, end) + marker;
      shortened.set(leaf.path, original);
    }
  }
  return {
    data: summarize(record, originalBytes, limitBytes),
    truncation: makeReport(originalBytes, limitBytes, new Map(), "summary"),
  };
}

/** Length in characters of a leaf's content before any marker. */
function currentLength(leaf: Leaf): number {
  const value = (leaf.holder as Record<string | number, unknown>)[leaf.key] as string;
  const markerStart = value.lastIndexOf("…[AuditBridge: truncated,");
  return markerStart >= 0 ? markerStart : value.length;
}

/** Bytes of JSON per character of a leaf's content (multi-byte text and escapes cost more). */
function bytesPerChar(leaf: Leaf, length: number): number {
  if (length === 0) return 1;
  const value = (leaf.holder as Record<string | number, unknown>)[leaf.key] as string;
  return (Buffer.byteLength(JSON.stringify(value.slice(0, length)), "utf8") - 2) / length;
}

/**
 * The largest cap (in characters) such that shortening every longer string to it saves at
 * least `excess` bytes, counting the marker each shortened string gains. Undefined when even
 * the minimum cap cannot save enough.
 */
function chooseCap(
  lengths: readonly number[],
  density: readonly number[],
  excess: number,
): number | undefined {
  const saving = (cap: number) => {
    let total = 0;
    for (let i = 0; i < lengths.length; i++) {
      const length = lengths[i]!;
      if (length > cap) total += (length - cap) * density[i]! - 80; // 80 ≈ marker length
    }
    return total;
  };
  // Density is an average; if one pass saves too little, the caller measures and goes again.
  const need = excess + 64;
  if (saving(MIN_SHORTENED_CHARS) < need) return undefined;
  let low = MIN_SHORTENED_CHARS;
  let high = Math.max(...lengths, MIN_SHORTENED_CHARS);
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (saving(mid) >= need) low = mid;
    else high = mid - 1;
  }
  return low;
}

function collectStrings(value: unknown, path: string, out: Leaf[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      if (typeof item === "string") {
        if (item.length > MIN_SHORTENED_CHARS)
          out.push({ holder: value, key: index, path: `${path}[${index}]`, length: item.length });
      } else collectStrings(item, `${path}[${index}]`, out);
    });
  } else if (value !== null && typeof value === "object") {
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const itemPath = path === "" ? key : `${path}.${key}`;
      if (typeof item === "string") {
        if (item.length > MIN_SHORTENED_CHARS) {
          out.push({
            holder: value as Record<string, unknown>,
            key,
            path: itemPath,
            length: item.length,
          });
        }
      } else collectStrings(item, itemPath, out);
    }
  }
}

function makeReport(
  originalBytes: number,
  limitBytes: number,
  shortened: ReadonlyMap<string, number>,
  method: TruncationReport["method"],
): TruncationReport {
  const fields = [...shortened]
    .sort((a, b) => b[1] - a[1])
    .map(([path, originalLength]) => ({ path, originalLength }));
  const report: TruncationReport = {
    originalBytes,
    limitBytes,
    fields: fields.slice(0, MAX_LISTED_FIELDS),
    method,
  };
  if (fields.length > MAX_LISTED_FIELDS) report.moreFields = fields.length - MAX_LISTED_FIELDS;
  return report;
}

/** The common schema fields only, for records too large for any other reduction. */
function summarize(
  record: Record<string, unknown>,
  originalBytes: number,
  limitBytes: number,
): Record<string, unknown> {
  const keep = [
    "Id",
    "CreationTime",
    "RecordType",
    "Operation",
    "OrganizationId",
    "UserType",
    "UserKey",
    "Workload",
    "UserId",
    "ClientIP",
    "ResultStatus",
    "ObjectId",
  ];
  const out: Record<string, unknown> = {};
  for (const key of keep) {
    const value = record[key];
    if (value === undefined) continue;
    out[key] =
      typeof value === "string" && value.length > 1024
        ? value.slice(0, 1024) + truncationMarker(1024, value.length)
        : value;
  }
  out.AuditBridgeTruncation = makeReport(originalBytes, limitBytes, new Map(), "summary");
  return out;
}
