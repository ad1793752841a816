/**
 * The Log Analytics table AuditBridge writes (ARCHITECTURE.md, "Log Analytics table"). One source
 * of truth for the Pulumi table + DCR stream declaration, the Logs Ingestion sink's row mapping
 * and the emulator's column checks.
 */

export const DEFAULT_TABLE_NAME = "M365Audit_CL";
export const DEFAULT_STREAM_NAME = "Custom-M365Audit";

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

/**
 * AuditLogRecordType names (Management Activity API schema, "Enum: AuditLogRecordType",
 * common subset). Unknown values map to "Unknown(<n>)"; the list keeps growing upstream.
 */
export const RECORD_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  1: "ExchangeAdmin",
  2: "ExchangeItem",
  3: "ExchangeItemGroup",
  4: "SharePoint",
  6: "SharePointFileOperation",
  7: "OneDrive",
  8: "AzureActiveDirectory",
  9: "AzureActiveDirectoryAccountLogon",
  10: "DataCenterSecurityCmdlet",
  11: "ComplianceDLPSharePoint",
  13: "ComplianceDLPExchange",
  14: "SharePointSharingOperation",
  15: "AzureActiveDirectoryStsLogon",
  18: "SecurityComplianceCenterEOPCmdlet",
  19: "ExchangeAggregatedOperation",
  20: "PowerBIAudit",
  21: "CRM",
  22: "Yammer",
  24: "Discovery",
  25: "MicrosoftTeams",
  28: "ThreatIntelligence",
  29: "MailSubmission",
  30: "MicrosoftFlow",
  32: "MicrosoftStream",
  36: "SharePointListOperation",
  40: "SecurityComplianceAlerts",
  41: "ThreatIntelligenceUrl",
  45: "PowerAppsApp",
  47: "ThreatIntelligenceAtpContent",
  50: "ExchangeItemAggregated",
  52: "DataInsightsRestApiAudit",
  54: "SharePointListItemOperation",
  56: "SharePointFieldOperation",
  57: "MicrosoftTeamsAdmin",
  63: "DLPEndpoint",
  64: "AirInvestigation",
  65: "Quarantine",
  66: "MicrosoftForms",
  78: "WDATPAlerts",
  85: "AttackSim",
  98: "MCASAlerts",
  148: "ComplianceConnector",
  261: "CopilotInteraction",
  275: "OWAAuth",
  294: "AadRiskDetection",
});

/** Name of a RecordType value, tolerant of string-typed and unknown values. */
export function recordTypeName(value: unknown): string {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) return "Unknown";
  return RECORD_TYPE_NAMES[n] ?? `Unknown(${n})`;
}
