/**
 * An ASIM-style Audit Event parser over the OfficeActivity-shaped function: the configuration and
 * policy changes among the audit records (Exchange and Security & Compliance cmdlets, Entra ID
 * directory changes, Teams administration), normalised to the Audit Event schema
 * (https://learn.microsoft.com/en-us/azure/sentinel/normalization-schema-audit), so ASIM content that
 * reads audit events can include Microsoft 365. It takes no filtering parameters.
 */
import { DEFAULT_TABLE_NAME } from "../../domain/table";
import type { KustoScalarType } from "./officeActivityColumns";
import { DEFAULT_FUNCTION_ALIAS } from "./officeActivityFunction";

/** The parser's alias for a table: `M365Audit_CL` → `ASimAuditEventM365Audit`. */
export function asimParserAliasFor(tableName: string = DEFAULT_TABLE_NAME): string {
  return `ASimAuditEvent${tableName.replace(/_CL$/, "").replace(/[^A-Za-z0-9_]/g, "")}`;
}

/** Record types whose records are configuration or policy changes. */
export const AUDIT_EVENT_RECORD_TYPES: readonly string[] = Object.freeze([
  "ExchangeAdmin",
  "SecurityComplianceCenterEOPCmdlet",
  "AzureActiveDirectory",
  "MicrosoftTeamsAdmin",
]);

/** Columns the parser emits that the ASimAuditEventLogs table does not have. */
export const ASIM_EXTRA_COLUMNS: readonly { name: string; type: KustoScalarType }[] = Object.freeze(
  [
    // Every ASIM parser names its schema; the table implies it, so the table has no such column.
    { name: "EventSchema", type: "string" },
    { name: "CreationTime", type: "datetime" },
  ],
);

/** The parser body, written against the default function alias (see bindKql). */
export function asimAuditEventParserKql(): string {
  const recordTypes = AUDIT_EVENT_RECORD_TYPES.map((t) => JSON.stringify(t)).join(", ");
  return `${DEFAULT_FUNCTION_ALIAS}
| where RecordType in (${recordTypes})
| extend Verb = tolower(extract(@"^([A-Za-z]+)", 1, Operation))
| project TimeGenerated,
    EventStartTime = CreationTime,
    EventEndTime = CreationTime,
    EventCount = int(1),
    EventVendor = "Microsoft",
    EventProduct = OfficeWorkload,
    EventSchema = "AuditEvent",
    EventSchemaVersion = "0.1",
    EventType = case(
        Verb in ("new", "add", "create"), "Create",
        Verb in ("remove", "delete"), "Delete",
        Verb in ("set", "update", "change", "reset", "consent"), "Set",
        Verb == "enable", "Enable",
        Verb == "disable", "Disable",
        Verb == "get", "Read",
        Verb in ("start", "invoke", "run"), "Execute",
        "Other"),
    EventResult = case(
        ResultStatus in~ ("Succeeded", "Success", "True"), "Success",
        ResultStatus =~ "PartiallySucceeded", "Partial",
        ResultStatus in~ ("Failed", "Failure", "False"), "Failure",
        "NA"),
    EventOriginalResultDetails = ResultStatus,
    EventOriginalType = RecordType,
    EventOriginalUid = OfficeId,
    Operation,
    Object = OfficeObjectId,
    ActorUsername = UserId,
    ActorUsernameType = iff(UserId has "@", "UPN", "Simple"),
    ActorUserId = UserKey,
    ActorOriginalUserType = UserType,
    ActorUserType = case(
        UserType == "Regular", "Regular",
        UserType in ("Admin", "DcAdmin"), "Admin",
        UserType == "System", "System",
        UserType == "Application", "Application",
        UserType == "ServicePrincipal", "Service Principal",
        "Other"),
    ActorScopeId = OrganizationId,
    ActingAppId = ClientAppId,
    SrcIpAddr = Client_IPAddress,
    HttpUserAgent = UserAgent,
    TargetAppName = OfficeWorkload,
    TargetAppType = "SaaS application",
    AdditionalFields = bag_pack("Parameters", todynamic(Parameters), "ModifiedProperties", todynamic(ModifiedProperties)),
    TenantId,
    CreationTime`;
}
