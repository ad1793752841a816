/**
 * The Log Analytics table AuditBridge writes (docs/table.md lists its fields). One source of truth
 * for the Pulumi table + DCR stream declaration and the Logs Ingestion sink's row mapping; the
 * emulator keeps its own copy from Microsoft's documentation and a contract test compares them.
 */

export const DEFAULT_TABLE_NAME = "M365Audit_CL";
export const DEFAULT_STREAM_NAME = "Custom-M365Audit";

/**
 * Table plans a DCR-based custom table can have, as the table API names them. Analytics: full
 * KQL, alerts, Microsoft Sentinel content. Basic: cheaper ingestion, queries on one table without
 * user-defined functions or joins, billed per GB scanned, 30 days interactive.
 * https://learn.microsoft.com/azure/azure-monitor/logs/data-platform-logs#table-plans
 */
export const TABLE_PLANS = ["Analytics", "Basic"] as const;
export type TablePlan = (typeof TABLE_PLANS)[number];
export const DEFAULT_TABLE_PLAN: TablePlan = "Analytics";
/**
 * Interactive retention of a Basic table, fixed by the service; older rows stay in long-term
 * retention (search jobs) until the table's total retention ends.
 * https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure
 */
export const BASIC_INTERACTIVE_RETENTION_DAYS = 30;

/** Column types as Log Analytics tables name them (`dateTime`, not `datetime`). */
export type TableColumnType =
  | "string"
  | "int"
  | "long"
  | "real"
  | "boolean"
  | "dateTime"
  | "dynamic";

export interface TableColumn {
  name: string;
  type: TableColumnType;
  description: string;
}

/**
 * Columns in table order. The DCR stream declares the same names and types, so the
 * transformation is a plain projection. `id` and `TenantId` are reserved column names,
 * hence RecordId and OrganizationId.
 */
export const TABLE_COLUMNS: readonly TableColumn[] = Object.freeze([
  { name: "TimeGenerated", type: "dateTime", description: "Record CreationTime (UTC)." },
  { name: "RecordId", type: "string", description: "Record Id (unique key)." },
  { name: "RecordType", type: "int", description: "AuditLogRecordType value." },
  { name: "RecordTypeName", type: "string", description: "Name of the RecordType value." },
  { name: "Operation", type: "string", description: "Activity or cmdlet name." },
  { name: "Workload", type: "string", description: "Microsoft 365 service." },
  { name: "UserId", type: "string", description: "User (UPN or system id) who acted." },
  { name: "UserKey", type: "string", description: "Alternative user id (PUID etc.)." },
  { name: "UserType", type: "int", description: "UserType enum value." },
  { name: "ClientIP", type: "string", description: "Client IP address as reported." },
  { name: "ResultStatus", type: "string", description: "Result of the action." },
  { name: "ObjectId", type: "string", description: "Object acted upon." },
  { name: "OrganizationId", type: "string", description: "Microsoft 365 tenant GUID." },
  { name: "ContentType", type: "string", description: "Management API content type." },
  { name: "ContentId", type: "string", description: "Content blob the record came from." },
  { name: "ContentCreated", type: "dateTime", description: "When that blob became available." },
  { name: "AuditData", type: "dynamic", description: "The whole record as received." },
]);

/** Stream declaration types of the DCR (`datetime` lower-case there). */
export function streamColumnType(type: TableColumnType): string {
  return type === "dateTime" ? "datetime" : type;
}

/** Row shape sent to the Logs Ingestion API (one per audit record). */
export interface AuditRow {
  TimeGenerated: string;
  RecordId: string;
  RecordType: number | null;
  RecordTypeName: string;
  Operation: string | null;
  Workload: string | null;
  UserId: string | null;
  UserKey: string | null;
  UserType: number | null;
  ClientIP: string | null;
  ResultStatus: string | null;
  ObjectId: string | null;
  OrganizationId: string | null;
  ContentType: string;
  ContentId: string;
  ContentCreated: string;
  AuditData: unknown;
}
