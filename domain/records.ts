/**
 * What the Office 365 Management Activity API returns: content blobs and audit records.
 * Schema: https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-schema
 */

/** One content blob as listed by `GET /subscriptions/content`. */
export interface ContentBlob {
  contentType: string;
  contentId: string;
  contentUri: string;
  /** ISO-8601 UTC, when the blob became available (the listing filter applies to this). */
  contentCreated: string;
  contentExpiration: string;
}

/** The common schema fields of a unified audit record; the rest is workload-specific. */
export interface AuditRecord {
  Id: string;
  CreationTime: string;
  RecordType: number | string;
  Operation?: string;
  OrganizationId?: string;
  UserType?: number | string;
  UserKey?: string;
  Workload?: string;
  UserId?: string;
  ClientIP?: string | null;
  ResultStatus?: string;
  ObjectId?: string;
  [field: string]: unknown;
}

/**
 * AuditLogRecordType names (Management Activity API schema, "Enum: AuditLogRecordType",
 * common subset; URL above). Unknown values map to "Unknown(<n>)"; the list keeps growing upstream.
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
