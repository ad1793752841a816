/**
 * Fields of a connector whose form AuditBridge could not confirm in the vendor's public
 * documentation: the values every Office 365 Management Activity API client needs, under
 * Microsoft's names, each marked unconfirmed so the output says so instead of guessing a label.
 * https://learn.microsoft.com/en-us/office/office-365-management-api/get-started-with-office-365-management-apis
 */
import { contentTypeList, type HandoffContext, type HandoffField, tokenUrl } from "./types";

/** The Management Activity API client values under Microsoft's names, all unconfirmed labels. */
export function managementApiFields(ctx: HandoffContext, vendor: string): HandoffField[] {
  const unconfirmed = `${vendor}'s label not confirmed: match it to the field asking for this`;
  return [
    { field: "Tenant ID", value: ctx.tenantId, note: unconfirmed, confirmed: false },
    { field: "Client ID", value: ctx.clientId, note: unconfirmed, confirmed: false },
    {
      field: ctx.credential.mode === "certificate" ? "Client Certificate" : "Client Secret",
      value: ctx.credential.value,
      note: `${unconfirmed}; ${ctx.credential.note}`,
      confirmed: false,
      credential: true,
    },
    {
      field: "Authority / login host",
      value: ctx.cloud.authorityHost,
      note: `token URL ${tokenUrl(ctx)}; ${unconfirmed}`,
      confirmed: false,
    },
    {
      field: "Management API host",
      value: ctx.cloud.managementEndpoint,
      note: `token resource ${ctx.cloud.managementAudience}; ${unconfirmed}`,
      confirmed: false,
    },
    {
      field: "Content types",
      value: contentTypeList(ctx),
      note: unconfirmed,
      confirmed: false,
    },
    {
      field: "PublisherIdentifier",
      value: ctx.publisherId,
      note: `only if ${vendor} asks for one; without it the API uses the tenant id`,
      confirmed: false,
    },
  ];
}
