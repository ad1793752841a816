/**
 * Microsoft Sentinel. Its built-in "Microsoft 365 (formerly, Office 365)" data connector needs
 * no app registration, secret or PublisherIdentifier: it is turned on in the workspace
 * (securityinsights OfficeDataConnector, data types Exchange, SharePoint and Teams) and fills
 * the OfficeActivity table. It does not bring Audit.AzureActiveDirectory, Audit.General or
 * DLP.All; AuditBridge's own pipeline does (docs/sentinel.md).
 * - https://learn.microsoft.com/en-us/azure/sentinel/data-connectors-reference
 * - https://www.pulumi.com/registry/packages/azure-native/api-docs/securityinsights/officedataconnector/
 */
import type { ContentType } from "../../../domain/contentTypes";
import type { HandoffContext, HandoffField, SiemProfile } from "./types";

/** Content types the built-in connector covers, and the data type that turns each on. */
const BUILT_IN: Partial<Record<ContentType, string>> = {
  "Audit.Exchange": "Exchange",
  "Audit.SharePoint": "SharePoint",
};

export const sentinel: SiemProfile = {
  id: "sentinel",
  connector: "Microsoft Sentinel data connector Microsoft 365 (formerly, Office 365)",
  sources: [
    "https://learn.microsoft.com/en-us/azure/sentinel/data-connectors-reference",
    "https://www.pulumi.com/registry/packages/azure-native/api-docs/securityinsights/officedataconnector/",
  ],
  needsApp: false,
  fields(ctx: HandoffContext): HandoffField[] {
    const builtIn = ctx.contentTypes.filter((type) => BUILT_IN[type] !== undefined);
    const missing = ctx.contentTypes.filter((type) => BUILT_IN[type] === undefined);
    return [
      {
        field: "Workspace",
        value: ctx.workspaceResourceId ?? "(your Sentinel workspace)",
        note: ctx.workspaceResourceId
          ? "the stack's workspace; the connector is turned on in it"
          : "the connector is turned on in the Sentinel workspace",
        confirmed: true,
      },
      {
        field: "Tenant",
        value: ctx.tenantId,
        note: "the connector reads the workspace's own Microsoft 365 tenant; no app, secret or PublisherIdentifier",
        confirmed: true,
      },
      {
        field: "Data types",
        value: [...builtIn.map((type) => BUILT_IN[type]), "Teams"].join(", "),
        note: "select these in the connector page",
        confirmed: true,
      },
      {
        field: "Not covered",
        value: missing.length > 0 ? missing.join(",") : "(none of the chosen content types)",
        note:
          missing.length > 0
            ? "the built-in connector does not bring these: use AuditBridge's pipeline (collector bundled, sinks logs-ingestion) and its OfficeActivity-shaped function"
            : "",
        confirmed: true,
      },
    ];
  },
  notes: () => [
    "Microsoft Sentinel > Data connectors > Microsoft 365 (formerly, Office 365) > Open connector page > Connect.",
    "The app registration, secret and Key Vault of this stack are not used by this connector.",
    "For every content type in one table, deploy AuditBridge with collector bundled and the logs-ingestion sink instead (docs/sentinel.md).",
  ],
};
