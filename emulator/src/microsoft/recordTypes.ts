/**
 * The AuditLogRecordType values the emulator's generator writes, named as the Management
 * Activity API schema's "Enum: AuditLogRecordType" names them:
 * https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-schema
 * Only the types the generator emits are listed; the upstream list is far longer and growing.
 */
export const RECORD_TYPES = Object.freeze({
  ExchangeAdmin: 1,
  ExchangeItem: 2,
  ExchangeItemGroup: 3,
  SharePoint: 4,
  SharePointFileOperation: 6,
  AzureActiveDirectory: 8,
  ComplianceDLPSharePoint: 11,
  ComplianceDLPExchange: 13,
  SharePointSharingOperation: 14,
  AzureActiveDirectoryStsLogon: 15,
  PowerBIAudit: 20,
  Yammer: 22,
  MicrosoftTeams: 25,
  SharePointListOperation: 36,
  ExchangeItemAggregated: 50,
  MicrosoftForms: 66,
  CopilotInteraction: 261,
} as const);

/** A name of {@link RECORD_TYPES}. */
export type RecordTypeName = keyof typeof RECORD_TYPES;
