/**
 * The Azure Monitor Logs Ingestion API as the emulator plays it, and the custom table contract it
 * enforces on the wire.
 */

/**
 * Largest request body of one Logs Ingestion call, compressed or not (the service limits list
 * it as 1 MB): https://learn.microsoft.com/en-us/azure/azure-monitor/service-limits#logs-ingestion-api
 */
export const MAX_INGESTION_BODY_BYTES = 1_000_000;

/**
 * The `api-version` of the upload call:
 * https://learn.microsoft.com/en-us/azure/azure-monitor/logs/logs-ingestion-api-overview#rest-api-call
 */
export const INGESTION_API_VERSION = "2023-01-01";

/** Custom tables end in `_CL`: https://learn.microsoft.com/en-us/azure/azure-monitor/logs/create-custom-table */
export const EMULATED_TABLE_NAME = "M365Audit_CL";

/**
 * A data collection rule's custom input stream is `Custom-` and a name:
 * https://learn.microsoft.com/en-us/azure/azure-monitor/data-collection/data-collection-rule-structure
 */
export const EMULATED_STREAM_NAME = "Custom-M365Audit";

/**
 * Column types as a Log Analytics table declares them (`dateTime` with a capital T there; the
 * DCR stream declaration writes `datetime`):
 * https://learn.microsoft.com/en-us/azure/azure-monitor/logs/create-custom-table
 */
export type EmulatedColumnType =
  | "string"
  | "int"
  | "long"
  | "real"
  | "boolean"
  | "dateTime"
  | "dynamic";

/** One column of the emulated table. */
export interface EmulatedColumn {
  readonly name: string;
  readonly type: EmulatedColumnType;
}

/**
 * The columns of AuditBridge's table, in table order, as the emulated data collection rule
 * declares them. This copy is the contract the emulator enforces on the wire: a row with any
 * other column is refused. `TimeGenerated` is the column every table must have, and `id` and
 * `TenantId` are reserved names, so the record's Id and tenant go to RecordId and OrganizationId:
 * https://learn.microsoft.com/en-us/azure/azure-monitor/logs/logs-ingestion-api-overview#supported-tables
 * AuditRecord field meanings and types (RecordType and UserType are Int32 enums):
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-schema#common-schema
 */
export const EMULATED_TABLE_COLUMNS: readonly EmulatedColumn[] = Object.freeze([
  { name: "TimeGenerated", type: "dateTime" },
  { name: "RecordId", type: "string" },
  { name: "RecordType", type: "int" },
  { name: "RecordTypeName", type: "string" },
  { name: "Operation", type: "string" },
  { name: "Workload", type: "string" },
  { name: "UserId", type: "string" },
  { name: "UserKey", type: "string" },
  { name: "UserType", type: "int" },
  { name: "ClientIP", type: "string" },
  { name: "ResultStatus", type: "string" },
  { name: "ObjectId", type: "string" },
  { name: "OrganizationId", type: "string" },
  { name: "ContentType", type: "string" },
  { name: "ContentId", type: "string" },
  { name: "ContentCreated", type: "dateTime" },
  { name: "AuditData", type: "dynamic" },
]);
