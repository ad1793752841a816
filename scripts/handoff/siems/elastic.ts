/**
 * Elastic's Microsoft Office 365 integration (package `o365`, input "Collect audit logs" over
 * the Management Activity API with the CEL input).
 *
 * Field names and keys come from the package's data stream manifest
 * (elastic/integrations, packages/o365/data_stream/audit/manifest.yml): "Directory (tenant) ID"
 * (`azure_tenant_id`), "Application (client) ID" (`client_id`), "Client Secret"
 * (`client_secret`), "Base URL of Office Management API" (`url`), "Oauth2 Token URL"
 * (`token_url`, a login host to which the integration appends `/<tenant>/oauth2/v2.0/token`),
 * "Token Scopes" (`token_scopes`, an advanced setting) and "Content Type" (`content_types`, a
 * comma list). Its CEL program sends the tenant id as PublisherIdentifier and signs in with a
 * client secret only (packages/o365/data_stream/audit/agent/stream/cel.yml.hbs).
 * - https://github.com/elastic/integrations/blob/main/packages/o365/data_stream/audit/manifest.yml
 * - https://github.com/elastic/integrations/blob/main/packages/o365/data_stream/audit/agent/stream/cel.yml.hbs
 */
import {
  contentTypeList,
  type HandoffContext,
  type HandoffField,
  managementScope,
  publisherNote,
  type SiemProfile,
} from "./types";

const CONNECTOR = "Elastic Microsoft Office 365 integration";

export const elastic: SiemProfile = {
  id: "elastic",
  connector: CONNECTOR,
  sources: [
    "https://github.com/elastic/integrations/blob/main/packages/o365/data_stream/audit/manifest.yml",
  ],
  needsApp: true,
  fields(ctx: HandoffContext): HandoffField[] {
    const commercialHosts =
      ctx.cloud.managementEndpoint === "https://manage.office.com" &&
      ctx.cloud.authorityHost === "https://login.microsoftonline.com";
    return [
      {
        field: "Directory (tenant) ID",
        key: "azure_tenant_id",
        value: ctx.tenantId,
        note: "",
        confirmed: true,
      },
      {
        field: "Application (client) ID",
        key: "client_id",
        value: ctx.clientId,
        note: "",
        confirmed: true,
      },
      {
        field: "Client Secret",
        key: "client_secret",
        value: ctx.credential.value,
        note:
          ctx.credential.mode === "certificate"
            ? `this input signs in with a client secret only; ${ctx.credential.note}`
            : ctx.credential.note,
        confirmed: true,
        credential: true,
      },
      {
        field: "Base URL of Office Management API",
        key: "url",
        value: ctx.cloud.managementEndpoint,
        note: commercialHosts
          ? "the default"
          : "change it from the default https://manage.office.com",
        confirmed: true,
      },
      {
        field: "Oauth2 Token URL",
        key: "token_url",
        value: ctx.cloud.authorityHost,
        note: commercialHosts
          ? "the default"
          : "the login host only: the integration appends /<tenant>/oauth2/v2.0/token",
        confirmed: true,
      },
      {
        field: "Token Scopes",
        key: "token_scopes",
        value: managementScope(ctx),
        note: commercialHosts
          ? "the default (under advanced options)"
          : "under advanced options; replace the default https://manage.office.com/.default",
        confirmed: true,
      },
      {
        field: "Content Type",
        key: "content_types",
        value: ctx.contentTypes.join(", "),
        note: "a comma list",
        confirmed: true,
      },
    ];
  },
  notes(ctx) {
    return [
      'Fleet: Integrations > Microsoft Office 365 > Add, then the "Collect audit logs" input (not the deprecated o365audit one).',
      `Content types to enable: ${contentTypeList(ctx)}.`,
      ...[publisherNote(ctx, CONNECTOR)].filter((n): n is string => n !== undefined),
    ];
  },
};
