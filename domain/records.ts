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
 * AuditLogRecordType value → member name (Management Activity API schema, "Enum:
 * AuditLogRecordType"; URL above). Microsoft keeps adding values: an unknown one maps to
 * "Unknown(<n>)" in the table's RecordTypeName.
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
  16: "SkypeForBusinessPSTNUsage",
  17: "SkypeForBusinessUsersBlocked",
  18: "SecurityComplianceCenterEOPCmdlet",
  19: "ExchangeAggregatedOperation",
  20: "PowerBIAudit",
  21: "CRM",
  22: "Yammer",
  23: "SkypeForBusinessCmdlets",
  24: "Discovery",
  25: "MicrosoftTeams",
  28: "ThreatIntelligence",
  29: "MailSubmission",
  30: "MicrosoftFlow",
  31: "AeD",
  32: "MicrosoftStream",
  33: "ComplianceDLPSharePointClassification",
  34: "ThreatFinder",
  35: "Project",
  36: "SharePointListOperation",
  37: "SharePointCommentOperation",
  38: "DataGovernance",
  39: "Kaizala",
  40: "SecurityComplianceAlerts",
  41: "ThreatIntelligenceUrl",
  42: "SecurityComplianceInsights",
  43: "MIPLabel",
  44: "WorkplaceAnalytics",
  45: "PowerAppsApp",
  46: "PowerAppsPlan",
  47: "ThreatIntelligenceAtpContent",
  48: "LabelContentExplorer",
  49: "TeamsHealthcare",
  50: "ExchangeItemAggregated",
  51: "HygieneEvent",
  52: "DataInsightsRestApiAudit",
  53: "InformationBarrierPolicyApplication",
  54: "SharePointListItemOperation",
  55: "SharePointContentTypeOperation",
  56: "SharePointFieldOperation",
  57: "MicrosoftTeamsAdmin",
  58: "HRSignal",
  59: "MicrosoftTeamsDevice",
  60: "MicrosoftTeamsAnalytics",
  61: "InformationWorkerProtection",
  62: "Campaign",
  63: "DLPEndpoint",
  64: "AirInvestigation",
  65: "Quarantine",
  66: "MicrosoftForms",
  67: "ApplicationAudit",
  68: "ComplianceSupervisionExchange",
  69: "CustomerKeyServiceEncryption",
  70: "OfficeNative",
  71: "MipAutoLabelSharePointItem",
  72: "MipAutoLabelSharePointPolicyLocation",
  73: "MicrosoftTeamsShifts",
  75: "MipAutoLabelExchangeItem",
  76: "CortanaBriefing",
  77: "Search",
  78: "WDATPAlerts",
  81: "MDATPAudit",
  82: "SensitivityLabelPolicyMatch",
  83: "SensitivityLabelAction",
  84: "SensitivityLabeledFileAction",
  85: "AttackSim",
  86: "AirManualInvestigation",
  87: "SecurityComplianceRBAC",
  88: "UserTraining",
  89: "AirAdminActionInvestigation",
  90: "MSTIC",
  91: "PhysicalBadgingSignal",
  93: "AipDiscover",
  94: "AipSensitivityLabelAction",
  95: "AipProtectionAction",
  96: "AipFileDeleted",
  97: "AipHeartBeat",
  98: "MCASAlerts",
  99: "OnPremisesFileShareScannerDlp",
  100: "OnPremisesSharePointScannerDlp",
  101: "ExchangeSearch",
  102: "SharePointSearch",
  103: "PrivacyInsights",
  105: "MyAnalyticsSettings",
  106: "SecurityComplianceUserChange",
  107: "ComplianceDLPExchangeClassification",
  109: "MipExactDataMatch",
  113: "MS365DCustomDetection",
  131: "OfficeScriptsRunAction",
  147: "CoreReportingSettings",
  148: "ComplianceConnector",
  154: "OMEPortal",
  174: "DataShareOperation",
  181: "EduDataLakeDownloadOperation",
  183: "MicrosoftGraphDataConnectOperation",
  186: "PowerPagesSite",
  188: "PlannerPlan",
  189: "PlannerCopyPlan",
  190: "PlannerTask",
  191: "PlannerRoster",
  192: "PlannerPlanList",
  193: "PlannerTaskList",
  194: "PlannerTenantSettings",
  195: "ProjectForThewebProject",
  196: "ProjectForThewebTask",
  197: "ProjectForThewebRoadmap",
  198: "ProjectForThewebRoadmapItem",
  199: "ProjectForThewebProjectSettings",
  200: "ProjectForThewebRoadmapSettings",
  216: "VivaGoals",
  217: "MicrosoftGraphDataConnectConsent",
  218: "AttackSimAdmin",
  230: "TeamsUpdates",
  231: "PlannerRosterSensitivityLabel",
  237: "DefenderExpertsforXDRAdmin",
  251: "VfamCreatePolicy",
  252: "VfamUpdatePolicy",
  253: "VfamDeletePolicy",
  261: "CopilotInteraction",
  275: "OWAAuth",
  287: "ProjectForThewebAssignedToMeSettings",
  294: "AadRiskDetection",
});

/**
 * UserType value → member name. 9 and 10 are the newer members of the schema page
 * ("Enum: User Type"); the older ones are unchanged.
 */
export const USER_TYPE_NAMES: Readonly<Record<number, string>> = Object.freeze({
  0: "Regular",
  1: "Reserved",
  2: "Admin",
  3: "DcAdmin",
  4: "System",
  5: "Application",
  6: "ServicePrincipal",
  7: "CustomPolicy",
  8: "SystemPolicy",
  9: "PartnerTechnician",
  10: "Guest",
});

/** Name of a RecordType value, tolerant of string-typed and unknown values. */
export function recordTypeName(value: unknown): string {
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isInteger(n)) return "Unknown";
  return RECORD_TYPE_NAMES[n] ?? `Unknown(${n})`;
}
