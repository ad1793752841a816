/**
 * Audit records as syslog messages: an RFC 5424 header (https://www.rfc-editor.org/rfc/rfc5424)
 * followed by CEF, LEEF 2.0 or the record's JSON exactly as received. Pure functions: the sink
 * (syslogSink.ts) frames and sends what these return.
 *
 * - CEF: ArcSight CEF Implementation Standard,
 *   https://www.microfocus.com/documentation/arcsight/arcsight-smartconnectors-8.3/cef-implementation-standard/
 * - LEEF 2.0: IBM QRadar, https://www.ibm.com/docs/en/dsm?topic=overview-leef-event-components
 *
 * A message longer than the limit is shortened visibly (never silently): CEF and LEEF cut the
 * longest values and add `cs6Label=AuditBridgeTruncated cs6=<original bytes>` (CEF) or
 * `AuditBridgeTruncated=<original bytes>` (LEEF); JSON keeps the record's key fields and adds
 * `"AuditBridgeTruncated":{"originalBytes":n}`.
 */
import { isIP } from "node:net";
import { recordTypeName } from "../../../domain/records";
import type { ReceivedRecord } from "../types";
import type { SyslogFormat } from "./siemSettings";

/** RFC 5424 facility 13, "log audit" (section 6.2.1). */
export const SYSLOG_FACILITY_LOG_AUDIT = 13;
/** CEF Device Vendor / Device Product / Device Version, and the same for LEEF. */
export const DEVICE_VENDOR = "Microsoft";
export const DEVICE_PRODUCT = "Microsoft 365";
/** The Management Activity API's version (`/api/v1.0/`), sent as the device version. */
export const DEVICE_VERSION = "1.0";
/** Longest Operation text kept in a CEF/LEEF header field (longer is cut and marked). */
export const MAX_HEADER_FIELD_CHARS = 255;
/** What a cut value ends with. */
export const TRUNCATION_MARKER = "[truncated]";
/** LEEF 2.0 attribute delimiter, a tab, declared in the header as `x09`. */
export const LEEF_DELIMITER = "\t";
/** Java SimpleDateFormat of LEEF `devTime` (QRadar parses it with this). */
export const LEEF_DEV_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSX";

/**
 * How an operation maps to a CEF severity (0–10) and an RFC 5424 severity (0–7). The first
 * class whose test matches wins; docs/siem.md shows the table.
 */
export interface SeverityClass {
  name: string;
  cef: number;
  syslog: number;
  matches(operation: string, resultStatus: string): boolean;
}

export const SEVERITY_CLASSES: readonly SeverityClass[] = [
  {
    // Changes to who may do what, mail flow and sign-in policy: the classic takeover steps.
    name: "privilege-or-policy-change",
    cef: 8,
    syslog: 4, // warning
    matches: (op) =>
      /role|permission|consent|credential|password|inboxrule|transportrule|forward|federation|policy|delegat|auditlog/i.test(
        op,
      ),
  },
  {
    name: "delete-or-share",
    cef: 6,
    syslog: 5, // notice
    matches: (op) => /delete|remove|purge|shar|anonymous|disable/i.test(op),
  },
  {
    name: "failed",
    cef: 5,
    syslog: 5, // notice
    matches: (op, result) => /fail/i.test(op) || /^(fail|false)/i.test(result),
  },
  {
    name: "activity",
    cef: 3,
    syslog: 6, // informational
    matches: () => true,
  },
];

/** The severity class of an operation (see {@link SEVERITY_CLASSES}). */
export function classifyOperation(operation: string, resultStatus: string): SeverityClass {
  return SEVERITY_CLASSES.find((c) => c.matches(operation, resultStatus))!;
}

/**
 * The IP address in a ClientIP value, without port: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`,
 * `[2001:db8::1]:443`. Anything else (null, empty, a host name) gives undefined.
 */
export function clientIpAddress(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (isIP(text) !== 0) return text;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed && isIP(bracketed[1]!) === 6) return bracketed[1]!;
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  if (withPort && isIP(withPort[1]!) === 4) return withPort[1]!;
  return undefined;
}

/** CreationTime as epoch ms; the API writes it without a zone ("2026-03-01T10:00:00"): it is UTC. */
export function creationTimeMs(value: unknown): number | undefined {
  if (typeof value !== "string" || value === "") return undefined;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? value : `${value}Z`;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? undefined : ms;
}

const CEF_HEADER_SPECIAL = /[\\|\r\n]/;
const CEF_VALUE_SPECIAL = /[\\=\r\n]/;
const LEEF_VALUE_SPECIAL = /[\t\r\n]/;

/** Escapes a CEF header field: `\` and `|` (newlines are not allowed there: made spaces). */
export function escapeCefHeader(value: string): string {
  // Most values need nothing: a test is much cheaper than a replace with a callback.
  if (!CEF_HEADER_SPECIAL.test(value)) return value;
  return value.replace(/[\\|\r\n]/g, (c) => (c === "\r" || c === "\n" ? " " : `\\${c}`));
}

/** Escapes a CEF extension value: `\`, `=`, and newlines written as `\n` / `\r`. */
export function escapeCefValue(value: string): string {
  if (!CEF_VALUE_SPECIAL.test(value)) return value;
  return value.replace(/[\\=\r\n]/g, (c) => (c === "\n" ? "\\n" : c === "\r" ? "\\r" : `\\${c}`));
}

/** Escapes a LEEF header field (`\`, `|`); newlines become spaces. */
export function escapeLeefHeader(value: string): string {
  return escapeCefHeader(value);
}

/** A LEEF attribute value: the delimiter (tab) and newlines become spaces. */
export function cleanLeefValue(value: string): string {
  if (!LEEF_VALUE_SPECIAL.test(value)) return value;
  return value.replace(/[\t\r\n]/g, " ");
}

/** What the sink needs besides the record. */
export interface SyslogMessageOptions {
  format: SyslogFormat;
  /** RFC 5424 HOSTNAME (printable ASCII, sanitized here). */
  hostname: string;
  /** RFC 5424 APP-NAME. */
  appName: string;
  /** The batch's content type, sent as MSGID and in a custom field. */
  contentType: string;
  /** Largest message in bytes (header included, framing excluded). */
  maxMessageBytes: number;
}

/** One formatted message. */
export interface SyslogMessage {
  text: string;
  bytes: number;
  /** The size it would have had, when it was shortened. */
  truncatedFromBytes?: number;
}

type Field = { key: string; value: string; cut: boolean };

/** Formats one record as a complete RFC 5424 message (no framing). */
export function formatSyslogMessage(
  record: ReceivedRecord,
  options: SyslogMessageOptions,
): SyslogMessage {
  const top = options.format === "json" ? jsonTopFields(record.raw) : recordTopFields(record);
  const cls = classifyOperation(top.operation, top.resultStatus);
  const timeMs = creationTimeMs(top.creationTime);
  const header = `<${SYSLOG_FACILITY_LOG_AUDIT * 8 + cls.syslog}>1 ${
    timeMs === undefined ? "-" : new Date(timeMs).toISOString()
  } ${printable(options.hostname, 255)} ${printable(options.appName, 48)} - ${printable(
    options.contentType,
    32,
  )} - `;
  const budget = options.maxMessageBytes - Buffer.byteLength(header);
  if (options.format === "json") return jsonMessage(header, record, top, budget);
  const fields = options.format === "cef" ? cefFields(record, top, timeMs, options) : [];
  if (options.format === "cef") {
    const head = cefHead(top.operation, cls.cef);
    return fitFields(header, head.text, fields, budget, head.cut, renderCef, (bytes) => [
      { key: "cs6Label", value: "AuditBridgeTruncated", cut: false },
      { key: "cs6", value: String(bytes), cut: false },
    ]);
  }
  const head = leefHead(top.operation);
  const leef = leefFields(record, top, timeMs, cls.cef, options);
  return fitFields(header, head.text, leef, budget, head.cut, renderLeef, (bytes) => [
    { key: "AuditBridgeTruncated", value: String(bytes), cut: false },
  ]);
}

interface TopFields {
  id: string;
  creationTime: string;
  operation: string;
  resultStatus: string;
}

function recordTopFields(record: ReceivedRecord): TopFields {
  const r = record.record;
  return {
    id: record.id,
    creationTime: text(r.CreationTime),
    operation: text(r.Operation),
    resultStatus: text(r.ResultStatus),
  };
}

/**
 * Reads the few top-level string fields the JSON format needs from the raw text, so the record
 * need not be parsed (the common schema fields come before any nested object).
 */
function jsonTopFields(raw: string): TopFields {
  const pick = (name: string): string => {
    const m = new RegExp(`"${name}"\\s*:\\s*"((?:[^"\\\\]|\\\\.)*)"`).exec(raw);
    if (!m) return "";
    try {
      return JSON.parse(`"${m[1]}"`) as string;
    } catch {
      return "";
    }
  };
  return {
    id: pick("Id"),
    creationTime: pick("CreationTime"),
    operation: pick("Operation"),
    resultStatus: pick("ResultStatus"),
  };
}

function cefHead(operation: string, severity: number): { text: string; cut: boolean } {
  const { value, cut } = capHeader(operation || "Unknown");
  const op = escapeCefHeader(value);
  return {
    text: `CEF:0|${DEVICE_VENDOR}|${DEVICE_PRODUCT}|${DEVICE_VERSION}|${op}|${op}|${severity}|`,
    cut,
  };
}

function leefHead(operation: string): { text: string; cut: boolean } {
  const { value, cut } = capHeader(operation || "Unknown");
  return {
    text: `LEEF:2.0|${DEVICE_VENDOR}|${DEVICE_PRODUCT}|${DEVICE_VERSION}|${escapeLeefHeader(value)}|x09|`,
    cut,
  };
}

function capHeader(value: string): { value: string; cut: boolean } {
  return value.length > MAX_HEADER_FIELD_CHARS
    ? {
        value:
          value.slice(0, MAX_HEADER_FIELD_CHARS - TRUNCATION_MARKER.length) + TRUNCATION_MARKER,
        cut: true,
      }
    : { value, cut: false };
}

function cefFields(
  record: ReceivedRecord,
  top: TopFields,
  timeMs: number | undefined,
  options: SyslogMessageOptions,
): Field[] {
  const r = record.record;
  const fields: Field[] = [{ key: "externalId", value: record.id, cut: false }];
  if (timeMs !== undefined) fields.push({ key: "rt", value: String(timeMs), cut: false });
  const recordType = recordTypeName(r.RecordType);
  fields.push({ key: "cat", value: recordType, cut: false });
  pushIf(fields, "act", top.operation);
  pushIf(fields, "suser", text(r.UserId));
  const ip = clientIpAddress(r.ClientIP);
  if (ip !== undefined) fields.push({ key: "src", value: ip, cut: false });
  const labelled: [string, string][] = [
    ["Workload", text(r.Workload)],
    ["RecordType", recordType],
    ["ObjectId", text(r.ObjectId)],
    ["ResultStatus", top.resultStatus],
    ["ContentType", options.contentType],
  ];
  labelled.forEach(([label, value], i) => {
    if (value === "") return;
    fields.push({ key: `cs${i + 1}Label`, value: label, cut: false });
    fields.push({ key: `cs${i + 1}`, value, cut: true });
  });
  return fields;
}

function leefFields(
  record: ReceivedRecord,
  top: TopFields,
  timeMs: number | undefined,
  severity: number,
  options: SyslogMessageOptions,
): Field[] {
  const r = record.record;
  const fields: Field[] = [];
  if (timeMs !== undefined) {
    fields.push({ key: "devTime", value: new Date(timeMs).toISOString(), cut: false });
    fields.push({ key: "devTimeFormat", value: LEEF_DEV_TIME_FORMAT, cut: false });
  }
  const recordType = recordTypeName(r.RecordType);
  fields.push({ key: "cat", value: recordType, cut: false });
  fields.push({ key: "sev", value: String(severity), cut: false });
  pushIf(fields, "usrName", text(r.UserId));
  const ip = clientIpAddress(r.ClientIP);
  if (ip !== undefined) fields.push({ key: "src", value: ip, cut: false });
  fields.push({ key: "externalId", value: record.id, cut: false });
  pushIf(fields, "action", top.operation);
  pushIf(fields, "Workload", text(r.Workload));
  pushIf(fields, "RecordType", recordType);
  pushIf(fields, "ObjectId", text(r.ObjectId));
  pushIf(fields, "ResultStatus", top.resultStatus);
  pushIf(fields, "ContentType", options.contentType);
  return fields;
}

function pushIf(fields: Field[], key: string, value: string): void {
  if (value !== "") fields.push({ key, value, cut: true });
}

function renderCef(fields: readonly Field[]): string {
  let out = "";
  for (const f of fields) out += `${out === "" ? "" : " "}${f.key}=${escapeCefValue(f.value)}`;
  return out;
}

function renderLeef(fields: readonly Field[]): string {
  let out = "";
  for (const f of fields) {
    out += `${out === "" ? "" : LEEF_DELIMITER}${f.key}=${cleanLeefValue(f.value)}`;
  }
  return out;
}

/**
 * Renders header + head + fields; when over `budget` bytes, adds the marker fields and cuts the
 * longest cuttable value until it fits.
 */
function fitFields(
  header: string,
  head: string,
  fields: Field[],
  budget: number,
  headCut: boolean,
  render: (fields: readonly Field[]) => string,
  marker: (originalBytes: number) => Field[],
): SyslogMessage {
  const first = header + head + render(fields);
  const firstBytes = Buffer.byteLength(first);
  const headerBytes = Buffer.byteLength(header);
  if (firstBytes - headerBytes <= budget && !headCut) return { text: first, bytes: firstBytes };
  const originalBytes = firstBytes;
  const work = [...fields, ...marker(originalBytes)];
  let body = head + render(work);
  let size = Buffer.byteLength(body);
  while (size > budget) {
    let longest: Field | undefined;
    for (const f of work)
      if (f.cut && (!longest || f.value.length > longest.value.length)) longest = f;
    if (!longest || longest.value.length === 0) break;
    const excess = size - budget;
    longest.value = cutToBytes(
      longest.value,
      Math.max(0, Buffer.byteLength(longest.value) - excess - TRUNCATION_MARKER.length - 8),
    );
    if (!longest.value.endsWith(TRUNCATION_MARKER)) longest.value += TRUNCATION_MARKER;
    else if (longest.value === TRUNCATION_MARKER) longest.cut = false;
    body = head + render(work);
    size = Buffer.byteLength(body);
  }
  const out = header + body;
  return { text: out, bytes: Buffer.byteLength(out), truncatedFromBytes: originalBytes };
}

/** The JSON format: the raw record, or its key fields plus a marker when it does not fit. */
function jsonMessage(
  header: string,
  record: ReceivedRecord,
  top: TopFields,
  budget: number,
): SyslogMessage {
  const raw = record.raw;
  const rawBytes = record.bytes?.byteLength ?? Buffer.byteLength(raw);
  const headerBytes = Buffer.byteLength(header);
  if (rawBytes <= budget) return { text: header + raw, bytes: headerBytes + rawBytes };
  const r = jsonSummarySource(record);
  const kept: Record<string, unknown> = {
    Id: record.id,
    CreationTime: top.creationTime,
    Operation: top.operation,
    UserId: text(r.UserId),
    Workload: text(r.Workload),
    RecordType: r.RecordType ?? null,
    ObjectId: text(r.ObjectId),
    AuditBridgeTruncated: { originalBytes: rawBytes },
  };
  let body = JSON.stringify(kept);
  while (Buffer.byteLength(body) > budget) {
    let longestKey: string | undefined;
    for (const key of ["ObjectId", "UserId", "Operation", "Workload"]) {
      const v = kept[key];
      if (typeof v === "string" && v.length > 0) {
        if (!longestKey || v.length > (kept[longestKey] as string).length) longestKey = key;
      }
    }
    if (!longestKey) break;
    const v = kept[longestKey] as string;
    const excess = Buffer.byteLength(body) - budget;
    const cut = cutToBytes(
      v,
      Math.max(0, Buffer.byteLength(v) - excess - TRUNCATION_MARKER.length - 8),
    );
    kept[longestKey] = cut.length === 0 ? "" : cut + TRUNCATION_MARKER;
    body = JSON.stringify(kept);
  }
  const out = header + body;
  return { text: out, bytes: Buffer.byteLength(out), truncatedFromBytes: headerBytes + rawBytes };
}

/** The parsed record for a summary; parsing is paid only for records that are too long. */
function jsonSummarySource(record: ReceivedRecord): Record<string, unknown> {
  try {
    return record.record as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** The longest prefix of `value` that is at most `maxBytes` of UTF-8 (no split character). */
function cutToBytes(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value) <= maxBytes) return value;
  let cut = Buffer.from(value, "utf8").subarray(0, Math.max(0, maxBytes)).toString("utf8");
  // A character split by the cut decodes as U+FFFD: drop it.
  while (cut.endsWith("\uFFFD") && !value.startsWith(cut)) cut = cut.slice(0, -1);
  return cut;
}

/** Text of a record field; objects as JSON, absent as "". */
function text(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** An RFC 5424 header field: printable US-ASCII only, at most `max` characters, "-" if empty. */
function printable(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, "").slice(0, max);
  return clean === "" ? "-" : clean;
}
