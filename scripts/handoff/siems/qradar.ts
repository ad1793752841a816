/**
 * IBM QRadar: a "Microsoft Office 365" log source with the "Office 365 REST API" protocol.
 *
 * Field names come from IBM's table of the protocol's parameters: Log Source Identifier, Client
 * ID, Authentication Method (Client Secret or Client Certificate, a self-signed .pfx), Client
 * Secret, Client Certificate, Client Certificate Password, Tenant ID, Event Filter (Azure Active
 * Directory, Exchange, SharePoint, General, DLP), Use Proxy, EPS Throttle, Show Advanced Options
 * and, under it, Management Activity API URL. IBM's page names no PublisherIdentifier setting
 * and no login-host setting.
 * - https://www.ibm.com/docs/en/dsm?topic=options-office-365-rest-api-protocol-configuration
 * - https://www.ibm.com/docs/en/dsm?topic=mo3-configuring-microsoft-office-365-account-in-microsoft-azure-active-directory
 */
import type { ContentType } from "../../../domain/contentTypes";
import type { HandoffContext, HandoffField, SiemProfile } from "./types";

/** QRadar's Event Filter choice for each content type (IBM's list, in the API's order). */
export const QRADAR_EVENT_FILTERS: Readonly<Record<ContentType, string>> = {
  "Audit.AzureActiveDirectory": "Azure Active Directory",
  "Audit.Exchange": "Exchange",
  "Audit.SharePoint": "SharePoint",
  "Audit.General": "General",
  "DLP.All": "DLP",
};

export const qradar: SiemProfile = {
  id: "qradar",
  connector: "IBM QRadar Office 365 REST API protocol (Microsoft Office 365 DSM)",
  sources: [
    "https://www.ibm.com/docs/en/dsm?topic=options-office-365-rest-api-protocol-configuration",
  ],
  needsApp: true,
  fields(ctx: HandoffContext): HandoffField[] {
    const certificate = ctx.credential.mode === "certificate";
    const commercial = ctx.cloud.managementEndpoint === "https://manage.office.com";
    return [
      {
        field: "Protocol Configuration",
        value: "Office 365 REST API",
        note: "Log Source Type: Microsoft Office 365",
        confirmed: true,
      },
      {
        field: "Log Source Identifier",
        value: `o365-${ctx.tenantId.slice(0, 8)}`,
        note: "any name, unique among this protocol's log sources",
        confirmed: true,
      },
      { field: "Client ID", value: ctx.clientId, note: "", confirmed: true },
      {
        field: "Authentication Method",
        value: certificate ? "Client Certificate" : "Client Secret",
        note: "",
        confirmed: true,
      },
      {
        field: certificate ? "Client Certificate" : "Client Secret",
        value: ctx.credential.value,
        note: certificate
          ? `QRadar takes a .pfx file (and its Client Certificate Password): convert the PEM with openssl pkcs12 -export; ${ctx.credential.note}`
          : ctx.credential.note,
        confirmed: true,
        credential: true,
      },
      { field: "Tenant ID", value: ctx.tenantId, note: "", confirmed: true },
      {
        field: "Event Filter",
        value: ctx.contentTypes.map((type) => QRADAR_EVENT_FILTERS[type]).join(", "),
        note: `select these (content types ${ctx.contentTypes.join(", ")})`,
        confirmed: true,
      },
      {
        field: "Management Activity API URL",
        value: ctx.cloud.managementEndpoint,
        note: commercial
          ? "under Show Advanced Options; the commercial host"
          : "under Show Advanced Options: set it for this cloud",
        confirmed: true,
      },
      {
        field: "(login host)",
        value: ctx.cloud.authorityHost,
        note: commercial
          ? "QRadar's page names no login-host setting; the commercial one applies"
          : "QRadar's page names no login-host setting (unconfirmed whether it supports this cloud's)",
        confirmed: false,
      },
    ];
  },
  notes(ctx) {
    return [
      "Admin > Log Sources > Add: Microsoft Office 365, protocol Office 365 REST API.",
      ...(ctx.publisherId.toLowerCase() !== ctx.tenantId.toLowerCase()
        ? [
            `IBM documents no PublisherIdentifier setting; the API then counts QRadar's calls against the tenant's own quota, not the stack's publisherId ${ctx.publisherId}.`,
          ]
        : []),
    ];
  },
};
