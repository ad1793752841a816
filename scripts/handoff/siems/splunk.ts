/**
 * Splunk Add-on for Microsoft Office 365 (Splunkbase app 4055, folder `splunk_ta_o365`).
 *
 * Field names: the add-on's tenant form and its REST handler, whose tenant stanza
 * (`splunk_ta_o365_tenants.conf`) has the keys `endpoint`, `tenant_id`, `client_id` and
 * `client_secret`; `endpoint` names a stanza of `splunk_ta_o365_endpoints.conf` holding the
 * cloud's `Login` and `Management` hosts. The Management Activity input
 * (`splunk_ta_o365_management_activity://<name>`) takes `tenant_name` and one `content_type`.
 * The add-on sends the tenant id as PublisherIdentifier on every call.
 * - https://splunk.github.io/splunk-add-on-for-microsoft-office-365/ConfigureTenant/
 * - https://splunkbase.splunk.com/app/4055
 */
import {
  contentTypeList,
  type HandoffContext,
  type HandoffField,
  publisherNote,
  type SiemProfile,
} from "./types";

const CONNECTOR = "Splunk Add-on for Microsoft Office 365";

export const splunk: SiemProfile = {
  id: "splunk",
  connector: CONNECTOR,
  sources: [
    "https://splunk.github.io/splunk-add-on-for-microsoft-office-365/ConfigureTenant/",
    "https://splunkbase.splunk.com/app/4055",
  ],
  needsApp: true,
  fields(ctx: HandoffContext): HandoffField[] {
    return [
      {
        field: "Name",
        key: "tenant_name",
        value: `o365-${ctx.tenantId.slice(0, 8)}`,
        note: "any name: the tenant's stanza name, which each input names as tenant_name",
        confirmed: true,
      },
      {
        field: "Endpoint",
        key: "endpoint",
        value: `${ctx.cloud.name} cloud`,
        note: `pick the entry whose Login is ${ctx.cloud.authorityHost} and Management is ${ctx.cloud.managementEndpoint} (entry labels vary by add-on version: unconfirmed)`,
        confirmed: false,
      },
      {
        field: "Tenant ID",
        key: "tenant_id",
        value: ctx.tenantId,
        note: "the Directory (tenant) id",
        confirmed: true,
      },
      {
        field: "Client ID",
        key: "client_id",
        value: ctx.clientId,
        note: "the Application (client) id",
        confirmed: true,
      },
      {
        field:
          ctx.credential.mode === "certificate" ? "Client Secret (certificate)" : "Client Secret",
        key: "client_secret",
        value: ctx.credential.value,
        note:
          ctx.credential.mode === "certificate"
            ? `the add-on's certificate sign-in is not documented where we looked (unconfirmed); ${ctx.credential.note}`
            : ctx.credential.note,
        confirmed: ctx.credential.mode !== "certificate",
        credential: true,
      },
      {
        field: "Content Type",
        key: "content_type",
        value: contentTypeList(ctx),
        note: "Inputs > Create New Input > Management Activity: one input per content type, each with this tenant",
        confirmed: true,
      },
    ];
  },
  notes(ctx) {
    return [
      "Configuration > Tenants > Add: fill Name, Endpoint, Tenant ID, Client ID and Client Secret; the add-on checks them with a token request.",
      "Records arrive with sourcetype o365:management:activity.",
      ...[publisherNote(ctx, CONNECTOR)].filter((n): n is string => n !== undefined),
    ];
  },
};
