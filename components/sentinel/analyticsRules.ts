/**
 * Scheduled analytics rules and hunting queries over the OfficeActivity-shaped function. Every query
 * is written against the default function alias (`M365AuditOfficeActivity`); {@link bindKql}
 * renames it for a stack whose table has another name. docs/sentinel.md explains each one.
 */
import { DEFAULT_FUNCTION_ALIAS } from "./officeActivityFunction";

/** MITRE ATT&CK tactics as Sentinel names them. */
export type Tactic =
  | "InitialAccess"
  | "Persistence"
  | "PrivilegeEscalation"
  | "DefenseEvasion"
  | "CredentialAccess"
  | "Discovery"
  | "Collection"
  | "Exfiltration"
  | "Impact";

/** A Sentinel entity mapping: entity type → (identifier ← result column). */
export interface EntityMapping {
  entityType: "Account" | "IP" | "CloudApplication" | "Mailbox";
  fieldMappings: { identifier: string; columnName: string }[];
}

/** One scheduled analytics rule. */
export interface AnalyticsRule {
  /** Stable key: resource names and rule ids derive from it, so never rename it. */
  key: string;
  displayName: string;
  /** Why the rule exists; shown as the rule's description. */
  description: string;
  severity: "High" | "Medium" | "Low" | "Informational";
  tactics: Tactic[];
  techniques: string[];
  /** ISO 8601 durations. */
  queryFrequency: string;
  queryPeriod: string;
  query: string;
  entityMappings: EntityMapping[];
}

/** One hunting query (a saved search in the "Hunting Queries" category). */
export interface HuntingQuery {
  key: string;
  displayName: string;
  description: string;
  tactics: Tactic[];
  techniques: string[];
  query: string;
}

const F = DEFAULT_FUNCTION_ALIAS;

const ACCOUNT_AND_IP: EntityMapping[] = [
  { entityType: "Account", fieldMappings: [{ identifier: "FullName", columnName: "UserId" }] },
  { entityType: "IP", fieldMappings: [{ identifier: "Address", columnName: "Client_IPAddress" }] },
];

/** The rules, in the order the docs list them. */
export const ANALYTICS_RULES: readonly AnalyticsRule[] = Object.freeze([
  {
    key: "audit-logging-disabled",
    displayName: "AuditBridge: unified audit logging turned off",
    description:
      "Someone ran Set-AdminAuditLogConfig with UnifiedAuditLogIngestionEnabled set to false. From then on Microsoft 365 records nothing new for AuditBridge to collect, so this is the pipeline's own blind spot: the change itself is the last record that arrives.",
    severity: "High",
    tactics: ["DefenseEvasion"],
    techniques: ["T1562"],
    queryFrequency: "PT1H",
    queryPeriod: "PT1H",
    query: `${F}
| where RecordType == "ExchangeAdmin" and Operation =~ "Set-AdminAuditLogConfig"
| mv-apply Parameter = todynamic(Parameters) on (
    where tostring(Parameter.Name) =~ "UnifiedAuditLogIngestionEnabled"
    | project Enabled = tostring(Parameter.Value))
| where Enabled =~ "false"
| project TimeGenerated, CreationTime, UserId, Client_IPAddress, Operation, Enabled, ResultStatus, OfficeId`,
    entityMappings: ACCOUNT_AND_IP,
  },
  {
    key: "external-mail-forwarding",
    displayName: "AuditBridge: mailbox or inbox rule forwards mail outside the organisation",
    description:
      "An inbox rule or mailbox setting now forwards or redirects mail to an address whose domain differs from the acting user's. Forwarding to a personal or attacker mailbox is a common way to keep reading a compromised mailbox. Add the organisation's other accepted domains to InternalDomains to silence forwarding between them.",
    severity: "Medium",
    tactics: ["Collection", "Exfiltration"],
    techniques: ["T1114", "T1020"],
    queryFrequency: "PT1H",
    queryPeriod: "PT1H",
    query: `let InternalDomains = dynamic([]);
let ForwardingParameters = dynamic(["ForwardTo", "ForwardAsAttachmentTo", "RedirectTo", "ForwardingSmtpAddress", "ForwardingAddress"]);
${F}
| where RecordType == "ExchangeAdmin"
| where Operation in~ ("New-InboxRule", "Set-InboxRule", "Set-Mailbox", "UpdateInboxRules")
| mv-apply Parameter = todynamic(Parameters) on (
    where tostring(Parameter.Name) in~ (ForwardingParameters)
    | summarize Destinations = make_set(tostring(Parameter.Value)))
| mv-expand Destination = Destinations to typeof(string)
| mv-expand Address = extract_all(@"([A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\\.[A-Za-z]{2,})", Destination) to typeof(string)
| extend DestinationDomain = tolower(tostring(split(Address, "@")[1])), ActorDomain = tolower(tostring(split(UserId, "@")[1]))
| where isnotempty(DestinationDomain) and DestinationDomain != ActorDomain and not(DestinationDomain in (InternalDomains))
| summarize Addresses = make_set(Address), CreationTime = max(CreationTime), TimeGenerated = max(TimeGenerated) by UserId, Client_IPAddress, Operation, OfficeObjectId`,
    entityMappings: ACCOUNT_AND_IP,
  },
  {
    key: "mailbox-permission-granted",
    displayName: "AuditBridge: FullAccess or SendAs granted on a mailbox",
    description:
      "A user or group was given FullAccess (read everything) or SendAs (send as the owner) on someone else's mailbox. Legitimate for shared mailboxes and delegates; also how an intruder keeps access after a password reset.",
    severity: "Medium",
    tactics: ["Persistence", "PrivilegeEscalation"],
    techniques: ["T1098.002"],
    queryFrequency: "PT1H",
    queryPeriod: "PT1H",
    query: `${F}
| where RecordType == "ExchangeAdmin"
| where Operation in~ ("Add-MailboxPermission", "Add-RecipientPermission")
| extend Args = todynamic(Parameters)
| mv-apply Parameter = Args on (
    summarize Bag = make_bag(bag_pack(tostring(Parameter.Name), tostring(Parameter.Value))))
| extend Rights = tostring(Bag.AccessRights), Mailbox = tostring(Bag.Identity), Grantee = coalesce(tostring(Bag.User), tostring(Bag.Trustee))
| where Rights has_any ("FullAccess", "SendAs")
| where Grantee !~ "NT AUTHORITY\\\\SELF"
| project TimeGenerated, CreationTime, UserId, Client_IPAddress, Operation, Mailbox, Grantee, Rights, ResultStatus, OfficeId`,
    entityMappings: ACCOUNT_AND_IP,
  },
  {
    key: "entra-admin-role-assigned",
    displayName: "AuditBridge: administrator role assigned in Entra ID",
    description:
      "A user, group or service principal was added (or made eligible) to an Entra ID administrator role. New administrators outside a change window are a classic escalation and persistence step.",
    severity: "Medium",
    tactics: ["PrivilegeEscalation", "Persistence"],
    techniques: ["T1098.003"],
    queryFrequency: "PT1H",
    queryPeriod: "PT1H",
    query: `${F}
| where RecordType == "AzureActiveDirectory"
| where Operation in~ ("Add member to role.", "Add eligible member to role.", "Add scoped member to role.")
| mv-apply Property = todynamic(ModifiedProperties) on (
    where tostring(Property.Name) == "Role.DisplayName"
    | project RoleName = trim(@"\\s*""\\s*", tostring(Property.NewValue)))
| where RoleName has "Administrator"
| project TimeGenerated, CreationTime, UserId, Client_IPAddress, Operation, RoleName, Target = OfficeObjectId, ResultStatus, OfficeId`,
    entityMappings: ACCOUNT_AND_IP,
  },
  {
    key: "app-consent-or-credentials",
    displayName: "AuditBridge: consent granted to an application or credentials added to it",
    description:
      "Someone consented to an application's permissions, granted it a delegated or application permission, or added a secret or certificate to an application or service principal. Illicit consent and extra credentials on an existing app give an attacker access that survives password resets and MFA.",
    severity: "Medium",
    tactics: ["Persistence", "CredentialAccess"],
    techniques: ["T1098.001", "T1528"],
    queryFrequency: "PT1H",
    queryPeriod: "PT1H",
    query: `${F}
| where RecordType == "AzureActiveDirectory"
| where Operation in~ ("Consent to application.", "Add delegated permission grant.", "Add app role assignment to service principal.", "Add service principal credentials.")
    or (Operation startswith "Update application" and ModifiedProperties has "KeyDescription")
| extend Kind = iff(Operation has "credentials" or Operation startswith "Update application", "credentials added", "consent or permission granted")
| project TimeGenerated, CreationTime, UserId, Client_IPAddress, Operation, Kind, Target = OfficeObjectId, ResultStatus, OfficeId`,
    entityMappings: ACCOUNT_AND_IP,
  },
  {
    key: "mass-file-download-or-delete",
    displayName: "AuditBridge: one user downloads or deletes many files",
    description:
      "One user downloaded or deleted more distinct SharePoint or OneDrive files in an hour than the thresholds allow. Bulk download precedes exfiltration by departing staff or a stolen session; bulk deletion is sabotage or ransomware. Tune the thresholds to the tenant.",
    severity: "Medium",
    tactics: ["Exfiltration", "Impact"],
    techniques: ["T1530", "T1485"],
    queryFrequency: "PT1H",
    queryPeriod: "PT1H",
    query: `let DownloadThreshold = 200;
let DeleteThreshold = 100;
${F}
| where RecordType in ("SharePointFileOperation", "OneDrive") or OfficeWorkload in ("SharePoint", "OneDrive")
| extend Activity = case(
    Operation in ("FileDownloaded", "FileSyncDownloadedFull"), "download",
    Operation in ("FileDeleted", "FileRecycled", "FileDeletedFirstStageRecycleBin", "FileDeletedSecondStageRecycleBin"), "delete",
    "")
| where isnotempty(Activity)
| summarize Files = dcount(OfficeObjectId), Sites = make_set(Site_Url, 10), IPs = make_set(Client_IPAddress, 10), Client_IPAddress = take_any(Client_IPAddress), TimeGenerated = max(TimeGenerated), CreationTime = max(CreationTime) by UserId, Activity
| where (Activity == "download" and Files >= DownloadThreshold) or (Activity == "delete" and Files >= DeleteThreshold)`,
    entityMappings: ACCOUNT_AND_IP,
  },
  {
    key: "anonymous-links-bulk",
    displayName: "AuditBridge: anonymous sharing links created in bulk",
    description:
      'One user created many "anyone with the link" links in an hour. Each link hands a file to whoever holds the URL, with no sign-in; many at once looks like an exfiltration channel rather than everyday sharing.',
    severity: "Medium",
    tactics: ["Exfiltration"],
    techniques: ["T1567"],
    queryFrequency: "PT1H",
    queryPeriod: "PT1H",
    query: `let LinkThreshold = 20;
${F}
| where Operation in ("AnonymousLinkCreated", "AnonymousLinkUpdated")
| summarize Links = count(), Files = dcount(OfficeObjectId), Examples = make_set(OfficeObjectId, 10), Client_IPAddress = take_any(Client_IPAddress), TimeGenerated = max(TimeGenerated), CreationTime = max(CreationTime) by UserId
| where Links >= LinkThreshold`,
    entityMappings: ACCOUNT_AND_IP,
  },
] satisfies AnalyticsRule[]);

/** Hunting queries: starting points for an analyst, not alerts. */
export const HUNTING_QUERIES: readonly HuntingQuery[] = Object.freeze([
  {
    key: "mailbox-access-by-non-owner",
    displayName: "AuditBridge: mail items read by someone other than the owner",
    description:
      "MailItemsAccessed records where the reader is not the mailbox owner, grouped by reader and mailbox. Delegates show up here too; look for readers with no business reason.",
    tactics: ["Collection"],
    techniques: ["T1114.002"],
    query: `${F}
| where Operation == "MailItemsAccessed"
| where isnotempty(MailboxOwnerUPN) and UserId !~ MailboxOwnerUPN
| summarize Accesses = count(), IPs = make_set(Client_IPAddress, 20), First = min(CreationTime), Last = max(CreationTime) by UserId, MailboxOwnerUPN
| order by Accesses desc`,
  },
  {
    key: "inbox-rules-hiding-mail",
    displayName: "AuditBridge: inbox rules that delete, move or mark mail as read",
    description:
      "New or changed inbox rules that delete messages, move them to rarely read folders or mark them read: intruders use them to hide replies and security notices from the mailbox owner.",
    tactics: ["DefenseEvasion"],
    techniques: ["T1564.008"],
    query: `${F}
| where Operation in~ ("New-InboxRule", "Set-InboxRule")
| mv-apply Parameter = todynamic(Parameters) on (
    summarize Bag = make_bag(bag_pack(tostring(Parameter.Name), tostring(Parameter.Value))))
| where isnotempty(Bag.DeleteMessage) or isnotempty(Bag.MoveToFolder) or isnotempty(Bag.MarkAsRead)
| project CreationTime, UserId, Client_IPAddress, Operation, RuleName = tostring(Bag.Name), MoveToFolder = tostring(Bag.MoveToFolder), DeleteMessage = tostring(Bag.DeleteMessage), MarkAsRead = tostring(Bag.MarkAsRead), Parameters`,
  },
  {
    key: "new-ip-per-user",
    displayName: "AuditBridge: users acting from an address not seen in the previous 14 days",
    description:
      "Pairs of user and client address seen in the last day but not in the 14 days before it. Travel and new offices cause most of them; a new address followed by mailbox or sharing changes deserves a look.",
    tactics: ["InitialAccess"],
    techniques: ["T1078.004"],
    query: `let Recent = 1d;
let Baseline = 14d;
let Known = ${F}
    | where TimeGenerated between (ago(Recent + Baseline) .. ago(Recent))
    | where isnotempty(Client_IPAddress)
    | distinct UserId, Client_IPAddress;
${F}
| where TimeGenerated > ago(Recent)
| where isnotempty(Client_IPAddress) and isnotempty(UserId)
| join kind=leftanti Known on UserId, Client_IPAddress
| summarize Operations = make_set(Operation, 20), Records = count(), First = min(CreationTime) by UserId, Client_IPAddress
| order by Records desc`,
  },
  {
    key: "guests-added-to-teams",
    displayName: "AuditBridge: guests added to Teams",
    description:
      "Members with external (#EXT#) identities added to a team. Guests can read every channel they join; check that each one was expected.",
    tactics: ["Persistence"],
    techniques: ["T1136.003"],
    query: `${F}
| where OfficeWorkload == "MicrosoftTeams" and Operation == "MemberAdded"
| mv-expand Member = Members
| extend MemberUpn = tostring(Member.UPN)
| where MemberUpn has "#EXT#"
| project CreationTime, UserId, TeamName, MemberUpn, Client_IPAddress`,
  },
  {
    key: "records-with-replaced-time",
    displayName: "AuditBridge: records whose TimeGenerated is not their creation time",
    description:
      "Records that reached the workspace more than two days after they happened, whose TimeGenerated Log Analytics replaced with the arrival time. Rules keyed on TimeGenerated see them when they arrive; use CreationTime for the real timeline.",
    tactics: [],
    techniques: [],
    query: `${F}
| extend Shift = TimeGenerated - CreationTime
| where Shift > 2d
| summarize Records = count(), Oldest = min(CreationTime), LargestShift = max(Shift) by OfficeWorkload, RecordType, ContentType
| order by Records desc`,
  },
] satisfies HuntingQuery[]);
