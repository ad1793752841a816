/**
 * The OfficeActivity-shaped function: a saved KQL function over the AuditBridge table that returns
 * rows in the shape of Microsoft Sentinel's `OfficeActivity` table (same column names and types,
 * same value conventions), so content written for OfficeActivity runs against AuditBridge data by
 * changing the table name. docs/sentinel.md lists what each column holds and which stay empty.
 *
 * Value conventions follow Sentinel's own Microsoft 365 connector: RecordType and UserType are enum
 * member names, ClientIP is kept as received (it may carry a port) and Client_IPAddress is the bare
 * address, JSON-valued fields (Parameters, ModifiedProperties, …) are JSON strings.
 */

import { RECORD_TYPE_NAMES, USER_TYPE_NAMES } from "../../domain/records";
import { DEFAULT_TABLE_NAME } from "../../domain/table";
import { type KustoScalarType, OFFICE_ACTIVITY_COLUMNS } from "./officeActivityColumns";

/** Default alias of the function for the default table. */
export const DEFAULT_FUNCTION_ALIAS = "M365AuditOfficeActivity";

/** The function's alias for a table: `M365Audit_CL` → `M365AuditOfficeActivity`. */
export function functionAliasFor(tableName: string): string {
  return `${tableName.replace(/_CL$/, "").replace(/[^A-Za-z0-9_]/g, "")}OfficeActivity`;
}

/** How the function fills one OfficeActivity column. */
export type ColumnFill = { column: string; from: string } | { column: string; empty: string };

// `AuditData.X` as a string; absent fields become "" (tostring of a missing dynamic value).
const field = (path: string): string => `tostring(AuditData.${path})`;

/**
 * One entry per OfficeActivity column the function emits: the KQL expression that fills it (over
 * the helper columns the function computes first), or why it stays empty. Field names are the
 * Management Activity API schema's
 * (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-schema).
 */
export const COLUMN_FILLS: readonly ColumnFill[] = Object.freeze([
  { column: "TimeGenerated", from: "TimeGenerated" },
  { column: "OfficeId", from: "RecordId" },
  { column: "SourceRecordId", from: "RecordId" },
  { column: "RecordType", from: "AbRecordTypeName" },
  { column: "Operation", from: "Operation" },
  { column: "OfficeWorkload", from: "Workload" },
  { column: "UserId", from: "UserId" },
  { column: "UserKey", from: "UserKey" },
  { column: "UserType", from: "AbUserTypeName" },
  { column: "ClientIP", from: "AbClientIP" },
  { column: "Client_IPAddress", from: "AbBareIP" },
  { column: "ResultStatus", from: "ResultStatus" },
  { column: "OfficeObjectId", from: "ObjectId" },
  { column: "OrganizationId", from: "OrganizationId" },
  { column: "TenantId", from: "TenantId" },
  // SharePoint / OneDrive
  { column: "ItemType", from: field("ItemType") },
  { column: "Site_", from: field("Site") },
  { column: "Site_Url", from: field("SiteUrl") },
  { column: "SourceFileName", from: field("SourceFileName") },
  { column: "SourceFileExtension", from: field("SourceFileExtension") },
  { column: "SourceRelativeUrl", from: field("SourceRelativeUrl") },
  { column: "DestinationFileName", from: field("DestinationFileName") },
  { column: "DestinationFileExtension", from: field("DestinationFileExtension") },
  { column: "DestinationRelativeUrl", from: field("DestinationRelativeUrl") },
  { column: "EventSource", from: field("EventSource") },
  { column: "Source_Name", from: field("SourceName") },
  { column: "UserAgent", from: field("UserAgent") },
  { column: "MachineDomainInfo", from: field("MachineDomainInfo") },
  { column: "MachineId", from: field("MachineId") },
  { column: "ApplicationId", from: field("ApplicationId") },
  { column: "IsManagedDevice", from: "tobool(AuditData.IsManagedDevice)" },
  { column: "TargetUserOrGroupName", from: field("TargetUserOrGroupName") },
  { column: "TargetUserOrGroupType", from: field("TargetUserOrGroupType") },
  { column: "UserSharedWith", from: field("UserSharedWith") },
  { column: "SharingType", from: field("SharingType") },
  { column: "CustomEvent", from: field("CustomEvent") },
  { column: "Event_Data", from: field("EventData") },
  { column: "GenericInfo", from: field("GenericInfo") },
  // Exchange admin
  { column: "Parameters", from: field("Parameters") },
  { column: "ExternalAccess", from: field("ExternalAccess") },
  { column: "ModifiedObjectResolvedName", from: field("ModifiedObjectResolvedName") },
  { column: "OriginatingServer", from: field("OriginatingServer") },
  { column: "OrganizationName", from: field("OrganizationName") },
  // Exchange mailbox
  { column: "MailboxOwnerUPN", from: field("MailboxOwnerUPN") },
  { column: "MailboxOwnerSid", from: field("MailboxOwnerSid") },
  { column: "MailboxOwnerMasterAccountSid", from: field("MailboxOwnerMasterAccountSid") },
  { column: "MailboxGuid", from: field("MailboxGuid") },
  { column: "Logon_Type", from: field("LogonType") },
  { column: "InternalLogonType", from: "toint(AuditData.InternalLogonType)" },
  { column: "LogonUserSid", from: field("LogonUserSid") },
  { column: "LogonUserDisplayName", from: field("LogonUserDisplayName") },
  { column: "ClientInfoString", from: field("ClientInfoString") },
  { column: "ClientProcessName", from: field("ClientProcessName") },
  { column: "ClientVersion", from: field("ClientVersion") },
  { column: "ClientMachineName", from: field("ClientMachineName") },
  { column: "CrossMailboxOperations", from: "tobool(AuditData.CrossMailboxOperations)" },
  { column: "DestMailboxId", from: field("DestMailboxId") },
  { column: "DestMailboxOwnerUPN", from: field("DestMailboxOwnerUPN") },
  { column: "DestMailboxOwnerSid", from: field("DestMailboxOwnerSid") },
  { column: "DestMailboxOwnerMasterAccountSid", from: field("DestMailboxOwnerMasterAccountSid") },
  { column: "DestFolder", from: field("DestFolder") },
  { column: "Folder", from: field("Folder") },
  { column: "Folders", from: field("Folders") },
  { column: "Item", from: field("Item") },
  { column: "ItemName", from: field("Item.Subject") },
  { column: "AffectedItems", from: field("AffectedItems") },
  { column: "SendAsUserSmtp", from: field("SendAsUserSmtp") },
  { column: "SendAsUserMailboxGuid", from: field("SendAsUserMailboxGuid") },
  { column: "SendOnBehalfOfUserSmtp", from: field("SendOnBehalfOfUserSmtp") },
  { column: "SendonBehalfOfUserMailboxGuid", from: field("SendOnBehalfOfUserMailboxGuid") },
  // Entra ID
  { column: "ModifiedProperties", from: field("ModifiedProperties") },
  { column: "ExtendedProperties", from: field("ExtendedProperties") },
  { column: "AzureActiveDirectory_EventType", from: field("AzureActiveDirectoryEventType") },
  { column: "Actor", from: field("Actor") },
  { column: "ActorContextId", from: field("ActorContextId") },
  { column: "ActorIpAddress", from: field("ActorIpAddress") },
  { column: "AADTarget", from: field("Target") },
  { column: "TargetContextId", from: field("TargetContextId") },
  { column: "InterSystemsId", from: field("InterSystemsId") },
  { column: "IntraSystemId", from: field("IntraSystemId") },
  { column: "SupportTicketId", from: field("SupportTicketId") },
  { column: "Application", from: field("ApplicationDisplayName") },
  { column: "Client", from: field("Client") },
  { column: "LoginStatus", from: "toint(AuditData.LoginStatus)" },
  // Microsoft Teams
  { column: "TeamName", from: field("TeamName") },
  { column: "TeamGuid", from: field("TeamGuid") },
  { column: "ChannelName", from: field("ChannelName") },
  { column: "ChannelGuid", from: field("ChannelGuid") },
  { column: "ChannelType", from: field("ChannelType") },
  { column: "ChatName", from: field("ChatName") },
  { column: "ChatThreadId", from: field("ChatThreadId") },
  { column: "MessageId", from: field("MessageId") },
  { column: "CommunicationType", from: field("CommunicationType") },
  { column: "Members", from: "AuditData.Members" },
  { column: "AADGroupId", from: field("AADGroupId") },
  { column: "TabType", from: field("TabType") },
  { column: "AddOnType", from: field("AddOnType") },
  { column: "AddonName", from: field("AddOnName") },
  { column: "AddOnGuid", from: field("AddOnGuid") },
  { column: "AzureADAppId", from: field("AzureADAppId") },
  { column: "AppDistributionMode", from: field("AppDistributionMode") },
  { column: "Name", from: field("Name") },
  { column: "OldValue", from: field("OldValue") },
  { column: "NewValue", from: field("NewValue") },
  { column: "OperationScope", from: field("OperationScope") },
  { column: "ExtraProperties", from: "AuditData.ExtraProperties" },
  { column: "OperationProperties", from: "AuditData.OperationProperties" },
  // Any workload
  { column: "AppId", from: field("AppId") },
  { column: "ClientAppId", from: "AbClientAppId" },
  { column: "ResultReasonType", from: field("ResultReasonType") },
  // Data center security (lockbox) cmdlets
  { column: "Start_Time", from: "todatetime(AuditData.StartTime)" },
  { column: "DataCenterSecurityEventType", from: "toint(AuditData.DataCenterSecurityEventType)" },
  { column: "EffectiveOrganization", from: field("EffectiveOrganization") },
  { column: "ElevationTime", from: "todatetime(AuditData.ElevationTime)" },
  { column: "ElevationApprovedTime", from: "todatetime(AuditData.ElevationApprovedTime)" },
  { column: "ElevationApprover", from: field("ElevationApprover") },
  { column: "ElevationDuration", from: "toint(AuditData.ElevationDuration)" },
  { column: "ElevationRequestId", from: field("ElevationRequestId") },
  { column: "ElevationRole", from: field("ElevationRole") },
  // Not in the record, or derived by Sentinel's connector in ways Microsoft does not document.
  {
    column: "Activity",
    empty:
      "Sentinel's connector derives it; the record has only Operation, which the function fills",
  },
  {
    column: "OfficeTenantId",
    empty: "not a field of the audit record; OrganizationId holds the Microsoft 365 tenant id",
  },
  {
    column: "UserDomain",
    empty: "not a field of the audit record; derive it from UserId where needed",
  },
  {
    column: "TargetUserId",
    empty: "not a field of the common schema; Entra ID records carry the target in AADTarget",
  },
  {
    column: "SRPolicyId",
    empty: "filled by Sentinel for DLP records of its own connector; DLP details stay in AuditData",
  },
  {
    column: "SRPolicyName",
    empty: "filled by Sentinel for DLP records of its own connector; DLP details stay in AuditData",
  },
  {
    column: "SRRuleMatchDetails",
    empty: "filled by Sentinel for DLP records of its own connector; DLP details stay in AuditData",
  },
] satisfies ColumnFill[]);

/**
 * OfficeActivity columns the function does not emit: columns every Log Analytics table has
 * (https://learn.microsoft.com/en-us/azure/azure-monitor/logs/log-standard-columns). The service
 * adds its own for M365Audit_CL; a query that needs them reads the table itself.
 */
export const STANDARD_COLUMNS_NOT_EMITTED: readonly string[] = Object.freeze([
  "Type",
  "SourceSystem",
  "_BilledSize",
  "_IsBillable",
  "_ResourceId",
  "_SubscriptionId",
]);

/** Columns the function adds after the OfficeActivity ones, with their types. */
export const EXTRA_COLUMNS: readonly { name: string; type: KustoScalarType; from: string }[] =
  Object.freeze([
    // The record's own time. TimeGenerated is replaced with the time of arrival when it is more
    // than 2 days in the past (https://learn.microsoft.com/en-us/azure/azure-monitor/logs/log-standard-columns#timegenerated),
    // which a 7-day backfill or a record Microsoft publishes late hits; CreationTime never is.
    { name: "CreationTime", type: "datetime", from: "AbCreationTime" },
    { name: "ContentType", type: "string", from: "ContentType" },
    { name: "ContentCreated", type: "datetime", from: "ContentCreated" },
    { name: "AuditData", type: "dynamic", from: "AuditData" },
  ]);

const EMPTY_VALUE: Record<KustoScalarType, string> = {
  string: '""',
  int: "int(null)",
  long: "long(null)",
  real: "real(null)",
  bool: "bool(null)",
  datetime: "datetime(null)",
  dynamic: "dynamic(null)",
};

function typeOf(column: string): KustoScalarType {
  const found = OFFICE_ACTIVITY_COLUMNS.find((c) => c.name === column);
  if (!found) throw new Error(`${column} is not an OfficeActivity column`);
  return found.type;
}

/** A KQL string-keyed dynamic bag literal: `dynamic({"1":"ExchangeAdmin",…})`. */
function bag(map: Readonly<Record<number, string>>): string {
  const entries = Object.entries(map).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
  return `dynamic({${entries.join(",")}})`;
}

/**
 * The function body over `tableName`. Helper columns are prefixed `Ab` and projected away; the
 * result is OfficeActivity's columns (minus the standard ones) in reference order, then the extras.
 */
export function officeActivityFunctionKql(tableName: string = DEFAULT_TABLE_NAME): string {
  const fills = new Map(COLUMN_FILLS.map((f) => [f.column, f]));
  const projections: string[] = [];
  for (const column of OFFICE_ACTIVITY_COLUMNS) {
    if (STANDARD_COLUMNS_NOT_EMITTED.includes(column.name)) continue;
    const fill = fills.get(column.name);
    if (!fill) throw new Error(`OfficeActivity column ${column.name} has no fill`);
    const value = "from" in fill ? fill.from : EMPTY_VALUE[typeOf(column.name)];
    projections.push(value === column.name ? column.name : `${column.name} = ${value}`);
  }
  for (const extra of EXTRA_COLUMNS) {
    projections.push(extra.from === extra.name ? extra.name : `${extra.name} = ${extra.from}`);
  }
  return [
    `let AbRecordTypes = ${bag(RECORD_TYPE_NAMES)};`,
    `let AbUserTypes = ${bag(USER_TYPE_NAMES)};`,
    tableName,
    "| extend AbCreationTime = todatetime(AuditData.CreationTime)",
    '| extend AbRecordTypeName = coalesce(tostring(AbRecordTypes[tostring(RecordType)]), iff(RecordTypeName startswith "Unknown", "", RecordTypeName), tostring(RecordType))',
    "| extend AbUserTypeName = coalesce(tostring(AbUserTypes[tostring(UserType)]), tostring(UserType))",
    "| extend AbClientIP = coalesce(ClientIP, tostring(AuditData.ClientIPAddress), tostring(AuditData.ActorIpAddress))",
    // "[v6]:port" → v6; "v4:port" → v4; a bare v4 or v6 address stays as it is.
    '| extend AbBareIP = case(AbClientIP startswith "[", extract(@"^\\[([^\\]]+)\\]", 1, AbClientIP), countof(AbClientIP, ":") == 1, tostring(split(AbClientIP, ":")[0]), AbClientIP)',
    "| extend AbClientAppId = coalesce(tostring(AuditData.ClientAppId), tostring(AuditData.AppAccessContext.ClientAppId))",
    `| project ${projections.join(",\n    ")}`,
  ].join("\n");
}
